//===- metrics.cpp - per-step metrics and the progress line ----------------===//
#include "cleave/rt/metrics.h"

#include "cleave/rt/check.h"
#include "file_util.h"
#include "json.h"

#include <cmath>
#include <filesystem>

namespace cleave::rt {

std::string metrics_line(const StepRecord &record) {
  char line[256];
  int length =
      std::snprintf(line, sizeof line,
                    "{\"step\":%lld,\"loss\":%.9g,\"lr\":%.9g,\"step_time_ms\":%.4f,"
                    "\"samples_per_s\":%.2f",
                    static_cast<long long>(record.step), static_cast<double>(record.loss),
                    static_cast<double>(record.lr), record.step_time_ms, record.samples_per_s);
  std::string text(line, static_cast<size_t>(length));
  if (record.tokens_per_s > 0) {
    std::snprintf(line, sizeof line, ",\"tokens_per_s\":%.2f", record.tokens_per_s);
    text += line;
  }
  if (record.evaluated) {
    // A held-out set whose labels are all the ignore index has no loss
    // (NaN, as in PyTorch); JSON has no NaN, so the line says null.
    if (std::isfinite(record.eval_loss))
      std::snprintf(line, sizeof line, ",\"eval_loss\":%.9g",
                    static_cast<double>(record.eval_loss));
    else
      std::snprintf(line, sizeof line, ",\"eval_loss\":null");
    text += line;
  }
  if (!record.stage_busy_ms.empty()) {
    text += ",\"stage_busy_ms\":[";
    for (size_t i = 0; i < record.stage_busy_ms.size(); ++i) {
      std::snprintf(line, sizeof line, "%s%.4f", i ? "," : "", record.stage_busy_ms[i]);
      text += line;
    }
    text += "]";
  }
  return text + "}";
}

bool progress_due(int64_t step, int64_t first_step, int64_t total_steps, int64_t log_every,
                  bool evaluated) {
  return log_every > 0 &&
         (step == first_step || step % log_every == 0 || step == total_steps || evaluated);
}

/// The lines of `path` that a run resumed at `resume_step` keeps: complete
/// JSON objects with "step" <= resume_step. A line torn by a kill does not
/// parse and goes too.
static std::string kept_lines(const std::string &path, int64_t resume_step) {
  std::string text = read_text_file(path);
  std::string kept;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos)
      break; // no newline: the kill tore it
    std::string line = text.substr(start, end - start);
    start = end + 1;
    try {
      JsonValue value = parse_json(line);
      const JsonValue *step = value.find("step");
      std::optional<int64_t> number = step ? step->as_int64() : std::nullopt;
      if (number && *number <= resume_step)
        kept += line + "\n";
    } catch (const Error &) {
      // Not a metrics line: drop it.
    }
  }
  return kept;
}

MetricsWriter::MetricsWriter(const std::string &path, int64_t resume_step) : path_(path) {
  if (resume_step > 0 && std::filesystem::exists(path)) {
    AtomicFileWriter rewrite(path);
    rewrite.write(kept_lines(path, resume_step));
    rewrite.commit();
    file_ = std::fopen(path.c_str(), "a");
  } else {
    file_ = std::fopen(path.c_str(), "w");
  }
  if (!file_)
    fail("cannot open metrics file '", path, "': ", last_system_error());
}

MetricsWriter::~MetricsWriter() {
  if (file_)
    std::fclose(file_);
}

void MetricsWriter::write(const StepRecord &record) {
  std::string line = metrics_line(record) + "\n";
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fflush(file_) != 0)
    fail("cannot write metrics file '", path_, "': ", last_system_error());
}

std::string format_duration(double seconds) {
  long long total = static_cast<long long>(seconds + 0.5);
  char text[32];
  if (total < 60)
    std::snprintf(text, sizeof text, "%llds", total);
  else if (total < 3600)
    std::snprintf(text, sizeof text, "%lldm%02llds", total / 60, total % 60);
  else
    std::snprintf(text, sizeof text, "%lldh%02lldm", total / 3600, total / 60 % 60);
  return text;
}

ProgressPrinter::ProgressPrinter(int64_t first_step, int64_t total_steps, int64_t log_every,
                                 bool tokens, std::FILE *out)
    : first_step_(first_step), total_steps_(total_steps), log_every_(log_every), tokens_(tokens),
      out_(out) {}

void ProgressPrinter::record(const StepRecord &record) {
  run_ms_ += record.step_time_ms;
  window_ms_ += record.step_time_ms;
  double seconds = record.step_time_ms / 1000.0;
  window_samples_ += record.samples_per_s * seconds;
  window_tokens_ += record.tokens_per_s * seconds;
  ++window_steps_;
  if (!progress_due(record.step, first_step_, total_steps_, log_every_, record.evaluated))
    return;

  double window_seconds = window_ms_ / 1000.0;
  double throughput =
      (tokens_ ? window_tokens_ : window_samples_) / (window_seconds > 0 ? window_seconds : 1e-9);
  int64_t done = record.step - first_step_ + 1;
  double eta = run_ms_ / 1000.0 / static_cast<double>(done) *
               static_cast<double>(total_steps_ - record.step);
  int width = static_cast<int>(std::to_string(total_steps_).size());
  char eval[48] = "";
  if (record.evaluated)
    std::snprintf(eval, sizeof eval, " | eval_loss %.6f", static_cast<double>(record.eval_loss));
  std::string stages;
  for (size_t i = 0; i < record.stage_busy_ms.size(); ++i) {
    char busy[32];
    std::snprintf(busy, sizeof busy, " %.2f", record.stage_busy_ms[i]);
    stages += (i ? "" : " | stage busy ms/step") + std::string(busy);
  }
  std::fprintf(out_,
               "step %*lld/%lld | loss %.6f%s | lr %.2e | %.2f ms/step | %.0f %s%s | ETA %s\n",
               width, static_cast<long long>(record.step), static_cast<long long>(total_steps_),
               static_cast<double>(record.loss), eval, static_cast<double>(record.lr),
               window_ms_ / static_cast<double>(window_steps_), throughput,
               tokens_ ? "tokens/s" : "samples/s", stages.c_str(), format_duration(eta).c_str());
  std::fflush(out_);
  window_ms_ = window_samples_ = window_tokens_ = 0;
  window_steps_ = 0;
}

} // namespace cleave::rt
