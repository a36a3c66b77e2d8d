// Batch: what one training or evaluation step sees — images and their labels. The data loaders
// (data/) fill it; the nets' training losses (nets/) read it. The multi-task labels exist only
// for datasets that have them (the toy generator's "Broden"-like labels, for UperNet's heads);
// elsewhere they stay undefined.
#pragma once
#include <string>
#include <vector>

#include "core/tensor.h"

namespace pg {

struct Batch {
  Tensor images;    // (N, 3, H, W), normalised (mean/std) float
  LabelMap labels;  // (N, H, W) object class per pixel; 255 = ignore

  // Multi-task labels (undefined when the dataset has none):
  LabelMap parts;      // (N, H, W) part per pixel (e.g. upper/lower half of each object); 255 = none
  LabelMap materials;  // (N, H, W) material (fill pattern) per pixel; 255 = none
  IntTensor scenes;    // (N) image-level scene id (the background layout)
  IntTensor textures;  // (N) image-level texture id

  std::vector<std::string> names;  // one per image (file stem or "toy-<index>"), for reports

  int64_t size() const { return images.defined() ? images.size(0) : 0; }
};

}  // namespace pg
