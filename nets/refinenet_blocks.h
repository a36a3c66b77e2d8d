// The building blocks of RefineNet (Lin, Milan, Shen, Reid, "RefineNet: Multi-Path Refinement
// Networks for High-Resolution Semantic Segmentation", CVPR 2017, Fig. 3) and of its light-weight
// variant (Nekrasov, Shen, Reid, "Light-Weight RefineNet for Real-Time Semantic Segmentation",
// BMVC 2018, Fig. 2):
//   - ResidualConvUnit (RCU, Fig. 3b): ReLU → 3×3 conv → ReLU → 3×3 conv, plus the input; no batch
//     norm anywhere (the paper's RCU is the pre-activation residual unit without BN);
//   - ChainedResidualPooling (CRP, Fig. 3d): ReLU, then a chain of (5×5 max pool, stride 1, pad 2
//     → conv) blocks, each fed the previous block's output, each output added to a running sum
//     that starts at the ReLU'd input;
//   - RefineNetBlock (Fig. 3a): adaptive convs (a conv to the block's width + RCUs) on the
//     backbone path, multi-resolution fusion with the coarser block's output (a conv per path to
//     the common width, bilinear upsampling of the coarser one to this path's size, sum), CRP and
//     the output RCUs.
// Reference code followed: DrSleep/refinenet-pytorch (models/resnet.py, utils/layer_factory.py,
// the PyTorch port of the authors' MATLAB guosheng/refinenet with their VOC weights) and
// DrSleep/light-weight-refinenet (models/resnet.py, utils/layer_factory.py). Their choices kept
// here: in an RCU the first conv has a bias and the second none; every other conv of the blocks
// is bias-free; the fusion upsampling aligns corners. Their flat names map to ours as
// p_ims1d2_outl{k}_dimred → adapt_conv, adapt_stage{k}_b → adapt_rcus,
// adapt_stage{k}_b2_joint_varout_dimred → fuse_conv, mflow_conv_g{k-1}_b3_joint_varout_dimred →
// the next block's fuse_coarse_conv, mflow_conv_g{k}_pool → crp (its i_outvar_dimred → conv{i}),
// mflow_conv_g{k}_b → output_rcus, and in an RCU {i}_conv / {i}_conv_relu_varout_dimred → conv1 /
// conv2.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "core/rng.h"
#include "layers/conv2d.h"
#include "layers/max_pool2d.h"
#include "layers/sequential.h"

namespace pg {

// RCU: x + conv2(relu(conv1(relu(x)))), both convs 3×3 at `channels` (conv1 with bias, conv2 without).
class ResidualConvUnit : public Module {
 public:
  ResidualConvUnit(int64_t channels, Rng& rng);
  // x: (N, channels, h, w) → (N, channels, h, w)
  Tensor forward(const Tensor& x) override;

 private:
  std::shared_ptr<Conv2d> conv1_;
  std::shared_ptr<Conv2d> conv2_;
};

// CRP: with r = relu(x), p_0 = r, p_i = conv_i(maxpool5(p_{i−1})): r + p_1 + … + p_blocks.
// conv_kernel 3 (RefineNet) or 1 (light-weight RefineNet); the convs keep `channels`.
class ChainedResidualPooling : public Module {
 public:
  ChainedResidualPooling(int64_t channels, int blocks, int conv_kernel, Rng& rng);
  // x: (N, channels, h, w) → (N, channels, h, w)
  Tensor forward(const Tensor& x) override;
  int blocks() const { return static_cast<int>(convs_.size()); }

 private:
  std::shared_ptr<MaxPool2d> pool_;
  std::vector<std::shared_ptr<Conv2d>> convs_;  // conv1 … conv{blocks}
};

struct RefineNetBlockOptions {
  int64_t in_channels = 0;      // the backbone level's channels
  int64_t coarse_channels = 0;  // the coarser block's output channels; 0: the top block (one path)
  int64_t channels = 0;         // the block's width (512 on layer4, 256 below in RefineNet-101)
  int conv_kernel = 3;          // of the adapt, fusion and CRP convs: 3, or 1 (light-weight)
  int adapt_rcus = 2;           // RCUs after the adapt conv (0 in the light-weight variant)
  int crp_blocks = 4;           // pool → conv blocks of the CRP (4 in the code, 2 in the paper's text)
  int output_rcus = 3;          // RCUs after the CRP (3 in the code, 1 in the paper's text; 0 light-weight)
};

// One RefineNet block: adapt → (fuse with the coarser path) → CRP → output RCUs.
class RefineNetBlock : public Module {
 public:
  RefineNetBlock(const RefineNetBlockOptions& options, Rng& rng);
  // x: (N, in_channels, h, w), the backbone level; coarse: the coarser block's output
  // (N, coarse_channels, h', w'), or undefined for the top block → (N, channels, h, w)
  Tensor forward(const Tensor& x, const Tensor& coarse);
  // The top block alone: forward(x, {}).
  Tensor forward(const Tensor& x) override;
  const RefineNetBlockOptions& options() const { return options_; }

 private:
  RefineNetBlockOptions options_;
  std::shared_ptr<Conv2d> adapt_conv_;
  std::shared_ptr<Sequential> adapt_rcus_;    // null when adapt_rcus = 0
  std::shared_ptr<Conv2d> fuse_conv_;         // this path's fusion conv; null in the top block
  std::shared_ptr<Conv2d> fuse_coarse_conv_;  // the coarser path's; null in the top block
  std::shared_ptr<ChainedResidualPooling> crp_;
  std::shared_ptr<Sequential> output_rcus_;  // null when output_rcus = 0
};

}  // namespace pg
