//===- schedule.cpp - learning rate and optimizer scalars per step ----------===//
#include "cleave/rt/schedule.h"

#include "cleave/rt/check.h"
#include "cleave/rt/enum_table.h"

#include <cmath>
#include <iterator>

namespace cleave::rt {

double learning_rate(const LrScheduleConfig &config, int64_t step) {
  int64_t t = step - 1;
  double lr = config.lr;
  if (t < config.warmup_steps)
    return lr * static_cast<double>(t + 1) / static_cast<double>(config.warmup_steps);
  if (config.kind == LrSchedule::constant)
    return config.lr;
  double span = static_cast<double>(config.total_steps - config.warmup_steps);
  if (span <= 0) // only past the last step
    return config.min_lr;
  double ratio = static_cast<double>(t - config.warmup_steps) / span;
  double coefficient = 0.5 * (1.0 + std::cos(M_PI * ratio));
  double min_lr = config.min_lr;
  return min_lr + coefficient * (lr - min_lr);
}

StepScalars step_scalars(const LrScheduleConfig &config, const TrainDefaults &defaults,
                         int64_t step) {
  StepScalars scalars{}; // seed stays 0: it is the driver's, not the schedule's
  scalars.step = step;
  double lr = learning_rate(config, step);
  double n = static_cast<double>(step);
  // _single_tensor_adamw (torch 1.13): bias_correction = 1 - beta ** step,
  // step_size = lr / bias_correction1, math.sqrt(bias_correction2) and
  // 1 - lr * weight_decay are Python floats; each is rounded to float only
  // where it multiplies a tensor. Rounding beta first would put 1 - beta2
  // 1.3e-5 off (0.999f = 0.99900001).
  double correction1 = 1.0 - std::pow(defaults.beta1, n);
  double correction2 = 1.0 - std::pow(defaults.beta2, n);
  scalars.lr = static_cast<float>(lr);
  scalars.bias_correction1 = static_cast<float>(correction1);
  scalars.bias_correction2 = static_cast<float>(correction2);
  scalars.step_size = static_cast<float>(lr / correction1);
  scalars.bias_correction2_sqrt = static_cast<float>(std::sqrt(correction2));
  scalars.decay_factor = static_cast<float>(1.0 - lr * defaults.weight_decay);
  return scalars;
}

const char *schedule_name(LrSchedule kind) {
  static constexpr const char *kNames[] = {"constant", "cosine"};
  static_assert(std::size(kNames) == enum_count(LrSchedule::cosine), "one name per LrSchedule");
  return enum_entry(kNames, kind, "LrSchedule");
}

const char *optimizer_name(OptimizerKind kind) {
  static constexpr const char *kNames[] = {"sgd", "adamw"};
  static_assert(std::size(kNames) == enum_count(OptimizerKind::adamw),
                "one name per OptimizerKind");
  return enum_entry(kNames, kind, "OptimizerKind");
}

} // namespace cleave::rt
