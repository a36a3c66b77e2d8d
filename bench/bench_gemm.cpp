// GEMM throughput in GFLOP/s (2·M·N·K flops per call): our blocked gemm on square sizes and on the
// convolution shapes of PERFORMANCE.md, beside OpenBLAS's cblas_sgemm as the anchor when the
// Makefile finds it (-DPG_WITH_OPENBLAS). Threads: OMP_NUM_THREADS (and OPENBLAS_NUM_THREADS).
#include <benchmark/benchmark.h>

#include <vector>

#include "core/rng.h"
#include "kernels/cpu/gemm.h"

#ifdef PG_WITH_OPENBLAS
#include <cblas.h>
#endif

namespace {

// One problem: C (M×N) = op(A) (M×K) · op(B) (K×N), from the benchmark's arguments
// {M, N, K, trans_a, trans_b}.
struct Shape {
  int M, N, K;
  bool trans_a, trans_b;
};

Shape shape_of(const benchmark::State& state) {
  return {static_cast<int>(state.range(0)), static_cast<int>(state.range(1)),
          static_cast<int>(state.range(2)), state.range(3) != 0, state.range(4) != 0};
}

std::vector<float> random_floats(size_t count, pg::Rng& rng) {
  std::vector<float> v(count);
  for (float& x : v) x = rng.uniform(-1.0f, 1.0f);
  return v;
}

// Times `multiply(shape, A, B, C)` and reports GFLOP/s as a rate counter.
template <typename Multiply>
void run_gemm_benchmark(benchmark::State& state, Multiply multiply) {
  const Shape s = shape_of(state);
  pg::Rng rng(1);
  const std::vector<float> a = random_floats(static_cast<size_t>(s.M) * s.K, rng);
  const std::vector<float> b = random_floats(static_cast<size_t>(s.K) * s.N, rng);
  std::vector<float> c(static_cast<size_t>(s.M) * s.N);
  for (auto _ : state) {
    multiply(s, a.data(), b.data(), c.data());
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  const double flops_per_call = 2.0 * s.M * s.N * s.K;
  state.counters["GFLOP/s"] = benchmark::Counter(
      flops_per_call * 1e-9 * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

void BM_gemm(benchmark::State& state) {
  run_gemm_benchmark(state, [](const Shape& s, const float* a, const float* b, float* c) {
    pg::kernels::gemm(s.M, s.N, s.K, a, b, c, {.trans_a = s.trans_a, .trans_b = s.trans_b});
  });
}

#ifdef PG_WITH_OPENBLAS
void BM_openblas_sgemm(benchmark::State& state) {
  run_gemm_benchmark(state, [](const Shape& s, const float* a, const float* b, float* c) {
    cblas_sgemm(CblasRowMajor, s.trans_a ? CblasTrans : CblasNoTrans, s.trans_b ? CblasTrans : CblasNoTrans,
                s.M, s.N, s.K, 1.0f, a, s.trans_a ? s.M : s.K, b, s.trans_b ? s.K : s.N, 0.0f, c, s.N);
  });
}
#endif

// Square sizes, then the convolutions of PERFORMANCE.md as im2col GEMMs (forward:
// weight (Cout × C·9) · columns (C·9 × H·W)), then the two backward GEMMs of the largest one:
// dweight = dy · columnsᵀ (trans_b) and dcolumns = weightᵀ · dy (trans_a).
void shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"M", "N", "K", "tA", "tB"});
  for (int n : {256, 512, 1024, 2048}) b->Args({n, n, n, 0, 0});
  b->Args({256, 2048, 2304, 0, 0});
  b->Args({64, 32768, 576, 0, 0});
  b->Args({16, 32768, 144, 0, 0});
  b->Args({256, 2304, 2048, 0, 1});
  b->Args({2304, 2048, 256, 1, 0});
  b->UseRealTime()->Unit(benchmark::kMillisecond);
}

}  // namespace

BENCHMARK(BM_gemm)->Apply(shapes);
#ifdef PG_WITH_OPENBLAS
BENCHMARK(BM_openblas_sgemm)->Apply(shapes);
#endif

BENCHMARK_MAIN();
