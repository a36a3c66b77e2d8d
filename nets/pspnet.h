// PSPNet (Zhao, Shi, Qi, Wang, Jia, "Pyramid Scene Parsing Network", CVPR 2017): a dilated
// ResNet at output stride 8 (layer3 at rate 2, layer4 at rate 4, no stride after layer2), the
// pyramid pooling module on its last map (nets/pyramid_pooling.h: bins 1, 2, 3, 6, each reduced to
// in/4 channels, upsampled and concatenated with the map), a 3×3 conv 512 + BN + ReLU, dropout 0.1,
// a 1×1 classifier and bilinear upsampling ×8 to the input. Training adds the paper's "deep
// supervision": an auxiliary FCN head on layer3 whose loss enters with weight 0.4; forward (the
// prediction) never runs it.
//
// Reference followed: mmsegmentation's pspnet_r50-d8 (configs/_base_/models/pspnet_r50-d8.py:
// PSPHead + FCNHead), for its parameter names (backbone.*, decode_head.psp_modules.{i}.1.conv,
// decode_head.bottleneck, decode_head.conv_seg, auxiliary_head.convs.0, auxiliary_head.conv_seg),
// its Dropout2d, its dilation convention (a dilated stage's first unit keeps the previous rate,
// as torchvision) and its default align_corners = false. Where it differs, on purpose:
//   - the stem is torchvision's 7×7 conv (our ResNet), not the "ResNet-D"/V1c deep stem of three
//     3×3 convs that mmseg and the author's code use (mmseg's: 19,232 parameters more);
//   - align_corners is a per-net option; true is the author's code (with 8k+1 inputs, 473 or 713,
//     which this net then requires so that the corners of image and 1/8 map coincide).
// The author's code (hszhao/semseg, model/pspnet.py) also dilates the first unit of layer3 and
// layer4 (rates 2, 2, … and 4, 4, 4 instead of 1, 2, … and 2, 4, 4), which changes no parameter,
// and names its modules layer0…layer4, ppm.features, cls, aux.
#pragma once
#include <memory>
#include <vector>

#include "core/rng.h"
#include "layers/conv2d.h"
#include "layers/dropout.h"
#include "nets/backbones/resnet.h"
#include "nets/conv_bn_relu.h"
#include "nets/pyramid_pooling.h"
#include "nets/segmentation_net.h"

namespace pg {

struct PSPNetConfig {
  int num_classes = 21;
  ResNetConfig backbone = ResNetConfig::resnet50(8);
  std::vector<int> bins = {1, 2, 3, 6};  // each branch reduces to in/len(bins) channels (the paper's 1/N)
  int64_t channels = 512;                // the 3×3 bottleneck after the concatenation
  int64_t aux_channels = 256;            // the auxiliary head's 3×3 conv
  float dropout = 0.1f;                  // Dropout2d before each classifier
  float aux_weight = 0.4f;               // loss = main + aux_weight · auxiliary
  bool align_corners = false;            // of every bilinear resize; true needs sides of 8k+1

  // ResNet-50-D8 (mmseg's default; 48,957,802 parameters at 21 classes, 46,592,597 without the
  // auxiliary head) and ResNet-101-D8 (the paper's VOC and Cityscapes net; 67,949,930).
  static PSPNetConfig full(int num_classes);
  static PSPNetConfig full_resnet101(int num_classes);
  // ResNetConfig::tiny(8) (an 8×8 map at 64 px, where 3 and 6 bins overlap), bottleneck 64, aux 32:
  // 620,916 parameters at 6 classes (583,790 without the auxiliary head), 35.4M MACs at 64×64.
  static PSPNetConfig tiny(int num_classes);
};

// decode_head: pyramid pooling → 3×3 ConvBnRelu ("bottleneck") → dropout → 1×1 ("conv_seg").
class PSPHead : public Module {
 public:
  PSPHead(int64_t in_channels, const PSPNetConfig& config, Rng& rng);
  // x: (N, in, h, w) → logits (N, C, h, w)
  Tensor forward(const Tensor& x) override;

 private:
  std::shared_ptr<PyramidPooling> psp_modules_;
  std::shared_ptr<ConvBnRelu> bottleneck_;
  std::shared_ptr<Dropout2d> dropout_;
  std::shared_ptr<Conv2d> conv_seg_;
};

// auxiliary_head: mmseg's FCNHead with one conv: 3×3 ConvBnRelu ("convs.0") → dropout → 1×1.
class PSPAuxHead : public Module {
 public:
  PSPAuxHead(int64_t in_channels, const PSPNetConfig& config, Rng& rng);
  // x: (N, in, h, w) → logits (N, C, h, w)
  Tensor forward(const Tensor& x) override;

 private:
  std::shared_ptr<Sequential> convs_;
  std::shared_ptr<Dropout2d> dropout_;
  std::shared_ptr<Conv2d> conv_seg_;
};

class PSPNet : public SegmentationNet {
 public:
  PSPNet(const PSPNetConfig& config, Rng& rng);

  // images: (N, 3, H, W) → logits (N, C, H, W); the auxiliary head is not run. Any H, W ≥ 1 with
  // align_corners false; with true, H − 1 and W − 1 must be multiples of the output stride.
  Tensor forward(const Tensor& images) override;
  // In train(): cross_entropy(main) + aux_weight · cross_entropy(auxiliary), both at the input's
  // size, from one pass through the backbone. In eval(): the main loss only.
  Tensor training_loss(const Batch& batch, const CrossEntropyParams& loss) override;
  int num_classes() const override { return config_.num_classes; }
  const PSPNetConfig& config() const { return config_; }

 private:
  void check_input(const Tensor& images) const;

  PSPNetConfig config_;
  std::shared_ptr<ResNet> backbone_;
  std::shared_ptr<PSPHead> decode_head_;
  std::shared_ptr<PSPAuxHead> auxiliary_head_;
};

std::shared_ptr<PSPNet> make_pspnet(const PSPNetConfig& config, uint64_t seed);

}  // namespace pg
