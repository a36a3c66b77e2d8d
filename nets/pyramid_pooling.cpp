// Pyramid pooling module: adaptive average pool → 1×1 conv + BN + ReLU → bilinear back, per bin,
// concatenated after the input.
#include "nets/pyramid_pooling.h"

#include <string>

#include "core/ops/resize_bilinear.h"
#include "core/ops/shape_ops.h"
#include "layers/sequential.h"

namespace pg {

PyramidPooling::PyramidPooling(const PyramidPoolingOptions& options, Rng& rng) : options_(options) {
  const PyramidPoolingOptions& o = options_;
  check(o.in_channels >= 1 && o.branch_channels >= 1,
        "PyramidPooling: in_channels and branch_channels must be ≥ 1, got ", o.in_channels, " and ",
        o.branch_channels);
  check(!o.bins.empty(), "PyramidPooling: needs at least one bin");
  for (int b : o.bins) check(b >= 1, "PyramidPooling: every bin must be ≥ 1, got ", b);
  for (size_t i = 0; i < o.bins.size(); ++i) {
    auto branch = register_module(std::to_string(i), std::make_shared<Sequential>());
    pools_.push_back(branch->add(std::make_shared<AdaptiveAvgPool2d>(o.bins[i])));
    reduce_.push_back(branch->add(std::make_shared<ConvBnRelu>(
        ConvBnReluOptions{.in_channels = o.in_channels, .out_channels = o.branch_channels, .kernel = 1},
        rng)));
  }
}

int64_t PyramidPooling::out_channels() const {
  return options_.in_channels + static_cast<int64_t>(options_.bins.size()) * options_.branch_channels;
}

Tensor PyramidPooling::forward(const Tensor& x) {
  check(x.defined() && x.dim() == 4 && x.size(1) == options_.in_channels,
        "PyramidPooling: expected a feature map (N, ", options_.in_channels, ", H, W), got ",
        x.defined() ? shape_str(x.shape()) : "an undefined tensor");
  const int h = static_cast<int>(x.size(2)), w = static_cast<int>(x.size(3));
  std::vector<Tensor> maps = {x};  // x: (N, in, H, W)
  for (size_t i = 0; i < pools_.size(); ++i) {
    Tensor pooled = pools_[i]->forward(x);                                   // (N, in, b, b)
    Tensor reduced = reduce_[i]->forward(pooled);                            // (N, branch, b, b)
    maps.push_back(resize_bilinear(reduced, h, w, options_.align_corners));  // (N, branch, H, W)
  }
  return concat(maps, 1);  // (N, in + bins·branch, H, W)
}

}  // namespace pg
