// FCN-32s / 16s / 8s (nets/fcn.h): the full nets' parameter counts, golden training steps against
// the PyTorch twin (pad-100 crops at odd sizes, the summed loss, the at-once skips in "same"
// padding), the crop offsets against the reference prototxts and the image geometry (output =
// input size; an impulse lands at the centre of its cell), zero skips and frozen bilinear
// deconvs, the staged 32s → 16s → 8s initialisation, size errors, and a micro net overfitting.
#include <gtest/gtest.h>

#include <algorithm>

#include "core/autograd.h"
#include "core/init.h"
#include "core/mac_counter.h"
#include "core/ops/conv_transpose2d.h"
#include "core/ops/shape_ops.h"
#include "core/sgd.h"
#include "nets/fcn.h"
#include "nets/registry.h"
#include "tests/golden_net.h"
#include "tests/test_util.h"

using namespace pg;

namespace {

// The twin's micro width (tools/reference/fcn.py): VGG widths 2-3-3-4-4, convs 2-1-1-1-1, fc 4.
FcnConfig micro(FcnVariant variant, int classes, FcnPadding padding = FcnPadding::reference) {
  FcnConfig c = padding == FcnPadding::reference ? FcnConfig::full(variant, classes)
                                                 : FcnConfig::tiny(variant, classes);
  c.backbone.widths = {2, 3, 3, 4, 4};
  c.backbone.convs_per_block = {2, 1, 1, 1, 1};
  c.fc_channels = 4;
  c.dropout = 0.0f;  // the twin cannot draw our masks
  c.learn_upsampling = true;
  return c;
}

bool all_zero(const Tensor& t) {
  for (int64_t i = 0; i < t.numel(); ++i)
    if (t.data()[i] != 0.0f) return false;
  return true;
}

Tensor parameter(const Module& net, const std::string& name) {
  for (const auto& [n, t] : net.named_parameters())
    if (n == name) return t;
  ADD_FAILURE() << "no parameter " << name;
  return {};
}

}  // namespace

// The full nets' parameter counts (21 classes by default), all of them and those in
// parameter_groups (the frozen deconvs left out). One test per net: each builds 134M weights.
//
// tools/reference/fcn.py, 21 classes: 136,152,917 (32s), 134,815,994 (16s), 134,489,759 (8s),
// counting the bilinear deconvs, which the released caffemodels hold as (frozen, lr_mult 0)
// parameter blobs: upscore 21·21·64² = 1,806,336; upscore16 451,584; upscore8 112,896;
// upscore2 / upscore_pool4 7,056 each. Without them: 134,346,581 / 134,357,354 / 134,362,751,
// the paper's "134M" for FCN-VGG16 (Long et al. 2015, Table 1); fc6 alone is 102,764,544.
// The at-once net has the same parameters (the reference's Scale layers are constants here).
// Their multiply-adds at 500×500 (the twin, on the meta device): 181,365,854,976 (32s),
// 181,448,086,272 (16s), 181,529,034,048 (8s); too slow to run here.
namespace {

void expect_full_parameter_counts(const char* name, int64_t all, int64_t trained) {
  auto net = make_net(name);
  EXPECT_EQ(net->num_classes(), 21);
  EXPECT_EQ(net->parameter_count(), all) << name;
  int64_t in_groups = 0;
  for (const ParamGroup& g : net->parameter_groups())
    for (const Tensor& p : g.params) in_groups += p.numel();
  EXPECT_EQ(in_groups, trained) << name << ": the frozen deconvs are not in parameter_groups";
}

}  // namespace

TEST(Fcn, FullParameterCount32sMatchesTwinAndPaper) {
  expect_full_parameter_counts("fcn32s-full", 136152917, 134346581);
}

TEST(Fcn, FullParameterCount16sMatchesTwinAndPaper) {
  expect_full_parameter_counts("fcn16s-full", 134815994, 134357354);
}

TEST(Fcn, FullParameterCount8sMatchesTwinAndPaper) {
  expect_full_parameter_counts("fcn8s-full", 134489759, 134362751);
}

