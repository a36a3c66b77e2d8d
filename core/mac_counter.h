// MacCounter: counts the multiply-accumulates of the convolutions run while it is alive, for
// `pixelgrad list` and `pixelgrad profile` ("how big is this net at 512×512?"). Only the ops
// that do the bulk of the work report (conv2d and conv_transpose2d: N·K·Ho·Wo·(C/groups)·kh·kw);
// element-wise ops, pools, resizes and batch norm are not counted, as in the papers' figures.
//
//   pg::MacCounter counter;            // starts counting on this thread
//   net.forward(images);
//   int64_t macs = counter.macs();     // the forward's convolutions
//
// Counters nest: an inner one sees only its own scope, an outer one sees everything.
#pragma once
#include <cstdint>

namespace pg {

class MacCounter {
 public:
  MacCounter();
  ~MacCounter();
  MacCounter(const MacCounter&) = delete;
  MacCounter& operator=(const MacCounter&) = delete;

  int64_t macs() const { return macs_; }

  // Called by the ops: adds to every counter alive on this thread (no-op when there is none).
  static void add(int64_t macs);

 private:
  int64_t macs_ = 0;
  MacCounter* outer_ = nullptr;
};

}  // namespace pg
