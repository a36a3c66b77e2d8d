// FCN-32s, FCN-16s and FCN-8s (Long, Shelhamer, Darrell, "Fully Convolutional Networks for
// Semantic Segmentation", CVPR 2015 / TPAMI 2017), on VGG-16 as the reference Caffe nets of
// shelhamer/fcn.berkeleyvision.org (voc-fcn32s, voc-fcn16s, voc-fcn8s, voc-fcn8s-atonce):
//
//   VGG-16 conv1_1 … pool5 → fc6 (7×7 conv, 4096) → ReLU → dropout → fc7 (1×1, 4096) → ReLU →
//   dropout → score_fr (1×1 → C): class scores at 1/32 of the input. Then
//   32s: upscore (deconv k64 s32) → crop to the input.
//   16s: upscore2 (k4 s2) + score_pool4 (1×1 on pool4, cropped) → upscore16 (k32 s16) → crop.
//    8s: upscore2 + score_pool4 → upscore_pool4 (k4 s2) + score_pool3 (1×1 on pool3, cropped) →
//        upscore8 (k16 s8) → crop.
// The skip classifiers (score_pool4, score_pool3) start at zero, like score_fr (the reference's
// Caffe default filler), so a freshly added skip changes nothing; the deconvs start as bilinear
// interpolation without bias and are frozen in the released models (FcnConfig::learn_upsampling).
// Parameter names are the reference's layer names (fc6, fc7, score_fr, score_pool4, upscore2, …),
// the VGG convs under "backbone." (backbone.conv1_1.weight … backbone.conv5_3.bias).
//
// Geometry. The reference pads conv1_1 by 100 so that any image, however small, leaves fc6 (an
// unpadded 7×7 conv) a map; the deconvs are unpadded too, so every map is larger than the image
// and each fusion crops the larger map at an offset that aligns the two. The offsets come from
// each layer's coordinate map (fcn_crop_offsets, as Caffe's coord_map.py): 32s crops 19; 16s 5
// (score_pool4) and 27; 8s 5, 9 (score_pool3) and 31. The tiny nets use "same" padding instead
// (conv1_1 pad 1, fc6 pad k/2, deconvs pad f/2): every offset is 0 and H, W must divide by 32.
//
// Training. Staged, as the paper: train FCN-32s, initialise FCN-16s from it (everything by name;
// the new skip stays zero, the deconvs bilinear), train, then the same for FCN-8s. In code:
// fcn_init_from_stage; from the command line, --init copies every tensor of the same name and
// shape (the same thing while the deconvs are frozen, hence bilinear in both stages). Each
// command below is one line:
//   pixelgrad train --arch fcn32s-tiny --toy 2000 --steps 1500 --out runs/fcn32s
//   pixelgrad train --arch fcn16s-tiny --toy 2000 --steps 1000 --out runs/fcn16s
//       --init runs/fcn32s/checkpoint.safetensors
//   pixelgrad train --arch fcn8s-tiny --toy 2000 --steps 1000 --out runs/fcn8s
//       --init runs/fcn16s/checkpoint.safetensors
// Or all at once (fcn8s-atonce): FCN-8s from scratch with pool4 scaled by 0.01 and pool3 by
// 0.0001 before their score layers, the reference's fix for the skips' larger activations.
// Loss: the reference sums the per-pixel losses (normalize: false, hence its lr 1e-10 … 1e-14);
// training_loss follows CrossEntropyParams::reduction, whose default is the mean (toy training
// uses it at ordinary learning rates).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/rng.h"
#include "layers/conv2d.h"
#include "layers/conv_transpose2d.h"
#include "layers/dropout.h"
#include "nets/backbones/vgg16.h"
#include "nets/segmentation_net.h"

namespace pg {

enum class FcnVariant { fcn32s, fcn16s, fcn8s };

// reference: conv1_1 pad 100 (from the backbone config), fc6 and deconvs unpadded, crops at the
// offsets of fcn_crop_offsets. same: fc6 pad k/2, deconvs pad f/2: maps align, offsets 0.
enum class FcnPadding { reference, same };

struct FcnConfig {
  FcnVariant variant = FcnVariant::fcn8s;
  int num_classes = 21;
  Vgg16Config backbone = Vgg16Config::fcn();
  FcnPadding padding = FcnPadding::reference;
  int64_t fc_channels = 4096;  // of fc6 and fc7
  int fc6_kernel = 7;
  float dropout = 0.5f;           // after fc6 and after fc7
  bool learn_upsampling = false;  // false: the deconvs stay bilinear (requires_grad false)
  bool at_once = false;           // scale pool4 by 0.01, pool3 by 0.0001 before their scores

