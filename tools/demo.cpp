// `pixelgrad demo` (what `make run` shows until the full `pixelgrad train` arrives): trains a
// tiny fully-convolutional net on procedurally drawn shapes — discs are class 1, squares class 2,
// colours random, so shape decides the class — then prints loss, pixel accuracy and IoU on
// unseen images and draws one prediction beside its ground truth in the terminal.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "core/adam.h"
#include "core/autograd.h"
#include "core/lr_schedule.h"
#include "core/ops/cross_entropy.h"
#include "layers/batch_norm2d.h"
#include "layers/conv2d.h"
#include "layers/relu.h"
#include "layers/sequential.h"
#include "layers/upsample.h"
#include "tools/demo.h"

namespace pg {

namespace {

constexpr int kSize = 32;     // image side
constexpr int kClasses = 3;   // background, disc, square

struct Batch {
  Tensor images;     // (N, 3, kSize, kSize), values about in [−1, 1]
  IntTensor labels;  // (N, kSize, kSize)
};

// One image: a noisy background and 1–3 shapes drawn in order (later ones occlude earlier).
void draw_sample(Rng& rng, float* image, int32_t* label) {
  const int plane = kSize * kSize;
  for (int c = 0; c < 3; ++c) {
    float base = rng.uniform(-0.6f, 0.6f);
    for (int i = 0; i < plane; ++i) image[c * plane + i] = base + rng.normal(0.0f, 0.15f);
  }
  std::fill(label, label + plane, 0);
  int shapes = 1 + static_cast<int>(rng.below(3));
  for (int s = 0; s < shapes; ++s) {
    int cls = 1 + static_cast<int>(rng.below(2));
    float radius = rng.uniform(3.0f, 9.0f);
    float cy = rng.uniform(radius, kSize - radius), cx = rng.uniform(radius, kSize - radius);
    float colour[3] = {rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(-1, 1)};
    for (int y = 0; y < kSize; ++y)
      for (int x = 0; x < kSize; ++x) {
        float dy = y + 0.5f - cy, dx = x + 0.5f - cx;
        bool inside = cls == 1 ? dy * dy + dx * dx <= radius * radius
                               : std::fabs(dy) <= radius * 0.85f && std::fabs(dx) <= radius * 0.85f;
        if (!inside) continue;
        label[y * kSize + x] = cls;
        for (int c = 0; c < 3; ++c) image[c * plane + y * kSize + x] = colour[c] + rng.normal(0.0f, 0.05f);
      }
  }
}

Batch make_batch(Rng& rng, int n) {
  Batch b{Tensor::empty({n, 3, kSize, kSize}), IntTensor({n, kSize, kSize})};
  for (int i = 0; i < n; ++i) draw_sample(rng, b.images.data() + i * 3 * kSize * kSize, b.labels.data() + i * kSize * kSize);
  return b;
}

// conv 3×3 → BN → ReLU, the unit the net is made of.
void add_conv_bn_relu(std::vector<std::shared_ptr<Module>>& layers, int64_t in, int64_t out, int stride,
                      int dilation, Rng& rng) {
  layers.push_back(std::make_shared<Conv2d>(
      Conv2dOptions{.in_channels = in, .out_channels = out, .kernel = 3, .stride = stride, .pad = dilation,
                    .dilation = dilation, .bias = false},
      rng));
  layers.push_back(std::make_shared<BatchNorm2d>(out));
  layers.push_back(std::make_shared<ReLU>());
}

// 32×32 → stride 2 → dilated context (rates 1, 2, 4) → 1×1 classifier → bilinear ×2.
std::shared_ptr<Sequential> make_net(Rng& rng) {
  std::vector<std::shared_ptr<Module>> layers;
  add_conv_bn_relu(layers, 3, 16, 1, 1, rng);
  add_conv_bn_relu(layers, 16, 32, 2, 1, rng);
  add_conv_bn_relu(layers, 32, 32, 1, 2, rng);
  add_conv_bn_relu(layers, 32, 32, 1, 4, rng);
  layers.push_back(std::make_shared<Conv2d>(Conv2dOptions{.in_channels = 32, .out_channels = kClasses, .kernel = 1}, rng));
  layers.push_back(std::make_shared<Upsample>(UpsampleOptions{.out_h = kSize, .out_w = kSize}));
  return std::make_shared<Sequential>(layers);
}

// argmax over classes: logits (N, C, H, W) → (N, H, W)
std::vector<int32_t> predict(const Tensor& logits) {
  const int64_t n = logits.size(0), c = logits.size(1), plane = logits.size(2) * logits.size(3);
  std::vector<int32_t> out(n * plane);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t p = 0; p < plane; ++p) {
      const float* z = logits.data() + i * c * plane + p;
      int32_t best = 0;
      for (int64_t k = 1; k < c; ++k)
        if (z[k * plane] > z[best * plane]) best = static_cast<int32_t>(k);
      out[i * plane + p] = best;
    }
  return out;
}

}  // namespace

