// The training loop of `pixelgrad train` (tools/trainer.h): a short run's loss falls; a run
// stopped at step k and resumed from its checkpoint computes exactly the losses of an
// uninterrupted run; checkpoints round-trip and bad ones are clear errors; option checks; --init
// by name; the training log's CSV.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "nets/registry.h"
#include "tests/test_util.h"
#include "tools/trainer.h"
#include "tools/training_log.h"

using namespace pg;

namespace {

// Micro runs: 16×16 toy images, a handful of them.
TrainOptions micro_options(const std::string& arch = "unet-tiny") {
  TrainOptions o;
  o.arch = arch;
  o.toy_train = 8;
  o.toy_val = 4;
  o.toy_size = 16;
  o.steps = 6;
  o.batch = 2;
  o.lr = 3e-3f;
  o.eval_batch = 4;
  o.pad_multiple = 8;
  return o;
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("pixelgrad_test_trainer_" + name)).string();
}

std::vector<float> run_steps(Trainer& trainer, int64_t count) {
  std::vector<float> losses;
  for (int64_t i = 0; i < count; ++i) losses.push_back(trainer.train_step());
  return losses;
}

// Runs 2k steps straight, and k steps + checkpoint + a fresh trainer resumed for k more; the
// losses after the resume must be bit-identical.
void expect_resume_is_exact(const TrainOptions& options, const std::string& name) {
  const int64_t k = options.steps / 2;
  Trainer straight(options, make_train_data(options));
  const std::vector<float> expected = run_steps(straight, 2 * k);

  const std::string checkpoint = temp_path(name + ".safetensors");
  {
    Trainer first_half(options, make_train_data(options));
    const std::vector<float> first = run_steps(first_half, k);
    for (int64_t i = 0; i < k; ++i) EXPECT_EQ(first[i], expected[i]) << "step " << i;
    first_half.save_checkpoint(checkpoint);
  }
  Trainer resumed(options, make_train_data(options));
  resumed.resume(checkpoint);
  EXPECT_EQ(resumed.current_step(), k);
  const std::vector<float> second = run_steps(resumed, k);
  for (int64_t i = 0; i < k; ++i) EXPECT_EQ(second[i], expected[k + i]) << name << ": step " << k + i;
  std::filesystem::remove(checkpoint);
}

}  // namespace

TEST(Trainer, ShortRunLossDecreases) {
  TrainOptions o = micro_options();
  o.toy_train = 4;  // a few images seen many times: the loss must fall well within 40 steps
  o.steps = 40;
  o.lr = 1e-2f;
  o.schedule = "constant";
  Trainer trainer(o, make_train_data(o));
  const std::vector<float> losses = run_steps(trainer, o.steps);
  const float first = (losses[0] + losses[1]) / 2, last = (losses[38] + losses[39]) / 2;
  EXPECT_LT(last, 0.6f * first) << "first " << first << ", last " << last;
  EXPECT_EQ(trainer.current_step(), 40);
}

TEST(Trainer, ResumeContinuesExactlyAdam) {
  expect_resume_is_exact(micro_options(), "adam");
}

TEST(Trainer, ResumeContinuesExactlySgdMomentumWarmup) {
  TrainOptions o = micro_options();
  o.optimizer = "sgd";
  o.lr = 0.05f;
  o.warmup = 2;
  o.schedule = "cosine";
  o.augment = 1;  // random scale, crop, flip: batch(step) must still be the same after the resume
  expect_resume_is_exact(o, "sgd");
}

TEST(Trainer, ResumeRestoresTheNetsOwnRandomGenerators) {
  // The patch CNN samples its training pixels from its own Rng: its state is in the checkpoint.
  TrainOptions o = micro_options("patch-cnn-tiny");
  o.steps = 4;  // a patch per sampled pixel: keep the run small
  o.batch = 1;
  expect_resume_is_exact(o, "patch_cnn");
}

TEST(Trainer, ResumeRestoresDropoutMasks) {
  // FCN's fc6/fc7 dropout layers draw their masks from their own Rngs.
  TrainOptions o = micro_options("fcn8s-tiny");
  o.toy_size = 32;
  o.pad_multiple = 32;
  expect_resume_is_exact(o, "fcn_dropout");
}

