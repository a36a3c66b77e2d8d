// Benchmarks of batch norm + ReLU in training mode: the unfused pair relu(batch_norm(x)) against
// the fused batch_norm_relu op, forward and forward+backward through autograd, on the activation
// shapes of the tiny nets at batch 8: (8, 64, 32, 32) and (8, 32, 64, 64). Real time.
// GB/s counts the fewest bytes the fused op must move: forward x read twice (statistics, then
// normalise) and y written; backward x and dy read twice (sums, then dx) and dx written.
#include <benchmark/benchmark.h>

#include "core/autograd.h"
#include "core/ops/activation.h"
#include "core/ops/batch_norm.h"
#include "core/ops/batch_norm_relu.h"
#include "core/rng.h"

using namespace pg;

namespace {

Tensor random_tensor(const Shape& shape, uint64_t seed, float low, float high) {
  Rng rng(seed);
  Tensor t = Tensor::empty(shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = rng.uniform(low, high);
  return t;
}

// The inputs of one batch norm over (8, channels, side, side), parameters requiring grad.
struct BatchNormInputs {
  Tensor x, gamma, beta, running_mean, running_var, dy;
  explicit BatchNormInputs(int64_t channels, int64_t side)
      : x(random_tensor({8, channels, side, side}, 1, -1.0f, 2.0f)),
        gamma(random_tensor({channels}, 2, 0.5f, 1.5f)),
        beta(random_tensor({channels}, 3, -0.5f, 0.5f)),
        running_mean(Tensor::zeros({channels})),
        running_var(Tensor::full({channels}, 1.0f)),
        dy(random_tensor({8, channels, side, side}, 4, -1.0f, 1.0f)) {
    for (Tensor* t : {&x, &gamma, &beta}) t->set_requires_grad(true);
  }
  Tensor unfused() const { return relu(batch_norm(x, gamma, beta, running_mean, running_var, {})); }
  Tensor fused() const { return batch_norm_relu(x, gamma, beta, running_mean, running_var, {}); }
};

void report_bytes(benchmark::State& state, double bytes_per_iteration) {
  state.counters["GB"] =
      benchmark::Counter(bytes_per_iteration / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

template <bool kFused>
void BM_BatchNormReluForward(benchmark::State& state) {
  BatchNormInputs in(state.range(0), state.range(1));
  NoGradGuard no_grad;
  for (auto _ : state) {
    Tensor y = kFused ? in.fused() : in.unfused();
    benchmark::DoNotOptimize(y.data());
  }
  report_bytes(state, 4.0 * 3 * in.x.numel());
}

template <bool kFused>
void BM_BatchNormReluForwardBackward(benchmark::State& state) {
  BatchNormInputs in(state.range(0), state.range(1));
  for (auto _ : state) {
    in.x.zero_grad(), in.gamma.zero_grad(), in.beta.zero_grad();
    (kFused ? in.fused() : in.unfused()).backward(in.dy);
    benchmark::DoNotOptimize(in.x.grad().data());
  }
  report_bytes(state, 4.0 * (3 + 5) * in.x.numel());
}

}  // namespace

BENCHMARK(BM_BatchNormReluForward<false>)
    ->Name("bn_relu_unfused/forward")
    ->Args({64, 32})
    ->Args({32, 64})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_BatchNormReluForward<true>)
    ->Name("bn_relu_fused/forward")
    ->Args({64, 32})
    ->Args({32, 64})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_BatchNormReluForwardBackward<false>)
    ->Name("bn_relu_unfused/forward_backward")
    ->Args({64, 32})
    ->Args({32, 64})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_BatchNormReluForwardBackward<true>)
    ->Name("bn_relu_fused/forward_backward")
    ->Args({64, 32})
    ->Args({32, 64})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
