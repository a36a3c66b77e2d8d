// The pixelgrad command line: one subcommand per job, parsed with CLI11. Every error (a bad
// command line or a pg::Error while running) prints one line "error: ..." and exits non-zero.
#include <omp.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "core/error.h"
#include "tools/commands.h"
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
  // One line per mistake (set before the subcommands are added: they copy it).
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return std::string("error: ") + e.what() + " (see pixelgrad --help)\n";
  });

  CLI::App* info = app.add_subcommand("info", "what this build is: SIMD level, OpenMP threads, CUDA devices");
  const std::vector<pg::Command> subcommands = {pg::add_train_command(app), pg::add_train_upp_command(app),
                                                pg::add_eval_command(app),  pg::add_predict_command(app),
                                                pg::add_list_command(app),  pg::add_toy_command(app)};

  // CLI11 says "A subcommand is required" for a missing command and for an unknown one alike;
  // name what is wrong instead.
  std::string commands;
  bool known = false;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    commands += (commands.empty() ? "" : ", ") + sub->get_name();
    known |= argc > 1 && sub->get_name() == argv[1];
  }
  if (argc == 1 || (argv[1][0] != '-' && !known)) {
    const std::string problem = argc == 1 ? "no command given" : pg::str("unknown command '", argv[1], "'");
    std::fprintf(stderr, "error: %s: the commands are %s (see pixelgrad --help)\n", problem.c_str(),
                 commands.c_str());
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    if (*info) print_build_info();
    for (const pg::Command& command : subcommands)
      if (*command.app) return command.run();
    return 0;
  } catch (const std::exception& e) {  // pg::Error, and std::bad_alloc on a huge --batch
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
