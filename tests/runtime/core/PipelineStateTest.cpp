//===- PipelineStateTest.cpp - train() with tensors only some stages hold --===//
//
// A staged toy model trained by the real driver (train()) on 4 in-process
// ranks (ThreadDistribution.h) with grid pp=2,dp=2, its tensors placed by
// stage lists as a pipeline program's ModelInfo places them:
//   a [4,2] "@0:dp,-"   stage 0, rows split over dp
//   s []    "@0:"       a scalar on stage 0
//   b [3]   "@1:"       stage 1, whole
//   c [2,2] "@1,0:-,dp" both stages (a tied weight), owned by stage 1
// and each with a momentum slot placed the same way; inputs x on stage 0,
// y on stage 1. The step updates the tensors its stage owns, elementwise
// (so the result does not depend on the blocks): t = t/2 + lr, m = 0.9m + t.
// Stage 0 never updates its copy of c: the checkpoint and the ONNX export
// must take c from stage 1. Checkpoints written on one grid resume on
// another (one device, pp=2,dp=2, pp=4) to the bits of an uninterrupted
// one-device run.
//
//===----------------------------------------------------------------------===//
#include "DemoModel.h"
#include "TestUtil.h"
#include "ThreadDistribution.h"

#include "cleave/rt/checkpoint.h"
#include "cleave/rt/tensor.h"
#include "cleave/rt/training_loop.h"
#include "cleave/rt/weights.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <map>

using namespace cleave::rt;
using test::TempDir;

namespace {

const int64_t kA[] = {4, 2}, kB[] = {3}, kC[] = {2, 2}, kX[] = {4, 3}, kY[] = {4, 1};
const ParamSpec kParams[] = {
    {{"a", DType::f32, 2, kA}, ParamKind::trainable},
    {{"s", DType::f32, 0, nullptr}, ParamKind::trainable},
    {{"b", DType::f32, 1, kB}, ParamKind::trainable},
    {{"c", DType::f32, 2, kC}, ParamKind::trainable},
};
const TensorSpec kOptState[] = {
    {"a.momentum_buffer", DType::f32, 2, kA},
    {"s.momentum_buffer", DType::f32, 0, nullptr},
    {"b.momentum_buffer", DType::f32, 1, kB},
    {"c.momentum_buffer", DType::f32, 2, kC},
};
const TensorSpec kInputs[] = {{"x", DType::f32, 2, kX}, {"y", DType::f32, 2, kY}};
const char *const kParamShardings[] = {"@0:dp,-", "@0:", "@1:", "@1,0:-,dp"};
const char *const kInputShardings[] = {"@0:dp,-", "@1:"};
// The same program compiled for pp=4: b and c move to the last stage.
const char *const kPp4ParamShardings[] = {"@0:-,-", "@0:", "@3:", "@3,0:"};
const char *const kPp4InputShardings[] = {"@0:", "@3:"};

/// The stage that updates parameter p (its owner) on a grid of `stages`.
int owner(int p, int stages) { return p < 2 ? 0 : stages - 1; }

constexpr TrainDefaults kDefaults = {OptimizerKind::sgd, /*lr=*/0.25,
                                     /*beta1=*/0,        /*beta2=*/0,
                                     /*eps=*/0,          /*weight_decay=*/0,
                                     /*momentum=*/0.9,   /*clip_grad_norm=*/0, LrSchedule::constant,
                                     /*warmup_steps=*/0,
                                     /*batch_size=*/4};

ModelInfo staged_model(const char *onnx, const char *grid) {
  ModelInfo info{};
  info.model_path = onnx;
  info.params = kParams;
  info.num_params = 4;
  info.opt_state = kOptState;
  info.num_opt_state = 4;
  info.inputs = kInputs;
  info.num_inputs = 2;
  info.defaults = kDefaults;
  info.target = "cpu";
  info.grid = grid;
  bool pp4 = grid && std::string(grid) == "pp=4";
  info.param_shardings = pp4 ? kPp4ParamShardings : kParamShardings;
  info.opt_state_shardings = info.param_shardings;
  info.input_shardings = pp4 ? kPp4InputShardings : kInputShardings;
  return info;
}

/// The step of every rank: the pp coordinate from the test's step context
/// (a generated program asks collective::grid_coordinate), all stages on
/// one device. Block sizes come from the grid: dp halves a's rows, c's
/// columns.
void staged_step(const StepScalars &scalars, const StepBuffers &buffers) {
  int stage = -1, stages = 1, dp = 1;
  if (buffers.collectives) {
    auto *context = static_cast<const test::ThreadStepContext *>(buffers.collectives);
    const GridShape &grid = *context->grid;
    int pp = grid.axis("pp");
    stage = grid.coordinates(context->rank)[static_cast<size_t>(pp)];
    stages = grid.sizes[static_cast<size_t>(pp)];
    for (size_t i = 0; i < grid.names.size(); ++i)
      if (grid.names[i] == "dp")
        dp = grid.sizes[i];
  }
  for (int p = 0; p < 4; ++p) {
    if (stage >= 0 && owner(p, stages) != stage)
      continue; // another stage owns it: this rank holds no bytes of it, or a
                // copy the owner overwrites, so the step leaves it alone
    int64_t n = num_elements(kParams[p].tensor);
    if (p == 0 || p == 3)
      n /= dp;
    auto *t = static_cast<float *>(buffers.params[p]);
    auto *m = static_cast<float *>(buffers.opt_state[p]);
    for (int64_t i = 0; i < n; ++i) {
      t[i] = t[i] / 2 + scalars.lr;
      m[i] = 0.9f * m[i] + t[i];
    }
  }
  *buffers.loss = 1.0f; // the program's all-reduced loss, the same on every rank
}

struct StagedRun {
  TempDir dir;
  std::string onnx = dir / "linear.onnx"; // any ONNX file: the export adds a, s, b, c

