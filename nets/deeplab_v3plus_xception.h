// DeepLab v3+ in its paper's headline form (Chen et al., "Encoder-Decoder with Atrous Separable
// Convolution for Semantic Image Segmentation", ECCV 2018, Sec. 3.2 and Fig. 4): aligned
// Xception-65 (nets/backbones/xception.h) as the backbone, atrous separable convs in the ASPP and
// in the decoder (nets/deeplab_v3plus.h with separable = true), as TF DeepLab's
// xception_65 model variant builds it (model.py, feature_extractor.py).
//
//   images (N, 3, H, W) → aligned Xception-65 → low-level: entry_flow.block2.sepconv2 (N, 256, H/4, W/4)
//                                              high-level: exit_flow (N, 2048, H/os, W/os)
//   → separable ASPP (rates 6, 12, 18 at OS 16) → decoder (separable 3×3 convs) → logits ×4
//
// Parameter names: backbone.entry_flow.conv1_1.weight, …, aspp.*, decoder.*, classifier.* (the
// names of both halves, see their headers).
#pragma once
#include <cstdint>
#include <memory>

#include "core/rng.h"
#include "nets/backbones/xception.h"
#include "nets/deeplab_v3plus.h"

namespace pg {

// Aligned Xception as v3+'s backbone: entry block 2's second separable conv (stride 4, TF's
// decoder end point) and the exit flow (the output stride).
class XceptionV3PlusBackbone : public DeepLabV3PlusBackbone {
 public:
  XceptionV3PlusBackbone(const XceptionConfig& config, Rng& rng);

  std::shared_ptr<Module> module() const override { return xception_; }
  DeepLabV3PlusFeatures features(const Tensor& images) override;
  int64_t low_level_channels() const override { return xception_->low_level_channels(); }
  int64_t high_level_channels() const override { return xception_->out_channels(); }
  int output_stride() const override { return xception_->config().output_stride; }
  std::unique_ptr<DeepLabV3PlusBackbone> at_output_stride(int output_stride, Rng& rng) const override;
  const Xception& xception() const { return *xception_; }

 private:
  std::shared_ptr<Xception> xception_;
};

// The heads of the Xception form: DeepLabV3PlusConfig::full / tiny with separable ASPP and
// decoder convs. Full also takes TF DeepLab's batch norm decay 0.9997 (momentum 0.0003, epsilon
// 1e-5 as model.py's heads); tiny keeps momentum 0.1 (trained from scratch in minutes).
DeepLabV3PlusConfig deeplab_v3plus_xception_full(int num_classes);
DeepLabV3PlusConfig deeplab_v3plus_xception_tiny(int num_classes);

// full: deeplab_v3plus_xception_full with XceptionConfig::xception65(16);
// tiny: deeplab_v3plus_xception_tiny with XceptionConfig::tiny(8) (an 8×8 map at 64×64, rates 1, 2, 3).
std::shared_ptr<DeepLabV3Plus> make_deeplab_v3plus_xception(const DeepLabV3PlusConfig& config,
                                                            const XceptionConfig& xception, uint64_t seed);

}  // namespace pg
