// RefineNet's RCU, chained residual pooling and the block that joins a backbone level with the
// coarser block's output (Lin et al. 2017, Fig. 3; light-weight variant: Nekrasov et al. 2018).
#include "nets/refinenet_blocks.h"

#include "core/error.h"
#include "core/ops/activation.h"
#include "core/ops/arithmetic.h"
#include "core/ops/resize_bilinear.h"

namespace pg {

namespace {

// A stride-1 "same" conv without bias (every conv of the blocks but an RCU's first).
std::shared_ptr<Conv2d> make_conv(int64_t in_channels, int64_t out_channels, int kernel, Rng& rng,
                                  bool bias = false) {
  return std::make_shared<Conv2d>(Conv2dOptions{.in_channels = in_channels,
                                                .out_channels = out_channels,
                                                .kernel = kernel,
                                                .pad = kernel / 2,
                                                .bias = bias},
                                  rng);
}

std::shared_ptr<Sequential> make_rcus(int64_t channels, int count, Rng& rng) {
  auto rcus = std::make_shared<Sequential>();
  for (int i = 0; i < count; ++i) rcus->add(std::make_shared<ResidualConvUnit>(channels, rng));
  return rcus;
}

}  // namespace

ResidualConvUnit::ResidualConvUnit(int64_t channels, Rng& rng) {
  conv1_ = register_module("conv1", make_conv(channels, channels, 3, rng, /*bias=*/true));
  conv2_ = register_module("conv2", make_conv(channels, channels, 3, rng));
}

Tensor ResidualConvUnit::forward(const Tensor& x) {
  Tensor y = conv1_->forward(relu(x));  // (N, C, h, w)
  y = conv2_->forward(relu(y));         // (N, C, h, w)
  return add(x, y);                     // the identity path
}

ChainedResidualPooling::ChainedResidualPooling(int64_t channels, int blocks, int conv_kernel, Rng& rng) {
  check(blocks >= 1, "RefineNet: chained residual pooling needs ≥ 1 block, got ", blocks);
  pool_ =
      register_module("pool", std::make_shared<MaxPool2d>(Pool2dParams{.kernel = 5, .stride = 1, .pad = 2}));
  for (int i = 1; i <= blocks; ++i)
    convs_.push_back(
        register_module("conv" + std::to_string(i), make_conv(channels, channels, conv_kernel, rng)));
}

Tensor ChainedResidualPooling::forward(const Tensor& x) {
  Tensor sum = relu(x);  // (N, C, h, w): the running sum starts at the activated input
  Tensor path = sum;
  for (const auto& conv : convs_) {
    path = conv->forward(pool_->forward(path));  // 5×5 max pool (stride 1) → conv, same size
    sum = add(sum, path);
  }
  return sum;
}

RefineNetBlock::RefineNetBlock(const RefineNetBlockOptions& o, Rng& rng) : options_(o) {
  check(o.in_channels >= 1 && o.channels >= 1 && o.coarse_channels >= 0,
        "RefineNet: a block needs in_channels and channels ≥ 1 and coarse_channels ≥ 0, got ", o.in_channels,
        ", ", o.channels, " and ", o.coarse_channels);
  check(o.conv_kernel == 1 || o.conv_kernel == 3,
        "RefineNet: conv_kernel must be 3 or 1 (light-weight), got ", o.conv_kernel);
  check(o.adapt_rcus >= 0 && o.output_rcus >= 0, "RefineNet: RCU counts must be ≥ 0, got ", o.adapt_rcus,
        " and ", o.output_rcus);
  adapt_conv_ = register_module("adapt_conv", make_conv(o.in_channels, o.channels, o.conv_kernel, rng));
  if (o.adapt_rcus > 0) adapt_rcus_ = register_module("adapt_rcus", make_rcus(o.channels, o.adapt_rcus, rng));
  if (o.coarse_channels > 0) {
    fuse_conv_ = register_module("fuse_conv", make_conv(o.channels, o.channels, o.conv_kernel, rng));
    fuse_coarse_conv_ =
        register_module("fuse_coarse_conv", make_conv(o.coarse_channels, o.channels, o.conv_kernel, rng));
  }
  crp_ = register_module(
      "crp", std::make_shared<ChainedResidualPooling>(o.channels, o.crp_blocks, o.conv_kernel, rng));
  if (o.output_rcus > 0)
    output_rcus_ = register_module("output_rcus", make_rcus(o.channels, o.output_rcus, rng));
}

Tensor RefineNetBlock::forward(const Tensor& x, const Tensor& coarse) {
  check(coarse.defined() == (fuse_conv_ != nullptr), "RefineNet: a block ",
        fuse_conv_ ? "fusing two paths needs the coarser block's output"
                   : "with one path takes no coarser input");
  Tensor path = adapt_conv_->forward(x);               // (N, channels, h, w)
  if (adapt_rcus_) path = adapt_rcus_->forward(path);  // (N, channels, h, w)
  if (fuse_conv_) {
    const int h = static_cast<int>(path.size(2)), w = static_cast<int>(path.size(3));
    Tensor coarse_path = fuse_coarse_conv_->forward(coarse);                        // (N, channels, h', w')
    Tensor upsampled = resize_bilinear(coarse_path, h, w, /*align_corners=*/true);  // (N, channels, h, w)
    path = add(fuse_conv_->forward(path), upsampled);  // multi-resolution fusion: the sum of both paths
  }
  path = crp_->forward(path);                            // (N, channels, h, w)
  if (output_rcus_) path = output_rcus_->forward(path);  // (N, channels, h, w)
  return path;
}

Tensor RefineNetBlock::forward(const Tensor& x) {
  return forward(x, Tensor());
}

}  // namespace pg
