// `pixelgrad demo`: a short training run on built-in toy shapes that shows the engine at work
// (tools/demo.cpp).
#pragma once
#include <cstdint>

namespace pg {

struct DemoOptions {
  int steps = 2500;
  int batch = 8;
  uint64_t seed = 1;
};

int run_demo(const DemoOptions& options);

}  // namespace pg
