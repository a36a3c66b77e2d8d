// The context module (Yu & Koltun 2016): its dilated layers, identity initialisation and forward.
#include "nets/context_module.h"

#include <string>

#include "core/init.h"
#include "core/ops/activation.h"

namespace pg {

ContextModuleConfig ContextModuleConfig::basic(int64_t channels) {
  return {.channels = channels, .dilations = {1, 1, 2, 4, 8, 16}};
}

ContextModuleConfig ContextModuleConfig::tiny(int64_t channels) {
  return {.channels = channels, .dilations = {1, 1, 2, 4}};
}

namespace {

// The reference's names: the two undilated layers are ctx_conv1_1 and ctx_conv1_2, the dilated
// ones that follow ctx_conv2_1, ctx_conv3_1, … (one per dilation).
std::string layer_name(size_t index) {
  if (index < 2) return "ctx_conv1_" + std::to_string(index + 1);
  return "ctx_conv" + std::to_string(index) + "_1";
}

}  // namespace

ContextModule::ContextModule(const ContextModuleConfig& config, Rng& rng) : config_(config) {
  const int64_t c = config.channels;
  check(c >= 1, "context module: channels must be ≥ 1, got ", c);
  check(!config.dilations.empty(), "context module: needs at least one dilated layer");
  check(config.identity_noise_std >= 0.0f, "context module: identity_noise_std must be ≥ 0, got ",
        config.identity_noise_std);
  auto add_layer = [&](const std::string& name, int kernel, int dilation) {
    auto conv = register_module(name, std::make_shared<Conv2d>(Conv2dOptions{.in_channels = c,
                                                                             .out_channels = c,
                                                                             .kernel = kernel,
                                                                             .pad = dilation * (kernel / 2),
                                                                             .dilation = dilation},
                                                               rng));
    init::identity_conv(conv->weight(), config.identity_noise_std, rng);
    init::zeros(conv->bias());
    layers_.push_back(conv);
  };
  for (size_t i = 0; i < config.dilations.size(); ++i) {
    check(config.dilations[i] >= 1, "context module: dilation ", i, " must be ≥ 1, got ",
          config.dilations[i]);
    add_layer(layer_name(i), 3, config.dilations[i]);
  }
  add_layer("ctx_fc1", 3, 1);
  add_layer("ctx_final", 1, 1);
}

std::vector<int> ContextModule::receptive_fields() const {
  // A k×k conv of dilation d widens the field by d·(k − 1).
  std::vector<int> fields;
  int field = 1;
  for (const auto& conv : layers_) {
    field += conv->options().dilation * (conv->options().kernel - 1);
    fields.push_back(field);
  }
  return fields;
}

Tensor ContextModule::forward(const Tensor& scores) {
  check(scores.defined() && scores.dim() == 4 && scores.size(1) == config_.channels,
        "context module: expected scores (N, ", config_.channels, ", H, W), got ",
        scores.defined() ? shape_str(scores.shape()) : "an undefined tensor");
  // x: (N, C, H, W) throughout. Layer by layer (Table 1): 3×3 d1, 3×3 d1, 3×3 d2, 3×3 d4, 3×3 d8,
  // 3×3 d16 (each + ReLU), ctx_fc1 3×3 d1 + ReLU, ctx_final 1×1.
  Tensor x = scores;
  for (size_t i = 0; i + 1 < layers_.size(); ++i) x = relu(layers_[i]->forward(x));
  return layers_.back()->forward(x);
}

}  // namespace pg
