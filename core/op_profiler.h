// OpProfiler: where the time of a forward and backward goes, op by op, for `pixelgrad profile`.
// While one is alive on a thread, the autograd engine reports to it:
//   - forward: every op calls record() when it returns; the time since the previous op returned
//     (or since restart_forward_clock()) is that op's forward time, so it includes the layer code
//     that led up to the op. The multiply-adds the op reported to MacCounter are its MACs.
//   - backward: Tensor::backward() times each node's backward closure.
// Rows are op kinds ("conv2d", "conv2d_depthwise", "relu", ...) in the order first seen. With no
// profiler alive the cost is one thread-local pointer test per op and per backward node.
//
//   pg::OpProfiler profiler;
//   profiler.restart_forward_clock();
//   Tensor loss = cross_entropy(net.forward(images), labels);
//   loss.backward();
//   for (const pg::OpStats& row : profiler.rows()) ...
#pragma once
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/mac_counter.h"

namespace pg {

struct OpStats {
  std::string op;
  int64_t forward_calls = 0;
  int64_t backward_calls = 0;
  double forward_seconds = 0;
  double backward_seconds = 0;
  int64_t macs = 0;  // forward multiply-adds (convolutions only; 0 for the others)
};

class OpProfiler {
 public:
  using Clock = std::chrono::steady_clock;

  OpProfiler();  // starts profiling this thread
  ~OpProfiler();
  OpProfiler(const OpProfiler&) = delete;
  OpProfiler& operator=(const OpProfiler&) = delete;

  // Call right before a forward, so the time since the last op (an optimizer step, data
  // preparation) is not charged to the forward's first op.
  void restart_forward_clock();
  void clear();  // forgets every row (after warm-up steps)
  const std::vector<OpStats>& rows() const { return rows_; }

  // The innermost profiler alive on this thread (an inner one hides the outer), or nullptr.
  static OpProfiler* active();
  // Called by the autograd engine.
  void forward_op_returned(const char* op);
  void backward_ran(const std::string& op, Clock::duration elapsed);

 private:
  OpStats& row(const std::string& op);

  std::vector<OpStats> rows_;
  MacCounter macs_;
  int64_t macs_seen_ = 0;
  Clock::time_point last_op_end_;
  OpProfiler* outer_ = nullptr;
};

}  // namespace pg
