// The dilation network (nets/dilation_net.h, nets/dilation_frontend.h, nets/context_module.h,
// nets/dilation_cache.h; Yu & Koltun 2016): full parameter counts, golden training steps of the
// context module alone and of the whole net against the PyTorch twin, the identity
// initialisation, the receptive field by a gradient probe, the fixed bilinear upsampling,
// training on cached front-end outputs, size errors and an overfit test.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "core/adam.h"
#include "core/init.h"
#include "core/ops/activation.h"
#include "core/ops/arithmetic.h"
#include "core/ops/reduce.h"
#include "core/ops/resize_bilinear.h"
#include "nets/dilation_cache.h"
#include "nets/registry.h"
#include "tests/golden_net.h"
#include "tests/test_util.h"

using namespace pg;

namespace {

// The context module as a net of its own (scores in, refined scores out), for its golden step:
// tools/reference/dilation.py's ContextOnly, with the same "context." prefix.
class ContextOnlyNet : public SegmentationNet {
 public:
  ContextOnlyNet(const ContextModuleConfig& config, Rng& rng)
      : context_(register_module("context", std::make_shared<ContextModule>(config, rng))) {}
  Tensor forward(const Tensor& scores) override { return context_->forward(scores); }
  int num_classes() const override { return static_cast<int>(context_->config().channels); }

 private:
  std::shared_ptr<ContextModule> context_;
};

// The micro net of tools/reference/dilation.py's whole-net golden.
DilationNetConfig micro_config() {
  DilationNetConfig c = DilationNetConfig::tiny(3);
  c.frontend.vgg.widths = {2, 2, 3, 3, 4};
  c.frontend.vgg.convs_per_block = {1, 1, 1, 1, 2};
  c.frontend.fc_channels = 5;
  c.frontend.fc6_dilation = 2;
  c.frontend.dropout = 0.0f;
  c.context.dilations = {1, 1, 2};
  return c;
}

}  // namespace

TEST(DilationNet, FullParameterCountsMatchTwin) {
  // tools/reference/dilation.py prints 134,346,581 (front-end), 28,392 (context), 134,374,973.
  // Front-end: torchvision's / the VGG paper's VGG-16, 138,357,544, less fc8 (4096·1000 + 1000)
  // — conv1_1 … fc7 keep their shapes, fc6 7×7×512×4096 is VGG's fc6 (dilated, not reshaped),
  // which is how the reference loads ImageNet's weights — plus `final` 4096·21 + 21.
  // Basic context module, the layers of the paper's Table 1 and of the reference's network.py
  // (build_context): seven 3×3×C×C convs and one 1×1×C×C, 64C² weights, plus 8C biases:
  // 64·441 + 168 = 28,392. The fixed bilinear filter is a buffer, not counted.
  auto net = make_dilation_net(DilationNetConfig::full(21), 1);
  EXPECT_EQ(net->frontend().parameter_count(), 138357544 - 4097000 + 4096 * 21 + 21);
  EXPECT_EQ(net->frontend().parameter_count(), 134346581);
  EXPECT_EQ(net->context().parameter_count(), 64 * 21 * 21 + 8 * 21);
  EXPECT_EQ(net->parameter_count(), 134374973);
  EXPECT_EQ(net->frontend().conv(5, 3).options().dilation, 2);
  EXPECT_EQ(net->frontend().config().output_stride(), 8);
}

TEST(DilationNet, MatchesPyTorchTwin) {
  auto net = make_dilation_net(micro_config(), 1);
  test::expect_net_matches_golden(*net, "tests/golden/dilation.safetensors");
}

TEST(ContextModule, MatchesPyTorchTwin) {
  Rng rng(1);
  ContextOnlyNet net({.channels = 3, .dilations = {1, 1, 2, 4}}, rng);
  test::expect_net_matches_golden(net, "tests/golden/dilation_context.safetensors");
}

TEST(ContextModule, LargeMatchesPyTorchTwin) {
  Rng rng(1);
  ContextOnlyNet net({.channels = 2, .dilations = {1, 1, 2}, .large = true}, rng);
  test::expect_net_matches_golden(net, "tests/golden/dilation_context_large.safetensors");
}

