// The context module (Yu & Koltun 2016): its dilated layers, identity initialisation and forward.
#include "nets/context_module.h"

#include <algorithm>
#include <string>

#include "core/init.h"
#include "core/ops/activation.h"

namespace pg {

ContextModuleConfig ContextModuleConfig::basic(int64_t channels) {
  return {.channels = channels, .dilations = {1, 1, 2, 4, 8, 16}};
}

ContextModuleConfig ContextModuleConfig::large_module(int64_t channels) {
  return {.channels = channels, .dilations = {1, 1, 2, 4, 8, 16}, .large = true};
}

ContextModuleConfig ContextModuleConfig::tiny(int64_t channels) {
  return {.channels = channels, .dilations = {1, 1, 2, 4}};
}

std::vector<int64_t> ContextModuleConfig::widths() const {
  std::vector<int64_t> out;
  for (size_t i = 0; i < dilations.size(); ++i)
    out.push_back(large ? channels << std::max<size_t>(i, 1) : channels);
  out.push_back(out.empty() ? channels : out.back());  // ctx_fc1
  out.push_back(channels);                             // ctx_final
  return out;
}

void context_identity_init(const Tensor& weight, int64_t classes, float noise_std, Rng& rng) {
  // weight: (c_out, c_in, k, k), k odd
  const Shape& shape = weight.shape();
  check(weight.dim() == 4 && shape[2] % 2 == 1 && shape[3] % 2 == 1 && classes >= 1 && shape[0] >= classes &&
            shape[1] >= classes,
        "context_identity_init: weight (c_out, c_in, k, k) with odd k and c_out, c_in ≥ ", classes, ", got ",
        shape_str(shape));
  check(noise_std >= 0.0f, "context_identity_init: noise_std must be ≥ 0, got ", noise_std);
  if (noise_std > 0.0f)
    init::normal(weight, 0.0f, noise_std, rng);
  else
    init::zeros(weight);
  const int64_t c_out = shape[0], c_in = shape[1], kh = shape[2], kw = shape[3];
  const int64_t centre = (kh / 2) * kw + kw / 2;
  for (int64_t b = 0; b < c_out; ++b)
    for (int64_t a = 0; a < c_in; ++a)
      if (a * classes / c_in == b * classes / c_out)
        weight.data()[(b * c_in + a) * kh * kw + centre] =
            static_cast<float>(classes) / static_cast<float>(c_out);
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
  const std::vector<int64_t> widths = config.widths();
  int64_t in = c;
  auto add_layer = [&](const std::string& name, int kernel, int dilation) {
    const int64_t out = widths[layers_.size()];
    auto conv = register_module(name, std::make_shared<Conv2d>(Conv2dOptions{.in_channels = in,
                                                                             .out_channels = out,
                                                                             .kernel = kernel,
                                                                             .pad = dilation * (kernel / 2),
                                                                             .dilation = dilation},
                                                               rng));
    // The noise scaled as the identity taps, C / c_out, so that it stays well below them (the
    // paper's σ ≪ C / c_{i+1}); the basic module's is identity_noise_std itself.
    context_identity_init(conv->weight(), c, config.identity_noise_std * static_cast<float>(c) / out, rng);
    init::zeros(conv->bias());
    layers_.push_back(conv);
    in = out;
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
  // x: (N, widths[i], H, W) after layer i (basic: C throughout; large: 2C, 2C, 4C, … 32C, 32C, C).
  // Layer by layer (Table 1): 3×3 d1, 3×3 d1, 3×3 d2, 3×3 d4, 3×3 d8, 3×3 d16 (each + ReLU),
  // ctx_fc1 3×3 d1 + ReLU, ctx_final 1×1.
  Tensor x = scores;
  for (size_t i = 0; i + 1 < layers_.size(); ++i) x = relu(layers_[i]->forward(x));
  return layers_.back()->forward(x);
}

}  // namespace pg
