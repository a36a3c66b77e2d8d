// Aligned Xception backbone: Chollet's Xception ("Xception: Deep Learning with Depthwise Separable
// Convolutions", CVPR 2017), made deeper and aligned by Dai et al. (MSRA, COCO 2017) and made fully
// convolutional by Chen et al. for DeepLab v3+ ("Encoder-Decoder with Atrous Separable
// Convolution for Semantic Image Segmentation", ECCV 2018), as TF DeepLab builds xception_65
// (tensorflow/models research/deeplab/core/xception.py):
//   entry flow   conv 3×3 32 /2 → conv 3×3 64 → units [128]×3 /2, [256]×3 /2, [728]×3 /2,
//                each with a strided 1×1 conv + BN shortcut
//   middle flow  16 units [728]×3 with identity shortcuts
//   exit flow    [728, 1024, 1024] /2 with a conv shortcut, then [1536, 1536, 2048] without one,
//                ReLUs inside its separable convs
// Every max pool of Chollet's net is a stride-2 separable conv (so any stride can become a
// dilation), BN follows each depthwise conv, and every conv is padded TF's "fixed" way, so a
// strided conv samples exactly the stride-1 output's even positions. No classifier (global pool,
// logits). Parameter names: entry_flow.conv1_1.weight, entry_flow.block1.sepconv1.depthwise.weight,
// middle_flow.unit1.sepconv2.pointwise_bn.bias, exit_flow.block2.sepconv3.pointwise.weight, …
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/rng.h"
#include "layers/batch_norm2d.h"
#include "layers/conv2d.h"
#include "layers/separable_conv2d.h"

namespace pg {

// TF DeepLab's fixed_padding: the zeros a conv of this kernel and dilation needs before and after
// each spatial dimension, independent of the input size: effective kernel k' = k + (k − 1)(d − 1),
// total k' − 1, begin = total / 2, end = total − begin. Symmetric for odd kernels (3×3: 1 and 1 at
// rate 1, 2 and 2 at rate 2), one more at the end for even ones. With it a stride-s conv's output
// (ceil(H/s) rows) is the stride-1 "same" output sampled at rows 0, s, 2s, … TF's native "SAME"
// pads total = max((ceil(H/s) − 1)·s + k' − H, 0), which for a 3×3 at stride 2 on an even H is
// one row, at the end only: it samples the odd rows instead, one pixel off.
struct Padding {
  int begin = 0;
  int end = 0;
};
Padding fixed_padding(int kernel, int dilation);

// How an Xception unit joins its input back in.
enum class XceptionShortcut {
  conv,      // 1×1 conv (stride of the unit, no bias) + BN: entry flow and exit block 1
  identity,  // x itself: middle flow
  none,      // no shortcut: exit block 2
};

struct XceptionUnitOptions {
  int64_t in_channels = 0;
  std::array<int64_t, 3> depths = {};  // output channels of the three separable convs
  int stride = 1;                      // of the third separable conv and of the shortcut conv
  int dilation = 1;                    // of all three depthwise convs
  XceptionShortcut shortcut = XceptionShortcut::identity;
  // false: ReLU → depthwise → BN → pointwise → BN, three times (entry and middle flows, exit block 1)
  // true:  depthwise → BN → ReLU → pointwise → BN → ReLU, three times (exit block 2)
  bool relu_inside = false;
  BatchNorm2dOptions bn = {};
};

// A unit's output and its second separable conv's output (DeepLab v3+'s low-level features).
struct XceptionUnitOutputs {
  Tensor sepconv2;  // (N, depths[1], H, W): before the unit's stride
  Tensor out;       // (N, depths[2], ceil(H/stride), ceil(W/stride))
};

// TF DeepLab's xception_module: three separable convs (children sepconv1..sepconv3), the stride on
// the last one, plus the shortcut (children shortcut, shortcut_bn when it is a conv).
class XceptionUnit : public Module {
 public:
  XceptionUnit(const XceptionUnitOptions& options, Rng& rng);

  // x: (N, in_channels, H, W) → both outputs.
  XceptionUnitOutputs forward_features(const Tensor& x);
  // x: (N, in_channels, H, W) → (N, depths[2], ceil(H/stride), ceil(W/stride))
  Tensor forward(const Tensor& x) override;

  const XceptionUnitOptions& options() const { return options_; }
  SeparableConv2d& sepconv(int i) const { return *sepconvs_.at(i); }  // 0, 1, 2

