// The table of architectures. To add a net: include its header and add one entry below.
#include "nets/registry.h"

#include "core/error.h"
#include "nets/deeplab_v1.h"
#include "nets/deeplab_v2.h"
#include "nets/deeplab_v3.h"
#include "nets/deeplab_v3plus.h"
#include "nets/deeplab_v3plus_xception.h"
#include "nets/dilation_net.h"
#include "nets/fcn.h"
#include "nets/patch_cnn.h"
#include "nets/pspnet.h"
#include "nets/refinenet.h"
#include "nets/segnet.h"
#include "nets/unet.h"
#include "nets/upernet.h"

namespace pg {

const std::vector<Architecture>& architectures() {
  static const std::vector<Architecture> table = {
      // One entry per net, in the survey's order.
      {"patch-cnn",
       "Per-pixel patch classification, and the same classifier convolutionalised (Ciresan et al. 2012's N4)",
       [](NetSize size, const NetOptions& o) -> std::shared_ptr<SegmentationNet> {
         return make_patch_cnn(
             size == NetSize::tiny ? PatchCnnConfig::tiny(o.num_classes) : PatchCnnConfig::full(o.num_classes),
             o.seed);
       }},
      {"fcn32s",
       "FCN-32s: VGG-16 convolutionalised, its 1/32 scores upsampled by one bilinear deconv (Long et al. 2015)",
       [](NetSize size, const NetOptions& o) -> std::shared_ptr<SegmentationNet> {
         const FcnVariant v = FcnVariant::fcn32s;
         return make_fcn(
             size == NetSize::tiny ? FcnConfig::tiny(v, o.num_classes) : FcnConfig::full(v, o.num_classes),
             o.seed);
       },
       64, 500},
      {"fcn16s", "FCN-16s: FCN-32s plus a zero-initialised pool4 skip, fused at 1/16 (Long et al. 2015)",
       [](NetSize size, const NetOptions& o) -> std::shared_ptr<SegmentationNet> {
         const FcnVariant v = FcnVariant::fcn16s;
         return make_fcn(
             size == NetSize::tiny ? FcnConfig::tiny(v, o.num_classes) : FcnConfig::full(v, o.num_classes),
             o.seed);
       },
       64, 500},
      {"fcn8s",
       "FCN-8s: FCN-16s plus a pool3 skip, fused at 1/8; trained in stages 32s → 16s → 8s (Long et al. 2015)",
       [](NetSize size, const NetOptions& o) -> std::shared_ptr<SegmentationNet> {
         const FcnVariant v = FcnVariant::fcn8s;
         return make_fcn(
             size == NetSize::tiny ? FcnConfig::tiny(v, o.num_classes) : FcnConfig::full(v, o.num_classes),
             o.seed);
       },
       64, 500},
      {"fcn8s-atonce",
       "FCN-8s trained at once: the pool4 / pool3 skips scaled by 0.01 / 0.0001 (Shelhamer et al. 2017)",
       [](NetSize size, const NetOptions& o) -> std::shared_ptr<SegmentationNet> {
         const FcnVariant v = FcnVariant::fcn8s;
         FcnConfig c =
             size == NetSize::tiny ? FcnConfig::tiny(v, o.num_classes) : FcnConfig::full(v, o.num_classes);
         c.at_once = true;
         return make_fcn(c, o.seed);
       },
       64, 500},
      {"unet", "U-Net: contracting path, up-convolutions and concatenated skips (Ronneberger et al. 2015)",
       [](NetSize size, const NetOptions& o) -> std::shared_ptr<SegmentationNet> {
         return make_unet(
             size == NetSize::tiny ? UNetConfig::tiny(o.num_classes) : UNetConfig::full(o.num_classes),
             o.seed);
       }},
      {"segnet",
       "SegNet: VGG-16 encoder, decoder max-unpooling with the encoder's pool indices (Badrinarayanan et al. 2017)",
       [](NetSize size, const NetOptions& o) -> std::shared_ptr<SegmentationNet> {
         return make_segnet(
             size == NetSize::tiny ? SegNetConfig::tiny(o.num_classes) : SegNetConfig::full(o.num_classes), o.seed);
       }},
      {"dilation",
       "Dilated front-end (VGG-16 at OS 8) + context module of dilations 1-1-2-4-8-16, identity-initialised (Yu & Koltun 2016)",
       [](NetSize size, const NetOptions& o) -> std::shared_ptr<SegmentationNet> {
         return make_dilation_net(
             size == NetSize::tiny ? DilationNetConfig::tiny(o.num_classes) : DilationNetConfig::full(o.num_classes),
             o.seed);
       }},
      {"dilation-frontend",
       "The dilation net's front-end alone: VGG-16 without pool4/5, dilated conv5 and fc6, bilinear x8 (Yu & Koltun 2016)",
       [](NetSize size, const NetOptions& o) -> std::shared_ptr<SegmentationNet> {
         return make_dilation_net(size == NetSize::tiny ? DilationNetConfig::tiny(o.num_classes, false)
                                                        : DilationNetConfig::full(o.num_classes, false),
                                  o.seed);
       }},
      {"deeplabv1", "DeepLab v1 LargeFOV: VGG-16 at output stride 8, fc6 dilated by 12 (Chen et al. 2015)",
       [](NetSize size, const NetOptions& o) -> std::shared_ptr<SegmentationNet> {
         return make_deeplab_v1(size == NetSize::tiny ? DeepLabV1Config::tiny(o.num_classes)
                                                      : DeepLabV1Config::full(o.num_classes),
                                o.seed);
       },
       64, 513},
      {"deeplabv2", "DeepLab v2 on VGG-16: ASPP, four atrous branches, class maps summed (Chen et al. 2018)",
       [](NetSize size, const NetOptions& o) -> std::shared_ptr<SegmentationNet> {
         return make_deeplab_v2(size == NetSize::tiny ? DeepLabV2Config::vgg_tiny(o.num_classes)
                                                      : DeepLabV2Config::vgg_full(o.num_classes),
                                o.seed);
       },
       64, 513},
      {"deeplabv2-resnet", "DeepLab v2 on ResNet-101 at output stride 8, ASPP summed (Chen et al. 2018)",
       [](NetSize size, const NetOptions& o) -> std::shared_ptr<SegmentationNet> {
         return make_deeplab_v2(size == NetSize::tiny ? DeepLabV2Config::resnet_tiny(o.num_classes)
                                                      : DeepLabV2Config::resnet_full(o.num_classes),
                                o.seed);
       },
       64, 513},
      {"deeplabv2-resnet-msc",
       "DeepLab v2 ResNet-101, multi-scale inputs 1, 0.75, 0.5 max-fused (Chen et al. 2018)",
       [](NetSize size, const NetOptions& o) -> std::shared_ptr<SegmentationNet> {
         const DeepLabV2Config base = size == NetSize::tiny ? DeepLabV2Config::resnet_tiny(o.num_classes)
                                                            : DeepLabV2Config::resnet_full(o.num_classes);
         return make_deeplab_v2(base.with_multi_scale(), o.seed);
       },
       64, 513},
      {"refinenet",
       "RefineNet-101: four cascaded blocks of RCUs, multi-resolution fusion and chained residual pooling, 1/32 to 1/4 (Lin et al. 2017)",
       [](NetSize size, const NetOptions& o) -> std::shared_ptr<SegmentationNet> {
         return make_refinenet(
             size == NetSize::tiny ? RefineNetConfig::tiny(o.num_classes) : RefineNetConfig::full(o.num_classes),
             o.seed);
       }},
      {"refinenet-lw",
       "Light-weight RefineNet-101: no RCUs, 1x1 convs, chained residual pooling of 4 (Nekrasov et al. 2018)",
       [](NetSize size, const NetOptions& o) -> std::shared_ptr<SegmentationNet> {
         return make_refinenet(size == NetSize::tiny ? RefineNetConfig::tiny_light_weight(o.num_classes)
                                                     : RefineNetConfig::light_weight(o.num_classes),
                               o.seed);
       }},
      {"pspnet",
       "PSPNet: dilated ResNet-50 at output stride 8, pyramid pooling over 1, 2, 3, 6 bins, auxiliary loss on layer3 (Zhao et al. 2017)",
       [](NetSize size, const NetOptions& o) -> std::shared_ptr<SegmentationNet> {
         return make_pspnet(
             size == NetSize::tiny ? PSPNetConfig::tiny(o.num_classes) : PSPNetConfig::full(o.num_classes), o.seed);
       }},
      {"deeplabv3",
       "DeepLab v3: ResNet-101 at output stride 16 with multi-grid, ASPP with image pooling (Chen et al. 2017)",
       [](NetSize size, const NetOptions& o) -> std::shared_ptr<SegmentationNet> {
         return make_deeplab_v3(
             size == NetSize::tiny ? DeepLabV3Config::tiny(o.num_classes) : DeepLabV3Config::full(o.num_classes),
             o.seed);
       }},
      {"upernet",
       "UperNet: ResNet-50 C2-C5, pyramid pooling on C5, FPN top-down, all levels fused at 1/4 (Xiao et al. 2018)",
       [](NetSize size, const NetOptions& o) -> std::shared_ptr<SegmentationNet> {
         return make_upernet(
             size == NetSize::tiny ? UperNetConfig::tiny(o.num_classes) : UperNetConfig::full(o.num_classes),
             o.seed);
       }},
      {"upernet-multitask",
       "UperNet with the Unified Perceptual Parsing heads: scene, object, part, material, texture (Xiao et al. 2018)",
       [](NetSize size, const NetOptions& o) -> std::shared_ptr<SegmentationNet> {
         return make_upernet(size == NetSize::tiny ? UperNetConfig::multitask_tiny(o.num_classes)
                                                   : UperNetConfig::multitask_full(o.num_classes),
                             o.seed);
       }},
      {"deeplabv3plus",
       "DeepLab v3+ on ResNet-101: the v3 encoder and a decoder on the stride-4 features (Chen et al. 2018)",
       [](NetSize size, const NetOptions& o) -> std::shared_ptr<SegmentationNet> {
         if (size == NetSize::tiny)
           return make_deeplab_v3plus_resnet(DeepLabV3PlusConfig::tiny(o.num_classes), deeplab_resnet_tiny(8), o.seed);
         return make_deeplab_v3plus_resnet(DeepLabV3PlusConfig::full(o.num_classes), deeplab_resnet101(16), o.seed);
       }},
      {"deeplabv3plus-xception",
       "DeepLab v3+ on aligned Xception-65 with atrous separable ASPP and decoder convs (Chen et al. 2018)",
       [](NetSize size, const NetOptions& o) -> std::shared_ptr<SegmentationNet> {
         if (size == NetSize::tiny)
           return make_deeplab_v3plus_xception(deeplab_v3plus_xception_tiny(o.num_classes),
                                               XceptionConfig::tiny(8), o.seed);
         return make_deeplab_v3plus_xception(deeplab_v3plus_xception_full(o.num_classes),
                                             XceptionConfig::xception65(16), o.seed);
       }},
  };
  return table;
}

namespace {

std::string valid_names() {
  std::string names;
  for (const Architecture& a : architectures()) names += (names.empty() ? "" : ", ") + a.name + "-tiny|-full";
  return names.empty() ? "(none built yet)" : names;
}

}  // namespace

std::pair<const Architecture*, NetSize> find_architecture(const std::string& name) {
  for (const Architecture& a : architectures()) {
    if (name == a.name + "-tiny") return {&a, NetSize::tiny};
    if (name == a.name + "-full") return {&a, NetSize::full};
    if (name == a.name)
      throw Error(str("architecture '", name, "': say which configuration, '", name, "-tiny' (toy size) or '", name,
                      "-full' (the paper's size)"));
  }
  throw Error(str("unknown architecture '", name, "'; the architectures are: ", valid_names()));
}

std::shared_ptr<SegmentationNet> make_net(const std::string& name, const NetOptions& options) {
  auto [architecture, size] = find_architecture(name);
  NetOptions resolved = options;
  if (resolved.num_classes == 0) resolved.num_classes = size == NetSize::tiny ? kToyClasses : kVocClasses;
  check(resolved.num_classes >= 1, "architecture '", name, "': num_classes must be ≥ 1, got ", resolved.num_classes);
  return architecture->make(size, resolved);
}

}  // namespace pg
