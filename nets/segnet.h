// SegNet (Badrinarayanan, Kendall, Cipolla, "SegNet: A Deep Convolutional Encoder-Decoder
// Architecture for Image Segmentation", TPAMI 2017): a VGG-16 encoder (13 3×3 convs with batch
// norm + ReLU, five 2×2 max-pools) whose pools remember where each maximum was; the decoder
// max-unpools with those indices (the value back at its argmax, zeros elsewhere) and convolves the
// sparse map densely again. Only the indices cross from encoder to decoder, no features: the
// boundaries come back at a few bits per pooled value instead of FCN/U-Net's whole feature maps.
// Median-frequency class balancing, the paper's loss weights, is in nets/class_weights.h.
#pragma once
#include <memory>
#include <vector>

#include "core/rng.h"
#include "layers/batch_norm2d.h"
#include "layers/conv2d.h"
#include "layers/max_pool2d.h"
#include "layers/sequential.h"
#include "nets/segmentation_net.h"

namespace pg {

struct SegNetConfig {
  int num_classes = 11;
  int in_channels = 3;
  std::vector<int64_t> stage_channels = {64, 128, 256, 512, 512};  // one entry per pool
  std::vector<int> convs_per_stage = {2, 2, 3, 3, 3};

  static SegNetConfig full(int num_classes);  // VGG-16's 13 convs, mirrored (29.5M parameters)
  static SegNetConfig tiny(int num_classes);  // 16-32-64, two convs per stage
};

// conv 3×3 (pad 1, with bias as the reference Caffe model) → batch norm → ReLU.
class SegNetConvBnRelu : public Module {
 public:
  SegNetConvBnRelu(int64_t in_channels, int64_t out_channels, Rng& rng);
  Tensor forward(const Tensor& x) override;  // (N, in, H, W) → (N, out, H, W)

 private:
  std::shared_ptr<Conv2d> conv_;
  std::shared_ptr<BatchNorm2d> bn_;
};

class SegNet : public SegmentationNet {
 public:
  SegNet(const SegNetConfig& config, Rng& rng);

  // images: (N, in_channels, H, W), H and W divisible by 2^stages → logits (N, C, H, W)
  Tensor forward(const Tensor& images) override;
  int num_classes() const override { return config_.num_classes; }
  const SegNetConfig& config() const { return config_; }

 private:
  SegNetConfig config_;
  // encoder_[s]: stage s's convs (c_{s−1} → c_s, then c_s → c_s), each stage followed by the pool.
  std::vector<std::shared_ptr<Sequential>> encoder_;
  // decoder_[s] mirrors encoder_[s]: after the unpool, c_s → c_s convs and a last one c_s → c_{s−1}
  // (stage 0: its convs stay at c_0 and the classifier follows).
  std::vector<std::shared_ptr<Sequential>> decoder_;
  std::shared_ptr<Conv2d> classifier_;  // 3×3, c_0 → C, no batch norm (the reference's conv1_1_D)
  MaxPool2d pool_;                      // 2×2, stride 2, with indices
};

std::shared_ptr<SegNet> make_segnet(const SegNetConfig& config, uint64_t seed);

}  // namespace pg
