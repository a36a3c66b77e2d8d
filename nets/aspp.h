// ASPP, atrous spatial pyramid pooling, in DeepLab v3's improved form (Chen, Papandreou, Schroff,
// Adam, "Rethinking Atrous Convolution for Semantic Image Segmentation", 2017, Sec. 3.3): parallel
// branches over the same map — a 1×1 conv, three 3×3 atrous convs at rates r1 < r2 < r3 and
// image-level pooling (global average → 1×1 → BN → ReLU → bilinear back to the map) — each with
// 256 channels and batch norm, concatenated and projected by 1×1 → BN → ReLU → dropout 0.1.
//
// Why the image pooling branch: a 3×3 filter at rate r on an h×w map (zero padded by r) only has
// valid input at its off-centre taps while r < h, w; once the rate reaches the map's size every
// off-centre tap lands in the padding and the filter is a 1×1 conv through its centre tap (the
// paper's Fig. 4, tested in tests/test_aspp.cpp). Large rates stop seeing far context, so
// the global context comes from pooling the whole map instead.
//
// With `separable`, the atrous branches are atrous separable convs (depthwise 3×3 at rate r → BN →
// ReLU → pointwise 1×1 → BN → ReLU), DeepLab v3+'s form on Xception (Chen et al. 2018, Sec. 3.2).
//
// Parameter names are torchvision's ASPP (torchvision/models/segmentation/deeplabv3.py):
//   convs.0.0 / convs.0.1           the 1×1 branch's conv and BN
//   convs.i.0 / convs.i.1           atrous branch i (1…3): 3×3 conv at rate r_i and BN
//   convs.i.depthwise{,_bn}, convs.i.pointwise{,_bn}     the same, separable
//   convs.4.1 / convs.4.2           image pooling's conv and BN (index 0 is the parameterless pool)
//   project.0 / project.1           the 1×1 projection of the concatenation and its BN
// so torchvision's pretrained ASPP weights load by name (drop "*.num_batches_tracked").
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "core/rng.h"
#include "layers/batch_norm2d.h"
#include "layers/conv2d.h"
#include "layers/dropout.h"
#include "layers/module.h"

namespace pg {

// The atrous rates at one reference output stride. Another stride scales them by
// reference / output_stride, so every branch keeps its field of view in input pixels.
struct AsppRateSchedule {
  int output_stride = 16;
  std::vector<int> rates = {6, 12, 18};

  static AsppRateSchedule deeplab_v3() { return {16, {6, 12, 18}}; }  // the paper: OS 16 → 6, 12, 18
  static AsppRateSchedule tiny() { return {8, {1, 2, 3}}; }           // 64×64 toys: OS 8 → 1, 2, 3
};

// The rates at `output_stride`: schedule.rates · schedule.output_stride / output_stride.
// DeepLab v3: OS 16 → 6, 12, 18; OS 8 → 12, 24, 36. Tiny: OS 8 → 1, 2, 3; OS 4 → 2, 4, 6.
// A rate that would not be a whole number (tiny at OS 16: 0.5) is a pg::Error.
std::vector<int> aspp_rates_for_output_stride(
    int output_stride, const AsppRateSchedule& schedule = AsppRateSchedule::deeplab_v3());

struct AsppOptions {
  int64_t in_channels = 0;
  int64_t channels = 256;                // of every branch and of the projection
  std::vector<int> rates = {6, 12, 18};  // one 3×3 atrous branch per rate
  bool separable = false;                // atrous separable 3×3 branches (v3+ on Xception)
  float dropout = 0.1f;                  // after the projection (torchvision: 0.5)
  BatchNorm2dOptions bn = {};
};

// conv (k×k at a rate, "same" padding, no bias) → BN → ReLU: torchvision's ASPPConv, children
// "0" (conv) and "1" (BN) as its nn.Sequential names them.
class AsppConv : public Module {
 public:
  AsppConv(int64_t in_channels, int64_t out_channels, int kernel, int rate, const BatchNorm2dOptions& bn,
           Rng& rng);
  Tensor forward(const Tensor& x) override;  // (N, in, h, w) → (N, out, h, w)

 private:
  std::shared_ptr<Conv2d> conv_;
  std::shared_ptr<BatchNorm2d> bn_;
};

// Image-level features: global average → 1×1 conv → BN → ReLU → bilinear back to h×w (a 1×1
// map resized is its value everywhere, whichever corner convention). Children "1" (conv) and
// "2" (BN), as torchvision's ASPPPooling. The BN sees one value per channel and image, so in
// train mode it needs a batch of at least 2 (or frozen batch norms, or eval mode).
class AsppImagePooling : public Module {
 public:
  AsppImagePooling(int64_t in_channels, int64_t out_channels, const BatchNorm2dOptions& bn, Rng& rng);
  Tensor forward(const Tensor& x) override;  // (N, in, h, w) → (N, out, h, w), constant per image

 private:
  std::shared_ptr<Conv2d> conv_;
  std::shared_ptr<BatchNorm2d> bn_;
};

class Aspp : public Module {
 public:
  // Convs He-normal (fan_out), BN γ = 1, β = 0.
  Aspp(const AsppOptions& options, Rng& rng);

  // x: (N, in_channels, h, w) → (N, channels, h, w)
  Tensor forward(const Tensor& x) override;

  const AsppOptions& options() const { return options_; }
  const std::vector<int>& rates() const { return options_.rates; }

 private:
  AsppOptions options_;
  std::shared_ptr<AsppConv> conv1x1_;
  std::vector<std::shared_ptr<Module>> atrous_;  // AsppConv, or SeparableConv2d when separable
  std::shared_ptr<AsppImagePooling> image_pooling_;
  std::shared_ptr<Conv2d> project_conv_;
  std::shared_ptr<BatchNorm2d> project_bn_;
  std::shared_ptr<Dropout> project_dropout_;
};

}  // namespace pg
