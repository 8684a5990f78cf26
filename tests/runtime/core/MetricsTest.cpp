//===- MetricsTest.cpp - metrics lines, resumed metrics files, progress ----===//
#include "TestUtil.h"

#include "cleave/rt/metrics.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>

using namespace cleave::rt;
using Catch::Matchers::Contains;
using test::TempDir;

namespace {

StepRecord record(int64_t step, float loss) {
  StepRecord r;
  r.step = step;
  r.loss = loss;
  r.lr = 0.001f;
  r.step_time_ms = 2.5;
  r.samples_per_s = 3200;
  return r;
}

} // namespace

TEST_CASE("metrics: one JSON object per step", "[runtime][metrics]") {
  CHECK(metrics_line(record(7, 0.1f)) ==
        "{\"step\":7,\"loss\":0.100000001,\"lr\":0.00100000005,\"step_time_ms\":2.5000,"
        "\"samples_per_s\":3200.00}");
  StepRecord tokens = record(8, 2.0f);
  tokens.tokens_per_s = 819200;
  CHECK_THAT(metrics_line(tokens), Contains(",\"tokens_per_s\":819200.00}"));
}

TEST_CASE("metrics: a resumed run keeps the lines up to its checkpoint", "[runtime][metrics]") {
  TempDir dir;
  std::string path = dir / "m.jsonl";
  {
    MetricsWriter writer(path, 0);
    for (int64_t step = 1; step <= 7; ++step)
      writer.write(record(step, static_cast<float>(step)));
  }
  // A kill mid-line leaves a torn last line.
  test::write_bytes(path, test::read_bytes(path) + "{\"step\":8,\"lo");
  {
    MetricsWriter resumed(path, 5);
    resumed.write(record(6, 60.0f));
  }
  CHECK(test::metric_losses(path) == std::vector<std::string>{"1", "2", "3", "4", "5", "60"});
  {
    MetricsWriter fresh(path, 0);
    fresh.write(record(1, 9.0f));
  }
  CHECK(test::metric_losses(path) == std::vector<std::string>{"9"});
  REQUIRE_THROWS_WITH(MetricsWriter(dir / "no/such/dir/m.jsonl", 0),
                      Contains("cannot open metrics file"));
}

TEST_CASE("metrics: durations and the progress line", "[runtime][metrics]") {
  CHECK(format_duration(0.2) == "0s");
  CHECK(format_duration(59.4) == "59s");
  CHECK(format_duration(185) == "3m05s");
  CHECK(format_duration(7260) == "2h01m");

  TempDir dir;
  std::FILE *out = std::fopen((dir / "progress.txt").c_str(), "w");
  REQUIRE(out);
  ProgressPrinter progress(1, 20, 10, false, out);
  for (int64_t step = 1; step <= 20; ++step)
    progress.record(record(step, 1.0f / static_cast<float>(step)));
  std::fclose(out);
  std::string text = test::read_bytes(dir / "progress.txt");
  CHECK(text ==
        "step  1/20 | loss 1.000000 | lr 1.00e-03 | 2.50 ms/step | 3200 samples/s | ETA 0s\n"
        "step 10/20 | loss 0.100000 | lr 1.00e-03 | 2.50 ms/step | 3200 samples/s | ETA 0s\n"
        "step 20/20 | loss 0.050000 | lr 1.00e-03 | 2.50 ms/step | 3200 samples/s | ETA 0s\n");
}

TEST_CASE("metrics: eval_loss in the line and on the progress line", "[runtime][metrics]") {
  StepRecord evaluated = record(4, 0.5f);
  evaluated.evaluated = true;
  evaluated.eval_loss = 0.25f;
  CHECK_THAT(metrics_line(evaluated), Contains(",\"eval_loss\":0.25}"));
  CHECK_THAT(metrics_line(record(5, 0.5f)), !Contains("eval_loss"));
  evaluated.eval_loss = NAN; // every held-out label ignored
  CHECK_THAT(metrics_line(evaluated), Contains(",\"eval_loss\":null}"));

  TempDir dir;
  std::FILE *out = std::fopen((dir / "progress.txt").c_str(), "w");
  REQUIRE(out);
  ProgressPrinter progress(1, 20, 10, false, out);
  for (int64_t step = 1; step <= 3; ++step) {
    StepRecord r = record(step, 1.0f);
    r.evaluated = step == 3; // not a --log-every step: printed for its eval_loss
    r.eval_loss = 0.75f;
    progress.record(r);
  }
  std::fclose(out);
  CHECK(test::read_bytes(dir / "progress.txt") ==
        "step  1/20 | loss 1.000000 | lr 1.00e-03 | 2.50 ms/step | 3200 samples/s | ETA 0s\n"
        "step  3/20 | loss 1.000000 | eval_loss 0.750000 | lr 1.00e-03 | 2.50 ms/step | "
        "3200 samples/s | ETA 0s\n");
}

TEST_CASE("metrics: per-stage busy time in the line and on the progress line",
          "[runtime][metrics]") {
  StepRecord staged = record(10, 0.5f);
  staged.stage_busy_ms = {1.5, 2.25};
  CHECK(metrics_line(staged) ==
        "{\"step\":10,\"loss\":0.5,\"lr\":0.00100000005,\"step_time_ms\":2.5000,"
        "\"samples_per_s\":3200.00,\"stage_busy_ms\":[1.5000,2.2500]}");
  CHECK_THAT(metrics_line(record(11, 0.5f)), !Contains("stage_busy_ms"));
  CHECK(progress_due(1, 1, 20, 10, false));
  CHECK_FALSE(progress_due(2, 1, 20, 10, false));
  CHECK(progress_due(2, 1, 20, 10, true));
  CHECK(progress_due(20, 1, 20, 10, false));
  CHECK_FALSE(progress_due(1, 1, 20, 0, false));

  TempDir dir;
  std::FILE *out = std::fopen((dir / "progress.txt").c_str(), "w");
  REQUIRE(out);
  ProgressPrinter progress(10, 20, 10, false, out);
  progress.record(staged);
  std::fclose(out);
  CHECK(test::read_bytes(dir / "progress.txt") ==
        "step 10/20 | loss 0.500000 | lr 1.00e-03 | 2.50 ms/step | 3200 samples/s | "
        "stage busy ms/step 1.50 2.25 | ETA 0s\n");
}
