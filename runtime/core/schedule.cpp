//===- schedule.cpp - learning rate and optimizer scalars per step ----------===//
#include "cleave/rt/schedule.h"

#include "cleave/rt/check.h"

#include <cmath>

namespace cleave::rt {

float learning_rate(const LrScheduleConfig &config, int64_t step) {
  int64_t t = step - 1;
  double lr = config.lr;
  if (t < config.warmup_steps)
    return static_cast<float>(lr * static_cast<double>(t + 1) /
                              static_cast<double>(config.warmup_steps));
  if (config.kind == LrSchedule::constant)
    return config.lr;
  double span = static_cast<double>(config.total_steps - config.warmup_steps);
  if (span <= 0) // only past the last step
    return config.min_lr;
  double ratio = static_cast<double>(t - config.warmup_steps) / span;
  double coefficient = 0.5 * (1.0 + std::cos(M_PI * ratio));
  double min_lr = config.min_lr;
  return static_cast<float>(min_lr + coefficient * (lr - min_lr));
}

StepScalars step_scalars(const LrScheduleConfig &config, const TrainDefaults &defaults,
                         int64_t step) {
  StepScalars scalars{}; // seed stays 0: it is the driver's, not the schedule's
  scalars.step = step;
  scalars.lr = learning_rate(config, step);
  double n = static_cast<double>(step);
  scalars.bias_correction1 = static_cast<float>(1.0 - std::pow(static_cast<double>(defaults.beta1), n));
  scalars.bias_correction2 = static_cast<float>(1.0 - std::pow(static_cast<double>(defaults.beta2), n));
  return scalars;
}

const char *schedule_name(LrSchedule kind) {
  switch (kind) {
  case LrSchedule::constant: return "constant";
  case LrSchedule::cosine: return "cosine";
  }
  CLEAVE_CHECK(false, "unknown LrSchedule ", static_cast<int>(kind));
}

const char *optimizer_name(OptimizerKind kind) {
  switch (kind) {
  case OptimizerKind::sgd: return "sgd";
  case OptimizerKind::adamw: return "adamw";
  }
  CLEAVE_CHECK(false, "unknown OptimizerKind ", static_cast<int>(kind));
}

} // namespace cleave::rt