TEST(ContextModule, LargeWidthsCountAndIdentity) {
  // Table 1's large module for C = 21, as the released models/dilation8_pascal_voc_deploy.prototxt
  // (fyu/dilation: ct_conv1_1 42 … ct_conv5_1 672, ct_fc1 672, ct_final 21); 6,803,139 parameters
  // in tools/reference/dilation.py.
  Rng rng(12);
  ContextModule large(ContextModuleConfig::large_module(21), rng);
  EXPECT_EQ(large.config().widths(), (std::vector<int64_t>{42, 42, 84, 168, 336, 672, 672, 21}));
  EXPECT_EQ(large.parameter_count(), 6803139);
  EXPECT_EQ(large.receptive_fields(), (std::vector<int>{3, 5, 9, 17, 33, 65, 67, 67}));

  // Identity init over groups, noise 0: spread each class over its 2, 4, … 32 channels (scaled by
  // C / c_out), gather them back in ctx_final. Scalings by powers of two are exact in float, the
  // sums of the 32 copies nearly so.
  ContextModule exact({.channels = 3, .dilations = {1, 1, 2, 4}, .identity_noise_std = 0.0f, .large = true},
                      rng);
  EXPECT_EQ(exact.config().widths(), (std::vector<int64_t>{6, 6, 12, 24, 24, 3}));
  Tensor scores = test::random_tensor({1, 3, 9, 9}, rng, -2.0f, 2.0f);
  test::expect_close(exact.forward(scores), relu(scores), 1e-6f, 1e-7f, "identity-initialised large module");
}

TEST(ContextModule, GroupIdentityInitIsTheDiagonalForEqualWidths) {
  Rng rng(13);
  Tensor general = Tensor::empty({5, 5, 3, 3}), diagonal = Tensor::empty({5, 5, 3, 3});
  context_identity_init(general, 5, 0.0f, rng);
  init::identity_conv(diagonal, 0.0f, rng);
  test::expect_close(general, diagonal, 0.0f, 0.0f, "context_identity_init vs init::identity_conv");
  // 2 classes, 2 → 4 channels: input 0 feeds outputs 0, 1 and input 1 outputs 2, 3, each at 2/4.
  Tensor spread = Tensor::empty({4, 2, 1, 1});
  context_identity_init(spread, 2, 0.0f, rng);
  test::expect_close(spread, Tensor::from_vector({4, 2, 1, 1}, {0.5f, 0, 0.5f, 0, 0, 0.5f, 0, 0.5f}), 0.0f,
                     0.0f, "2 → 4 channels");
}

TEST(ContextModule, UntrainedPassesItsInputThrough) {
  // Identity init with noise 0: every layer copies its input, so the module returns relu(x)
  // exactly (the first ReLU clips negative scores; nothing else changes them).
  Rng rng(5);
  ContextModule exact({.channels = 4, .dilations = {1, 1, 2, 4, 8, 16}, .identity_noise_std = 0.0f}, rng);
  Tensor scores = test::random_tensor({2, 4, 20, 20}, rng, -2.0f, 2.0f);
  test::expect_close(exact.forward(scores), relu(scores), 0.0f, 0.0f, "identity-initialised context module");

  // Its own init (noise std 0.01 around the identity): close to relu(x). Each 3×3 layer adds
  // noise of std ≈ 0.01·sqrt(9·C) relative to its input, eight layers: a few tenths in all.
  ContextModule noisy(ContextModuleConfig::basic(4), rng);
  const Tensor out = noisy.forward(scores), expected = relu(scores);
  double diff2 = 0, expected2 = 0;
  for (int64_t i = 0; i < out.numel(); ++i) {
    diff2 += std::pow(out.data()[i] - expected.data()[i], 2);
    expected2 += std::pow(expected.data()[i], 2);
  }
  const double relative = std::sqrt(diff2 / expected2);
  EXPECT_GT(relative, 0.0) << "the noise is there";
  EXPECT_LT(relative, 0.25) << "|out − relu(x)| / |relu(x)| = " << relative;
}

TEST(ContextModule, ReceptiveFieldByGradientProbe) {
  // Table 1: 3, 5, 9, 17, 33, 65, 67, 67. Probe: positive weights, biases and input keep every
  // ReLU open, so the input pixels that d out[centre] / d input reaches are the receptive field.
  Rng rng(6);
  ContextModule module({.channels = 1}, rng);
  const std::vector<int> paper = {3, 5, 9, 17, 33, 65, 67, 67};
  EXPECT_EQ(module.receptive_fields(), paper);
  for (const auto& conv : module.layers()) {
    std::fill_n(conv->weight().data(), conv->weight().numel(), 0.1f);
    conv->bias().data()[0] = 0.1f;
  }
  const int64_t side = 71, centre = 35;
  for (size_t layers = 1; layers <= module.layers().size(); ++layers) {
    Tensor x = Tensor::full({1, 1, side, side}, 1.0f);
    x.set_requires_grad(true);
    Tensor y = x;
    for (size_t i = 0; i < layers; ++i) {
      y = module.layers()[i]->forward(y);
      if (i + 1 < module.layers().size()) y = relu(y);
    }
    // The centre output alone: mask it with a one-hot tensor and sum.
    Tensor one_hot = Tensor::zeros({1, 1, side, side});
    one_hot.data()[centre * side + centre] = 1.0f;
    sum(mul(y, one_hot)).backward();
    int64_t top = side, bottom = -1, count = 0;
    for (int64_t r = 0; r < side; ++r)
      for (int64_t c = 0; c < side; ++c)
        if (x.grad().data()[r * side + c] != 0.0f) {
          top = std::min(top, r), bottom = std::max(bottom, r), ++count;
        }
    const int64_t field = bottom - top + 1;
    EXPECT_EQ(field, paper[layers - 1]) << "after " << layers << " layers";
    EXPECT_EQ(count, field * field) << "after " << layers << " layers: a full square";
  }
}

