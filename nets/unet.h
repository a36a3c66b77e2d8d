// U-Net (Ronneberger, Fischer, Brox, "U-Net: Convolutional Networks for Biomedical Image
// Segmentation", MICCAI 2015): a contracting path (two 3×3 convs + ReLU per level, 2×2 max-pool,
// channels doubling 64 → 1024 over 4 pools) and a symmetric expanding path (2×2 up-convolution
// halving the channels, concatenation with the contracting path's features at that level, two
// 3×3 convs), then a 1×1 classifier. The skips carry the fine localisation the pools lost.
//
// Two forms. Padded (default, the modern one: pad-1 convs + batch norm): the output has the input's
// size, which must be divisible by 2^depth. Unpadded (the paper's: valid convs, bias, no batch norm):
// every conv trims a pixel on each side, each skip is centre-cropped to the upsampled map before
// the concatenation, and forward returns the logits of the valid centre only (572 → 388 for the
// paper's net). training_loss then crops the labels to that centre, as the paper's overlap-tile
// strategy trains on the region whose full context is inside the tile.
#pragma once
#include <memory>
#include <vector>

#include "core/rng.h"
#include "layers/batch_norm2d.h"
#include "layers/conv2d.h"
#include "layers/conv_transpose2d.h"
#include "layers/max_pool2d.h"
#include "layers/sequential.h"
#include "nets/segmentation_net.h"

namespace pg {

struct UNetConfig {
  int num_classes = 2;
  int in_channels = 3;
  int base_channels = 64;  // channels of the first level; doubled after each pool
  int depth = 4;           // number of 2×2 max-pools (= number of up-convolutions)
  bool padded = true;      // pad-1 3×3 convs (output = input size); false: the paper's valid convs
  bool batch_norm = true;  // Conv(no bias)-BN-ReLU; false: Conv(bias)-ReLU as in the paper

  static UNetConfig full(int num_classes);   // base 64, 4 pools, padded, batch norm (31.0M parameters)
  static UNetConfig paper(int num_classes);  // base 64, 4 pools, unpadded, no batch norm: the 2015 net
  static UNetConfig tiny(int num_classes);   // base 8, 3 pools, padded, batch norm
};

// The unpadded form's output side for an input side (572 → 388 at depth 4), or −1 when the input
// does not give a valid size (a pool meets an odd side, or a side drops below 1).
int64_t unet_unpadded_output_size(int64_t input, int depth);

// Two 3×3 convolutions, each followed by (batch norm and) ReLU: one level of either path.
class UNetDoubleConv : public Module {
 public:
  UNetDoubleConv(int64_t in_channels, int64_t out_channels, const UNetConfig& config, Rng& rng);
  Tensor forward(const Tensor& x) override;  // (N, in, H, W) → (N, out, H, W), or H − 4 unpadded

 private:
  std::shared_ptr<Conv2d> conv1_, conv2_;
  std::shared_ptr<BatchNorm2d> bn1_, bn2_;  // null without batch norm
};

// One level of the expanding path: 2×2 up-convolution (stride 2) halving the channels, the
// contracting path's features of the same level (centre-cropped when unpadded) concatenated in
// front, then the double conv.
class UNetUpBlock : public Module {
 public:
  UNetUpBlock(int64_t in_channels, const UNetConfig& config, Rng& rng);  // in → in / 2 channels
  // x: (N, in, h, w), skip: (N, in/2, Hs, Ws) with Hs ≥ 2h → (N, in/2, 2h, 2w) (−4 unpadded)
  Tensor forward(const Tensor& x, const Tensor& skip);

 private:
  std::shared_ptr<ConvTranspose2d> up_;
  std::shared_ptr<UNetDoubleConv> convs_;
};

class UNet : public SegmentationNet {
 public:
  UNet(const UNetConfig& config, Rng& rng);

  // images: (N, in_channels, H, W) → logits (N, C, H, W) padded, (N, C, Ho, Wo) unpadded with
  // Ho = unet_unpadded_output_size(H).
  Tensor forward(const Tensor& images) override;
  // Cross-entropy against the labels' centre crop of the logits' size (the whole map when padded).
  Tensor training_loss(const Batch& batch, const CrossEntropyParams& loss) override;
  int num_classes() const override { return config_.num_classes; }
  const UNetConfig& config() const { return config_; }

 private:
  void check_input(const Tensor& images) const;

  UNetConfig config_;
  std::vector<std::shared_ptr<UNetDoubleConv>> contract_;  // depth + 1 levels, the last the bottom
  std::vector<std::shared_ptr<UNetUpBlock>> expand_;       // depth levels, bottom first
  std::shared_ptr<Conv2d> classifier_;                     // 1×1, base_channels → C
  MaxPool2d pool_;                                         // 2×2, stride 2
};

std::shared_ptr<UNet> make_unet(const UNetConfig& config, uint64_t seed);

}  // namespace pg
