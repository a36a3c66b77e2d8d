// The table of architectures. To add a net: include its header and add one entry below.
#include "nets/registry.h"

#include "core/error.h"
#include "nets/deeplab_v1.h"
#include "nets/deeplab_v2.h"
#include "nets/patch_cnn.h"
#include "nets/segnet.h"
#include "nets/unet.h"

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
