// The context module of Yu & Koltun ("Multi-Scale Context Aggregation by Dilated Convolutions",
// ICLR 2016, §3 and Table 1): C channels in, C out; C in every layer (basic) or growing to 32C
// (large: 2C, 2C, 4C, 8C, 16C, 32C, 32C, as the released Pascal VOC model). A stack of
// 3×3 convolutions with exponentially growing dilation (1, 1, 2, 4, 8, 16) widens the receptive
// field to 65 × 65 without losing resolution, a 3×3 (dilation 1) and a 1×1 follow; ReLU after
// every layer but the last. Identity initialisation: each layer starts as a copy of its input (the
// large module's: spread over, then gathered from, groups of channels), so the untrained module
// returns relu(x) and training starts from the front-end's own prediction.
// Names as the reference's network.py (fyu/dilation: build_context): ctx_conv1_1, ctx_conv1_2,
// ctx_conv2_1 … ctx_conv5_1, ctx_fc1, ctx_final (its released deploy files spell them ct_…).
#pragma once
#include <memory>
#include <vector>

#include "core/rng.h"
#include "layers/conv2d.h"
#include "layers/module.h"

namespace pg {

struct ContextModuleConfig {
  int64_t channels = 21;  // C, the number of classes (the front-end's output)
  // Of the 3×3 layers before ctx_fc1; "same" padding (pad = dilation) as the reference.
  std::vector<int> dilations = {1, 1, 2, 4, 8, 16};
  // std of the noise around the identity (0: exact identity, the paper's basic init); in the
  // large module each layer's is scaled by C / c_out, as its identity taps.
  float identity_noise_std = 0.01f;
  // Large: the 3×3 layers widen to 2C, 2C, 4C, 8C, … (C·2^max(1, i) for layer i), ctx_fc1 keeps
  // the last width, ctx_final returns to C. Basic: C everywhere.
  bool large = false;

  static ContextModuleConfig basic(int64_t channels);         // dilations 1, 1, 2, 4, 8, 16: 67 × 67
  static ContextModuleConfig large_module(int64_t channels);  // the same, widths 2C … 32C
  static ContextModuleConfig tiny(int64_t channels);          // dilations 1, 1, 2, 4: 19 × 19 (an 8×8 map)

  std::vector<int64_t> widths() const;  // the output channels of every layer, ctx_final's (C) last
};

// Yu & Koltun's identity initialisation (eq. 4 and 5) of a layer with c_in inputs and c_out
// outputs, in C groups: the centre tap of input a → output b is C / c_out when
// ⌊a·C / c_in⌋ = ⌊b·C / c_out⌋ (the same group), every other entry N(0, noise_std²). With
// c_in = c_out = C it is init::identity_conv: 1 on the diagonal.
void context_identity_init(const Tensor& weight, int64_t classes, float noise_std, Rng& rng);

class ContextModule : public Module {
 public:
  ContextModule(const ContextModuleConfig& config, Rng& rng);

  // scores: (N, C, H, W) → (N, C, H, W), any H, W
  Tensor forward(const Tensor& scores) override;

  const ContextModuleConfig& config() const { return config_; }
  // Every conv in order: the dilated 3×3s, ctx_fc1, ctx_final (ReLU after all but the last).
  const std::vector<std::shared_ptr<Conv2d>>& layers() const { return layers_; }
  // The receptive field (side, in map pixels) after each layer of layers(): 3, 5, 9, 17, 33, 65,
  // 67, 67 for the basic module (Table 1).
  std::vector<int> receptive_fields() const;

 private:
  ContextModuleConfig config_;
  std::vector<std::shared_ptr<Conv2d>> layers_;
};

}  // namespace pg