  StagedRun() {
    demo::write_linear_onnx(onnx, {0, 0, 0}, 0);
    demo::write_linear_data(dir.path(), 64);
  }

  /// train() on `grid` ("" for one device) with the common options first.
  void train_on(const std::string &grid, std::vector<std::string> args) {
    args.insert(args.begin(), {"--data", "x=" + dir / "x.npy" + ",y=" + dir / "y.npy",
                               "--log-every", "0", "--init", "random", "--seed", "5"});
    ModelInfo model = staged_model(onnx.c_str(), grid.empty() ? nullptr : grid.c_str());
    TrainConfig config = test::parse(args, model);
    if (grid.empty()) {
      train(config, model, staged_step, host_memory(), stdout);
      return;
    }
    test::on_ranks(grid, [&](test::ThreadDistribution &distribution) {
      train(config, model, staged_step, host_memory(), stdout, &distribution);
    });
  }
};

/// Every tensor of a checkpoint, by name, as bytes.
std::map<std::string, std::string> tensors_of(const std::string &path) {
  SafetensorsFile file(path);
  std::map<std::string, std::string> tensors;
  for (const SafetensorsEntry &entry : file.entries()) {
    std::string bytes(static_cast<size_t>(entry.end - entry.begin), '\0');
    file.read(entry, bytes.data());
    tensors[entry.name] = bytes;
  }
  return tensors;
}

std::vector<float> onnx_weight(const std::string &path, const TensorSpec &spec) {
  WeightReader reader(path);
  std::vector<float> values(static_cast<size_t>(num_elements(spec)));
  reader.read(spec, values.data());
  return values;
}

} // namespace

TEST_CASE("pipeline state: checkpoints and exports of stage-placed tensors resume on any grid",
          "[runtime][distribution]") {
  StagedRun run;
  // The reference: one device, 5 steps, uninterrupted.
  run.train_on("", {"--steps", "5", "--checkpoint-dir", run.dir / "one", "--save-onnx",
                    run.dir / "one.onnx"});
  auto reference = tensors_of(run.dir / "one/ckpt-00000005.safetensors");
  REQUIRE(reference.size() == 8);

  // pp=2,dp=2 for 5 steps: the same checkpoint and the same export.
  run.train_on("pp=2,dp=2", {"--steps", "5", "--checkpoint-dir", run.dir / "grid", "--save-onnx",
                             run.dir / "grid.onnx"});
  CHECK(tensors_of(run.dir / "grid/ckpt-00000005.safetensors") == reference);
  for (const ParamSpec &param : kParams)
    CHECK(onnx_weight(run.dir / "grid.onnx", param.tensor) ==
          onnx_weight(run.dir / "one.onnx", param.tensor));

  // The metrics: one line per step from rank 0 only; each stage's busy
  // time on the report steps (first and last with --log-every 0).
  run.train_on("pp=2,dp=2", {"--steps", "5", "--metrics", run.dir / "m.jsonl"});
  std::string metrics = test::read_bytes(run.dir / "m.jsonl");
  std::vector<std::string> lines;
  for (size_t start = 0, end; (end = metrics.find('\n', start)) != std::string::npos;
       start = end + 1)
    lines.push_back(metrics.substr(start, end - start));
  REQUIRE(lines.size() == 5);
  for (size_t i = 0; i < lines.size(); ++i) {
    INFO(lines[i]);
    CHECK(lines[i].find("\"step\":" + std::to_string(i + 1) + ",") == 1);
    bool report = i == 0 || i == 4;
    size_t busy = lines[i].find("\"stage_busy_ms\":[");
    CHECK((busy != std::string::npos) == report);
    if (report) // two stages, two numbers
      CHECK(std::count(lines[i].begin() + static_cast<long>(busy), lines[i].end(), ',') == 1);
  }

  // pp=2,dp=2 for 3 steps, then one device, and pp=4, to step 5.
  run.train_on("pp=2,dp=2", {"--steps", "3", "--checkpoint-dir", run.dir / "a"});
  std::string three = run.dir / "a/ckpt-00000003.safetensors";
  std::string copy = run.dir / "b.safetensors";
  test::write_bytes(copy, test::read_bytes(three));
  run.train_on("", {"--steps", "5", "--checkpoint-dir", run.dir / "a", "--resume"});
  CHECK(tensors_of(run.dir / "a/ckpt-00000005.safetensors") == reference);
  run.train_on("pp=4", {"--steps", "5", "--resume", copy, "--checkpoint-dir", run.dir / "c"});
  CHECK(tensors_of(run.dir / "c/ckpt-00000005.safetensors") == reference);

  // One device for 3 steps, then pp=2,dp=2 to step 5.
  run.train_on("", {"--steps", "3", "--checkpoint-dir", run.dir / "d"});
  run.train_on("pp=2,dp=2", {"--steps", "5", "--checkpoint-dir", run.dir / "d", "--resume"});
  CHECK(tensors_of(run.dir / "d/ckpt-00000005.safetensors") == reference);
}