int run_demo(const DemoOptions& options) {
  Rng rng(options.seed);
  std::shared_ptr<Sequential> net = make_net(rng);
  Adam optimizer(net->parameters(), AdamParams{.lr = 3e-3f});
  LrSchedule schedule{.policy = LrPolicy::poly, .base_lr = 3e-3f, .max_iters = options.steps};
  std::printf("pixelgrad demo: a %lld-parameter conv net learns discs (1) vs squares (2) on %d×%d toy images\n",
              static_cast<long long>(net->parameter_count()), kSize, kSize);
  std::printf("%d steps of batch %d, Adam with poly lr from %.0e, %d OpenMP threads\n", options.steps,
              options.batch, schedule.base_lr, omp_get_max_threads());

  auto start = std::chrono::steady_clock::now();
  net->train();
  float running_loss = 0.0f;
  for (int step = 0; step < options.steps; ++step) {
    Batch batch = make_batch(rng, options.batch);  // fresh images every step: no overfitting
    optimizer.set_lr(lr_at(schedule, step));
    optimizer.zero_grad();
    Tensor loss = cross_entropy(net->forward(batch.images), batch.labels);
    loss.backward();
    optimizer.step();
    running_loss = step == 0 ? loss.item() : 0.9f * running_loss + 0.1f * loss.item();
    if ((step + 1) % std::max(1, options.steps / 10) == 0 || step + 1 == options.steps)
      std::printf("  step %4d  loss %.4f  (%.1f s)\n", step + 1, running_loss,
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }

  // Evaluation on images the net has never seen: one confusion matrix over all of them.
  net->eval();
  NoGradGuard no_grad;
  Rng val_rng(options.seed + 1000);
  Batch val = make_batch(val_rng, 64);
  std::vector<int32_t> pred = predict(net->forward(val.images));
  int64_t confusion[kClasses][kClasses] = {};
  for (size_t i = 0; i < pred.size(); ++i) ++confusion[val.labels.data()[i]][pred[i]];
  int64_t correct = 0, total = 0;
  double iou_sum = 0.0;
  std::printf("\nvalidation on 64 new images:\n");
  const char* names[kClasses] = {"background", "disc", "square"};
  for (int c = 0; c < kClasses; ++c) {
    int64_t row = 0, col = 0;
    for (int k = 0; k < kClasses; ++k) row += confusion[c][k], col += confusion[k][c];
    correct += confusion[c][c];
    total += row;
    double iou = static_cast<double>(confusion[c][c]) / std::max<int64_t>(1, row + col - confusion[c][c]);
    iou_sum += iou;
    std::printf("  IoU %-10s %.3f\n", names[c], iou);
  }
  std::printf("  pixel accuracy %.3f, mIoU %.3f\n\n", static_cast<double>(correct) / total, iou_sum / kClasses);

  std::printf("one validation image: ground truth | prediction   (. background, o disc, # square)\n");
  const char glyph[kClasses] = {'.', 'o', '#'};
  for (int y = 0; y < kSize; ++y) {
    std::string line;
    for (int x = 0; x < kSize; ++x) line += glyph[val.labels.data()[y * kSize + x]];
    line += "   ";
    for (int x = 0; x < kSize; ++x) line += glyph[pred[y * kSize + x]];
    std::printf("  %s\n", line.c_str());
  }
  return 0;
}

}  // namespace pg
