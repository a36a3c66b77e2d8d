// Every tiny architecture of the registry (nets/registry.cpp), batch 8, 3×64×64, 6 classes:
//   NAME/train:   one training step, zero_grad + forward + cross-entropy (of forward's logits,
//                 as the PyTorch twins in bench/pytorch_nets.py: no auxiliary losses) + backward
//                 + SGD step (lr 1e-4, momentum 0.9), nets in training mode;
//   NAME/forward: one forward in eval mode without an autograd graph (inference).
// Real time. Counters: "params", and "peak_RSS_MB", the process's peak resident set
// (getrusage ru_maxrss) when the benchmark ends: it covers everything the process ran before,
// so it is the benchmark's own peak only when the process runs that one benchmark
// (--benchmark_filter='^NAME/train$'); bench/compare_pytorch.py runs each so.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include "core/autograd.h"
#include "core/ops/cross_entropy.h"
#include "core/rng.h"
#include "core/sgd.h"
#include "nets/registry.h"

using namespace pg;

namespace {

constexpr int kBatch = 8, kSide = 64;

Tensor random_images(uint64_t seed) {
  Rng rng(seed);
  Tensor t = Tensor::empty({kBatch, 3, kSide, kSide});
  for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = rng.uniform(-1.0f, 1.0f);
  return t;
}

LabelMap random_labels(uint64_t seed) {
  Rng rng(seed);
  LabelMap labels({kBatch, kSide, kSide});
  for (int64_t i = 0; i < labels.numel(); ++i)
    labels.data()[i] = static_cast<int32_t>(rng.below(kToyClasses));
  return labels;
}

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux: kilobytes
}

void train_step(benchmark::State& state, const std::string& name) {
  std::shared_ptr<SegmentationNet> net = make_net(name);
  net->train();
  const Tensor images = random_images(1);
  const LabelMap labels = random_labels(2);
  Sgd sgd(net->parameters(), SgdParams{.lr = 1e-4f, .momentum = 0.9f});
  for (auto _ : state) {
    sgd.zero_grad();
    Tensor loss = cross_entropy(net->forward(images), labels);
    loss.backward();
    sgd.step();
  }
  state.counters["params"] = static_cast<double>(net->parameter_count());
  state.counters["peak_RSS_MB"] = peak_rss_mb();
}

void forward(benchmark::State& state, const std::string& name) {
  std::shared_ptr<SegmentationNet> net = make_net(name);
  net->eval();
  const Tensor images = random_images(1);
  NoGradGuard no_grad;
  for (auto _ : state) {
    Tensor logits = net->forward(images);
    benchmark::DoNotOptimize(logits.data());
  }
  state.counters["params"] = static_cast<double>(net->parameter_count());
  state.counters["peak_RSS_MB"] = peak_rss_mb();
}

}  // namespace

int main(int argc, char** argv) {
  for (const Architecture& a : architectures()) {
    const std::string name = a.name + "-tiny";
    benchmark::RegisterBenchmark((a.name + "/train").c_str(), train_step, name)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
    benchmark::RegisterBenchmark((a.name + "/forward").c_str(), forward, name)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
