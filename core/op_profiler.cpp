// OpProfiler: a per-thread slot the autograd engine reports op timings to (see op_profiler.h).
#include "core/op_profiler.h"

namespace pg {

namespace {
thread_local OpProfiler* active_profiler = nullptr;

double seconds(OpProfiler::Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}
}  // namespace

OpProfiler::OpProfiler() : last_op_end_(Clock::now()), outer_(active_profiler) {
  active_profiler = this;
}

OpProfiler::~OpProfiler() {
  active_profiler = outer_;
}

OpProfiler* OpProfiler::active() {
  return active_profiler;
}

void OpProfiler::restart_forward_clock() {
  last_op_end_ = Clock::now();
  macs_seen_ = macs_.macs();
}

void OpProfiler::clear() {
  rows_.clear();
  restart_forward_clock();
}

OpStats& OpProfiler::row(const std::string& op) {
  for (OpStats& r : rows_)
    if (r.op == op) return r;
  rows_.push_back(OpStats{.op = op});
  return rows_.back();
}

void OpProfiler::forward_op_returned(const char* op) {
  const Clock::time_point now = Clock::now();
  OpStats& r = row(op);
  r.forward_calls += 1;
  r.forward_seconds += seconds(now - last_op_end_);
  r.macs += macs_.macs() - macs_seen_;
  macs_seen_ = macs_.macs();
  last_op_end_ = now;
}

void OpProfiler::backward_ran(const std::string& op, Clock::duration elapsed) {
  OpStats& r = row(op);
  r.backward_calls += 1;
  r.backward_seconds += seconds(elapsed);
}

}  // namespace pg
