// Learning-rate schedules (see core/lr_schedule.h for the formulas).
#include "core/lr_schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/error.h"

namespace pg {

namespace {

// The schedule without warm-up, in double.
double decayed_lr(const LrSchedule& s, int64_t iteration) {
  const double base = s.base_lr;
  switch (s.policy) {
    case LrPolicy::constant:
      return base;
    case LrPolicy::poly: {
      check(s.max_iters > 0, "lr schedule: poly needs max_iters > 0, got ", s.max_iters);
      check(s.power > 0.0f, "lr schedule: poly needs power > 0, got ", s.power);
      const double remaining =
          1.0 - std::min<double>(iteration, s.max_iters) / static_cast<double>(s.max_iters);
      return base * std::pow(remaining, static_cast<double>(s.power));
    }
    case LrPolicy::step:
      check(s.step_size > 0, "lr schedule: step needs step_size > 0, got ", s.step_size);
      check(s.gamma > 0.0f, "lr schedule: step needs gamma > 0, got ", s.gamma);
      return base * std::pow(static_cast<double>(s.gamma), static_cast<double>(iteration / s.step_size));
    case LrPolicy::cosine: {
      check(s.max_iters > 0, "lr schedule: cosine needs max_iters > 0, got ", s.max_iters);
      check(s.min_lr >= 0.0f && s.min_lr <= s.base_lr,
            "lr schedule: cosine needs 0 <= min_lr <= base_lr, got ", s.min_lr, " and ", s.base_lr);
      const double progress = std::min<double>(iteration, s.max_iters) / static_cast<double>(s.max_iters);
      return s.min_lr + (base - s.min_lr) * 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
    }
  }
  throw Error("lr schedule: unknown policy");
}

}  // namespace

float lr_at(const LrSchedule& schedule, int64_t iteration) {
  check(iteration >= 0, "lr schedule: iteration must be >= 0, got ", iteration);
  check(schedule.base_lr >= 0.0f, "lr schedule: base_lr must be >= 0, got ", schedule.base_lr);
  check(schedule.warmup_iters >= 0, "lr schedule: warmup_iters must be >= 0, got ", schedule.warmup_iters);
  double lr = decayed_lr(schedule, iteration);
  if (iteration < schedule.warmup_iters) {
    const double factor = schedule.warmup_factor;
    check(factor >= 0.0 && factor <= 1.0, "lr schedule: warmup_factor must be in [0, 1], got ", factor);
    lr *=
        factor + (1.0 - factor) * static_cast<double>(iteration) / static_cast<double>(schedule.warmup_iters);
  }
  return static_cast<float>(lr);
}

}  // namespace pg
