//===- ScheduleTest.cpp - learning rate schedule and AdamW scalars ---------===//
#include "cleave/rt/schedule.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace cleave::rt;

TEST_CASE("schedule: linear warmup, then constant", "[runtime][schedule]") {
  LrScheduleConfig config{LrSchedule::constant, 0.1, 0.0, 4, 100};
  CHECK(learning_rate(config, 1) == Approx(0.025));
  CHECK(learning_rate(config, 2) == Approx(0.05));
  CHECK(learning_rate(config, 4) == Approx(0.1));
  CHECK(learning_rate(config, 5) == 0.1);
  CHECK(learning_rate(config, 100) == 0.1);
  config.warmup_steps = 0;
  CHECK(learning_rate(config, 1) == 0.1);
}

TEST_CASE("schedule: cosine decays from lr after warmup towards min_lr", "[runtime][schedule]") {
  LrScheduleConfig config{LrSchedule::cosine, 1.0, 0.1, 10, 110};
  CHECK(learning_rate(config, 10) == Approx(1.0));  // last warmup step
  CHECK(learning_rate(config, 11) == Approx(1.0));  // t = W: cos(0)
  CHECK(learning_rate(config, 61) == Approx(0.55)); // t - W = half the span
  double expected = 0.1 + 0.5 * (1 + std::cos(M_PI * 99.0 / 100.0)) * 0.9;
  CHECK(learning_rate(config, 110) == Approx(expected)); // last step, just above min_lr
  for (int64_t step = 12; step <= 110; ++step)
    CHECK(learning_rate(config, step) < learning_rate(config, step - 1));
}

TEST_CASE("schedule: AdamW scalars are computed in double, rounded once", "[runtime][schedule]") {
  TrainDefaults defaults{};
  defaults.beta1 = 0.9;
  defaults.beta2 = 0.999;
  defaults.weight_decay = 0.1;
  LrScheduleConfig config{LrSchedule::constant, 3e-3, 0.0, 0, 10};
  StepScalars first = step_scalars(config, defaults, 1);
  CHECK(first.step == 1);
  CHECK(first.lr == static_cast<float>(3e-3));
  // torch.optim.AdamW's Python floats: 1 - 0.999 in double, then float.
  CHECK(first.bias_correction2 == static_cast<float>(1.0 - 0.999));
  CHECK(first.bias_correction2 != 1.0f - 0.999f); // 1.3e-5 off: the bug this guards
  CHECK(first.bias_correction1 == static_cast<float>(1.0 - 0.9));
  CHECK(first.step_size == static_cast<float>(3e-3 / (1.0 - 0.9)));
  CHECK(first.bias_correction2_sqrt == static_cast<float>(std::sqrt(1.0 - 0.999)));
  CHECK(first.decay_factor == static_cast<float>(1.0 - 3e-3 * 0.1));
  StepScalars tenth = step_scalars(config, defaults, 10);
  CHECK(tenth.bias_correction1 == static_cast<float>(1.0 - std::pow(0.9, 10)));
  CHECK(tenth.bias_correction2 == static_cast<float>(1.0 - std::pow(0.999, 10)));
  CHECK(tenth.step_size == static_cast<float>(3e-3 / (1.0 - std::pow(0.9, 10))));
  CHECK(tenth.bias_correction2_sqrt == static_cast<float>(std::sqrt(1.0 - std::pow(0.999, 10))));
}