TEST(Trainer, CheckpointRoundTripGivesTheSameNet) {
  const TrainOptions o = micro_options();
  Trainer trainer(o, make_train_data(o));
  run_steps(trainer, 3);
  const std::string path = temp_path("roundtrip.safetensors");
  trainer.save_checkpoint(path);
  TrainOptions loaded_options;
  std::shared_ptr<SegmentationNet> loaded = load_net_from_checkpoint(path, &loaded_options);
  EXPECT_EQ(loaded_options.arch, o.arch);
  EXPECT_EQ(loaded_options.lr, o.lr);
  EXPECT_EQ(loaded_options.toy_train, o.toy_train);
  const ConfusionMatrix a = trainer.validate(0);
  const ConfusionMatrix b = evaluate(*loaded, *trainer.data().val, 0, 4, o.pad_multiple);
  for (int t = 0; t < a.num_classes(); ++t)
    for (int p = 0; p < a.num_classes(); ++p) EXPECT_EQ(a.at(t, p), b.at(t, p));
  std::filesystem::remove(path);
}

TEST(Trainer, TruncatedOrForeignCheckpointIsAClearError) {
  const TrainOptions o = micro_options();
  Trainer trainer(o, make_train_data(o));
  const std::string path = temp_path("truncated.safetensors");
  trainer.save_checkpoint(path);
  std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
  Trainer other(o, make_train_data(o));
  test::expect_error_containing([&] { other.resume(path); }, path);
  test::expect_error_containing([&] { load_net_from_checkpoint(path); }, path);
  std::filesystem::remove(path);
  test::expect_error_containing([&] { other.resume(path); }, path);  // missing file
}

TEST(Trainer, ResumeRefusesOtherSettings) {
  const TrainOptions o = micro_options();
  Trainer trainer(o, make_train_data(o));
  run_steps(trainer, 1);
  const std::string path = temp_path("settings.safetensors");
  trainer.save_checkpoint(path);
  TrainOptions changed = o;
  changed.lr = 0.1f;
  Trainer other(changed, make_train_data(changed));
  test::expect_error_containing([&] { other.resume(path); },
                                "trained with lr = 0.00300000003, this run has 0.100000001");
  std::filesystem::remove(path);
}

TEST(Trainer, OptionsRoundTripThroughMetadata) {
  TrainOptions o = micro_options();
  o.lr = 0.1234567f;
  o.schedule = "step";
  o.seed = 123456789012ull;
  const TrainOptions back = options_from_metadata(options_to_metadata(o), "test");
  EXPECT_EQ(back.lr, o.lr);
  EXPECT_EQ(back.schedule, "step");
  EXPECT_EQ(back.seed, o.seed);
  EXPECT_EQ(options_to_metadata(back), options_to_metadata(o));
  auto metadata = options_to_metadata(o);
  metadata.erase("option.lr");
  test::expect_error_containing([&] { options_from_metadata(metadata, "ckpt.safetensors"); },
                                "ckpt.safetensors: not a pixelgrad checkpoint (no 'option.lr'");
}

TEST(Trainer, BadOptionsAreClearErrors) {
  auto expect_invalid = [](auto change, const std::string& part) {
    TrainOptions o = micro_options();
    change(o);
    test::expect_error_containing([&] { validate(o); }, part);
  };
  expect_invalid([](TrainOptions& o) { o.arch = "nonet-tiny"; }, "unknown architecture 'nonet-tiny'");
  expect_invalid([](TrainOptions& o) { o.arch = "unet"; }, "say which configuration");
  expect_invalid([](TrainOptions& o) { o.toy_train = 0; }, "no training data");
  expect_invalid([](TrainOptions& o) { o.data_dir = "somewhere"; }, "not both");
  expect_invalid([](TrainOptions& o) { o.lr = 0; }, "--lr");
  expect_invalid([](TrainOptions& o) { o.steps = 0; }, "--steps");
  expect_invalid([](TrainOptions& o) { o.optimizer = "rmsprop"; }, "--optimizer");
  expect_invalid([](TrainOptions& o) { o.schedule = "linear"; }, "--schedule");
  expect_invalid([](TrainOptions& o) { o.warmup = 6; }, "--warmup");
}

