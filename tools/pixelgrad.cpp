// The pixelgrad command line. Subcommands are added as their parts land; an unknown one is an
// error that lists what exists.
#include <omp.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "core/error.h"
#ifdef PG_CUDA
#include "kernels/cuda/device_info.h"
#endif

static void print_usage() {
  std::printf(
      "usage: pixelgrad <command> [options]\n"
      "commands:\n"
      "  info      what this build is: SIMD level, OpenMP threads, CUDA devices\n"
      "  help      this text\n");
}

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
  try {
    std::string command = argc > 1 ? argv[1] : "help";
    if (command == "help" || command == "--help" || command == "-h") {
      print_usage();
      return 0;
    }
    if (command == "info") {
      print_build_info();
      return 0;
    }
    throw pg::Error(pg::str("pixelgrad: unknown command '", command, "' (see 'pixelgrad help')"));
  } catch (const pg::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
