// OpProfiler's bookkeeping (core/op_profiler.h): one row per op kind in the order first seen,
// forward and backward call counts, the convolutions' MACs, nothing recorded once it is gone.
// Timings are only checked to be non-negative: no timed unit tests.
#include <gtest/gtest.h>

#include "core/autograd.h"
#include "core/op_profiler.h"
#include "core/ops/activation.h"
#include "core/ops/arithmetic.h"
#include "core/ops/conv2d.h"
#include "core/ops/reduce.h"

namespace pg {
namespace {

Tensor filled(const Shape& shape, float value, bool requires_grad) {
  Tensor t = Tensor::full(shape, value);
  t.set_requires_grad(requires_grad);
  return t;
}

// x (2, 3, 8, 8) → conv 3×3 3→4 → relu → depthwise 3×3 → relu → add the relu'd conv → sum.
Tensor small_net(const Tensor& x, const Tensor& w, const Tensor& dw) {
  Tensor a = relu(conv2d(x, w, Tensor(), Conv2dParams{.pad = 1}));
  Tensor b = relu(conv2d(a, dw, Tensor(), Conv2dParams{.pad = 1, .groups = 4}));
  return sum(add(a, b));
}

TEST(OpProfiler, OneRowPerOpKindWithCallsAndMacs) {
  const Tensor x = filled({2, 3, 8, 8}, 0.5f, false);
  const Tensor w = filled({4, 3, 3, 3}, 0.1f, true);
  const Tensor dw = filled({4, 1, 3, 3}, 0.2f, true);
  OpProfiler profiler;
  for (int step = 0; step < 2; ++step) {
    profiler.restart_forward_clock();
    small_net(x, w, dw).backward();
  }
  const std::vector<OpStats>& rows = profiler.rows();
  ASSERT_EQ(rows.size(), 5u);
  const char* ops[] = {"conv2d", "relu", "conv2d_depthwise", "add", "sum"};
  const int64_t calls[] = {2, 4, 2, 2, 2};  // two steps
  // MACs = N·K·Ho·Wo·(C/groups)·kh·kw per call: 2·4·8·8·3·9 for the conv, 2·4·8·8·1·9 depthwise.
  const int64_t macs[] = {2 * 13824, 0, 2 * 4608, 0, 0};
  for (size_t i = 0; i < rows.size(); ++i) {
    SCOPED_TRACE(ops[i]);
    EXPECT_EQ(rows[i].op, ops[i]);
    EXPECT_EQ(rows[i].forward_calls, calls[i]);
    EXPECT_EQ(rows[i].backward_calls, calls[i]);
    EXPECT_EQ(rows[i].macs, macs[i]);
    EXPECT_GE(rows[i].forward_seconds, 0.0);
    EXPECT_GE(rows[i].backward_seconds, 0.0);
  }
  profiler.clear();
  EXPECT_TRUE(profiler.rows().empty());
}

TEST(OpProfiler, ForwardWithoutGradIsCountedAndNothingAfterItDies) {
  const Tensor x = filled({2, 3, 8, 8}, 0.5f, false);
  const Tensor w = filled({4, 3, 3, 3}, 0.1f, true);
  const Tensor dw = filled({4, 1, 3, 3}, 0.2f, true);
  {
    OpProfiler profiler;
    NoGradGuard no_grad;
    small_net(x, w, dw);
    ASSERT_EQ(profiler.rows().size(), 5u);
    EXPECT_EQ(profiler.rows()[0].forward_calls, 1);
    EXPECT_EQ(profiler.rows()[0].backward_calls, 0);
    EXPECT_EQ(profiler.rows()[0].macs, 13824);
  }
  EXPECT_EQ(OpProfiler::active(), nullptr);
  small_net(x, w, dw).backward();  // no profiler alive: nothing to report to, nothing breaks
}

TEST(OpProfiler, NestedProfilersRestoreTheOuterOne) {
  OpProfiler outer;
  {
    OpProfiler inner;
    EXPECT_EQ(OpProfiler::active(), &inner);
  }
  EXPECT_EQ(OpProfiler::active(), &outer);
}

}  // namespace
}  // namespace pg
