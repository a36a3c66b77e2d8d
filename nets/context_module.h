// The context module of Yu & Koltun ("Multi-Scale Context Aggregation by Dilated Convolutions",
// ICLR 2016, §3 and Table 1), the basic form: C channels in, C out, C in every layer. A stack of
// 3×3 convolutions with exponentially growing dilation (1, 1, 2, 4, 8, 16) widens the receptive
// field to 65 × 65 without losing resolution, a 3×3 (dilation 1) and a 1×1 follow; ReLU after
// every layer but the last. Identity initialisation: each layer starts as a copy of its input, so
// the untrained module returns relu(x) and training starts from the front-end's own prediction.
// Names as the reference's network.py (fyu/dilation: build_context): ctx_conv1_1, ctx_conv1_2,
// ctx_conv2_1 … ctx_conv5_1, ctx_fc1, ctx_final.
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
  // std of the noise around the identity (0: exact identity, the paper's basic init).
  float identity_noise_std = 0.01f;

  static ContextModuleConfig basic(int64_t channels);  // dilations 1, 1, 2, 4, 8, 16: 67 × 67
  static ContextModuleConfig tiny(int64_t channels);   // dilations 1, 1, 2, 4: 19 × 19 (an 8×8 map)
};

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
