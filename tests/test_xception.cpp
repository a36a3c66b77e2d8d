// Aligned Xception backbone (nets/backbones/xception.h): TF's fixed-padding arithmetic and the
// alignment it buys (a strided conv, and a whole strided unit, equal the stride-1 one sampled at
// even positions, where TF's native "SAME" samples the odd ones), unit strides and rates at output
// strides 16 and 8 (TF's stack_blocks_dense), feature shapes and the stride-4 low-level features,
// names, the 65 layers and the full parameter count, one golden step against the PyTorch twin,
// overfitting one batch, and clear errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "core/ops/arithmetic.h"
#include "core/ops/conv2d.h"
#include "core/ops/resize_bilinear.h"
#include "nets/backbones/xception.h"
#include "nets/segmentation_net.h"
#include "tests/golden_net.h"
#include "tests/micro_xception.h"
#include "tests/test_util.h"

using namespace pg;

namespace {

// The backbone golden's net (the twin's XceptionProbe): 1×1 scores on the exit-flow and the
// low-level features, each resized to the input (align_corners = true, TF DeepLab's), summed.
class XceptionProbe : public SegmentationNet {
 public:
  XceptionProbe(const XceptionConfig& config, int num_classes, Rng& rng) : num_classes_(num_classes) {
    backbone_ = register_module("backbone", std::make_shared<Xception>(config, rng));
    exit_head_ = register_module(
        "exit_head",
        std::make_shared<Conv2d>(
            Conv2dOptions{.in_channels = backbone_->out_channels(), .out_channels = num_classes, .kernel = 1},
            rng));
    low_level_head_ =
        register_module("low_level_head",
                        std::make_shared<Conv2d>(Conv2dOptions{.in_channels = backbone_->low_level_channels(),
                                                               .out_channels = num_classes,
                                                               .kernel = 1},
                                                 rng));
  }
  Tensor forward(const Tensor& images) override {
    XceptionFeatures f = backbone_->features(images);
    const int h = static_cast<int>(images.size(2)), w = static_cast<int>(images.size(3));
    return add(resize_bilinear(exit_head_->forward(f.exit_flow), h, w, true),
               resize_bilinear(low_level_head_->forward(f.low_level), h, w, true));
  }
  int num_classes() const override { return num_classes_; }

 private:
  int num_classes_;
  std::shared_ptr<Xception> backbone_;
  std::shared_ptr<Conv2d> exit_head_;
  std::shared_ptr<Conv2d> low_level_head_;
};

// t[:, :, offset::2, offset::2]
Tensor subsample(const Tensor& t, int offset) {
  const int64_t n = t.size(0), c = t.size(1), h = t.size(2), w = t.size(3);
  const int64_t ho = (h - offset + 1) / 2, wo = (w - offset + 1) / 2;
  Tensor out = Tensor::zeros({n, c, ho, wo});
  for (int64_t p = 0; p < n * c; ++p)
    for (int64_t i = 0; i < ho; ++i)
      for (int64_t j = 0; j < wo; ++j)
        out.data()[(p * ho + i) * wo + j] = t.data()[(p * h + offset + 2 * i) * w + offset + 2 * j];
  return out;
}

float max_abs_difference(const Tensor& a, const Tensor& b) {
  float m = 0;
  for (int64_t i = 0; i < a.numel(); ++i) m = std::max(m, std::abs(a.data()[i] - b.data()[i]));
  return m;
}

std::vector<std::string> parameter_names(const Module& m) {
  std::vector<std::string> names;
  for (const auto& [name, t] : m.named_parameters()) names.push_back(name);
  return names;
}

}  // namespace

TEST(XceptionPadding, FixedPaddingArithmetic) {
  // total = k + (k − 1)(d − 1) − 1, begin = total / 2, end = total − begin.
  EXPECT_EQ(fixed_padding(3, 1).begin, 1);
  EXPECT_EQ(fixed_padding(3, 1).end, 1);
  EXPECT_EQ(fixed_padding(3, 2).begin, 2);  // effective kernel 5
  EXPECT_EQ(fixed_padding(3, 2).end, 2);
  EXPECT_EQ(fixed_padding(3, 4).begin, 4);  // effective kernel 9
  EXPECT_EQ(fixed_padding(3, 4).end, 4);
  EXPECT_EQ(fixed_padding(1, 1).begin, 0);
  EXPECT_EQ(fixed_padding(1, 1).end, 0);
  // Even effective kernels are asymmetric: the extra zero goes at the end.
  EXPECT_EQ(fixed_padding(2, 1).begin, 0);
  EXPECT_EQ(fixed_padding(2, 1).end, 1);
  EXPECT_EQ(fixed_padding(4, 1).begin, 1);
  EXPECT_EQ(fixed_padding(4, 1).end, 2);
  EXPECT_EQ(fixed_padding(2, 3).begin, 1);  // effective kernel 4
  EXPECT_EQ(fixed_padding(2, 3).end, 2);
  test::expect_error_containing([] { fixed_padding(0, 1); }, "kernel and dilation must be ≥ 1");
}