TEST(Fcn, TinyCountsAndMacsMatchTwin) {
  // tools/reference/fcn.py: the tiny nets (6 classes; the 32s's one k64 deconv alone is 6·6·64² =
  // 147,456 of its parameters) and the multiply-adds of every conv and deconv at 64×64, and of the
  // micro pad-100 nets at 37×50 (where the crops cut the most).
  struct Expected {
    FcnVariant variant;
    int64_t tiny_parameters, tiny_macs, micro_macs;
  };
  for (const Expected& e : {Expected{FcnVariant::fcn32s, 225678, 12477952, 6617330},
                            Expected{FcnVariant::fcn16s, 115860, 12483328, 6805106},
                            Expected{FcnVariant::fcn8s, 88986, 12504832, 6938468}}) {
    NoGradGuard no_grad;
    auto tiny = make_fcn(FcnConfig::tiny(e.variant, kToyClasses), 1);
    EXPECT_EQ(tiny->parameter_count(), e.tiny_parameters) << fcn_variant_name(e.variant);
    MacCounter tiny_macs;
    tiny->forward(Tensor::zeros({1, 3, 64, 64}));
    EXPECT_EQ(tiny_macs.macs(), e.tiny_macs) << fcn_variant_name(e.variant);
    auto net = make_fcn(micro(e.variant, 3), 1);
    MacCounter micro_macs;
    net->forward(Tensor::zeros({1, 3, 37, 50}));
    EXPECT_EQ(micro_macs.macs(), e.micro_macs) << fcn_variant_name(e.variant);
  }
}

TEST(Fcn, MatchesPyTorchTwin8s) {
  // Pad 100 and the crops 5, 9, 31 (the twin's are the prototxt's numbers), a 7×9 input.
  auto net = make_fcn(micro(FcnVariant::fcn8s, 3), 1);
  test::expect_net_matches_golden(*net, "tests/golden/fcn8s.safetensors");
}

TEST(Fcn, MatchesPyTorchTwin16sSummedLoss) {
  auto net = make_fcn(micro(FcnVariant::fcn16s, 2), 1);  // crops 5 and 27, an 11×6 input
  test::expect_net_matches_golden(*net, "tests/golden/fcn16s.safetensors");
}

TEST(Fcn, MatchesPyTorchTwin8sAtOnceSamePadding) {
  FcnConfig c = micro(FcnVariant::fcn8s, 2, FcnPadding::same);
  c.fc6_kernel = 3;
  c.at_once = true;
  auto net = make_fcn(c, 1);
  // The pool3 skip is scaled by 1e-4, and so are score_pool3's weight gradients (at most ~1e-3
  // against ~10 elsewhere): the default absolute floor of 1e-4 would pass most of them unread.
  test::GoldenTolerance tolerance;
  tolerance.grad_atol = 1e-7f;
  test::expect_net_matches_golden(*net, "tests/golden/fcn8s_atonce_same.safetensors", tolerance);
}

TEST(Fcn, CropOffsetsMatchTheReferencePrototxts) {
  // voc-fcn32s/16s/8s train.prototxt: score = Crop(upscore, data) offset 19; score_pool4c
  // offset 5, score = Crop(upscore16) 27; score_pool3c 9, score = Crop(upscore8) 31. By hand for
  // 32s: conv1_1 (pad 100) maps x → x + 99, each 2×2 pool y → y/2 − 1/4, fc6 (7×7) y → y − 3,
  // upscore (k64 s32) y → 32y + 31.5: x → x + 19.
  auto offsets = [](FcnVariant v) {
    const FcnCropOffsets o = fcn_crop_offsets(FcnConfig::full(v, 21));
    return std::vector<int>{o.score_pool4, o.score_pool3, o.output};
  };
  EXPECT_EQ(offsets(FcnVariant::fcn32s), (std::vector<int>{-1, -1, 19}));
  EXPECT_EQ(offsets(FcnVariant::fcn16s), (std::vector<int>{5, -1, 27}));
  EXPECT_EQ(offsets(FcnVariant::fcn8s), (std::vector<int>{5, 9, 31}));
  // The tiny nets' "same" padding: every map lines up, nothing to crop.
  const FcnCropOffsets same = fcn_crop_offsets(FcnConfig::tiny(FcnVariant::fcn8s, 6));
  EXPECT_EQ((std::vector<int>{same.score_pool4, same.score_pool3, same.output}), (std::vector<int>{0, 0, 0}));
  // A 3×3 pool5 (shift −1/2 instead of −1/4) puts upscore2 half a pixel off pool4: no crop fuses them.
  FcnConfig shifted = FcnConfig::full(FcnVariant::fcn8s, 21);
  shifted.backbone.pools[4] = Pool2dParams{.kernel = 3, .stride = 2, .ceil_mode = true};
  test::expect_error_containing(
      [&] { fcn_crop_offsets(shifted); },
      "FCN-8s: score_pool4 does not align with the map it is fused with (strides 1/16 and "
      "1/16, offset 5.5)");
}

