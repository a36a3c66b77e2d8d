// The front-end of Yu & Koltun ("Multi-Scale Context Aggregation by Dilated Convolutions",
// ICLR 2016, §4): VGG-16 adapted for dense prediction. pool4 and pool5 are removed; conv5 is
// dilated by 2 and fc6 (7×7, 4096) by 4 to keep the receptive field of the pools they replace,
// fc7 (1×1, 4096), dropout 0.5 after each, and `final` (1×1 → C). Output stride 8: a 512×512
// image gives a 64×64 map of class scores, which the context module refines.
// Names as the reference's network.py (fyu/dilation: build_frontend_vgg): conv1_1 … conv5_3
// (inherited from the VGG-16 backbone), fc6, fc7, final.
// Simplification: the reference pads nothing (conv1_1 … fc6 all shrink the map) and feeds an
// image padded by reflection by 186 pixels; here every conv is "same"-padded (fc6: pad 12), so
// any H, W divisible by 8 works and the map is exactly H/8 × W/8.
#pragma once
#include <memory>

#include "core/rng.h"
#include "layers/conv2d.h"
#include "layers/dropout.h"
#include "nets/backbones/vgg16.h"

namespace pg {

struct DilationFrontendConfig {
  int num_classes = 21;
  Vgg16Config vgg = Vgg16Config::dilation_frontend();
  int64_t fc_channels = 4096;  // of fc6 and fc7
  int fc6_kernel = 7;
  int fc6_dilation = 4;
  float dropout = 0.5f;  // after fc6 and fc7

  static DilationFrontendConfig full(int num_classes);  // the paper's (134.3M parameters for 21)
  // VGG at toy width (8, 16, 32, 32, 32; two convs a block), fc6/fc7 64 wide; fc6 stays 7×7 d4.
  static DilationFrontendConfig tiny(int num_classes);
};

class DilationFrontend : public Vgg16 {
 public:
  DilationFrontend(const DilationFrontendConfig& config, Rng& rng);

  // images: (N, 3, H, W), H and W divisible by 8 → scores (N, C, H/8, W/8)
  Tensor forward(const Tensor& images) override;

  const DilationFrontendConfig& frontend_config() const { return config_; }

 private:
  DilationFrontendConfig config_;
  std::shared_ptr<Conv2d> fc6_, fc7_, final_;
  std::shared_ptr<Dropout> drop6_, drop7_;
};

}  // namespace pg
