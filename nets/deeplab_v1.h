// DeepLab v1, LargeFOV (Chen, Papandreou, Kokkinos, Murphy, Yuille, "Semantic Image Segmentation
// with Deep Convolutional Nets and Fully Connected CRFs", ICLR 2015): VGG-16 made dense by the
// atrous ("hole") trick — pool1–3 are 3×3 stride 2, pool4 and pool5 3×3 stride 1, conv5 dilated by
// 2 — so the scores come out at output stride 8; then the fully connected layers as convolutions
// with a large field of view: fc6 a 3×3 conv dilated by 12 (1024 channels, instead of VGG's 7×7
// 4096), fc7 1×1 (1024), dropout 0.5 after each, fc8 1×1 → C.
//
// Training (the paper's and the Caffe release's): cross-entropy of the stride-8 score map against
// the labels shrunk ×8 (nets/label_shrink.h) — not the upsampled scores against the full labels.
// Prediction: the score map bilinearly upsampled to the input (Caffe's Interp, corners aligned:
// exactly ×8 on the release's 8k+1 inputs), then the fully connected CRF, which is its own issue:
// set_refiner / predict are its plug (nets/logits_refiner.h). Parameter names as the release's
// Caffe layers: backbone.conv1_1 … backbone.conv5_3, fc6, fc7, fc8 (the release's fc8_voc12: the
// dataset suffix is dropped because the class count is a setting).
#pragma once
#include <memory>
#include <vector>

#include "core/rng.h"
#include "layers/conv2d.h"
#include "layers/dropout.h"
#include "nets/backbones/vgg16.h"
#include "nets/logits_refiner.h"
#include "nets/segmentation_net.h"

namespace pg {

struct LargeFovOptions {
  int64_t in_channels = 512;  // pool5's
  int64_t width = 1024;       // fc6's and fc7's channels
  int rate = 12;              // fc6's dilation (its padding is the same: "same" size)
  int num_classes = 21;
  float dropout = 0.5f;
};

// fc6 (3×3, dilated) → ReLU → dropout → fc7 (1×1) → ReLU → dropout → fc8 (1×1 → classes): v1's
// classifier and each VGG branch of v2's ASPP. Not a Module: its layers are registered on the net
// under Caffe's flat names (v1: fc6, drop6, …; v2: fc6_1, drop6_1, …).
struct LargeFovClassifier {
  LargeFovClassifier(const LargeFovOptions& options, Rng& rng);
  // features: (N, in_channels, h, w) → class scores (N, num_classes, h, w)
  Tensor forward(const Tensor& features) const;

  std::shared_ptr<Conv2d> fc6, fc7, fc8;
  std::shared_ptr<Dropout> drop6, drop7;
};

// The release's solver multipliers (Caffe's lr_mult / decay_mult): weights lr ×1, biases lr ×2
// without weight decay, and the newly initialised classifier ×10 (weights) / ×20 (biases).
// Parameters that do not learn (frozen batch norm) are left out.
std::vector<ParamGroup> deeplab_parameter_groups(const NamedTensors& body, const NamedTensors& classifier);

struct DeepLabV1Config {
  int num_classes = 21;
  Vgg16Config vgg = Vgg16Config::deeplab_largefov();
  int64_t fc_width = 1024;
  int fc6_rate = 12;
  float dropout = 0.5f;

  static DeepLabV1Config full(int num_classes);  // the paper's DeepLab-LargeFOV (20.5M parameters)
  static DeepLabV1Config tiny(int num_classes);  // tiny VGG (8 … 32), fc 64, fc6 rate 3 on an 8×8 map
};

class DeepLabV1 : public SegmentationNet {
 public:
  DeepLabV1(const DeepLabV1Config& config, Rng& rng);

  // images: (N, 3, H, W) → scores at output stride 8: (N, C, h, w), h = ceil(H/8) for the 3×3
  // pools (41 for the release's 321 crops)
  Tensor score_map(const Tensor& images);
  // images: (N, 3, H, W) → logits (N, C, H, W): the score map upsampled, corners aligned
  Tensor forward(const Tensor& images) override;
  // cross-entropy of score_map(images) against shrink_labels(labels, h, w)
  Tensor training_loss(const Batch& batch, const CrossEntropyParams& loss) override;
  // deeplab_parameter_groups with fc8 as the classifier
  std::vector<ParamGroup> parameter_groups() const override;
  int num_classes() const override { return config_.num_classes; }
  const DeepLabV1Config& config() const { return config_; }

  // The CRF's plug: predict = refine_logits(refiner, images, forward(images)).
  void set_refiner(std::shared_ptr<LogitsRefiner> refiner) { refiner_ = std::move(refiner); }
  Tensor predict(const Tensor& images);

 private:
  DeepLabV1Config config_;
  std::shared_ptr<Vgg16> backbone_;
  std::unique_ptr<LargeFovClassifier> classifier_;
  std::shared_ptr<LogitsRefiner> refiner_;
};

std::shared_ptr<DeepLabV1> make_deeplab_v1(const DeepLabV1Config& config, uint64_t seed);

}  // namespace pg
