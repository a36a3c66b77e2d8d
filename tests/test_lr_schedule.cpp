// Learning-rate schedules against hand-computed values: poly at 0, ½ and the end, warm-up, step,
// cosine, constant, and the errors on schedules that cannot be evaluated.
#include <gtest/gtest.h>

#include "core/error.h"
#include "core/lr_schedule.h"

using namespace pg;

TEST(LrSchedule, PolyAtStartHalfAndEnd) {
  LrSchedule poly{.policy = LrPolicy::poly, .base_lr = 0.01f, .max_iters = 100, .power = 0.9f};
  EXPECT_FLOAT_EQ(lr_at(poly, 0), 0.01f);
  EXPECT_FLOAT_EQ(lr_at(poly, 50), 0.005358867f);   // 0.01 · 0.5^0.9 = 0.01 · exp(−0.9 ln 2)
  EXPECT_FLOAT_EQ(lr_at(poly, 99), 1.5848932e-4f);  // 0.01 · 0.01^0.9
  EXPECT_EQ(lr_at(poly, 100), 0.0f);
  EXPECT_EQ(lr_at(poly, 150), 0.0f);  // past the end: stays at 0
  poly.power = 1.0f;
  EXPECT_FLOAT_EQ(lr_at(poly, 25), 0.0075f);  // linear decay
}

// warm-up 10 iterations from 0.1 of the schedule: factor(it) = 0.1 + 0.9 · it / 10.
TEST(LrSchedule, LinearWarmupMultipliesTheSchedule) {
  LrSchedule poly{.policy = LrPolicy::poly,
                  .base_lr = 0.01f,
                  .max_iters = 100,
                  .power = 0.9f,
                  .warmup_iters = 10,
                  .warmup_factor = 0.1f};
  EXPECT_FLOAT_EQ(lr_at(poly, 0), 0.001f);          // 0.01 · 1 · 0.1
  EXPECT_FLOAT_EQ(lr_at(poly, 5), 0.0052518696f);   // 0.01 · 0.95^0.9 · 0.55
  EXPECT_FLOAT_EQ(lr_at(poly, 10), 0.0090953258f);  // warm-up over: 0.01 · 0.9^0.9
  LrSchedule constant{
      .policy = LrPolicy::constant, .base_lr = 1.0f, .warmup_iters = 4, .warmup_factor = 0.2f};
  EXPECT_FLOAT_EQ(lr_at(constant, 0), 0.2f);
  EXPECT_FLOAT_EQ(lr_at(constant, 1), 0.4f);
  EXPECT_FLOAT_EQ(lr_at(constant, 3), 0.8f);
  EXPECT_FLOAT_EQ(lr_at(constant, 4), 1.0f);
  EXPECT_FLOAT_EQ(lr_at(constant, 1000), 1.0f);
}

TEST(LrSchedule, StepDecaysByGammaEveryStepSize) {
  LrSchedule step{.policy = LrPolicy::step, .base_lr = 0.1f, .step_size = 30, .gamma = 0.1f};
  EXPECT_FLOAT_EQ(lr_at(step, 0), 0.1f);
  EXPECT_FLOAT_EQ(lr_at(step, 29), 0.1f);
  EXPECT_FLOAT_EQ(lr_at(step, 30), 0.01f);
  EXPECT_FLOAT_EQ(lr_at(step, 59), 0.01f);
  EXPECT_FLOAT_EQ(lr_at(step, 60), 0.001f);
}

// min 0.001 + 0.099 · (1 + cos(π · it / 100)) / 2.
TEST(LrSchedule, CosineFallsToTheFloor) {
  LrSchedule cosine{.policy = LrPolicy::cosine, .base_lr = 0.1f, .max_iters = 100, .min_lr = 0.001f};
  EXPECT_FLOAT_EQ(lr_at(cosine, 0), 0.1f);
  EXPECT_FLOAT_EQ(lr_at(cosine, 25), 0.085501786f);  // cos(π/4) = 0.7071: 0.001 + 0.099 · 0.85355
  EXPECT_FLOAT_EQ(lr_at(cosine, 50), 0.0505f);
  EXPECT_FLOAT_EQ(lr_at(cosine, 100), 0.001f);
  EXPECT_FLOAT_EQ(lr_at(cosine, 200), 0.001f);
}

TEST(LrSchedule, RejectsSchedulesThatCannotBeEvaluated) {
  EXPECT_THROW(lr_at(LrSchedule{.policy = LrPolicy::poly, .max_iters = 0}, 0), Error);
  EXPECT_THROW(lr_at(LrSchedule{.policy = LrPolicy::cosine, .max_iters = 0}, 0), Error);
  EXPECT_THROW(lr_at(LrSchedule{.policy = LrPolicy::step, .step_size = 0}, 0), Error);
  EXPECT_THROW(lr_at(LrSchedule{.policy = LrPolicy::poly, .max_iters = 10}, -1), Error);
  EXPECT_THROW(lr_at(LrSchedule{.policy = LrPolicy::constant, .warmup_iters = 5, .warmup_factor = 2.0f}, 1),
               Error);
  EXPECT_THROW(
      lr_at(LrSchedule{.policy = LrPolicy::cosine, .base_lr = 0.1f, .max_iters = 10, .min_lr = 0.5f}, 1),
      Error);
}
