// Benchmarks of the bilinear resize and max-pool ops: bilinear ×4 (8, 64, 16, 16) → (8, 64, 64, 64),
// align_corners false, and 2×2/2 max pool on (8, 64, 64, 64); forward and forward+backward through
// the ops (autograd included), then the kernels alone on preallocated buffers, and the
// single-threaded reference kernels for scale, and the memory floor of the resize forward. Real time.
// GB/s counts the bytes a kernel must move: the input and output it reads and writes (for max
// pool also the int32 indices; for the backward dy, indices and dx).
#include <benchmark/benchmark.h>

#include <vector>

#include "core/autograd.h"
#include "core/ops/pool2d.h"
#include "core/ops/resize_bilinear.h"
#include "core/rng.h"
#include "kernels/cpu/pool.h"
#include "kernels/cpu/resize_bilinear.h"

using namespace pg;

namespace {

Tensor random_tensor(const Shape& shape, uint64_t seed) {
  Rng rng(seed);
  Tensor t = Tensor::empty(shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = rng.uniform(-1.0f, 1.0f);
  return t;
}

// Printed as "GB=x/s": gigabytes moved per second of real time.
void report_bytes(benchmark::State& state, double bytes_per_iteration) {
  state.counters["GB"] =
      benchmark::Counter(bytes_per_iteration / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

const Shape kResizeIn = {8, 64, 16, 16};
const Shape kPoolIn = {8, 64, 64, 64};
constexpr int kResizeOut = 64;

void BM_ResizeBilinearX4Forward(benchmark::State& state) {
  Tensor x = random_tensor(kResizeIn, 1);
  NoGradGuard no_grad;
  Tensor y;
  for (auto _ : state) {
    y = resize_bilinear(x, kResizeOut, kResizeOut, false);
    benchmark::DoNotOptimize(y.data());
  }
  report_bytes(state, 4.0 * (x.numel() + y.numel()));
}

void BM_ResizeBilinearX4ForwardBackward(benchmark::State& state) {
  Tensor x = random_tensor(kResizeIn, 1);
  x.set_requires_grad(true);
  Tensor dy = random_tensor({8, 64, kResizeOut, kResizeOut}, 2);
  for (auto _ : state) {
    x.zero_grad();
    resize_bilinear(x, kResizeOut, kResizeOut, false).backward(dy);
    benchmark::DoNotOptimize(x.grad().data());
  }
  report_bytes(state, 2 * 4.0 * (x.numel() + dy.numel()));  // forward x → y, backward dy → dx
}

kernels::ResizeBilinearParams resize_params() {
  kernels::ResizeBilinearParams p;
  p.planes = 8 * 64, p.in_h = p.in_w = 16, p.out_h = p.out_w = kResizeOut;
  p.ratio_h = p.ratio_w = kernels::bilinear_source_ratio(16, kResizeOut, false);
  return p;
}

// The kernels alone, on preallocated buffers: no allocation, no autograd bookkeeping.
void BM_ResizeBilinearX4KernelForwardBackward(benchmark::State& state) {
  Tensor x = random_tensor(kResizeIn, 1), dy = random_tensor({8, 64, kResizeOut, kResizeOut}, 2);
  Tensor y = Tensor::empty(dy.shape()), dx = Tensor::zeros(kResizeIn);
  const kernels::ResizeBilinearParams p = resize_params();
  for (auto _ : state) {
    kernels::resize_bilinear_forward(x.data(), y.data(), p);
    kernels::resize_bilinear_backward(dy.data(), dx.data(), p);
    benchmark::DoNotOptimize(dx.data());
  }
  report_bytes(state, 2 * 4.0 * (x.numel() + y.numel()));
}

void BM_ResizeBilinearX4KernelForward(benchmark::State& state) {
  Tensor x = random_tensor(kResizeIn, 1), y = Tensor::empty({8, 64, kResizeOut, kResizeOut});
  const kernels::ResizeBilinearParams p = resize_params();
  for (auto _ : state) {
    kernels::resize_bilinear_forward(x.data(), y.data(), p);
    benchmark::DoNotOptimize(y.data());
  }
  report_bytes(state, 4.0 * (x.numel() + y.numel()));
}

void BM_ResizeBilinearX4KernelForwardReference(benchmark::State& state) {
  Tensor x = random_tensor(kResizeIn, 1), y = Tensor::empty({8, 64, kResizeOut, kResizeOut});
  const kernels::ResizeBilinearParams p = resize_params();
  for (auto _ : state) {
    kernels::resize_bilinear_forward_reference(x.data(), y.data(), p);
    benchmark::DoNotOptimize(y.data());
  }
  report_bytes(state, 4.0 * (x.numel() + y.numel()));
}

// The memory floor of the resize forward: read x once and write every element of y, on the same
// threads, with no arithmetic. No kernel that makes y from x moves fewer bytes, so the kernel's
// GB/s over this one's is how near the floor it runs.
void BM_ResizeForwardMemoryFloor(benchmark::State& state) {
  Tensor x = random_tensor(kResizeIn, 1), y = Tensor::empty({8, 64, kResizeOut, kResizeOut});
  const float* in = x.data();
  float* out = y.data();
  const int64_t in_count = x.numel(), out_count = y.numel();
  for (auto _ : state) {
    float total = 0.0f;
#pragma omp parallel for simd reduction(+ : total)
    for (int64_t i = 0; i < in_count; ++i) total += in[i];
#pragma omp parallel for simd
    for (int64_t i = 0; i < out_count; ++i) out[i] = total;
    benchmark::DoNotOptimize(y.data());
  }
  report_bytes(state, 4.0 * (x.numel() + y.numel()));
}

void BM_MaxPool2x2Forward(benchmark::State& state) {
  Tensor x = random_tensor(kPoolIn, 3);
  NoGradGuard no_grad;
  Pool2dParams p;  // 2×2, stride 2
  MaxPoolResult r;
  for (auto _ : state) {
    r = max_pool2d_with_indices(x, p);
    benchmark::DoNotOptimize(r.out.data());
  }
  report_bytes(state, 4.0 * (x.numel() + 2 * r.out.numel()));  // x → y and indices
}

void BM_MaxPool2x2ForwardBackward(benchmark::State& state) {
  Tensor x = random_tensor(kPoolIn, 3);
  x.set_requires_grad(true);
  Tensor dy = random_tensor({8, 64, 32, 32}, 4);
  Pool2dParams p;
  for (auto _ : state) {
    x.zero_grad();
    max_pool2d(x, p).backward(dy);
    benchmark::DoNotOptimize(x.grad().data());
  }
  // forward x → y, indices; backward dy, indices → dx
  report_bytes(state, 4.0 * (x.numel() + 2 * dy.numel()) + 4.0 * (2 * dy.numel() + x.numel()));
}

kernels::Pool2dGeometry pool_geometry() {
  kernels::Pool2dGeometry g;  // 2×2, stride 2
  g.planes = 8 * 64, g.in_h = g.in_w = 64, g.out_h = g.out_w = 32;
  return g;
}

void BM_MaxPool2x2KernelForwardBackward(benchmark::State& state) {
  Tensor x = random_tensor(kPoolIn, 3), dy = random_tensor({8, 64, 32, 32}, 4);
  Tensor y = Tensor::empty(dy.shape()), dx = Tensor::zeros(kPoolIn);
  IntTensor indices(dy.shape());
  const kernels::Pool2dGeometry g = pool_geometry();
  for (auto _ : state) {
    kernels::max_pool2d_forward(x.data(), y.data(), indices.data(), g);
    kernels::max_pool2d_backward(dy.data(), indices.data(), dx.data(), g);
    benchmark::DoNotOptimize(dx.data());
  }
  report_bytes(state, 4.0 * (x.numel() + 2 * dy.numel()) + 4.0 * (2 * dy.numel() + x.numel()));
}

void BM_MaxPool2x2KernelForward(benchmark::State& state) {
  Tensor x = random_tensor(kPoolIn, 3), y = Tensor::empty({8, 64, 32, 32});
  IntTensor indices(y.shape());
  const kernels::Pool2dGeometry g = pool_geometry();
  for (auto _ : state) {
    kernels::max_pool2d_forward(x.data(), y.data(), indices.data(), g);
    benchmark::DoNotOptimize(y.data());
  }
  report_bytes(state, 4.0 * (x.numel() + 2 * y.numel()));
}

void BM_MaxPool2x2KernelForwardReference(benchmark::State& state) {
  Tensor x = random_tensor(kPoolIn, 3), y = Tensor::empty({8, 64, 32, 32});
  IntTensor indices(y.shape());
  const kernels::Pool2dGeometry g = pool_geometry();
  for (auto _ : state) {
    kernels::max_pool2d_forward_reference(x.data(), y.data(), indices.data(), g);
    benchmark::DoNotOptimize(y.data());
  }
  report_bytes(state, 4.0 * (x.numel() + 2 * y.numel()));
}

}  // namespace

BENCHMARK(BM_ResizeBilinearX4Forward)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ResizeBilinearX4ForwardBackward)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ResizeBilinearX4KernelForward)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ResizeBilinearX4KernelForwardBackward)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ResizeBilinearX4KernelForwardReference)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ResizeForwardMemoryFloor)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MaxPool2x2Forward)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MaxPool2x2ForwardBackward)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MaxPool2x2KernelForward)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MaxPool2x2KernelForwardBackward)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MaxPool2x2KernelForwardReference)->UseRealTime()->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