TEST(Fcn, ReferenceGeometryOutputIsTheInputSize) {
  // The point of pad 100: any input, even 1×1, gives scores of its own size.
  Rng rng(2);
  for (FcnVariant v : {FcnVariant::fcn32s, FcnVariant::fcn16s, FcnVariant::fcn8s}) {
    FcnConfig c = micro(v, 2);
    c.backbone.widths = {1, 1, 1, 1, 1};
    c.backbone.convs_per_block = {1, 1, 1, 1, 1};
    auto net = make_fcn(c, 3);
    // The micro widths and conv counts leave the geometry, hence the offsets, of the full nets.
    EXPECT_EQ(net->crop_offsets().output, v == FcnVariant::fcn32s ? 19 : v == FcnVariant::fcn16s ? 27 : 31);
    NoGradGuard no_grad;
    for (auto [h, w] : {std::pair{500, 500}, {224, 224}, {1, 1}, {37, 61}, {33, 32}, {7, 130}})
      EXPECT_EQ(net->forward(test::random_tensor({1, 3, h, w}, rng)).shape(), (Shape{1, 2, h, w}))
          << fcn_variant_name(v) << " at " << h << "×" << w;
  }
}

TEST(Fcn, ImpulseLandsAtTheCentreOfItsCell) {
  // A one-channel net that carries a single bright pixel unchanged (every 3×3 conv and fc6 a
  // centre tap of 1, fc7 1, zero biases) through the pools; one score layer reads it (class 0),
  // the others are zero. The pixel at x falls in one cell of the pool the score layer reads
  // (`stride` pixels wide); the bilinear deconvs spread it symmetrically about that cell's centre,
  // so with the right crops the output peaks there. With pad 100 conv1_1 moves x to x + 99 and
  // the 2×2 pools nest, so the cell is floor((x + 99)/stride): its pixels start at
  // stride·floor((x + 99)/stride) − 99 ("same" padding: stride·floor(x/stride)). The positions
  // include both sides of a cell border (28 | 29 with pad 100, 31 | 32 with "same").
  struct Branch {
    FcnVariant variant;
    FcnPadding padding;
    const char* score;  // the one score layer left on
    int stride;
  };
  for (const Branch& b : {Branch{FcnVariant::fcn32s, FcnPadding::reference, "score_fr", 32},
                          Branch{FcnVariant::fcn16s, FcnPadding::reference, "score_pool4", 16},
                          Branch{FcnVariant::fcn8s, FcnPadding::reference, "score_fr", 32},
                          Branch{FcnVariant::fcn8s, FcnPadding::reference, "score_pool4", 16},
                          Branch{FcnVariant::fcn8s, FcnPadding::reference, "score_pool3", 8},
                          Branch{FcnVariant::fcn8s, FcnPadding::same, "score_pool3", 8},
                          Branch{FcnVariant::fcn32s, FcnPadding::same, "score_fr", 32}}) {
    FcnConfig c = micro(b.variant, 2, b.padding);
    c.backbone.widths = {1, 1, 1, 1, 1};
    c.backbone.convs_per_block = {1, 1, 1, 1, 1};
    c.fc_channels = 1;
    auto net = make_fcn(c, 4);
    for (const auto& [name, p] : net->named_parameters()) {
      if (name.starts_with("upscore")) continue;  // bilinear
      init::zeros(p);
      const bool score = name.starts_with("score");
      if (name.ends_with(".weight") && (!score || name == std::string(b.score) + ".weight")) {
        const int64_t k = p.size(2);
        p.data()[(k / 2) * k + k / 2] = 1.0f;  // output 0 ← input 0, centre tap
      }
    }
    const int side = 64, lead = b.padding == FcnPadding::reference ? 99 : 0;
    for (int x : {20, 28, 29, 31, 32, 44, 60}) {
      Tensor image = Tensor::zeros({1, 3, side, side});
      image.data()[x * side + x] = 1.0f;  // channel 0, at (x, x)
      NoGradGuard no_grad;
      Tensor logits = net->forward(image);  // (1, 2, 64, 64); class 0 carries the impulse
      const float* s = logits.data();
      float peak = 0;
      for (int i = 0; i < side * side; ++i) peak = std::max(peak, s[i]);
      ASSERT_GT(peak, 0.0f);
      double row = 0, col = 0, ties = 0;  // a centre between two pixels is a tie: take their mean
      for (int i = 0; i < side * side; ++i)
        if (s[i] >= peak * (1 - 1e-5f)) row += i / side, col += i % side, ties += 1;
      const double centre = b.stride * ((x + lead) / b.stride) - lead + (b.stride - 1) / 2.0;
      EXPECT_EQ(row / ties, centre) << b.score << " of " << fcn_variant_name(b.variant) << ", x " << x;
      EXPECT_EQ(col / ties, centre) << b.score << " of " << fcn_variant_name(b.variant) << ", x " << x;
    }
  }
}

