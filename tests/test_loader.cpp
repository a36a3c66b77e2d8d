// BatchLoader and make_batch: batch(step) is a pure function of (seed, step); each epoch is a
// permutation of the dataset; the multi-task labels and normalisation reach the batch; the
// samples drawn on several threads give the same batch as on one; bad requests and unreadable
// samples are errors.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <map>
#include <set>

#include "data/augment.h"
#include "data/loader.h"
#include "data/toy_dataset.h"
#include "tests/test_util.h"

using namespace pg;

namespace {

// Samples held in memory; sample i is a flat image of value i / 100 named "s<i>".
class ListDataset : public Dataset {
 public:
  explicit ListDataset(std::vector<Sample> samples) : samples_(std::move(samples)) {}
  static std::shared_ptr<ListDataset> flat(int count, int height, int width) {
    std::vector<Sample> samples;
    for (int i = 0; i < count; ++i) {
      Sample s;
      s.image = Tensor::full({3, height, width}, i / 100.0f);
      s.label = LabelMap({height, width}, i % 3);
      s.name = "s" + std::to_string(i);
      samples.push_back(s);
    }
    return std::make_shared<ListDataset>(samples);
  }
  int64_t size() const override { return static_cast<int64_t>(samples_.size()); }
  Sample get(int64_t index) const override { return samples_.at(index); }
  const std::vector<Sample>& samples() const { return samples_; }
  int num_classes() const override { return 3; }
  std::vector<std::string> class_names() const override { return {"a", "b", "c"}; }

 private:
  std::vector<Sample> samples_;
};

bool same_batch(const Batch& a, const Batch& b) {
  auto same_ints = [](const IntTensor& x, const IntTensor& y) {
    return x.defined() == y.defined() &&
           (!x.defined() || (x.shape() == y.shape() && std::equal(x.data(), x.data() + x.numel(), y.data())));
  };
  return a.images.shape() == b.images.shape() &&
         std::equal(a.images.data(), a.images.data() + a.images.numel(), b.images.data()) &&
         same_ints(a.labels, b.labels) && same_ints(a.parts, b.parts) &&
         same_ints(a.materials, b.materials) && same_ints(a.scenes, b.scenes) &&
         same_ints(a.textures, b.textures) && a.names == b.names;
}

}  // namespace

TEST(BatchLoader, BatchIsAPureFunctionOfSeedAndStep) {
  auto toy = std::make_shared<ToyDataset>(ToyOptions{.count = 30, .seed = 3});
  LoaderOptions options{.batch_size = 4, .seed = 9};
  BatchLoader a(toy, options), b(toy, options);
  Batch late = a.batch(12);  // drawn before the earlier steps: no hidden state
  for (int64_t step : {0, 5, 12}) EXPECT_TRUE(same_batch(a.batch(step), b.batch(step))) << step;
  EXPECT_TRUE(same_batch(late, b.batch(12)));
  EXPECT_FALSE(same_batch(a.batch(5), a.batch(6)));
  options.seed = 10;
  EXPECT_FALSE(same_batch(a.batch(5), BatchLoader(toy, options).batch(5)));
}

// Without augmentation the batches of one epoch hold every sample exactly once, in an order that
// changes from epoch to epoch; without shuffling, in dataset order.
TEST(BatchLoader, EachEpochIsAPermutation) {
  auto dataset = ListDataset::flat(10, 4, 4);
  LoaderOptions options{.batch_size = 5, .seed = 2, .augment = {.enabled = false}};
  BatchLoader loader(dataset, options);
  EXPECT_EQ(loader.steps_per_epoch(), 2);
  std::vector<std::string> epoch0, epoch1;
  for (int64_t step = 0; step < 4; ++step) {
    Batch batch = loader.batch(step);
    ASSERT_EQ(batch.size(), 5);
    for (const std::string& name : batch.names) (step < 2 ? epoch0 : epoch1).push_back(name);
  }
  std::vector<std::string> sorted0 = epoch0, sorted1 = epoch1;
  std::sort(sorted0.begin(), sorted0.end()), std::sort(sorted1.begin(), sorted1.end());
  EXPECT_EQ(sorted0, sorted1);
  EXPECT_EQ(std::set<std::string>(sorted0.begin(), sorted0.end()).size(), 10u);
  EXPECT_NE(epoch0, epoch1);

  options.shuffle = false;
  Batch ordered = BatchLoader(dataset, options).batch(1);
  EXPECT_EQ(ordered.names, (std::vector<std::string>{"s5", "s6", "s7", "s8", "s9"}));
  // a batch larger than the dataset wraps through several epochs
  options.batch_size = 25;
  EXPECT_EQ(BatchLoader(dataset, options).batch(0).names[21], "s1");
}

