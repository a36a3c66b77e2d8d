// The dilation front-end (Yu & Koltun 2016): VGG-16 without pool4/pool5, dilated conv5 and fc6.
#include "nets/dilation_frontend.h"

#include "core/init.h"
#include "core/ops/activation.h"

namespace pg {

DilationFrontendConfig DilationFrontendConfig::full(int num_classes) {
  return {.num_classes = num_classes};
}

DilationFrontendConfig DilationFrontendConfig::tiny(int num_classes) {
  return {.num_classes = num_classes, .vgg = Vgg16Config::dilation_frontend().tiny(), .fc_channels = 64};
}

namespace {

const Vgg16Config& checked_vgg(const DilationFrontendConfig& c) {
  check(c.num_classes >= 1 && c.fc_channels >= 1,
        "dilation front-end: num_classes and fc_channels must be ≥ 1, got ", c.num_classes, " and ",
        c.fc_channels);
  check(c.fc6_kernel >= 1 && c.fc6_kernel % 2 == 1 && c.fc6_dilation >= 1,
        "dilation front-end: fc6 needs an odd kernel and a dilation ≥ 1, got kernel ", c.fc6_kernel,
        ", dilation ", c.fc6_dilation);
  check(c.dropout >= 0.0f && c.dropout < 1.0f, "dilation front-end: dropout must be in [0, 1), got ",
        c.dropout);
  return c.vgg;
}

}  // namespace

DilationFrontend::DilationFrontend(const DilationFrontendConfig& config, Rng& rng)
    : Vgg16(checked_vgg(config), rng), config_(config) {
  const int64_t width = config.fc_channels;
  fc6_ = register_module(
      "fc6", std::make_shared<Conv2d>(Conv2dOptions{.in_channels = out_channels(),
                                                    .out_channels = width,
                                                    .kernel = config.fc6_kernel,
                                                    .pad = config.fc6_dilation * (config.fc6_kernel / 2),
                                                    .dilation = config.fc6_dilation},
                                      rng));
  fc7_ = register_module(
      "fc7",
      std::make_shared<Conv2d>(Conv2dOptions{.in_channels = width, .out_channels = width, .kernel = 1}, rng));
  final_ = register_module(
      "final",
      std::make_shared<Conv2d>(
          Conv2dOptions{.in_channels = width, .out_channels = config.num_classes, .kernel = 1}, rng));
  // fc6 and fc7 as the VGG convs (the reference starts them from ImageNet's fc weights); `final`
  // as the reference's filler: N(0, 0.001²), bias 0.
  for (const auto& fc : {fc6_, fc7_}) {
    init::kaiming_normal(fc->weight(), rng, init::FanMode::fan_out);
    init::zeros(fc->bias());
  }
  init::normal(final_->weight(), 0.0f, 0.001f, rng);
  init::zeros(final_->bias());
  drop6_ = register_module("drop6", std::make_shared<Dropout>(config.dropout, rng));
  drop7_ = register_module("drop7", std::make_shared<Dropout>(config.dropout, rng));
}

Tensor DilationFrontend::forward(const Tensor& images) {
  check(images.defined() && images.dim() == 4 && images.size(1) == 3,
        "dilation front-end: expected images (N, 3, H, W), got ",
        images.defined() ? shape_str(images.shape()) : "an undefined tensor");
  check(images.size(2) % 8 == 0 && images.size(3) % 8 == 0, "dilation front-end: input ", images.size(2), "×",
        images.size(3), ": with output stride 8 H and W must be divisible by 8");
  // conv1 … conv3 (each block + 2×2 pool: 1/8), conv4 (no pool4), conv5 dilation 2 (no pool5):
  // x: (N, 512, H/8, W/8)
  Tensor x = Vgg16::forward(images);
  x = drop6_->forward(relu(fc6_->forward(x)));  // fc6 7×7 dilation 4: (N, 4096, H/8, W/8)
  x = drop7_->forward(relu(fc7_->forward(x)));  // fc7 1×1: (N, 4096, H/8, W/8)
  return final_->forward(x);                    // final 1×1: (N, C, H/8, W/8)
}

}  // namespace pg