TEST(DilationNet, UpsamplingIsAFixedBilinearBuffer) {
  auto net = make_dilation_net(micro_config(), 2);
  bool listed = false;
  for (const auto& [name, p] : net->named_parameters()) EXPECT_FALSE(name.starts_with("upsample")) << name;
  for (const auto& [name, b] : net->named_buffers()) listed |= name == "upsample.weight";
  EXPECT_TRUE(listed) << "upsample.weight is a buffer of the state_dict";
  // Inside the outer 4 rows and columns the deconvolution is bilinear resizing (align_corners false).
  FixedBilinearUpsampling upsample(2, 8);
  Rng rng(7);
  Tensor x = test::random_tensor({1, 2, 5, 6}, rng);
  const Tensor up = upsample.forward(x), resized = resize_bilinear(x, 40, 48, false);
  ASSERT_EQ(up.shape(), (Shape{1, 2, 40, 48}));
  for (int64_t c = 0; c < 2; ++c)
    for (int64_t r = 4; r < 36; ++r)
      for (int64_t col = 4; col < 44; ++col)
        ASSERT_NEAR(up.data()[(c * 40 + r) * 48 + col], resized.data()[(c * 40 + r) * 48 + col], 1e-5f)
            << "channel " << c << ", (" << r << ", " << col << ")";
}

TEST(DilationNet, TrainingOnCachedOutputsEqualsTheFrozenFullNet) {
  DilationNetConfig config = micro_config();
  config.frontend.vgg.widths = {8, 8, 16, 16, 16};
  config.frontend.fc_channels = 16;
  config.frontend.dropout = 0.5f;  // the cache is taken in eval mode: dropout must not matter
  auto net = make_dilation_net(config, 3);
  Rng rng(8);
  // A front-end whose scores say something, as after its own training: `final` drawn at std 0.5
  // (its init, std 0.001, leaves the context module nearly nothing to learn from).
  for (auto& [name, p] : net->frontend().named_parameters())
    if (name == "final.weight") init::normal(p, 0.0f, 5.0f, rng);
  // Images that show their labels (channel c lit where the label is c), so that the scores do too.
  Batch batch;
  batch.labels = test::block_labels(2, 32, 32, 3, 8);
  batch.images = Tensor::zeros({2, 3, 32, 32});
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t p = 0; p < 32 * 32; ++p)
      batch.images.data()[(n * 3 + batch.labels.data()[n * 32 * 32 + p]) * 32 * 32 + p] = 1.0f;

  // The whole net with the front-end frozen: eval mode (as the cache), no gradient.
  net->freeze_frontend();
  net->train();
  net->frontend().eval();
  net->zero_grad();
  Tensor whole = net->training_loss(batch, {});
  whole.backward();
  NamedTensors whole_grads;
  for (const auto& [name, p] : net->context().named_parameters())
    whole_grads.push_back({name, p.grad().clone()});
  for (const auto& [name, p] : net->frontend().named_parameters()) EXPECT_FALSE(p.grad().defined()) << name;

  // The context module alone on the cached scores, through a safetensors round trip. The cache
  // runs the front-end in eval mode whatever its mode (here train, with dropout 0.5), and puts it back.
  net->frontend().train();
  const FrontendCache cache = cache_frontend_outputs(net->frontend(), 2, [&](int64_t b) {
    Batch one;
    one.images = Tensor::empty({1, 3, 32, 32});
    std::copy_n(batch.images.data() + b * 3 * 32 * 32, 3 * 32 * 32, one.images.data());
    one.labels = LabelMap({1, 32, 32});
    std::copy_n(batch.labels.data() + b * 32 * 32, 32 * 32, one.labels.data());
    return one;
  });
  ASSERT_EQ(cache.scores.shape(), (Shape{2, 3, 4, 4}));
  EXPECT_TRUE(net->frontend().is_training());
  test::expect_error_containing(
      [&] {
        cache_frontend_outputs(net->frontend(), 2, [&](int64_t b) {
          Batch one;
          one.images = Tensor::zeros({1, 3, 32 + 8 * b, 32});
          one.labels = LabelMap({1, 32 + 8 * b, 32});
          return one;
        });
      },
      "batch 1 has 40×32 images, the first had 32×32; a cache holds one size");
  EXPECT_TRUE(net->frontend().is_training());
  const std::string path =
      (std::filesystem::temp_directory_path() / "pixelgrad_dilation_cache.safetensors").string();
  save_frontend_cache(path, cache);
  const FrontendCache loaded = load_frontend_cache(path);
  std::filesystem::remove(path);
  test::expect_close(loaded.scores, cache.scores, 0.0f, 0.0f, "cache round trip");
  net->zero_grad();
  Tensor alone = net->context_loss(loaded.scores, loaded.labels);
  alone.backward();
  EXPECT_NEAR(alone.item(), whole.item(), 1e-6f);
  size_t i = 0;
  for (const auto& [name, p] : net->context().named_parameters())
    test::expect_close(p.grad(), whole_grads[i++].second, 1e-5f, 1e-7f, "cached vs whole: " + name);

  // And a few steps of it lower the loss.
  Adam adam(net->context().parameters(), AdamParams{.lr = 1e-2f});
  const std::vector<float> losses = train_context_on_cache(*net, loaded, adam, 30, 2);
  EXPECT_LT(losses.back(), 0.5f * losses.front()) << losses.front() << " → " << losses.back();
}

