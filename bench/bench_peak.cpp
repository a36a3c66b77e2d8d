// The machine's fp32 FMA peak, the ceiling every "fraction of peak" figure divides by: each
// thread runs chains of independent vector FMAs that never touch memory. 16 accumulators hide
// the FMA latency (4 cycles × 2 ports × 2 for safety). GFLOP/s = 2 flops × lanes × FMAs / time.
#include <benchmark/benchmark.h>
#include <immintrin.h>
#include <omp.h>

namespace {

constexpr int kAccumulators = 16;
constexpr int64_t kIterations = 1 << 20;

#if defined(__AVX512F__)
constexpr int kLanes = 16;
float fma_chains() {
  __m512 acc[kAccumulators];
  for (int i = 0; i < kAccumulators; ++i) acc[i] = _mm512_set1_ps(static_cast<float>(i));
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (int64_t it = 0; it < kIterations; ++it)
    for (int i = 0; i < kAccumulators; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  alignas(64) float lanes[16];
  __m512 sum = acc[0];
  for (int i = 1; i < kAccumulators; ++i) sum = _mm512_add_ps(sum, acc[i]);
  _mm512_store_ps(lanes, sum);
  return lanes[0] + lanes[15];
}
#elif defined(__AVX2__)
constexpr int kLanes = 8;
float fma_chains() {
  __m256 acc[kAccumulators];
  for (int i = 0; i < kAccumulators; ++i) acc[i] = _mm256_set1_ps(static_cast<float>(i));
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (int64_t it = 0; it < kIterations; ++it)
    for (int i = 0; i < kAccumulators; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  alignas(32) float lanes[8];
  __m256 sum = acc[0];
  for (int i = 1; i < kAccumulators; ++i) sum = _mm256_add_ps(sum, acc[i]);
  _mm256_store_ps(lanes, sum);
  return lanes[0] + lanes[7];
}
#else
constexpr int kLanes = 1;
float fma_chains() {
  float acc[kAccumulators];
  for (int i = 0; i < kAccumulators; ++i) acc[i] = static_cast<float>(i);
  for (int64_t it = 0; it < kIterations; ++it)
    for (int i = 0; i < kAccumulators; ++i) acc[i] = acc[i] * 0.999999f + 1e-7f;
  float sum = 0.0f;
  for (float v : acc) sum += v;
  return sum;
}
#endif

// All OpenMP threads (OMP_NUM_THREADS) run the chains at once.
void BM_fma_peak(benchmark::State& state) {
  const int threads = omp_get_max_threads();
  for (auto _ : state) {
    float sink = 0.0f;
#pragma omp parallel reduction(+ : sink)
    sink += fma_chains();
    benchmark::DoNotOptimize(sink);
  }
  const double flops = 2.0 * kLanes * kAccumulators * static_cast<double>(kIterations) * threads;
  state.counters["threads"] = threads;
  state.counters["GFLOP/s"] = benchmark::Counter(flops * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_fma_peak)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
