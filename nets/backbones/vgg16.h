// VGG-16 (Simonyan & Zisserman 2015) as the segmentation backbone of FCN, DeepLab v1/v2 and the
// dilation front-end: five blocks of 3×3 conv + ReLU (2, 2, 3, 3, 3 convs; 64, 128, 256, 512, 512
// channels), each ended by an optional max-pool, returning the features after every block.
// The fully connected layers fc6/fc7 belong to each net (they differ from net to net).
#pragma once
#include <array>
#include <memory>
#include <optional>
#include <vector>

#include "core/ops/pool2d.h"
#include "core/rng.h"
#include "layers/conv2d.h"
#include "layers/module.h"

namespace pg {

struct Vgg16Config {
  std::array<int64_t, 5> widths = {64, 128, 256, 512, 512};  // channels of block 1..5
  std::array<int, 5> convs_per_block = {2, 2, 3, 3, 3};
  std::array<int, 5> dilations = {1, 1, 1, 1, 1};  // of every 3×3 conv in the block ("same" padding d)
  // Padding of conv1_1. FCN's reference pads it by 100 so that even a small image leaves fc6 (a
  // 7×7 conv without padding) a map to work on; the output is cropped back (nets/fcn.h).
  int conv1_1_pad = 1;
  // The max-pool after each block; nullopt: none (the dilation front-end drops pool4 and pool5).
  // Caffe rounds pooled sizes up, hence ceil_mode in every reference form.
  std::array<std::optional<Pool2dParams>, 5> pools;

  // FCN (and the classification VGG-16): 2×2 stride-2 pools, output stride 32, conv1_1 pad 100.
  static Vgg16Config fcn();
  // DeepLab v1 LargeFOV / v2-VGG: pool1–3 are 3×3 stride 2 pad 1, pool4/pool5 3×3 stride 1 pad 1,
  // conv5 dilated by 2 → output stride 8 (pool5 is 1/8 of the input, rounded up).
  static Vgg16Config deeplab_largefov();
  // Yu & Koltun's front-end: pool4 and pool5 removed, conv5 dilated by 2 → output stride 8.
  static Vgg16Config dilation_frontend();

  // The same form at toy width: blocks of 8, 16, 32, 32, 32 channels, two convs each.
  Vgg16Config tiny() const;

  int output_stride() const;  // the product of the pools' strides (32, or 8 for the dilated forms)
};

// pool[i]: the output of block i+1 after its pool, or after its last conv + ReLU when the block
// has no pool. FCN reads pool3, pool4, pool5; DeepLab and the front-end read pool5 only.
struct Vgg16Features {
  std::array<Tensor, 5> pool;
  const Tensor& pool3() const { return pool[2]; }
  const Tensor& pool4() const { return pool[3]; }
  const Tensor& pool5() const { return pool[4]; }
};

// Parameters named as Caffe's layers, "conv1_1.weight" … "conv5_3.bias", so the released Caffe
// models (and the PyTorch twin, tools/reference/vgg.py) map onto it one to one.
class Vgg16 : public Module {
 public:
  // Weights as torchvision's VGG: Kaiming normal (fan_out, ReLU gain), biases zero.
  Vgg16(const Vgg16Config& config, Rng& rng);

  // images: (N, 3, H, W) → features after every block (see Vgg16Features for the shapes).
  Vgg16Features features(const Tensor& images);
  Tensor forward(const Tensor& images) override { return features(images).pool5(); }

  const Vgg16Config& config() const { return config_; }
  int64_t out_channels() const { return config_.widths[4]; }
  // The conv `conv<block>_<index>` (both from 1), e.g. conv(5, 3) is conv5_3.
  const Conv2d& conv(int block, int index) const;

 private:
  Vgg16Config config_;
  std::array<std::vector<std::shared_ptr<Conv2d>>, 5> blocks_;
};

}  // namespace pg
