// Dataset: images with per-pixel labels, by index. The toy generator (toy_dataset.h) draws them
// from a seed; the VOC-format reader (voc_dataset.h) loads them from a folder. Loaders
// (loader.h) turn samples into augmented, normalised batches.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace pg {

struct Sample {
  Tensor image;    // (3, H, W) RGB in [0, 1], not normalised
  LabelMap label;  // (H, W) object class per pixel; 255 = ignore

  // Multi-task labels (the toy generator only; undefined / −1 elsewhere).
  LabelMap part;      // (H, W) part per pixel; 255 = none
  LabelMap material;  // (H, W) material (fill pattern) per pixel; 255 = none
  int scene = -1;     // image-level scene id
  int texture = -1;   // image-level texture id

  std::string name;  // file stem, or "toy-<index>"
};

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual int64_t size() const = 0;
  // Sample `index` in [0, size()). Safe to call from several threads at once.
  virtual Sample get(int64_t index) const = 0;
  virtual int num_classes() const = 0;  // object classes including background (label values 0 … n−1)
  virtual std::vector<std::string> class_names() const = 0;
};

}  // namespace pg