TEST(XceptionPadding, StridedConvSamplesTheStrideOneGrid) {
  // With fixed padding, a stride-2 conv is the stride-1 "same" conv at the even rows and columns,
  // on even and odd sizes and with dilation; TF's native "SAME" on an even size (0 before, 1 after)
  // is the stride-1 conv at the odd positions instead.
  Rng rng(1);
  for (int dilation : {1, 2}) {
    for (int64_t side : {10, 11}) {
      Tensor x = test::random_tensor({1, 3, side, side + 2}, rng);
      Tensor w = test::random_tensor({4, 3, 3, 3}, rng);
      const Padding p = fixed_padding(3, dilation);
      const Conv2dParams same{.pad = p.begin, .dilation = dilation, .pad_end_extra = p.end - p.begin};
      Conv2dParams strided = same;
      strided.stride = 2;
      Tensor dense = conv2d(x, w, Tensor(), same);
      Tensor y = conv2d(x, w, Tensor(), strided);
      EXPECT_EQ(y.size(2), (side + 1) / 2) << "ceil(H / 2)";
      test::expect_close(y, subsample(dense, 0), 1e-5f, 1e-5f, "fixed padding, stride 2");
    }
  }
  Tensor x = test::random_tensor({1, 2, 8, 8}, rng);
  Tensor w = test::random_tensor({2, 2, 3, 3}, rng);
  Tensor dense = conv2d(x, w, Tensor(), {.pad = 1});
  Tensor native_same = conv2d(x, w, Tensor(), {.stride = 2, .pad = 0, .pad_end_extra = 1});
  test::expect_close(native_same, subsample(dense, 1), 1e-5f, 1e-5f, "TF native SAME, stride 2");
  EXPECT_GT(max_abs_difference(native_same, subsample(dense, 0)), 0.1f) << "native SAME is one pixel off";
}

TEST(XceptionPadding, StridedUnitIsTheStrideOneUnitSubsampled) {
  // The alignment at the level of a whole unit (separable convs with the stride on the third, and
  // the strided 1×1 shortcut): same weights (same seed), eval-mode batch norm, stride 2 versus
  // stride 1 then every other pixel. Odd and even sizes, as in the entry flow.
  for (int64_t side : {9, 12}) {
    XceptionUnitOptions o{
        .in_channels = 3, .depths = {4, 5, 6}, .stride = 1, .shortcut = XceptionShortcut::conv};
    Rng rng_a(2), rng_b(2), rng_x(3);
    XceptionUnit dense(o, rng_a);
    o.stride = 2;
    XceptionUnit strided(o, rng_b);
    dense.eval();
    strided.eval();
    Tensor x = test::random_tensor({2, 3, side, side + 1}, rng_x);
    Tensor y = strided.forward(x);
    EXPECT_EQ(y.shape(), (Shape{2, 6, (side + 1) / 2, (side + 2) / 2}));
    test::expect_close(y, subsample(dense.forward(x), 0), 1e-4f, 1e-5f, "stride-2 unit vs stride-1 unit");
  }
}

TEST(Xception, UnitStridesAndRatesFollowStackBlocksDense) {
  // TF's stack_blocks_dense: once the map is at the output stride, a unit runs at stride 1 with
  // the current rate, then the rate multiplies by the stride it gave up.
  struct Expected {
    int stride, dilation;
  };
  auto check_units = [](int output_stride, const std::vector<Expected>& expected) {
    Rng rng(4);
    XceptionConfig config = test::micro_xception(output_stride);
    config.middle_units = 2;
    Xception net(config, rng);
    ASSERT_EQ(net.units().size(), expected.size());
    for (size_t u = 0; u < expected.size(); ++u) {
      const XceptionUnit& unit = *net.units()[u];
      EXPECT_EQ(unit.options().stride, expected[u].stride) << "OS " << output_stride << " unit " << u;
      EXPECT_EQ(unit.options().dilation, expected[u].dilation) << "OS " << output_stride << " unit " << u;
      // The stride sits on the third depthwise conv; every depthwise conv is padded for its rate.
      for (int i = 0; i < 3; ++i) {
        const Conv2dOptions& dw = unit.sepconv(i).depthwise().options();
        EXPECT_EQ(dw.stride, i == 2 ? expected[u].stride : 1);
        EXPECT_EQ(dw.dilation, expected[u].dilation);
        EXPECT_EQ(dw.pad, expected[u].dilation);
        EXPECT_EQ(dw.pad_end_extra, 0);
      }
    }
  };
  // Entry blocks 1–3, middle units 1–2, exit blocks 1–2.
  check_units(32, {{2, 1}, {2, 1}, {2, 1}, {1, 1}, {1, 1}, {2, 1}, {1, 1}});
  check_units(16, {{2, 1}, {2, 1}, {2, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 2}});
  check_units(8, {{2, 1}, {2, 1}, {1, 1}, {1, 2}, {1, 2}, {1, 2}, {1, 4}});
}

