// End to end: a small conv net (Conv-BN-ReLU ×2, a dilated conv, a 1×1 classifier, bilinear
// upsampling back to the input size) must overfit one fixed batch — the cross-entropy falls at
// least tenfold — and, seeded, two runs give bit-identical loss sequences. A failure here with
// every op test passing points at the glue: layers, autograd over a whole net, the optimizer.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "core/adam.h"
#include "core/ops/cross_entropy.h"
#include "core/rng.h"
#include "core/sgd.h"
#include "layers/batch_norm2d.h"
#include "layers/conv2d.h"
#include "layers/relu.h"
#include "layers/sequential.h"
#include "layers/upsample.h"
#include "tests/test_util.h"

using namespace pg;

namespace {

constexpr int kBatch = 2, kChannels = 3, kSize = 16, kClasses = 3;

// (N, 3, 16, 16) → (N, 3 classes, 16, 16); the middle of the net runs at 8×8.
std::shared_ptr<Sequential> make_net(Rng& rng) {
  auto net = std::make_shared<Sequential>();
  net->add(
      std::make_shared<Conv2d>(Conv2dOptions{.in_channels = kChannels, .out_channels = 8, .pad = 1}, rng));
  net->add(std::make_shared<BatchNorm2d>(8));
  net->add(std::make_shared<ReLU>());
  net->add(std::make_shared<Conv2d>(Conv2dOptions{.in_channels = 8, .out_channels = 8, .stride = 2, .pad = 1},
                                    rng));
  net->add(std::make_shared<BatchNorm2d>(8));
  net->add(std::make_shared<ReLU>());
  net->add(std::make_shared<Conv2d>(
      Conv2dOptions{.in_channels = 8, .out_channels = 8, .pad = 2, .dilation = 2}, rng));
  net->add(std::make_shared<ReLU>());
  net->add(
      std::make_shared<Conv2d>(Conv2dOptions{.in_channels = 8, .out_channels = kClasses, .kernel = 1}, rng));
  net->add(std::make_shared<Upsample>(UpsampleOptions{.scale = 2.0f}));
  return net;
}

// Labels in diagonal bands of 4×4 blocks: class (i/4 + j/4 + n) mod 3, a few pixels ignored (255).
LabelMap make_labels() {
  LabelMap labels({kBatch, kSize, kSize});
  for (int n = 0; n < kBatch; ++n)
    for (int i = 0; i < kSize; ++i)
      for (int j = 0; j < kSize; ++j)
        labels.data()[(n * kSize + i) * kSize + j] =
            (i * kSize + j) % 37 == 5 ? 255 : (i / 4 + j / 4 + n) % kClasses;
  return labels;
}

enum class OptimizerKind { sgd_momentum, adam };

// Trains for `steps` on the one batch and returns the loss before each step.
std::vector<float> train_losses(OptimizerKind kind, int steps) {
  Rng rng(2024);
  std::shared_ptr<Sequential> net = make_net(rng);
  Tensor images = test::random_tensor({kBatch, kChannels, kSize, kSize}, rng);
  LabelMap labels = make_labels();
  std::unique_ptr<Optimizer> optimizer;
  if (kind == OptimizerKind::adam)
    optimizer = std::make_unique<Adam>(net->parameters(), AdamParams{.lr = 1e-2f});
  else
    optimizer = std::make_unique<Sgd>(net->parameters(), SgdParams{.lr = 0.1f, .momentum = 0.9f});
  std::vector<float> losses;
  for (int step = 0; step < steps; ++step) {
    optimizer->zero_grad();
    Tensor loss = cross_entropy(net->forward(images), labels);
    losses.push_back(loss.item());
    loss.backward();
    optimizer->step();
  }
  return losses;
}

void expect_overfits(OptimizerKind kind, const char* name) {
  const int steps = 60;
  std::vector<float> losses = train_losses(kind, steps);
  std::string trace;  // printed only on failure
  for (int step = 0; step < steps; step += 10) trace += str("\n  step ", step, ": loss ", losses[step]);
  EXPECT_LT(losses.back(), losses.front() / 10.0f)
      << name << ": loss " << losses.front() << " → " << losses.back() << trace;
  EXPECT_EQ(train_losses(kind, steps), losses) << name << ": a second seeded run gave other losses";
}

}  // namespace

TEST(Overfit, SgdMomentumFitsOneBatch) {
  expect_overfits(OptimizerKind::sgd_momentum, "SGD momentum");
}

TEST(Overfit, AdamFitsOneBatch) {
  expect_overfits(OptimizerKind::adam, "Adam");
}
