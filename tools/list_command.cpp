// `pixelgrad list`: every architecture in both configurations with its parameter count and the
// multiply-accumulates of one forward pass (MacCounter around a forward without gradients on one
// random image), at each configuration's usual input size or at --size.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>

#include "core/autograd.h"
#include "core/error.h"
#include "core/mac_counter.h"
#include "core/rng.h"
#include "nets/registry.h"
#include "tools/commands.h"

namespace pg {

namespace {

struct ListOptions {
  int size = 0;      // 0: each configuration's own input size
  std::string arch;  // empty: all
  bool macs = true;
  int threads = 0;
};

std::string millions(double v) {
  char text[32];
  std::snprintf(text, sizeof text, v >= 1e9 ? "%.2fG" : "%.2fM", v >= 1e9 ? v / 1e9 : v / 1e6);
  return text;
}

// The width of the name column: the longest "<name>-tiny" in the registry.
int name_width() {
  size_t width = 0;
  for (const Architecture& a : architectures()) width = std::max(width, a.name.size() + 5);
  return static_cast<int>(width);
}

void list_one(const Architecture& a, NetSize size, const ListOptions& o) {
  const std::string name = a.name + (size == NetSize::tiny ? "-tiny" : "-full");
  const int side = o.size > 0 ? o.size : (size == NetSize::tiny ? a.tiny_input_size : a.full_input_size);
  std::shared_ptr<SegmentationNet> net = make_net(name);
  std::string macs = "-";
  if (o.macs) {
    net->eval();
    NoGradGuard no_grad;
    Tensor image = Tensor::empty({1, 3, side, side});
    Rng rng(1);
    for (int64_t i = 0; i < image.numel(); ++i) image.data()[i] = rng.uniform(-1, 1);
    MacCounter counter;
    net->forward(image);
    macs = millions(static_cast<double>(counter.macs()));
  }
  std::printf("  %-*s %9s  %4d  %9s\n", name_width(), name.c_str(),
              millions(static_cast<double>(net->parameter_count())).c_str(), side, macs.c_str());
  std::fflush(stdout);
}

int run_list(const ListOptions& o) {
  if (o.threads > 0) omp_set_num_threads(o.threads);
  std::vector<std::pair<const Architecture*, std::vector<NetSize>>> chosen;
  if (!o.arch.empty()) {
    const auto [architecture, size] = o.arch.ends_with("-tiny") || o.arch.ends_with("-full")
                                          ? find_architecture(o.arch)
                                          : find_architecture(o.arch + "-tiny");
    chosen.push_back({architecture, o.arch.ends_with("-tiny") || o.arch.ends_with("-full")
                                        ? std::vector<NetSize>{size}
                                        : std::vector<NetSize>{NetSize::tiny, NetSize::full}});
  } else {
    for (const Architecture& a : architectures()) chosen.push_back({&a, {NetSize::tiny, NetSize::full}});
  }
  std::printf("  %-*s %9s  %4s  %9s\n", name_width(), "architecture", "params", "side", "MACs");
  for (const auto& [architecture, sizes] : chosen) {
    std::printf("%s\n", architecture->summary.c_str());
    for (NetSize size : sizes) list_one(*architecture, size, o);
  }
  return 0;
}

}  // namespace

Command add_list_command(CLI::App& parent) {
  auto o = std::make_shared<ListOptions>();
  CLI::App* app = parent.add_subcommand(
      "list",
      "the architectures, each tiny and full, with parameters and MACs of one forward at a square input "
      "(the full nets' forwards take a few seconds each; --no-macs is instant)");
  app->add_option("--size", o->size,
                  "input side for the MACs (default: 64 for tiny, the paper's size for full)")
      ->check(CLI::Range(8, 4096));
  app->add_option("--arch", o->arch, "only this architecture (NAME, NAME-tiny or NAME-full)");
  app->add_flag("!--no-macs", o->macs, "parameter counts only (no forward pass)");
  app->add_option("--threads", o->threads, "OpenMP threads")->check(CLI::Range(1, 1024));
  return {app, [o] { return run_list(*o); }};
}

}  // namespace pg