// The toy dataset's multi-task labels travel into the batch, augmented alongside the class label.
TEST(BatchLoader, MultiTaskLabelsReachTheBatch) {
  auto toy = std::make_shared<ToyDataset>(ToyOptions{.count = 8, .seed = 1});
  BatchLoader loader(toy, LoaderOptions{.batch_size = 3, .seed = 4});
  Batch batch = loader.batch(2);
  EXPECT_EQ(batch.images.shape(), (Shape{3, 3, 64, 64}));
  EXPECT_EQ(batch.labels.shape(), (Shape{3, 64, 64}));
  ASSERT_TRUE(batch.parts.defined() && batch.materials.defined());
  ASSERT_TRUE(batch.scenes.defined() && batch.textures.defined());
  EXPECT_EQ(batch.scenes.shape(), (Shape{3}));
  for (int64_t i = 0; i < batch.labels.numel(); ++i) {
    const int32_t label = batch.labels.data()[i];
    ASSERT_EQ(batch.parts.data()[i] == 255, label == 0 || label == 255);
    ASSERT_EQ(batch.materials.data()[i] == 0, label == 0);
  }
  for (int n = 0; n < 3; ++n) {
    EXPECT_TRUE(batch.scenes.data()[n] >= 0 && batch.scenes.data()[n] < kToySceneCount);
    EXPECT_TRUE(batch.textures.data()[n] >= 0 && batch.textures.data()[n] < kToyTextureCount);
  }
  // a crop size other than the dataset's
  Batch cropped =
      BatchLoader(toy, LoaderOptions{.batch_size = 2, .augment = {.crop_h = 32, .crop_w = 48}}).batch(0);
  EXPECT_EQ(cropped.images.shape(), (Shape{2, 3, 32, 48}));
  EXPECT_EQ(cropped.parts.shape(), (Shape{2, 32, 48}));
}

TEST(BatchLoader, MakeBatchNormalisesWithoutAugmenting) {
  auto toy = std::make_shared<ToyDataset>(ToyOptions{.count = 5, .seed = 6});
  Normalisation n{.mean = {0.5f, 0.4f, 0.3f}, .std = {0.2f, 0.3f, 0.4f}};
  Batch batch = make_batch(*toy, 1, 4, n);
  ASSERT_EQ(batch.size(), 3);
  EXPECT_EQ(batch.names, (std::vector<std::string>{"toy-1", "toy-2", "toy-3"}));
  Sample second = toy->get(2);
  Tensor expected = normalise(second.image, n);
  test::expect_close(batch.images.data() + 3 * 64 * 64, expected.data(), expected.numel(), 0, 0, "image 2");
  EXPECT_TRUE(std::equal(second.label.data(), second.label.data() + 4096, batch.labels.data() + 4096));
  EXPECT_TRUE(
      std::equal(second.material.data(), second.material.data() + 4096, batch.materials.data() + 4096));
  EXPECT_EQ(batch.scenes.data()[1], second.scene);
}

TEST(BatchLoader, BadRequestsAreErrors) {
  using test::expect_error_containing;
  auto dataset = ListDataset::flat(4, 4, 4);
  expect_error_containing([&] { BatchLoader(dataset, LoaderOptions{.batch_size = 0}); }, "batch_size");
  expect_error_containing([&] { BatchLoader(ListDataset::flat(0, 4, 4), LoaderOptions{}); }, "empty");
  expect_error_containing([&] { BatchLoader(nullptr, LoaderOptions{}); }, "no dataset");
  expect_error_containing([&] { BatchLoader(dataset, LoaderOptions{}).batch(-1); }, "step must be ≥ 0");
  expect_error_containing([&] { make_batch(*dataset, 2, 2); }, "begin < end");
  expect_error_containing([&] { make_batch(*dataset, 0, 5); }, "end ≤ 4");
  std::vector<Sample> mixed = {dataset->get(0), ListDataset::flat(1, 5, 4)->get(0)};
  mixed[1].name = "odd";
  ListDataset mixed_sizes(mixed);
  expect_error_containing([&] { make_batch(mixed_sizes, 0, 2); }, "sample 'odd' has image (3, 5, 4)");
}

TEST(BatchLoader, SamplesDrawnOnSeveralThreadsGiveTheSameBatch) {
  auto toy = std::make_shared<ToyDataset>(ToyOptions{.height = 24, .width = 24, .count = 40, .seed = 3});
  LoaderOptions options{.batch_size = 6, .seed = 5, .augment = {.crop_h = 16, .crop_w = 20}};
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const Batch one = BatchLoader(toy, options).batch(7);
  const Batch evaluation_one = make_batch(*toy, 3, 11);
  omp_set_num_threads(3);
  const Batch three = BatchLoader(toy, options).batch(7);
  const Batch evaluation_three = make_batch(*toy, 3, 11);
  omp_set_num_threads(threads);
  EXPECT_TRUE(same_batch(one, three));
  EXPECT_TRUE(same_batch(evaluation_one, evaluation_three));
}

namespace {
// A dataset whose sample 2 cannot be read, as a corrupt file would be.
class FailingDataset : public ListDataset {
 public:
  FailingDataset() : ListDataset(ListDataset::flat(6, 4, 4)->samples()) {}
  Sample get(int64_t index) const override {
    check(index != 2, "toy.png: truncated file (sample 2)");
    return ListDataset::get(index);
  }
};
}  // namespace

TEST(BatchLoader, ASampleThatFailsOnAWorkerThreadGivesItsError) {
  auto dataset = std::make_shared<FailingDataset>();
  const int threads = omp_get_max_threads();
  omp_set_num_threads(2);
  test::expect_error_containing(
      [&] { BatchLoader(dataset, LoaderOptions{.batch_size = 6, .augment = {.enabled = false}}).batch(0); },
      "toy.png: truncated file (sample 2)");
  test::expect_error_containing([&] { make_batch(*dataset, 0, 6); }, "truncated file");
  omp_set_num_threads(threads);
}
