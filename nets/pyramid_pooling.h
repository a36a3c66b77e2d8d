// Pyramid pooling module (Zhao et al., "Pyramid Scene Parsing Network", CVPR 2017, Fig. 3): the
// feature map is average-pooled to b×b for each bin b (PSPNet: 1, 2, 3, 6 — the whole image, its
// halves, thirds and sixths), each pooled map is reduced by a 1×1 conv + BN + ReLU, upsampled
// bilinearly back to the map's size, and all are concatenated with the map itself: every pixel
// then carries context from regions of four sizes. UperNet (Xiao et al. 2018) puts the same module
// on C5. The 3×3 bottleneck conv that follows is the caller's (PSPNet and UperNet both have one).
//
// Pooling windows are PyTorch's adaptive ones: bin i of b over length L spans
// [floor(i·L/b), ceil((i+1)·L/b)), so they overlap when L is not a multiple of b (6 bins on an 8-wide
// map) and repeat when b > L.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "core/rng.h"
#include "layers/adaptive_avg_pool2d.h"
#include "nets/conv_bn_relu.h"

namespace pg {

struct PyramidPoolingOptions {
  int64_t in_channels = 0;
  int64_t branch_channels = 0;           // each branch's 1×1 conv (PSPNet: in/4, UperNet: 512)
  std::vector<int> bins = {1, 2, 3, 6};  // output side b of each branch's adaptive pool
  bool align_corners = false;            // of the upsampling back (mmseg, CSAIL: false; PSPNet's code: true)
};

class PyramidPooling : public Module {
 public:
  // One child per bin, "0", "1", …, each holding the pool as "0" (no parameters) and the
  // ConvBnRelu as "1": parameters "0.1.conv.weight", "0.1.bn.weight", … as mmsegmentation's PPM
  // (mmseg/models/decode_heads/psp_head.py), where the owner registers it as "psp_modules".
  PyramidPooling(const PyramidPoolingOptions& options, Rng& rng);

  // x: (N, in_channels, H, W) → (N, out_channels(), H, W): x, then branch 0, 1, … upsampled.
  Tensor forward(const Tensor& x) override;

  int64_t out_channels() const;  // in_channels + bins · branch_channels
  const PyramidPoolingOptions& options() const { return options_; }

 private:
  PyramidPoolingOptions options_;
  std::vector<std::shared_ptr<AdaptiveAvgPool2d>> pools_;  // pools_[i]: to bins[i] × bins[i]
  std::vector<std::shared_ptr<ConvBnRelu>> reduce_;        // reduce_[i]: 1×1 in → branch_channels
};

}  // namespace pg
