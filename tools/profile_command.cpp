// `pixelgrad profile --arch NAME`: where a training step's time goes, op kind by op kind, like
// `caffe time`. It runs warm-up steps, then --steps training steps (forward, the net's training
// loss, backward, SGD) on random images and labels under an OpProfiler (core/op_profiler.h), and
// prints per op kind: calls per step, forward and backward ms per step, share of the step, forward
// GFLOP (2 · MACs, convolutions only: the other ops show "—") and the GFLOP/s achieved forward and
// forward+backward (the backward of a conv counted as 2× its forward: input and weight grads).
// Why FLOPs ≠ latency shows here: depthwise convs, resizes, batch norm and element-wise ops take
// a share of the time far above their share of the FLOPs.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>

#include "core/error.h"
#include "core/op_profiler.h"
#include "core/rng.h"
#include "core/sgd.h"
#include "nets/registry.h"
#include "tools/commands.h"

namespace pg {

namespace {

struct ProfileOptions {
  std::string arch;
  int batch = 8;
  int size = 64;
  int steps = 10;
  int warmup = 2;
  int threads = 0;
};

Batch random_batch(int batch, int size, int classes) {
  Rng rng(7);
  Batch b;
  b.images = Tensor::empty({batch, 3, size, size});
  for (int64_t i = 0; i < b.images.numel(); ++i) b.images.data()[i] = rng.uniform(-1, 1);
  b.labels = LabelMap({batch, size, size});
  for (int64_t i = 0; i < b.labels.numel(); ++i)
    b.labels.data()[i] = static_cast<int32_t>(rng.uniform() * static_cast<float>(classes)) % classes;
  return b;
}

// Right-aligned in `width` columns, counting UTF-8 characters (printf's widths count bytes: "—" is 3).
std::string cell(const std::string& text, int width) {
  int characters = 0;
  for (unsigned char c : text) characters += (c & 0xC0) != 0x80;
  return std::string(static_cast<size_t>(std::max(0, width - characters)), ' ') + text;
}

std::string number(double value, const char* format) {
  char text[32];
  std::snprintf(text, sizeof text, format, value);
  return text;
}

std::string gflops(double flops, double seconds) {
  return flops > 0 && seconds > 0 ? number(flops / seconds / 1e9, "%.1f") : "—";
}

void print_header() {
  std::printf("%-18s%s%s%s%s%s%s%s%s\n", "op", cell("calls", 7).c_str(), cell("fwd ms", 10).c_str(),
              cell("bwd ms", 10).c_str(), cell("total ms", 10).c_str(), cell("share", 8).c_str(),
              cell("GFLOP", 9).c_str(), cell("fwd GF/s", 10).c_str(), cell("f+b GF/s", 10).c_str());
}

// One row; calls < 0 leaves the calls cell empty; flops ≤ 0 shows "—" (not counted).
void print_row(const std::string& name, double calls, double forward_ms, double backward_ms, double step_ms,
               double flops) {
  const double ms = forward_ms + backward_ms;
  const bool counted = flops > 0;
  std::printf(
      "%-18s%s%s%s%s%s%s%s%s\n", name.c_str(), cell(calls < 0 ? "" : number(calls, "%.0f"), 7).c_str(),
      cell(number(forward_ms, "%.2f"), 10).c_str(), cell(number(backward_ms, "%.2f"), 10).c_str(),
      cell(number(ms, "%.2f"), 10).c_str(), cell(number(100.0 * ms / step_ms, "%.1f%%"), 8).c_str(),
      cell(counted ? number(flops / 1e9, "%.3f") : "—", 9).c_str(),
      cell(gflops(flops, forward_ms / 1e3), 10).c_str(), cell(gflops(3 * flops, ms / 1e3), 10).c_str());
}

// A row with only a total time (the optimizer step, the rest of the step).
void print_time_row(const std::string& name, double ms, double step_ms, const char* note) {
  std::printf("%-18s%s%s%s  %s\n", name.c_str(), cell("", 27).c_str(), cell(number(ms, "%.2f"), 10).c_str(),
              cell(number(100.0 * ms / step_ms, "%.1f%%"), 8).c_str(), note);
}

int run_profile(const ProfileOptions& o) {
  if (o.threads > 0) omp_set_num_threads(o.threads);
  std::shared_ptr<SegmentationNet> net = make_net(o.arch);
  net->train();
  const Batch batch = random_batch(o.batch, o.size, net->num_classes());
  Sgd sgd(net->parameter_groups(), SgdParams{.lr = 1e-4f, .momentum = 0.9f});

  using Clock = OpProfiler::Clock;
  OpProfiler profiler;
  Clock::duration step_time{}, sgd_time{};
  for (int step = 0; step < o.warmup + o.steps; ++step) {
    if (step == o.warmup) {
      profiler.clear();
      step_time = sgd_time = {};
    }
    const Clock::time_point start = Clock::now();
    sgd.zero_grad();
    profiler.restart_forward_clock();
    Tensor loss = net->training_loss(batch, CrossEntropyParams{});
    loss.backward();
    const Clock::time_point sgd_start = Clock::now();
    sgd.step();
    sgd_time += Clock::now() - sgd_start;
    step_time += Clock::now() - start;
  }

  auto per_step_ms = [&](double seconds) { return 1e3 * seconds / o.steps; };
  const double step_ms = per_step_ms(std::chrono::duration<double>(step_time).count());
  std::vector<OpStats> rows = profiler.rows();
  std::sort(rows.begin(), rows.end(), [](const OpStats& a, const OpStats& b) {
    return a.forward_seconds + a.backward_seconds > b.forward_seconds + b.backward_seconds;
  });

  std::printf("%s, batch %d, %d×%d, %d threads, %d steps after %d warm-up; per training step:\n",
              o.arch.c_str(), o.batch, o.size, o.size, omp_get_max_threads(), o.steps, o.warmup);
  print_header();
  double forward_ms = 0, backward_ms = 0, flops = 0;
  for (const OpStats& r : rows) {
    const double f = per_step_ms(r.forward_seconds), b = per_step_ms(r.backward_seconds);
    const double op_flops = 2.0 * static_cast<double>(r.macs) / o.steps;
    print_row(r.op, static_cast<double>(r.forward_calls) / o.steps, f, b, step_ms, op_flops);
    forward_ms += f;
    backward_ms += b;
    flops += op_flops;
  }
  const double sgd_ms = per_step_ms(std::chrono::duration<double>(sgd_time).count());
  print_time_row("sgd step", sgd_ms, step_ms, "");
  print_time_row("other", step_ms - forward_ms - backward_ms - sgd_ms, step_ms,
                 "(zero_grad, sorting and freeing the graph)");
  print_row("ops total", -1, forward_ms, backward_ms, step_ms, flops);
  print_time_row("training step", step_ms, step_ms, "");
  return 0;
}

}  // namespace

Command add_profile_command(CLI::App& parent) {
  auto o = std::make_shared<ProfileOptions>();
  CLI::App* app = parent.add_subcommand(
      "profile", "per-op forward/backward time, FLOPs and GFLOP/s of a training step on random data");
  app->add_option("--arch", o->arch, "architecture (NAME-tiny or NAME-full)")->required();
  app->add_option("--batch", o->batch, "images per step (default 8)")->check(CLI::Range(1, 4096));
  app->add_option("--size", o->size, "square input side (default 64)")->check(CLI::Range(8, 4096));
  app->add_option("--steps", o->steps, "timed steps (default 10)")->check(CLI::Range(1, 1000000));
  app->add_option("--warmup", o->warmup, "untimed steps first (default 2)")->check(CLI::Range(0, 1000000));
  app->add_option("--threads", o->threads, "OpenMP threads (default: OMP_NUM_THREADS or all cores)")
      ->check(CLI::Range(1, 1024));
  return {app, [o] { return run_profile(*o); }};
}

}  // namespace pg