TEST(Fcn, SkipsStartAtZeroAndDeconvsBilinearAndFrozen) {
  auto net = make_net("fcn8s-tiny");
  for (const char* name : {"score_fr", "score_pool4", "score_pool3"}) {
    EXPECT_TRUE(all_zero(parameter(*net, std::string(name) + ".weight"))) << name;
    EXPECT_TRUE(all_zero(parameter(*net, std::string(name) + ".bias"))) << name;
  }
  for (auto [name, kernel] : {std::pair{"upscore2", 4}, {"upscore_pool4", 4}, {"upscore8", 16}}) {
    const Tensor w = parameter(*net, std::string(name) + ".weight");
    Tensor bilinear = Tensor::empty({kToyClasses, kToyClasses, kernel, kernel});
    init::bilinear_upsample(bilinear);
    test::expect_close(w, bilinear, 0.0f, 0.0f, name);
    EXPECT_FALSE(w.requires_grad()) << name;
  }

  // A training step: every parameter but the deconvs gets a gradient, and SGD over
  // parameter_groups leaves the deconvs bilinear.
  Rng rng(6);
  Batch batch;
  batch.images = test::random_tensor({2, 3, 32, 32}, rng);
  batch.labels = test::block_labels(2, 32, 32, kToyClasses, 8);
  Sgd sgd(net->parameter_groups(), SgdParams{.lr = 0.1f, .momentum = 0.9f});
  const Tensor upscore8_before = parameter(*net, "upscore8.weight").clone();
  for (int step = 0; step < 2; ++step) {
    sgd.zero_grad();
    net->training_loss(batch, {}).backward();
    sgd.step();
  }
  for (const auto& [name, p] : net->named_parameters())
    EXPECT_EQ(p.grad().defined(), !name.starts_with("upscore")) << name;
  test::expect_close(parameter(*net, "upscore8.weight"), upscore8_before, 0.0f, 0.0f, "upscore8 after SGD");
  EXPECT_FALSE(all_zero(parameter(*net, "score_pool3.weight"))) << "the skip learns";

  // learn_upsampling: the deconvs train like the rest.
  FcnConfig learned = FcnConfig::tiny(FcnVariant::fcn8s, kToyClasses);
  learned.learn_upsampling = true;
  auto learning = make_fcn(learned, 1);
  learning->training_loss(batch, {}).backward();
  for (const auto& [name, p] : learning->named_parameters()) EXPECT_TRUE(p.grad().defined()) << name;
  EXPECT_EQ(learning->parameter_groups()[0].params.size(), learning->parameters().size());
}

TEST(Fcn, Staged16sFrom32sAddsNothingAtFirst) {
  // A "trained" 32s (random weights everywhere, its score_fr included), a 16s initialised from it.
  FcnConfig c32 = micro(FcnVariant::fcn32s, 3), c16 = micro(FcnVariant::fcn16s, 3);
  c32.learn_upsampling = c16.learn_upsampling = false;
  auto net32 = make_fcn(c32, 5);
  Rng rng(8);
  for (const auto& [name, p] : net32->named_parameters())
    if (!name.starts_with("upscore"))
      std::copy_n(test::random_tensor(p.shape(), rng).data(), p.numel(), p.data());
  auto net16 = make_fcn(c16, 6);
  fcn_init_from_stage(*net16, net32->state_dict());

  for (const auto& [name, p] : net16->named_parameters()) {
    if (name.starts_with("score_pool4")) {
      EXPECT_TRUE(all_zero(p)) << name << ": new at this stage, zero";
    } else if (!name.starts_with("upscore")) {
      test::expect_close(p, parameter(*net32, name), 0.0f, 0.0f, name + " copied from the 32s");
    }
  }
  // With the zero skip the 16s is exactly the 32s's coarse scores through its own upsampling:
  // crop(upscore16(upscore2(score_fr)), 27), with the bilinear filters built here.
  net32->eval();
  net16->eval();
  NoGradGuard no_grad;
  Tensor images = test::random_tensor({1, 3, 21, 17}, rng);
  Tensor coarse = net32->score_fr(net32->backbone().features(images).pool5());
  Tensor up2 = Tensor::empty({3, 3, 4, 4}), up16 = Tensor::empty({3, 3, 32, 32});
  init::bilinear_upsample(up2);
  init::bilinear_upsample(up16);
  Tensor upsampled =
      conv_transpose2d(conv_transpose2d(coarse, up2, {}, {.stride = 2}), up16, {}, {.stride = 16});
  test::expect_close(net16->forward(images), crop2d(upsampled, 27, 27, 21, 17), 0.0f, 0.0f,
                     "staged 16s = the 32s's scores upsampled 2× then 16×");

  // 16s → 8s: the trained score_pool4 comes along, score_pool3 starts at zero.
  init::constant(parameter(*net16, "score_pool4.weight"), 0.25f);
  auto net8 = make_fcn(micro(FcnVariant::fcn8s, 3), 7);
  fcn_init_from_stage(*net8, net16->state_dict());
  test::expect_close(parameter(*net8, "score_pool4.weight"), parameter(*net16, "score_pool4.weight"), 0.0f,
                     0.0f, "score_pool4 from the 16s");
  EXPECT_TRUE(all_zero(parameter(*net8, "score_pool3.weight")));
}

