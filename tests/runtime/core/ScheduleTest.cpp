//===- ScheduleTest.cpp - learning rate schedule and AdamW scalars ---------===//
#include "cleave/rt/schedule.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace cleave::rt;

TEST_CASE("schedule: linear warmup, then constant", "[runtime][schedule]") {
  LrScheduleConfig config{LrSchedule::constant, 0.1f, 0.0f, 4, 100};
  CHECK(learning_rate(config, 1) == Approx(0.025));
  CHECK(learning_rate(config, 2) == Approx(0.05));
  CHECK(learning_rate(config, 4) == Approx(0.1));
  CHECK(learning_rate(config, 5) == 0.1f);
  CHECK(learning_rate(config, 100) == 0.1f);
  config.warmup_steps = 0;
  CHECK(learning_rate(config, 1) == 0.1f);
}

TEST_CASE("schedule: cosine decays from lr after warmup towards min_lr", "[runtime][schedule]") {
  LrScheduleConfig config{LrSchedule::cosine, 1.0f, 0.1f, 10, 110};
  CHECK(learning_rate(config, 10) == Approx(1.0));  // last warmup step
  CHECK(learning_rate(config, 11) == Approx(1.0));  // t = W: cos(0)
  CHECK(learning_rate(config, 61) == Approx(0.55)); // t - W = half the span
  double expected = 0.1 + 0.5 * (1 + std::cos(M_PI * 99.0 / 100.0)) * 0.9;
  CHECK(learning_rate(config, 110) == Approx(expected)); // last step, just above min_lr
  for (int64_t step = 12; step <= 110; ++step)
    CHECK(learning_rate(config, step) < learning_rate(config, step - 1));
}

TEST_CASE("schedule: AdamW bias corrections are 1 - beta^step", "[runtime][schedule]") {
  TrainDefaults defaults{};
  defaults.beta1 = 0.9f;
  defaults.beta2 = 0.999f;
  LrScheduleConfig config{LrSchedule::constant, 0.5f, 0.0f, 0, 10};
  StepScalars first = step_scalars(config, defaults, 1);
  CHECK(first.step == 1);
  CHECK(first.lr == 0.5f);
  CHECK(first.bias_correction1 == Approx(1 - 0.9f));
  CHECK(first.bias_correction2 == Approx(1 - 0.999f));
  StepScalars tenth = step_scalars(config, defaults, 10);
  CHECK(tenth.bias_correction1 == Approx(1 - std::pow(0.9f, 10)));
  CHECK(tenth.bias_correction2 == Approx(1 - std::pow(0.999f, 10)));
}