 private:
  XceptionUnitOptions options_;
  std::array<std::shared_ptr<SeparableConv2d>, 3> sepconvs_;
  std::shared_ptr<Conv2d> shortcut_;
  std::shared_ptr<BatchNorm2d> shortcut_bn_;
};

struct XceptionConfig {
  int64_t conv1_1_channels = 32;                          // entry flow's stride-2 3×3 conv
  int64_t conv1_2_channels = 64;                          // entry flow's second 3×3 conv
  std::array<int64_t, 3> entry_blocks = {128, 256, 728};  // each entry block's three widths
  int middle_units = 16;                                  // each [entry_blocks[2]] × 3, identity shortcut
  std::array<int64_t, 3> exit_block1 = {728, 1024, 1024};
  std::array<int64_t, 3> exit_block2 = {1536, 1536, 2048};
  // 32 (classification), 16 (exit block 1 gives up its stride, exit block 2 dilated 2) or 8
  // (entry block 3 too: middle flow and exit block 1 at rate 2, exit block 2 at 4); 4 also works.
  int output_stride = 16;
  // TF DeepLab's xception_arg_scope: batch norm decay 0.9997 (momentum 0.0003), epsilon 1e-3.
  BatchNorm2dOptions bn = {.momentum = 0.0003f, .eps = 1e-3f};

  // Aligned Xception-65, as above.
  static XceptionConfig xception65(int output_stride = 16);
  // The mini aligned Xception of the tiny configurations: entry 8 → 16, entry blocks 16/32/64,
  // 4 middle units, exit [64, 128, 128] and [192, 192, 256] (Xception-65's widths / 8 where
  // ARCHITECTURES.md does not fix them); batch norm momentum 0.1, as the running statistics of a
  // net trained from scratch in a few thousand steps would otherwise hardly move from their start.
  static XceptionConfig tiny(int output_stride = 16);
};

// The features DeepLab v3+ reads. Sizes round up (ceil) at each stride.
struct XceptionFeatures {
  // entry_flow.block2.sepconv2's output (its pointwise BN, before the ReLU that opens sepconv3):
  // TF DeepLab's decoder end point "entry_flow/block2/unit_1/xception_module/separable_conv2_pointwise"
  // (core/feature_extractor.py), (N, entry_blocks[1], H/4, W/4).
  Tensor low_level;
  Tensor entry_flow;   // (N, entry_blocks[2], H/16, W/16); H/8 at output stride 8, H/4 at 4
  Tensor middle_flow;  // the same size
  Tensor exit_flow;    // (N, exit_block2[2], H/os, W/os)
};

// A named group of children without a forward of its own: entry_flow, middle_flow and exit_flow
// give the parameters TF's scopes; Xception::features runs their children in order.
class XceptionFlow : public Module {
 public:
  template <typename M>
  std::shared_ptr<M> add(const std::string& name, std::shared_ptr<M> child) {
    return register_module(name, child);
  }
};

class Xception : public Module {
 public:
  Xception(const XceptionConfig& config, Rng& rng);

  // images: (N, 3, H, W) → the features above.
  XceptionFeatures features(const Tensor& images);
  // images: (N, 3, H, W) → exit flow: (N, out_channels(), ceil(H/os), ceil(W/os))
  Tensor forward(const Tensor& images) override;

  int64_t out_channels() const { return config_.exit_block2[2]; }
  int64_t low_level_channels() const { return config_.entry_blocks[1]; }
  const XceptionConfig& config() const { return config_; }
  // Every unit in order (entry blocks 1–3, middle units, exit blocks 1–2), for their geometry.
  const std::vector<std::shared_ptr<XceptionUnit>>& units() const { return units_; }

 private:
  XceptionConfig config_;
  std::shared_ptr<XceptionFlow> entry_flow_;
  std::shared_ptr<XceptionFlow> middle_flow_;
  std::shared_ptr<XceptionFlow> exit_flow_;
  std::shared_ptr<Conv2d> conv1_1_;
  std::shared_ptr<BatchNorm2d> conv1_1_bn_;
  std::shared_ptr<Conv2d> conv1_2_;
  std::shared_ptr<BatchNorm2d> conv1_2_bn_;
  std::vector<std::shared_ptr<XceptionUnit>> units_;
};

}  // namespace pg