TEST(DilationNet, RegistryEntriesAndSizeErrors) {
  auto tiny = make_net("dilation-tiny");
  Rng rng(9);
  Tensor images = test::random_tensor({1, 3, 64, 64}, rng);
  EXPECT_EQ(tiny->forward(images).shape(), (Shape{1, kToyClasses, 64, 64}));
  auto& dilation = dynamic_cast<DilationNet&>(*tiny);
  EXPECT_EQ(dilation.frontend().forward(images).shape(), (Shape{1, kToyClasses, 8, 8}));  // OS 8: an 8×8 map
  EXPECT_EQ(dilation.context().receptive_fields(), (std::vector<int>{3, 5, 9, 17, 19, 19}));
  // tools/reference/dilation.py's tiny twin: 161,834 = front-end 160,142 (fc6 7×7×32×64 is 100,416
  // of it) + context 1,692 (five 3×3 6 → 6 layers, dilations 1, 1, 2, 4 and ctx_fc1, and the 1×1).
  EXPECT_EQ(tiny->parameter_count(), 161834);
  EXPECT_EQ(dilation.context().parameter_count(), 1692);
  auto frontend_only = make_net("dilation-frontend-tiny");
  EXPECT_EQ(frontend_only->forward(images).shape(), (Shape{1, kToyClasses, 64, 64}));
  EXPECT_EQ(tiny->parameter_count() - frontend_only->parameter_count(),
            dynamic_cast<DilationNet&>(*tiny).context().parameter_count());
  test::expect_error_containing([&] { dynamic_cast<DilationNet&>(*frontend_only).context(); },
                                "front-end only, it has no context module");
  test::expect_error_containing(
      [&] {
        tiny->forward(test::random_tensor({1, 3, 60, 64}, rng));
      },
      "dilation front-end: input 60×64: with output stride 8 H and W must be divisible by 8");
  test::expect_error_containing(
      [&] {
        tiny->forward(test::random_tensor({1, 4, 64, 64}, rng));
      },
      "dilation front-end: expected images (N, 3, H, W), got (1, 4, 64, 64)");
  test::expect_error_containing(
      [&] {
        dilation.context().forward(test::random_tensor({1, 5, 8, 8}, rng));
      },
      "context module: expected scores (N, 6, H, W)");
}

TEST(DilationNet, MicroNetOverfitsOneBatch) {
  DilationNetConfig config = micro_config();
  config.frontend.vgg.widths = {8, 8, 16, 16, 16};
  config.frontend.fc_channels = 16;
  auto net = make_dilation_net(config, 10);
  Rng rng(11);
  Batch batch;
  batch.images = test::random_tensor({2, 3, 32, 32}, rng);
  // Stripes 8 rows high, class (y/8 + n) mod 3. Not block_labels' checkerboard: where four of its
  // blocks meet, two diagonal ones share a class, and the bilinear ×8 of a 1/8 map gives the
  // corner pixels to that class whatever the scores (the loss stalls near 0.16).
  batch.labels = LabelMap({2, 32, 32});
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t y = 0; y < 32; ++y)
      for (int64_t x = 0; x < 32; ++x)
        batch.labels.data()[(n * 32 + y) * 32 + x] = static_cast<int32_t>((y / 8 + n) % 3);
  test::expect_net_overfits(*net, batch, 30);
}
