// The pixelgrad command line. Subcommands are added as their parts land; an unknown one is an
// error that lists what exists.
#include <cstdio>
#include <cstring>
#include <string>

#include "core/error.h"

static void print_usage() {
  std::printf(
      "usage: pixelgrad <command> [options]\n"
      "commands:\n"
      "  help      this text\n");
}

int main(int argc, char** argv) {
  try {
    std::string command = argc > 1 ? argv[1] : "help";
    if (command == "help" || command == "--help" || command == "-h") {
      print_usage();
      return 0;
    }
    throw pg::Error(pg::str("pixelgrad: unknown command '", command, "' (see 'pixelgrad help')"));
  } catch (const pg::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