TEST(Fcn, StagedInitErrorsLeaveTheNetUnchanged) {
  auto net = make_fcn(micro(FcnVariant::fcn16s, 3), 1);
  const Tensor fc6_before = parameter(*net, "fc6.weight").clone();
  // Another net's checkpoint.
  test::expect_error_containing([&] { fcn_init_from_stage(*net, make_net("segnet-tiny")->state_dict()); },
                                "FCN-16s staged init: the previous stage has no 'backbone.conv1_1.weight'");
  // The same net for another number of classes: caught at score_fr, after fc6 matched.
  NamedTensors other = make_fcn(micro(FcnVariant::fcn32s, 5), 2)->state_dict();
  test::expect_error_containing([&] { fcn_init_from_stage(*net, other); },
                                "'score_fr.weight' is (5, 4, 1, 1) in the previous stage, (3, 4, 1, 1) here");
  test::expect_close(parameter(*net, "fc6.weight"), fc6_before, 0.0f, 0.0f, "fc6 after the failed inits");
}

TEST(Fcn, TinyFromTheRegistryAndInputErrors) {
  Rng rng(3);
  for (const char* name : {"fcn32s-tiny", "fcn16s-tiny", "fcn8s-tiny", "fcn8s-atonce-tiny"}) {
    auto net = make_net(name);
    EXPECT_EQ(net->forward(test::random_tensor({1, 3, 64, 64}, rng)).shape(), (Shape{1, kToyClasses, 64, 64}))
        << name;
  }
  EXPECT_TRUE(std::dynamic_pointer_cast<Fcn>(make_net("fcn8s-atonce-tiny"))->config().at_once);
  EXPECT_FALSE(std::dynamic_pointer_cast<Fcn>(make_net("fcn8s-tiny"))->config().at_once);

  auto tiny = make_net("fcn8s-tiny");
  test::expect_error_containing(
      [&] {
        tiny->forward(test::random_tensor({1, 3, 60, 64}, rng));
      },
      "FCN-8s: input 60×64: with \"same\" padding H and W must be divisible by 32");
  test::expect_error_containing(
      [&] {
        tiny->forward(test::random_tensor({1, 4, 64, 64}, rng));
      },
      "FCN-8s: expected images (N, 3, H, W), got (1, 4, 64, 64)");
  FcnConfig bad = FcnConfig::tiny(FcnVariant::fcn32s, 6);
  bad.at_once = true;
  test::expect_error_containing([&] { make_fcn(bad, 1); },
                                "FCN-32s: at_once scales the skips, FCN-32s has none");
}

TEST(Fcn, MicroNetOverfitsOneBatch) {
  // 16×16 label blocks: the bilinear upsampling blends the 1/8 scores over 8 pixels, so the
  // blocks must be wider than that for the loss to fall far (the deconvs stay frozen).
  FcnConfig c = FcnConfig::tiny(FcnVariant::fcn8s, 3);
  c.backbone.widths = {8, 8, 16, 16, 16};
  c.fc_channels = 16;
  c.dropout = 0.0f;
  auto net = make_fcn(c, 21);
  Rng rng(22);
  Batch batch;
  batch.images = test::random_tensor({2, 3, 32, 32}, rng);
  batch.labels = test::block_labels(2, 32, 32, 3, 16);
  test::expect_net_overfits(*net, batch, 80);
}
