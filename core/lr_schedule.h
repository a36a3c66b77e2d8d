// Learning-rate schedules as data plus one pure function: lr_at(schedule, iteration).
//   poly:     base · (1 − it / max_iters)^power          (DeepLab, PSPNet; 0 from max_iters on)
//   step:     base · gamma^floor(it / step_size)
//   cosine:   min_lr + (base − min_lr) · (1 + cos(π · it / max_iters)) / 2   (min_lr from max_iters on)
//   constant: base
// Optional linear warm-up multiplies the schedule during the first warmup_iters iterations by a
// factor rising from warmup_factor to 1: factor + (1 − factor) · it / warmup_iters (as mmcv and
// Detectron do), so the lr starts at warmup_factor · base and joins the schedule without a jump.
#pragma once
#include <cstdint>

namespace pg {

enum class LrPolicy { constant, poly, step, cosine };

struct LrSchedule {
  LrPolicy policy = LrPolicy::poly;
  float base_lr = 0.01f;
  int64_t max_iters = 0;  // poly, cosine: where the decay ends
  float power = 0.9f;     // poly
  int64_t step_size = 0;  // step: iterations between decays
  float gamma = 0.1f;     // step: the factor of each decay
  float min_lr = 0.0f;    // cosine: the floor
  int64_t warmup_iters = 0;
  float warmup_factor = 0.1f;  // the warm-up starts at warmup_factor · the schedule
};

// The lr at `iteration` (counted from 0). Errors on a schedule that cannot be evaluated
// (e.g. poly without max_iters) or a negative iteration.
float lr_at(const LrSchedule& schedule, int64_t iteration);

}  // namespace pg
