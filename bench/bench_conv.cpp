// Convolution kernels on the shapes of /work/shared/PERFORMANCE.md at batch 8: forward, and
// forward + backward (backward-data + backward-weight), in real time with GFLOP/s counters.
// FLOPs are nominal (2·N·K·Ho·Wo·Cg·kh·kw per pass, taps in the padding included), as PyTorch's.
//   OMP_NUM_THREADS=2 build/release/bench/bench_conv --benchmark_min_time=0.1
#include <benchmark/benchmark.h>

#include <string>
#include <utility>
#include <vector>

#include "core/rng.h"
#include "kernels/cpu/conv.h"
#include "kernels/cpu/depthwise_conv.h"

namespace {

using pg::kernels::ConvGeometry;

// A conv layer at batch 8 with "same" padding: k×k kernel, dilation d, C → K channels, H × W.
ConvGeometry same_conv(int channels, int out_channels, int size, int kernel, int dilation, int groups) {
  const int pad = dilation * (kernel - 1) / 2;
  return pg::kernels::with_output_size({.batch = 8,
                                        .in_channels = channels,
                                        .in_h = size,
                                        .in_w = size,
                                        .out_channels = out_channels,
                                        .kernel_h = kernel,
                                        .kernel_w = kernel,
                                        .dilation = dilation,
                                        .groups = groups,
                                        .pad_top = pad,
                                        .pad_left = pad,
                                        .pad_bottom = pad,
                                        .pad_right = pad});
}

double forward_flops(const ConvGeometry& g) {
  return 2.0 * g.batch * g.out_channels * g.out_plane() * g.column_rows();
}

// The buffers of one layer, filled with random values once.
struct LayerBuffers {
  explicit LayerBuffers(const ConvGeometry& g)
      : x(g.x_count()),
        weight(g.weight_count()),
        bias(g.out_channels),
        y(g.y_count()),
        dy(y.size()),
        dx(x.size()),
        dweight(weight.size()),
        dbias(bias.size()) {
    pg::Rng rng(1);
    for (std::vector<float>* v : {&x, &weight, &bias, &dy})
      for (float& value : *v) value = rng.uniform(-1.0f, 1.0f);
  }
  std::vector<float> x, weight, bias, y, dy, dx, dweight, dbias;
};

// The dispatch conv2d does: the direct kernels for depthwise, im2col + GEMM otherwise.
void forward(const ConvGeometry& g, LayerBuffers& b) {
  if (g.is_depthwise())
    pg::kernels::depthwise_conv2d_forward(g, b.x.data(), b.weight.data(), b.bias.data(), b.y.data());
  else
    pg::kernels::conv2d_forward(g, b.x.data(), b.weight.data(), b.bias.data(), b.y.data());
}
void backward(const ConvGeometry& g, LayerBuffers& b) {
  if (g.is_depthwise()) {
    pg::kernels::depthwise_conv2d_backward_data(g, b.dy.data(), b.weight.data(), b.dx.data());
    pg::kernels::depthwise_conv2d_backward_weight(g, b.x.data(), b.dy.data(), b.dweight.data(),
                                                  b.dbias.data());
  } else {
    pg::kernels::conv2d_backward_data(g, b.dy.data(), b.weight.data(), b.dx.data());
    pg::kernels::conv2d_backward_weight(g, b.x.data(), b.dy.data(), b.dweight.data(), b.dbias.data());
  }
}

// One or more layers applied in sequence (the depthwise-separable block is two).
void bm_forward(benchmark::State& state, std::vector<ConvGeometry> layers) {
  std::vector<LayerBuffers> buffers(layers.begin(), layers.end());
  double flops = 0.0;
  for (const ConvGeometry& g : layers) flops += forward_flops(g);
  for (auto _ : state) {
    for (size_t i = 0; i < layers.size(); ++i) forward(layers[i], buffers[i]);
    benchmark::DoNotOptimize(buffers.back().y.data());
  }
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}

void bm_forward_backward(benchmark::State& state, std::vector<ConvGeometry> layers) {
  std::vector<LayerBuffers> buffers(layers.begin(), layers.end());
  double flops = 0.0;
  for (const ConvGeometry& g : layers) flops += 3.0 * forward_flops(g);  // forward, dx, dweight
  for (auto _ : state) {
    for (size_t i = 0; i < layers.size(); ++i) forward(layers[i], buffers[i]);
    for (size_t i = layers.size(); i-- > 0;) backward(layers[i], buffers[i]);
    benchmark::DoNotOptimize(buffers.front().dx.data());
  }
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}

}  // namespace

int main(int argc, char** argv) {
  const std::pair<const char*, std::vector<ConvGeometry>> shapes[] = {
      {"conv3x3_64to64_64x64", {same_conv(64, 64, 64, 3, 1, 1)}},
      {"conv3x3_256to256_16x16", {same_conv(256, 256, 16, 3, 1, 1)}},
      {"dilated3x3_d2_64to64_32x32", {same_conv(64, 64, 32, 3, 2, 1)}},
      {"dilated3x3_d12_64to64_32x32", {same_conv(64, 64, 32, 3, 12, 1)}},
      {"depthwise3x3_128ch_32x32", {same_conv(128, 128, 32, 3, 1, 128)}},
      {"pointwise1x1_128to128_32x32", {same_conv(128, 128, 32, 1, 1, 1)}},
      {"separable3x3_128ch_32x32", {same_conv(128, 128, 32, 3, 1, 128), same_conv(128, 128, 32, 1, 1, 1)}},
  };
  for (const auto& [name, layers] : shapes) {
    benchmark::RegisterBenchmark((std::string("conv_forward/") + name).c_str(), bm_forward, layers)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark((std::string("conv_forward_backward/") + name).c_str(), bm_forward_backward,
                                 layers)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
