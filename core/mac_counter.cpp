// MacCounter: a thread-local chain of live counters; add() walks it.
#include "core/mac_counter.h"

namespace pg {

namespace {
thread_local MacCounter* innermost_counter = nullptr;
}

MacCounter::MacCounter() : outer_(innermost_counter) { innermost_counter = this; }

MacCounter::~MacCounter() { innermost_counter = outer_; }

void MacCounter::add(int64_t macs) {
  for (MacCounter* c = innermost_counter; c != nullptr; c = c->outer_) c->macs_ += macs;
}

}  // namespace pg