TEST(Xception, FeatureShapesAtEachOutputStride) {
  Rng rng(5);
  Tensor images = test::random_tensor({2, 3, 32, 32}, rng);
  struct Case {
    int output_stride;
    int64_t entry, exit;
  };
  for (Case c : {Case{32, 2, 1}, Case{16, 2, 2}, Case{8, 4, 4}, Case{4, 8, 8}}) {
    Rng init(6);
    Xception net(test::micro_xception(c.output_stride), init);
    XceptionFeatures f = net.features(images);
    EXPECT_EQ(f.low_level.shape(), (Shape{2, 4, 8, 8})) << "OS " << c.output_stride << ": stride 4 always";
    EXPECT_EQ(f.entry_flow.shape(), (Shape{2, 6, c.entry, c.entry})) << "OS " << c.output_stride;
    EXPECT_EQ(f.middle_flow.shape(), f.entry_flow.shape());
    EXPECT_EQ(f.exit_flow.shape(), (Shape{2, 10, c.exit, c.exit})) << "OS " << c.output_stride;
    EXPECT_EQ(net.forward(images).shape(), f.exit_flow.shape());
  }
  Rng init(6);
  Xception tiny(XceptionConfig::tiny(), init);
  EXPECT_EQ(tiny.out_channels(), 256);
  EXPECT_EQ(tiny.low_level_channels(), 32);
}

TEST(Xception, OddSizesRoundUp) {
  Rng rng(7);
  Xception net(test::micro_xception(16), rng);
  XceptionFeatures f = net.features(test::random_tensor({1, 3, 33, 41}, rng));
  // 33 → 17 (conv1_1) → 9 (block1) = low level → 5 (block2) → 3 (block3); 41 → 21 → 11 → 6 → 3.
  EXPECT_EQ(f.low_level.size(2), 9);
  EXPECT_EQ(f.low_level.size(3), 11);
  EXPECT_EQ(f.exit_flow.size(2), 3);
  EXPECT_EQ(f.exit_flow.size(3), 3);
}

TEST(Xception, LowLevelFeaturesAreBlock2Sepconv2BeforeItsRelu) {
  // TF DeepLab's decoder end point entry_flow/block2/unit_1/xception_module/separable_conv2_pointwise:
  // the pointwise conv's batch norm output (the entry flow's separable convs have no activation),
  // at stride 4 whatever the output stride. The golden step checks its values against the twin.
  for (int output_stride : {32, 16, 8}) {
    Rng rng(8);
    Xception net(test::micro_xception(output_stride), rng);
    XceptionFeatures f = net.features(test::random_tensor({2, 3, 16, 20}, rng));
    const Tensor& low = f.low_level;
    EXPECT_EQ(low.shape(), (Shape{2, 4, 4, 5}));
    EXPECT_LT(*std::min_element(low.data(), low.data() + low.numel()), 0.0f) << "taken before the ReLU";
    // Block 2's own forward gives its stride-8 output beside the same stride-4 tensor.
    XceptionUnitOutputs b2 = net.units()[1]->forward_features(test::random_tensor({2, 4, 4, 5}, rng));
    EXPECT_EQ(b2.sepconv2.shape(), (Shape{2, 4, 4, 5}));
    EXPECT_EQ(b2.out.shape(), (Shape{2, 4, 2, 3}));
  }
}

