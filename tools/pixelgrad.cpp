// The pixelgrad command line: one subcommand per job, parsed with CLI11. Errors print one line
// and exit non-zero.
#include <omp.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "core/error.h"
#include "tools/demo.h"
#ifdef PG_CUDA
#include "kernels/cuda/device_info.h"
#endif

static void print_build_info() {
#if defined(__AVX512F__)
  const char* simd = "AVX-512";
#elif defined(__AVX2__)
  const char* simd = "AVX2 + FMA";
#else
  const char* simd = "scalar (portable build)";
#endif
  std::printf("pixelgrad: float32 CPU kernels, SIMD: %s, OpenMP threads: %d\n", simd, omp_get_max_threads());
#ifdef PG_CUDA
  std::printf("%s\n", pg::cuda::describe_devices().c_str());
#else
  std::printf("CUDA: not built (make CUDA=1)\n");
#endif
}

int main(int argc, char** argv) {
  CLI::App app{"pixelgrad: semantic segmentation from scratch, down to the multiply-adds"};
  app.require_subcommand(1);

  CLI::App* info = app.add_subcommand("info", "what this build is: SIMD level, OpenMP threads, CUDA devices");

  pg::DemoOptions demo_options;
  int threads = 0;
  CLI::App* demo = app.add_subcommand("demo", "train a tiny net on built-in toy shapes and show the result");
  demo->add_option("--steps", demo_options.steps, "training steps")->check(CLI::Range(1, 1000000));
  demo->add_option("--batch", demo_options.batch, "images per step")->check(CLI::Range(2, 1024));
  demo->add_option("--seed", demo_options.seed, "seed of the data and the weights");
  demo->add_option("--threads", threads, "OpenMP threads (default: OMP_NUM_THREADS or all cores)")
      ->check(CLI::Range(1, 1024));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    if (threads > 0) omp_set_num_threads(threads);
    if (*info) print_build_info();
    if (*demo) return pg::run_demo(demo_options);
    return 0;
  } catch (const pg::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
