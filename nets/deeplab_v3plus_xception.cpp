// DeepLab v3+ on aligned Xception: the backbone adapter and the Xception form's configurations.
#include "nets/deeplab_v3plus_xception.h"

namespace pg {

XceptionV3PlusBackbone::XceptionV3PlusBackbone(const XceptionConfig& config, Rng& rng)
    : xception_(std::make_shared<Xception>(config, rng)) {}

DeepLabV3PlusFeatures XceptionV3PlusBackbone::features(const Tensor& images) {
  XceptionFeatures f = xception_->features(images);
  return {.low_level = f.low_level, .high_level = f.exit_flow};
}

std::unique_ptr<DeepLabV3PlusBackbone> XceptionV3PlusBackbone::at_output_stride(int output_stride,
                                                                                Rng& rng) const {
  XceptionConfig config = xception_->config();
  config.output_stride = output_stride;
  return std::make_unique<XceptionV3PlusBackbone>(config, rng);
}

DeepLabV3PlusConfig deeplab_v3plus_xception_full(int num_classes) {
  DeepLabV3PlusConfig c = DeepLabV3PlusConfig::full(num_classes);
  c.separable = true;
  c.bn = {.momentum = 0.0003f, .eps = 1e-5f};
  return c;
}

DeepLabV3PlusConfig deeplab_v3plus_xception_tiny(int num_classes) {
  DeepLabV3PlusConfig c = DeepLabV3PlusConfig::tiny(num_classes);
  c.separable = true;
  return c;
}

std::shared_ptr<DeepLabV3Plus> make_deeplab_v3plus_xception(const DeepLabV3PlusConfig& config,
                                                            const XceptionConfig& xception, uint64_t seed) {
  Rng rng(seed);
  auto backbone = std::make_unique<XceptionV3PlusBackbone>(xception, rng);
  return std::make_shared<DeepLabV3Plus>(config, std::move(backbone), rng);
}

}  // namespace pg
