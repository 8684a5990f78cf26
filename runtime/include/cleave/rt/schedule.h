//===- schedule.h - learning rate and optimizer scalars per step ------------===//
//
// With 1-based step s, t = s - 1, peak rate `lr`, `warmup` steps W, total
// steps S and floor `min_lr` (the llm.c / nanoGPT recipe):
//
//   t < W:               lr * (t + 1) / W                 (linear warmup)
//   constant, t >= W:    lr
//   cosine,   t >= W:    min_lr + 0.5 * (1 + cos(pi * (t - W) / (S - W))) * (lr - min_lr)
//
// computed in double and rounded to float. In PyTorch, LambdaLR with
//   lambda t: (t + 1) / W if t < W else
//             (min_lr + 0.5 * (1 + cos(pi * (t - W) / (S - W))) * (lr - min_lr)) / lr
// reproduces it (LambdaLR's t is also 0 for the first step).
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_SCHEDULE_H
#define CLEAVE_RT_SCHEDULE_H

#include "cleave/rt/model.h"

#include <cstdint>

namespace cleave::rt {

struct LrScheduleConfig {
  LrSchedule kind = LrSchedule::constant;
  double lr = 0;            // peak rate, reached at the end of warmup
  double min_lr = 0;        // where cosine ends (it reaches it after step S)
  int64_t warmup_steps = 0; // W; 0 = no warmup
  int64_t total_steps = 0;  // S, the run's --steps
};

/// The learning rate of 1-based step `step`, in double (the optimizer's
/// per-step scalars are derived from it before rounding).
double learning_rate(const LrScheduleConfig &config, int64_t step);

/// Scalars for 1-based `step`: the rate, AdamW's bias corrections
/// 1 - beta^step, its step size lr / (1 - beta1^step), sqrt(1 - beta2^step)
/// and the decoupled decay factor 1 - lr * weight_decay, each computed in
/// double and rounded to float once, as torch.optim.AdamW does (harmless
/// for other optimizers).
/// `seed` is left 0 for the caller to set.
StepScalars step_scalars(const LrScheduleConfig &config, const TrainDefaults &defaults,
                         int64_t step);

const char *schedule_name(LrSchedule kind);     // "constant", "cosine"
const char *optimizer_name(OptimizerKind kind); // "sgd", "adamw"

} // namespace cleave::rt

#endif // CLEAVE_RT_SCHEDULE_H