TEST(Trainer, InitCopiesTensorsByName) {
  const TrainOptions o = micro_options();
  Trainer source(o, make_train_data(o));
  run_steps(source, 2);
  const std::string path = temp_path("init.safetensors");
  source.save_checkpoint(path);

  TrainOptions other = o;
  other.seed = 99;  // different initial weights
  Trainer same_arch(other, make_train_data(other));
  const InitReport report = same_arch.init_from(path);
  EXPECT_TRUE(report.missing.empty());
  EXPECT_TRUE(report.unused.empty());
  EXPECT_EQ(report.loaded.size(), same_arch.net().state_dict().size());
  const NamedTensors a = source.net().state_dict(), b = same_arch.net().state_dict();
  for (size_t i = 0; i < a.size(); ++i)
    EXPECT_EQ(a[i].second.to_vector(), b[i].second.to_vector()) << a[i].first;

  Trainer other_arch(micro_options("segnet-tiny"), make_train_data(micro_options("segnet-tiny")));
  const InitReport mismatch = other_arch.init_from(path);
  EXPECT_FALSE(mismatch.missing.empty());
  EXPECT_FALSE(mismatch.unused.empty());
  std::filesystem::remove(path);
}

TEST(Trainer, LogCsvRoundTripKeepsRowsUpToTheResumedStep) {
  TrainingLog log;
  for (int64_t s = 1; s <= 5; ++s)
    log.add(
        LogRow{.step = s, .loss = 1.0 / s, .lr = 0.01, .val_miou = s == 4 ? 0.5 : -1, .seconds = 0.1 * s});
  const std::string path = temp_path("log.csv");
  log.write_csv(path);
  const TrainingLog back = TrainingLog::read_csv(path, 4);
  ASSERT_EQ(back.rows().size(), 4u);
  EXPECT_NEAR(back.rows()[2].loss, 1.0 / 3, 1e-8);
  EXPECT_DOUBLE_EQ(back.rows()[3].val_miou, 0.5);
  EXPECT_DOUBLE_EQ(back.rows()[0].val_miou, -1);
  log.write_svg(temp_path("plot.svg"), "test");
  EXPECT_GT(std::filesystem::file_size(temp_path("plot.svg")), 500u);
  std::filesystem::remove(path);
  std::filesystem::remove(temp_path("plot.svg"));
}

TEST(Trainer, EvaluationPadsToTheNetsMultipleAndCountsOnlyRealPixels) {
  TrainOptions o = micro_options();
  o.toy_size = 12;  // unet-tiny needs multiples of 8: evaluation pads 12 → 16 with ignore labels
  Trainer trainer(o, make_train_data(o));
  const ConfusionMatrix confusion = trainer.validate(0);
  int64_t labelled = 0;
  for (int64_t i = 0; i < trainer.data().val->size(); ++i) {
    const LabelMap label = trainer.data().val->get(i).label;
    for (int64_t p = 0; p < label.numel(); ++p) labelled += label.data()[p] != 255;
  }
  EXPECT_EQ(confusion.total(), labelled);
  EXPECT_EQ(trainer.validate(3).total() < labelled, true);  // the first 3 of 4 images only
}

TEST(Trainer, TrainsOnAVocFolder) {
  // data/toy_sample: 6 train + 2 val toy images in the VOC layout, with class_names.txt.
  TrainOptions o = micro_options();
  o.toy_train = 0;
  o.data_dir = "data/toy_sample";
  o.augment = 1;
  o.crop = 16;  // random 16×16 crops of the 64×64 images
  Trainer trainer(o, make_train_data(o));
  EXPECT_EQ(trainer.data().train->size(), 6);
  EXPECT_EQ(trainer.data().val->size(), 2);
  EXPECT_EQ(trainer.net().num_classes(), 6);
  EXPECT_TRUE(std::isfinite(trainer.train_step()));
  EXPECT_EQ(trainer.validate(0).total(), 2 * 64 * 64);  // every pixel of the sample is labelled
  o.data_dir = "no/such/folder";
  test::expect_error_containing([&] { make_train_data(o); }, "no/such/folder");
}

TEST(Trainer, EveryTinyNetResumesExactly) {
  // A net that keeps random state the checkpoint does not know about would fail here.
  for (const Architecture& a : architectures()) {
    TrainOptions o = micro_options(a.name + "-tiny");
    o.toy_size = 32;
    o.pad_multiple = 32;
    o.steps = 2;
    o.batch = 2;  // image-pooling branches batch-normalise a 1×1 map: more than one image
    expect_resume_is_exact(o, a.name);
  }
}