TEST(Xception, ParameterNames) {
  Rng rng(9);
  Xception net(XceptionConfig::tiny(), rng);
  std::vector<std::string> names = parameter_names(net);
  const std::vector<std::string> first = {"entry_flow.conv1_1.weight",
                                          "entry_flow.conv1_1_bn.weight",
                                          "entry_flow.conv1_1_bn.bias",
                                          "entry_flow.conv1_2.weight",
                                          "entry_flow.conv1_2_bn.weight",
                                          "entry_flow.conv1_2_bn.bias",
                                          "entry_flow.block1.sepconv1.depthwise.weight",
                                          "entry_flow.block1.sepconv1.depthwise_bn.weight",
                                          "entry_flow.block1.sepconv1.depthwise_bn.bias",
                                          "entry_flow.block1.sepconv1.pointwise.weight"};
  ASSERT_GE(names.size(), first.size());
  EXPECT_EQ(std::vector<std::string>(names.begin(), names.begin() + 10), first);
  auto has = [&](const std::string& n) { return std::find(names.begin(), names.end(), n) != names.end(); };
  EXPECT_TRUE(has("entry_flow.block3.shortcut.weight"));
  EXPECT_TRUE(has("entry_flow.block3.shortcut_bn.bias"));
  EXPECT_TRUE(has("middle_flow.unit4.sepconv3.pointwise_bn.bias"));
  EXPECT_FALSE(has("middle_flow.unit1.shortcut.weight"));  // identity shortcut
  EXPECT_TRUE(has("exit_flow.block1.shortcut.weight"));
  EXPECT_FALSE(has("exit_flow.block2.shortcut.weight"));  // no shortcut
  EXPECT_EQ(names.back(), "exit_flow.block2.sepconv3.pointwise_bn.bias");
}

// tools/reference/xception.py prints 37,867,312 for aligned Xception-65 without its classifier.
// timm's xception65 (a port of TF DeepLab's xception_65 ImageNet checkpoint; huggingface.co/timm/
// xception65.tf_in1k) lists 39.9M parameters with its 2048 → 1000 fc: 37,867,312 + 2,049,000 =
// 39,916,312. The output stride changes no parameter.
TEST(Xception, FullParameterCountMatchesTwinAndTimmAndSixtyFiveLayers) {
  Rng rng(10);
  Xception full(XceptionConfig::xception65(16), rng);
  EXPECT_EQ(full.parameter_count(), 37867312);
  EXPECT_EQ(Xception(XceptionConfig::tiny(16), rng).parameter_count(), 239080);  // the twin's tiny()
  EXPECT_EQ(Xception(XceptionConfig::tiny(8), rng).parameter_count(), 239080);

  // "65": the two entry convs and 21 units × 3 separable convs (depthwise + pointwise counted as
  // one layer, shortcuts not counted; Xception-41 and -71 count the same way). Every conv has a batch norm: 2
  // + 63·2 + 4 shortcuts = 132 convs, 132 BNs.
  int depthwise = 0, convs = 0, batch_norms = 0;
  for (const auto& [name, t] : full.named_parameters()) {
    if (name.ends_with("depthwise.weight")) ++depthwise;
    if (t.dim() == 4) ++convs;
    if (name.ends_with("_bn.weight")) ++batch_norms;
  }
  EXPECT_EQ(2 + depthwise, 65);
  EXPECT_EQ(convs, 132);
  EXPECT_EQ(batch_norms, 132);
  EXPECT_EQ(full.units().size(), 21u);
}

TEST(Xception, MatchesPyTorchTwin) {
  Rng rng(11);
  XceptionProbe net(test::micro_xception(8), 3, rng);
  test::expect_net_matches_golden(net, "tests/golden/xception.safetensors");
}

TEST(Xception, MicroNetOverfitsOneBatch) {
  Rng rng(12);
  XceptionConfig config = test::micro_xception(8);
  config.entry_blocks = {8, 8, 16};
  config.exit_block1 = {16, 16, 16};
  config.exit_block2 = {16, 16, 16};
  XceptionProbe net(config, 3, rng);
  Batch batch;
  batch.images = test::random_tensor({2, 3, 16, 16}, rng);
  batch.labels = test::block_labels(2, 16, 16, 3, 8);
  test::expect_net_overfits(net, batch, 100);
}

TEST(Xception, ClearErrors) {
  Rng rng(13);
  Xception net(test::micro_xception(16), rng);
  test::expect_error_containing(
      [&] {
        net.forward(Tensor::zeros({1, 4, 16, 16}));
      },
      "Xception: expected images (N, 3, H, W), got (1, 4, 16, 16)");
  test::expect_error_containing(
      [&] {
        net.forward(Tensor::zeros({3, 16, 16}));
      },
      "Xception: expected images");
  test::expect_error_containing([&] { Xception(test::micro_xception(12), rng); },
                                "Xception: output_stride must be 4, 8, 16 or 32, got 12");
  XceptionConfig no_middle = test::micro_xception(16);
  no_middle.middle_units = 0;
  test::expect_error_containing([&] { Xception(no_middle, rng); }, "middle_units must be ≥ 1");
  test::expect_error_containing(
      [&] {
        XceptionUnit(
            XceptionUnitOptions{
                .in_channels = 4, .depths = {4, 4, 6}, .shortcut = XceptionShortcut::identity},
            rng);
      },
      "an identity shortcut needs stride 1 and depths[2] = in_channels (4)");
}
