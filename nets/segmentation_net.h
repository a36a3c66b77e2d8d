// SegmentationNet: what every architecture in nets/ is to the rest of pixelgrad. A net maps
// images to per-pixel class scores at the input's resolution (forward), says how it is trained
// (training_loss: plain cross-entropy by default; auxiliary heads, multi-scale losses or
// multi-task heads override it) and which parameters train at which lr (parameter_groups:
// DeepLab v2's classifier ×10, RefineNet's backbone ×0.1).
#pragma once
#include <vector>

#include "core/batch.h"
#include "core/ops/cross_entropy.h"
#include "core/optimizer.h"
#include "layers/module.h"

namespace pg {

class SegmentationNet : public Module {
 public:
  // images: (N, 3, H, W) → logits (N, num_classes(), H, W), the scores predict/eval use.
  // Throws pg::Error naming the net when H or W does not suit it (e.g. not divisible by its stride).
  Tensor forward(const Tensor& images) override = 0;

  // The scalar loss of one training batch. Default: cross_entropy(forward(images), labels).
  virtual Tensor training_loss(const Batch& batch, const CrossEntropyParams& loss);

  // The optimizer's parameter groups. Default: one group with every parameter.
  virtual std::vector<ParamGroup> parameter_groups() const;

  virtual int num_classes() const = 0;
};

}  // namespace pg
