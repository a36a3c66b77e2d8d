// VGG-16 backbone: the three reference forms (FCN, DeepLab LargeFOV, dilation front-end), their
// toy widths, and the block-by-block forward.
#include "nets/backbones/vgg16.h"

#include <string>

#include "core/init.h"
#include "core/ops/activation.h"

namespace pg {

Vgg16Config Vgg16Config::fcn() {
  Vgg16Config c;
  c.conv1_1_pad = 100;
  for (auto& pool : c.pools) pool = Pool2dParams{.kernel = 2, .stride = 2, .ceil_mode = true};
  return c;
}

Vgg16Config Vgg16Config::deeplab_largefov() {
  Vgg16Config c;
  for (int b = 0; b < 3; ++b)
    c.pools[b] = Pool2dParams{.kernel = 3, .stride = 2, .pad = 1, .ceil_mode = true};
  for (int b = 3; b < 5; ++b)
    c.pools[b] = Pool2dParams{.kernel = 3, .stride = 1, .pad = 1, .ceil_mode = true};
  c.dilations[4] = 2;
  return c;
}

Vgg16Config Vgg16Config::dilation_frontend() {
  Vgg16Config c;
  for (int b = 0; b < 3; ++b) c.pools[b] = Pool2dParams{.kernel = 2, .stride = 2, .ceil_mode = true};
  c.dilations[4] = 2;
  return c;
}

Vgg16Config Vgg16Config::tiny() const {
  Vgg16Config c = *this;
  c.widths = {8, 16, 32, 32, 32};
  c.convs_per_block = {2, 2, 2, 2, 2};
  return c;
}

int Vgg16Config::output_stride() const {
  int stride = 1;
  for (const auto& pool : pools)
    if (pool) stride *= pool->stride;
  return stride;
}

Vgg16::Vgg16(const Vgg16Config& config, Rng& rng) : config_(config) {
  int64_t in_channels = 3;
  for (int b = 0; b < 5; ++b) {
    check(config.widths[b] > 0 && config.convs_per_block[b] > 0 && config.dilations[b] > 0, "VGG-16: block ",
          b + 1, " needs positive width, conv count and dilation, got ", config.widths[b], ", ",
          config.convs_per_block[b], ", ", config.dilations[b]);
    if (config.pools[b]) check_pool2d_params("VGG-16", *config.pools[b]);
    for (int i = 0; i < config.convs_per_block[b]; ++i) {
      const int d = config.dilations[b];
      const bool first = b == 0 && i == 0;
      auto conv = std::make_shared<Conv2d>(Conv2dOptions{.in_channels = in_channels,
                                                         .out_channels = config.widths[b],
                                                         .kernel = 3,
                                                         .pad = first ? config.conv1_1_pad : d,
                                                         .dilation = d},
                                           rng);
      init::kaiming_normal(conv->weight(), rng, init::FanMode::fan_out);
      init::zeros(conv->bias());
      blocks_[b].push_back(
          register_module("conv" + std::to_string(b + 1) + "_" + std::to_string(i + 1), conv));
      in_channels = config.widths[b];
    }
  }
}

const Conv2d& Vgg16::conv(int block, int index) const {
  check(block >= 1 && block <= 5 && index >= 1 && index <= static_cast<int>(blocks_[block - 1].size()),
        "VGG-16: there is no conv", block, "_", index);
  return *blocks_[block - 1][index - 1];
}

Vgg16Features Vgg16::features(const Tensor& images) {
  check(images.defined() && images.dim() == 4 && images.size(1) == 3,
        "VGG-16: expected images (N, 3, H, W), got ",
        images.defined() ? shape_str(images.shape()) : "an undefined tensor");
  // Block b: x (N, C_{b−1}, H_{b−1}, W_{b−1}) → convs + ReLU → (N, C_b, ·, ·) → pool b (if any).
  Vgg16Features out;
  Tensor x = images;
  for (int b = 0; b < 5; ++b) {
    for (const auto& conv : blocks_[b]) x = relu(conv->forward(x));
    if (config_.pools[b]) x = max_pool2d(x, *config_.pools[b]);
    out.pool[b] = x;
  }
  return out;
}

}  // namespace pg
