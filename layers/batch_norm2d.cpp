// BatchNorm2d layer: parameters and running-statistic buffers, the choice between batch and
// running statistics (train / eval / frozen), then the batch_norm op (or batch_norm_relu: batch
// norm and ReLU fused).
#include "layers/batch_norm2d.h"

#include "core/ops/batch_norm_relu.h"

namespace pg {

BatchNorm2d::BatchNorm2d(int64_t channels, const BatchNorm2dOptions& options)
    : channels_(channels), options_(options) {
  check(channels > 0, "BatchNorm2d: channels must be positive, got ", channels);
  check(options.momentum >= 0.0f && options.momentum <= 1.0f && options.eps > 0.0f,
        "BatchNorm2d: momentum must lie in [0, 1] and eps be positive, got momentum ", options.momentum,
        ", eps ", options.eps);
  weight_ = register_parameter("weight", Tensor::full({channels}, 1.0f));
  bias_ = register_parameter("bias", Tensor::zeros({channels}));
  running_mean_ = register_buffer("running_mean", Tensor::zeros({channels}));
  running_var_ = register_buffer("running_var", Tensor::full({channels}, 1.0f));
}

void BatchNorm2d::freeze(bool freeze_affine) {
  frozen_ = true;
  weight_.set_requires_grad(!freeze_affine);
  bias_.set_requires_grad(!freeze_affine);
}

void BatchNorm2d::unfreeze() {
  frozen_ = false;
  weight_.set_requires_grad(true);
  bias_.set_requires_grad(true);
}

BatchNormParams BatchNorm2d::checked_params(const Tensor& x) const {
  // x: (N, C, H, W)
  check(x.defined() && x.dim() == 4 && x.size(1) == channels_, "BatchNorm2d(", channels_,
        "): expected an input (N, ", channels_, ", H, W), got ",
        x.defined() ? shape_str(x.shape()) : "an undefined tensor");
  bool batch_statistics = is_training() && !frozen_;
  check(!batch_statistics || x.size(0) * x.size(2) * x.size(3) > 1, "BatchNorm2d(", channels_,
        "): training needs more than one value per channel, got input ", shape_str(x.shape()),
        " (batch 1 on a 1×1 map, e.g. an image-pooling branch); use eval() or freeze()");
  return {.training = batch_statistics, .momentum = options_.momentum, .eps = options_.eps};
}

Tensor BatchNorm2d::forward(const Tensor& x) {
  return batch_norm(x, weight_, bias_, running_mean_, running_var_, checked_params(x));
}

Tensor BatchNorm2d::forward_relu(const Tensor& x) {
  return batch_norm_relu(x, weight_, bias_, running_mean_, running_var_, checked_params(x));
}

}  // namespace pg
