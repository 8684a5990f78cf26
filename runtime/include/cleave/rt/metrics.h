//===- metrics.h - per-step metrics and the progress line ------------------===//
#ifndef CLEAVE_RT_METRICS_H
#define CLEAVE_RT_METRICS_H

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace cleave::rt {

/// What one step measured.
struct StepRecord {
  int64_t step = 0; // 1-based
  float loss = 0;
  float lr = 0;
  double step_time_ms = 0;  // the whole iteration: batch, copies, step, loss read-back
  double samples_per_s = 0; // batch_size / step time
  double tokens_per_s = 0;  // batch_size * T / step time for token streams, else 0
  bool evaluated = false;   // eval_loss is set: an evaluation ran after this step
  float eval_loss = 0;      // the evaluation function's mean loss on the held-out batches
  /// Pipeline programs, on report steps (progress_due): per pipeline
  /// stage, its ranks' mean busy time per step (the step function's time
  /// minus the time it spent waiting for receives) since the previous
  /// report, in ms.
  std::vector<double> stage_busy_ms;
};

/// Whether `step` gets a progress line: the first, every `log_every`-th,
/// the last, and one after an evaluation. Pipeline programs gather the
/// stages' busy times on the same steps (one collective per report).
bool progress_due(int64_t step, int64_t first_step, int64_t total_steps, int64_t log_every,
                  bool evaluated);

/// One JSON object, no newline:
/// {"step":1,"loss":2.30258512,"lr":0.00100000005,"step_time_ms":1.25,"samples_per_s":6400}
/// plus "tokens_per_s" for token streams, "eval_loss" after an evaluation and
/// "stage_busy_ms":[12.5,11.25] on a pipeline program's report steps. Floats print with 9
/// significant digits, so loss and lr read back to the same float.
std::string metrics_line(const StepRecord &record);

/// --metrics FILE: one metrics_line per step, each flushed as it is written
/// so a killed run leaves every finished step.
class MetricsWriter {
public:
  /// A fresh run (resume_step 0) truncates `path`. A run resumed from
  /// step k keeps the lines of steps <= k (rewriting the file atomically,
  /// dropping those of steps the interrupted run did after its checkpoint)
  /// and appends, so the file reads as one uninterrupted run.
  MetricsWriter(const std::string &path, int64_t resume_step);
  ~MetricsWriter();
  MetricsWriter(const MetricsWriter &) = delete;
  MetricsWriter &operator=(const MetricsWriter &) = delete;

  void write(const StepRecord &record);

private:
  std::string path_;
  std::FILE *file_ = nullptr;
};

/// "12s", "3m05s", "2h07m".
std::string format_duration(double seconds);

/// The progress line, on the first step, every `log_every` steps and the
/// last step:
///   step   40/100 | loss 1.234567 | lr 3.00e-04 | 2.10 ms/step | 3810 samples/s | ETA 0s
/// and, for a pipeline program, " | stage busy ms/step 1.95 2.04" before the ETA.
/// ms/step and throughput average the steps since the previous line; the
/// ETA extrapolates the average step time of this run.
class ProgressPrinter {
public:
  ProgressPrinter(int64_t first_step, int64_t total_steps, int64_t log_every, bool tokens,
                  std::FILE *out);
  void record(const StepRecord &record);

private:
  int64_t first_step_, total_steps_, log_every_;
  bool tokens_;
  std::FILE *out_;
  double run_ms_ = 0;    // all steps so far
  double window_ms_ = 0; // steps since the last line
  double window_samples_ = 0, window_tokens_ = 0;
  int64_t window_steps_ = 0;
};

} // namespace cleave::rt

#endif // CLEAVE_RT_METRICS_H
