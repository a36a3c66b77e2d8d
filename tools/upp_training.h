// Unified Perceptual Parsing training on a toy "Broden" (behind `pixelgrad train-upp`): Broden+
// joins datasets that each label only some concepts, and UperNet learns from all of them by drawing
// one source per iteration and switching on only the heads that source labels. The toy sources are
// the toy generator (data/toy_dataset.h) on three disjoint index ranges, each keeping its own labels:
//   scene_parsing  (as ADE20K + Pascal-Part): object per pixel, part per pixel, scene id
//   surfaces       (as OpenSurfaces):         material per pixel only
//   textures       (as DTD):                  the image's texture id only
// The reference (CSAILVision/unifiedparsing train.py) draws the source at random with probability
// proportional to its size; here the source is a function of the step (sources of equal size:
// scene_parsing on even steps, surfaces on odd ones), so a run is a pure function of its options.
// Texture is trained last, as the paper: the final texture_steps steps draw the texture source only
// (UperNet then keeps the rest of the net fixed). Validation images carry every label.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "core/adam.h"
#include "core/batch.h"
#include "data/dataset.h"
#include "data/loader.h"
#include "nets/upernet.h"

namespace pg {

enum class BrodenSource { scene_parsing, surfaces, textures };
const char* source_name(BrodenSource source);  // "scene_parsing", "surfaces", "textures"

struct UppTrainOptions {
  std::string arch = "upernet-multitask-tiny";
  int64_t toy_train = 2000;  // images per source
  int64_t toy_val = 200;     // validation images (after every source's range)
  int toy_size = 64;
  uint64_t data_seed = 1;
  int64_t steps = 1000;         // all steps, the texture phase included
  int64_t texture_steps = 100;  // the last steps: the texture source only
  int batch = 8;
  uint64_t seed = 1;  // weights and shuffling
  float lr = 3e-3f;   // Adam; poly (0.9) over each phase
};

void validate(const UppTrainOptions& options);  // a pg::Error naming the option

// The source of training step `step` (0-based).
BrodenSource source_at(const UppTrainOptions& options, int64_t step);

// The batch with only the source's labels kept (the others undefined).
Batch keep_source_labels(const Batch& batch, BrodenSource source);

// Every head's metric over a dataset with every label: pixel mIoU for object, part (counted on
// object pixels only, as the loss) and material (ConfusionMatrix), accuracy for scene and texture
// (the per-pixel texture map averaged over the image).
struct UppMetrics {
  double object_miou = 0, object_pixel_accuracy = 0, part_miou = 0, material_miou = 0;
  double scene_accuracy = 0, texture_accuracy = 0;
  int64_t images = 0;
};
UppMetrics evaluate_upp(UperNet& net, const Dataset& dataset, int batch_size);

// The training loop: Adam, one source per step, poly lr over each phase (the texture phase starts
// again from the base lr: its head has not trained before).
class UppTrainer {
 public:
  explicit UppTrainer(UppTrainOptions options);
  float train_step();  // one step of source_at(step); returns its loss
  int64_t current_step() const { return step_; }
  BrodenSource current_source() const { return source_at(options_, step_); }
  UppMetrics validate() const;
  UperNet& net() const { return *net_; }
  const UppTrainOptions& options() const { return options_; }

 private:
  UppTrainOptions options_;
  std::shared_ptr<UperNet> net_;
  std::shared_ptr<Dataset> sources_[3], val_;
  std::unique_ptr<BatchLoader> loaders_[3];
  std::unique_ptr<Adam> adam_;
  int64_t step_ = 0;
};

}  // namespace pg