  // VGG-16 with conv1_1 pad 100, fc6 7×7 4096, fc7 4096, frozen deconvs: the reference nets.
  static FcnConfig full(FcnVariant variant, int num_classes);
  // VGG widths 8-16-32-32-32 (two convs per block), fc6 3×3 64, fc7 64, "same" padding.
  static FcnConfig tiny(FcnVariant variant, int num_classes);
};

// The top-left offsets at which each fusion crops the larger map (the same in x and y):
// score_pool4c = score_pool4[o4 …], score_pool3c = score_pool3[o3 …], score = upscore…[out …].
// −1 where the variant has no such crop. A pg::Error when a geometry does not align on whole
// pixels (or the maps to fuse have different strides).
struct FcnCropOffsets {
  int score_pool4 = -1;
  int score_pool3 = -1;
  int output = 0;
};
FcnCropOffsets fcn_crop_offsets(const FcnConfig& config);

std::string fcn_variant_name(FcnVariant variant);  // "FCN-32s", "FCN-16s", "FCN-8s"

class Fcn : public SegmentationNet {
 public:
  Fcn(const FcnConfig& config, Rng& rng);

  // images: (N, 3, H, W) → logits (N, C, H, W), any H, W ≥ 1 in the reference padding, H and W
  // divisible by 32 in the "same" one.
  Tensor forward(const Tensor& images) override;
  // pool5: (N, 512, h, w) → score_fr: (N, C, h − 6, w − 6) (reference) or (N, C, h, w) (same),
  // through fc6, fc7 and their ReLU + dropout. The coarse prediction every variant starts from.
  Tensor score_fr(const Tensor& pool5);
  // Every parameter but the frozen deconvs (all of them with learn_upsampling).
  std::vector<ParamGroup> parameter_groups() const override;
  int num_classes() const override { return config_.num_classes; }

  const FcnConfig& config() const { return config_; }
  const FcnCropOffsets& crop_offsets() const { return offsets_; }
  Vgg16& backbone() { return *backbone_; }
  std::string name() const { return fcn_variant_name(config_.variant); }

 private:
  // x cropped at (offset, offset) to the size of `like`; a pg::Error naming `what` if it is smaller.
  Tensor crop_like(const Tensor& x, int offset, const Tensor& like, const char* what) const;
  std::shared_ptr<ConvTranspose2d> make_upscore(const std::string& name, int factor, Rng& rng);
  std::shared_ptr<Conv2d> make_score(const std::string& name, int64_t in_channels, Rng& rng);

  FcnConfig config_;
  FcnCropOffsets offsets_;
  std::shared_ptr<Vgg16> backbone_;
  std::shared_ptr<Conv2d> fc6_, fc7_, score_fr_;
  std::shared_ptr<Dropout> drop6_, drop7_;
  std::shared_ptr<Conv2d> score_pool4_, score_pool3_;  // 16s/8s, 8s; null otherwise
  // 32s: upscore. 16s: upscore2, upscore16. 8s: upscore2, upscore_pool4, upscore8.
  std::shared_ptr<ConvTranspose2d> upscore_, upscore2_, upscore16_, upscore_pool4_, upscore8_;
};

std::shared_ptr<Fcn> make_fcn(const FcnConfig& config, uint64_t seed);

// Staged training: initialises `net` from the trained previous stage's state (FCN-32s → 16s →
// 8s), by name: the backbone, fc6, fc7 and score_fr must be in `previous` with the same shapes;
// a skip score (score_pool4, score_pool3) is copied when `previous` has it (16s → 8s: score_pool4)
// and otherwise keeps its zeros; the deconvs are never copied and keep their bilinear start (the
// reference's solve.py re-runs surgery.interp on every "up" layer after copy_from). Other tensors
// of `previous` are not used. On a pg::Error the net is left unchanged.
void fcn_init_from_stage(Fcn& net, const NamedTensors& previous);

}  // namespace pg
