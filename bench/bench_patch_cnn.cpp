// The patch classification baseline's lesson in seconds: patch-cnn-tiny (17×17 patches, 6 classes)
// labelling one 64×64 image, (a) classifying every pixel's patch on its own (forward_per_pixel)
// and (b) once as the convolutionalised, dilated net (forward); both give the same logits. Also
// the full net (Ciresan et al.'s N4, 95×95 patches) on a 16×16 image (per pixel it does ~134M
// multiply-adds for each pixel). Inference only (no autograd
// graph), real time; "GMAC/s" counts the multiply-adds each way does (core/mac_counter.h).
#include <benchmark/benchmark.h>

#include "core/autograd.h"
#include "core/mac_counter.h"
#include "nets/patch_cnn.h"

using namespace pg;

namespace {

Tensor random_image(int64_t side, uint64_t seed) {
  Rng rng(seed);
  Tensor t = Tensor::empty({1, 3, side, side});
  for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = rng.uniform(-1.0f, 1.0f);
  return t;
}

enum class Way { per_pixel, dense };

void run(benchmark::State& state, const PatchCnnConfig& config, int64_t side, Way way) {
  auto net = make_patch_cnn(config, 1);
  net->eval();
  const Tensor image = random_image(side, 2);
  NoGradGuard no_grad;
  int64_t macs = 0;
  {
    MacCounter counter;
    way == Way::dense ? net->forward(image) : net->forward_per_pixel(image);
    macs = counter.macs();
  }
  for (auto _ : state) {
    Tensor logits = way == Way::dense ? net->forward(image) : net->forward_per_pixel(image);
    benchmark::DoNotOptimize(logits.data());
  }
  state.counters["GMAC"] = static_cast<double>(macs) / 1e9;
  state.counters["GMAC/s"] =
      benchmark::Counter(static_cast<double>(macs) / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_PatchCnnTinyPerPixel64(benchmark::State& state) {
  run(state, PatchCnnConfig::tiny(6), 64, Way::per_pixel);
}
void BM_PatchCnnTinyDense64(benchmark::State& state) {
  run(state, PatchCnnConfig::tiny(6), 64, Way::dense);
}
void BM_PatchCnnFullPerPixel16(benchmark::State& state) {
  run(state, PatchCnnConfig::full(2), 16, Way::per_pixel);
}
void BM_PatchCnnFullDense16(benchmark::State& state) {
  run(state, PatchCnnConfig::full(2), 16, Way::dense);
}

}  // namespace

BENCHMARK(BM_PatchCnnTinyPerPixel64)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_PatchCnnTinyDense64)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_PatchCnnFullPerPixel16)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_PatchCnnFullDense16)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
