// The toy "Broden" training of `pixelgrad train-upp` (tools/upp_training.h): the step-indexed source
// schedule with texture last, the labels each source keeps, the per-head metrics against counts by
// hand, and the phases touching only their heads.
#include <gtest/gtest.h>

#include <set>

#include "core/autograd.h"
#include "data/loader.h"
#include "data/toy_dataset.h"
#include "tests/test_util.h"
#include "tools/upp_training.h"

using namespace pg;

namespace {

UppTrainOptions small_options() {
  return {.toy_train = 8, .toy_val = 6, .toy_size = 32, .steps = 4, .texture_steps = 2, .batch = 2};
}

std::vector<float> values(const Tensor& t) {
  return std::vector<float>(t.data(), t.data() + t.numel());
}

}  // namespace

TEST(UppTraining, SourcesAlternateAndTextureComesLast) {
  UppTrainOptions o = small_options();
  o.steps = 10, o.texture_steps = 3;
  std::vector<BrodenSource> sources;
  for (int64_t step = 0; step < 10; ++step) sources.push_back(source_at(o, step));
  using enum BrodenSource;
  EXPECT_EQ(sources,
            (std::vector<BrodenSource>{scene_parsing, surfaces, scene_parsing, surfaces, scene_parsing,
                                       surfaces, scene_parsing, textures, textures, textures}));
}

TEST(UppTraining, EachSourceKeepsOnlyItsLabels) {
  ToyDataset toy(ToyOptions{.height = 32, .width = 32, .count = 2});
  const Batch all = make_batch(toy, 0, 2);
  ASSERT_TRUE(all.parts.defined() && all.materials.defined() && all.scenes.defined() &&
              all.textures.defined());
  const Batch scene = keep_source_labels(all, BrodenSource::scene_parsing);
  EXPECT_TRUE(scene.labels.defined() && scene.parts.defined() && scene.scenes.defined());
  EXPECT_FALSE(scene.materials.defined() || scene.textures.defined());
  const Batch surfaces = keep_source_labels(all, BrodenSource::surfaces);
  EXPECT_TRUE(surfaces.materials.defined());
  EXPECT_FALSE(surfaces.labels.defined() || surfaces.parts.defined() || surfaces.scenes.defined() ||
               surfaces.textures.defined());
  const Batch textures = keep_source_labels(all, BrodenSource::textures);
  EXPECT_TRUE(textures.textures.defined() && textures.images.defined());
  EXPECT_FALSE(textures.labels.defined() || textures.materials.defined() || textures.scenes.defined());
}

TEST(UppTraining, MetricsOfConstantPredictionsMatchCountsByHand) {
  // Classifier weights 0 and one bias high: every pixel predicted background, every image scene 2
  // and texture 1. Then scene / texture accuracy = the share of images with that id, and object
  // mIoU = IoU(background) / (classes present in the labels), IoU(background) = background pixels
  // / labelled pixels.
  UppTrainer trainer(small_options());
  UperNet& net = trainer.net();
  for (const auto& [name, p] : net.named_parameters()) {
    const bool bias = name.ends_with(".bias");
    int favourite = -1;
    if (name.starts_with("decode_head.conv_seg.")) favourite = 0;
    if (name.starts_with("decode_head.scene_head.2.")) favourite = 2;
    if (name.starts_with("texture_head.4.")) favourite = 1;
    if (favourite < 0) continue;
    std::fill(p.data(), p.data() + p.numel(), 0.0f);
    if (bias) p.data()[favourite] = 10.0f;
  }
  ToyDataset val(ToyOptions{.height = 32, .width = 32, .count = 6, .first_index = 3 * 8});
  int64_t scene2 = 0, texture1 = 0, background = 0, labelled = 0;
  std::set<int32_t> classes;
  for (int64_t i = 0; i < val.size(); ++i) {
    const Sample s = val.get(i);
    scene2 += s.scene == 2, texture1 += s.texture == 1;
    for (int64_t p = 0; p < s.label.numel(); ++p) {
      const int32_t c = s.label.data()[p];
      if (c == 255) continue;
      classes.insert(c), ++labelled, background += c == 0;
    }
  }
  const UppMetrics m = trainer.validate();
  EXPECT_EQ(m.images, 6);
  EXPECT_DOUBLE_EQ(m.scene_accuracy, scene2 / 6.0);
  EXPECT_DOUBLE_EQ(m.texture_accuracy, texture1 / 6.0);
  EXPECT_NEAR(m.object_miou, static_cast<double>(background) / labelled / classes.size(), 1e-12);
}

TEST(UppTraining, JointStepsLeaveTheTextureHeadAndTextureStepsTheRest) {
  UppTrainer trainer(small_options());  // steps 0, 1 joint; 2, 3 texture
  auto snapshot = [&] {
    std::vector<std::pair<std::string, std::vector<float>>> state;
    for (const auto& [name, t] : trainer.net().state_dict()) state.emplace_back(name, values(t));
    return state;
  };
  const auto start = snapshot();
  trainer.train_step();
  trainer.train_step();
  const auto joint = snapshot();
  trainer.train_step();
  trainer.train_step();
  const auto end = snapshot();
  for (size_t i = 0; i < start.size(); ++i) {
    const std::string& name = start[i].first;
    if (name.starts_with("texture_head.")) {
      EXPECT_EQ(joint[i].second, start[i].second) << name << " moved in the joint phase";
      if (name.ends_with("weight") && !name.ends_with("bn.weight")) {
        EXPECT_NE(end[i].second, joint[i].second) << name << " did not learn in the texture phase";
      }
    } else {
      EXPECT_EQ(end[i].second, joint[i].second) << name << " moved in the texture phase";
    }
  }
  EXPECT_NE(joint[0].second, start[0].second);  // backbone.conv1.weight learns in the joint phase
}

TEST(UppTraining, OptionsAreChecked) {
  UppTrainOptions o = small_options();
  o.arch = "upernet-tiny";
  test::expect_error_containing([&] { validate(o); }, "upernet-multitask");
  o = small_options();
  o.texture_steps = 4;
  test::expect_error_containing([&] { validate(o); }, "--texture-steps");
  o = small_options();
  o.batch = 1;
  test::expect_error_containing([&] { validate(o); }, "--batch");
}
