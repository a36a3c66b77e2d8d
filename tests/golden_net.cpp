// expect_net_matches_golden: the C++ half of tools/reference/golden.py's net_golden; the
// overfit check every net test runs.
#include "tests/golden_net.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/adam.h"
#include "core/safetensors.h"
#include "tests/test_util.h"

namespace pg::test {

namespace {

bool has_tensor(const SafetensorsContents& file, const std::string& name) {
  for (const auto& [n, t] : file.tensors)
    if (n == name) return true;
  return false;
}

bool has_int_tensor(const SafetensorsContents& file, const std::string& name) {
  for (const auto& [n, t] : file.int_tensors)
    if (n == name) return true;
  return false;
}

}  // namespace

void expect_net_matches_golden(SegmentationNet& net, const std::string& path, const GoldenTolerance& tol) {
  ASSERT_TRUE(std::filesystem::exists(path))
      << path << " not found from " << std::filesystem::current_path()
      << ": run the tests from the repository root, or regenerate it with its tools/reference script";
  const SafetensorsContents file = load_safetensors(path);

  // Weights and buffers, strictly both ways.
  const NamedTensors state = net.state_dict();
  int64_t stored_states = 0;
  for (const auto& [name, t] : file.tensors) stored_states += name.starts_with("state.");
  EXPECT_EQ(stored_states, static_cast<int64_t>(state.size()))
      << path << ": the file holds " << stored_states << " state tensors, the net has " << state.size();
  for (const auto& [name, t] : state) {
    const Tensor& stored = file.tensor("state." + name);
    ASSERT_EQ(stored.shape(), t.shape()) << name << ": the golden file's shape differs from the net's";
    std::copy(stored.data(), stored.data() + stored.numel(), t.data());
  }
  net.train();

  Batch batch;
  batch.images = file.tensor("input").clone();
  batch.images.set_requires_grad(true);
  batch.labels = file.int_tensor("labels");
  if (has_int_tensor(file, "parts")) batch.parts = file.int_tensor("parts");
  if (has_int_tensor(file, "materials")) batch.materials = file.int_tensor("materials");
  if (has_int_tensor(file, "scenes")) batch.scenes = file.int_tensor("scenes");
  if (has_int_tensor(file, "textures")) batch.textures = file.int_tensor("textures");
  CrossEntropyParams loss_params;
  if (has_tensor(file, "class_weights")) loss_params.class_weights = file.tensor("class_weights");
  auto reduction = file.metadata.find("reduction");
  if (reduction != file.metadata.end() && reduction->second == "sum") loss_params.reduction = Reduction::sum;

  const Tensor logits = net.forward(batch.images);
  expect_close(logits, file.tensor("logits"), tol.output_rtol, tol.output_atol, path + ": logits");

  net.zero_grad();
  Tensor loss = net.training_loss(batch, loss_params);
  expect_close(loss.reshape({1}), file.tensor("loss"), tol.output_rtol, tol.output_atol, path + ": loss");
  loss.backward();

  ASSERT_TRUE(batch.images.grad().defined()) << path << ": no gradient reached the input";
  expect_close(batch.images.grad(), file.tensor("grad.input"), tol.grad_rtol, tol.grad_atol,
               path + ": grad.input");
  for (const auto& [name, p] : net.named_parameters()) {
    ASSERT_TRUE(p.grad().defined()) << path << ": no gradient reached " << name;
    expect_close(p.grad(), file.tensor("grad." + name), tol.grad_rtol, tol.grad_atol,
                 path + ": grad." + name);
  }
  for (const auto& [name, b] : net.named_buffers())
    expect_close(b, file.tensor("state_after." + name), tol.output_rtol, tol.output_atol,
                 path + ": " + name + " after the step");
}

LabelMap block_labels(int64_t n, int64_t h, int64_t w, int classes, int64_t block) {
  LabelMap labels({n, h, w});
  for (int64_t i = 0; i < n; ++i)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x)
        labels.data()[(i * h + y) * w + x] = static_cast<int32_t>((y / block + x / block + i) % classes);
  return labels;
}

void expect_net_overfits(SegmentationNet& net, const Batch& batch, int steps, float lr, float factor) {
  Adam adam(net.parameters(), AdamParams{.lr = lr});
  float first = 0, last = 0;
  for (int step = 0; step < steps; ++step) {
    adam.zero_grad();
    Tensor loss = net.training_loss(batch, {});
    (step == 0 ? first : last) = loss.item();
    loss.backward();
    adam.step();
  }
  EXPECT_LT(last, first / factor) << "loss " << first << " → " << last << " in " << steps << " steps";
}

void train_steps(SegmentationNet& net, const Batch& batch, int steps, float lr) {
  Adam adam(net.parameters(), AdamParams{.lr = lr});
  for (int step = 0; step < steps; ++step) {
    adam.zero_grad();
    net.training_loss(batch, {}).backward();
    adam.step();
  }
}

void expect_same_state(const Module& copy, const Module& original) {
  const NamedTensors got = copy.state_dict(), expected = original.state_dict();
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].first, expected[i].first);
    ASSERT_EQ(got[i].second.shape(), expected[i].second.shape()) << expected[i].first;
    EXPECT_NE(got[i].second.data(), expected[i].second.data())
        << expected[i].first << ": a copy, not shared storage";
    expect_close(got[i].second, expected[i].second, 0.0f, 0.0f, expected[i].first);
  }
}

}  // namespace pg::test
