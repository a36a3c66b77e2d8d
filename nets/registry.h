// The architectures `pixelgrad list/train/eval/predict` know, by name. Each comes in two
// configurations: "<name>-tiny" (64×64 toy images, trains on a laptop CPU in minutes, every
// defining element kept) and "<name>-full" (the paper's size; its parameter count matches the
// reference implementation). The table is a plain list in registry.cpp, one entry per net:
// no registration macros, nothing hidden.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "nets/segmentation_net.h"

namespace pg {

constexpr int kVocClasses = 21;  // full configurations' default: PASCAL VOC, as their papers' headline models
constexpr int kToyClasses = 6;   // tiny configurations' default: background + the toy dataset's 5 shapes

enum class NetSize { tiny, full };

struct NetOptions {
  int num_classes = 0;  // 0: kToyClasses for tiny, kVocClasses for full
  uint64_t seed = 1;    // of the weight initialisation
};

struct Architecture {
  std::string name;     // "fcn8s"; selected as "fcn8s-tiny" or "fcn8s-full"
  std::string summary;  // one line: what the net contributes, and its paper
  // Builds the net; options.num_classes is already resolved (never 0 here).
  std::function<std::shared_ptr<SegmentationNet>(NetSize size, const NetOptions& options)> make;
  int tiny_input_size = 64;   // the input side `pixelgrad list` measures MACs at by default
  int full_input_size = 512;
};

// Every architecture, in the survey's order.
const std::vector<Architecture>& architectures();

// "fcn8s-tiny" / "fcn8s-full" → the net. An unknown name, or one without its -tiny/-full
// suffix, is a pg::Error listing the valid names.
std::shared_ptr<SegmentationNet> make_net(const std::string& name, const NetOptions& options = {});

// Splits "fcn8s-tiny" into the architecture and its size; the same errors as make_net.
std::pair<const Architecture*, NetSize> find_architecture(const std::string& name);

}  // namespace pg
