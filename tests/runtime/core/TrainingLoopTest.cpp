//===- TrainingLoopTest.cpp - run_training end to end, in process ----------===//
#include "DemoModel.h"
#include "TestUtil.h"

#include "cleave/rt/checkpoint.h"
#include "cleave/rt/token_file.h"
#include "cleave/rt/training_loop.h"
#include "cleave/rt/weights.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

using namespace cleave::rt;
using Catch::Matchers::Contains;
using test::TempDir;

namespace {

/// A scratch directory with the linear demo model (weights zero) and 64
/// rows of data.
struct LinearRun {
  TempDir dir;
  std::string onnx = dir / "linear.onnx";
  ModelInfo model = demo::linear_model(onnx.c_str());

  LinearRun() {
    demo::write_linear_onnx(onnx, {0, 0, 0}, 0);
    demo::write_linear_data(dir.path(), 64);
  }

  std::string data() const { return "x=" + dir / "x.npy" + ",y=" + dir / "y.npy"; }

  /// run_training with --data and --log-every 0 before `args`.
  int run(std::vector<std::string> args) {
    args.insert(args.begin(), {"--data", data(), "--log-every", "0"});
    return test::run(args, model, demo::linear_step);
  }

  /// train() on the parsed command line, for the errors it throws.
  void train(std::vector<std::string> args, DeviceMemory &memory = host_memory()) {
    args.insert(args.begin(), {"--data", data(), "--log-every", "0"});
    cleave::rt::train(test::parse(args, model), model, demo::linear_step, memory);
  }
};

/// The tensor `name` of a checkpoint, as floats.
std::vector<float> checkpoint_tensor(const std::string &path, const std::string &name) {
  SafetensorsFile file(path);
  const SafetensorsEntry *entry = file.find(name);
  REQUIRE(entry);
  std::vector<float> values(static_cast<size_t>((entry->end - entry->begin) / 4));
  file.read(*entry, values.data());
  return values;
}

/// Device memory that is not host memory as far as the driver knows, so
/// every byte moves through copy_to_device / copy_to_host.
class FakeDevice final : public DeviceMemory {
public:
  const char *name() const override { return "fake"; }
  bool is_host() const override { return false; }
  void *alloc(int64_t bytes) override {
    ++live;
    return host_memory().alloc(bytes);
  }
  void free(void *ptr) override {
    --live;
    host_memory().free(ptr);
  }
  void copy_to_device(void *dst, const void *src, int64_t bytes) override {
    to_device += bytes;
    std::memcpy(dst, src, static_cast<size_t>(bytes));
  }
  void copy_to_host(void *dst, const void *src, int64_t bytes) override {
    to_host += bytes;
    std::memcpy(dst, src, static_cast<size_t>(bytes));
  }
  int live = 0;
  int64_t to_device = 0, to_host = 0;
};

/// A step that "crashes" (throws) once `budget` steps have run, like a
/// process killed mid-run.
int step_budget = 0;
void limited_step(const StepScalars &scalars, const StepBuffers &buffers) {
  if (step_budget-- <= 0)
    throw std::runtime_error("simulated crash");
  demo::linear_step(scalars, buffers);
}

} // namespace

TEST_CASE("training loop: trains linear regression to the true line and exports it",
          "[runtime][training-loop]") {
  LinearRun run;
  REQUIRE(run.run({"--steps", "300", "--metrics", run.dir / "m.jsonl", "--checkpoint-dir",
                   run.dir / "ckpt", "--save-onnx", run.dir / "trained.onnx"}) == 0);

  std::vector<std::string> losses = test::metric_losses(run.dir / "m.jsonl");
  REQUIRE(losses.size() == 300);
  CHECK(std::stod(losses.back()) < 0.01 * std::stod(losses.front()));
  CHECK_THAT(test::read_bytes(run.dir / "m.jsonl"), Contains("{\"step\":1,\"loss\":") &&
                                                        Contains("\"lr\":0.0500000007,") &&
                                                        Contains("\"samples_per_s\":"));

  std::string final_checkpoint = run.dir / "ckpt/ckpt-00000300.safetensors";
  Checkpoint checkpoint(final_checkpoint);
  CHECK(checkpoint.meta().step == 300);
  CHECK(checkpoint.meta().data_position == 1200);
  std::vector<float> weight = checkpoint_tensor(final_checkpoint, "linear.weight");
  for (int j = 0; j < 3; ++j)
    CHECK(std::abs(weight[j] - demo::kTrueWeight[j]) < 0.05);
  CHECK(std::abs(checkpoint_tensor(final_checkpoint, "linear.bias")[0] - demo::kTrueBias) < 0.05);
  CHECK(checkpoint_tensor(final_checkpoint, "target_mean")[0] != 0.0f); // the buffer moved
  CHECK(checkpoint_tensor(final_checkpoint, "linear.weight.exp_avg_sq")[0] > 0.0f);

  // The export holds exactly the trained parameters.
  WeightReader exported(run.dir / "trained.onnx");
  std::vector<float> exported_weight(3);
  exported.read(run.model.params[0].tensor, exported_weight.data());
  CHECK(exported_weight == weight);
}

TEST_CASE("training loop: a resumed run continues exactly like an uninterrupted one",
          "[runtime][training-loop]") {
  LinearRun run;
  std::vector<std::string> common = {
      "--steps",  "30", "--shuffle",          "--seed", "5", "--schedule", "cosine",
      "--warmup", "5",  "--checkpoint-every", "10"};
  auto with = [&](std::vector<std::string> extra) {
    extra.insert(extra.begin(), common.begin(), common.end());
    return extra;
  };
  REQUIRE(run.run(with({"--checkpoint-dir", run.dir / "a", "--metrics", run.dir / "a.jsonl"})) ==
          0);

  // Crash after step 13: checkpoint 10 exists, metrics run to step 13.
  step_budget = 13;
  std::vector<std::string> crashed =
      with({"--data", run.data(), "--log-every", "0", "--checkpoint-dir", run.dir / "b",
            "--metrics", run.dir / "b.jsonl"});
  CHECK(test::run(crashed, run.model, limited_step) == 1);
  CHECK(test::metric_losses(run.dir / "b.jsonl").size() == 13);
  CHECK(test::read_bytes(run.dir / "b/latest") == "ckpt-00000010.safetensors\n");

  REQUIRE(run.run(with({"--checkpoint-dir", run.dir / "b", "--metrics", run.dir / "b.jsonl",
                        "--resume"})) == 0);
  std::vector<std::string> uninterrupted = test::metric_losses(run.dir / "a.jsonl");
  REQUIRE(uninterrupted.size() == 30);
  CHECK(test::metric_losses(run.dir / "b.jsonl") == uninterrupted);
  for (const char *name : {"linear.weight", "linear.bias", "target_mean", "linear.weight.exp_avg",
                           "linear.bias.exp_avg_sq"})
    CHECK(checkpoint_tensor(run.dir / "b/ckpt-00000030.safetensors", name) ==
          checkpoint_tensor(run.dir / "a/ckpt-00000030.safetensors", name));

  // --resume PATH picks a specific checkpoint, from any directory.
  REQUIRE(run.run(with({"--checkpoint-dir", run.dir / "c", "--metrics", run.dir / "c.jsonl",
                        "--resume", run.dir / "a/ckpt-00000020.safetensors"})) == 0);
  std::vector<std::string> tail = test::metric_losses(run.dir / "c.jsonl");
  CHECK(tail == std::vector<std::string>(uninterrupted.begin() + 20, uninterrupted.end()));
}

TEST_CASE("training loop: device memory that is not host memory gives the same run",
          "[runtime][training-loop]") {
  LinearRun run;
  REQUIRE(run.run({"--steps", "20", "--shuffle", "--metrics", run.dir / "host.jsonl"}) == 0);
  FakeDevice device;
  run.train({"--steps", "20", "--shuffle", "--metrics", run.dir / "device.jsonl",
             "--checkpoint-dir", run.dir / "ckpt", "--save-onnx", run.dir / "out.onnx"},
            device);
  CHECK(test::metric_losses(run.dir / "device.jsonl") ==
        test::metric_losses(run.dir / "host.jsonl"));
  CHECK(device.live == 0);           // everything freed
  CHECK(device.to_device > 20 * 64); // weights and 20 batches went through copies
  // Read back: the final checkpoint (parameters 20 bytes + optimizer state
  // 32 bytes) and the export (parameters); the loss is a host float.
  CHECK(device.to_host == 52 + 20);

  FakeDevice resumed;
  run.train({"--steps", "25", "--checkpoint-dir", run.dir / "ckpt", "--resume", "--shuffle"},
            resumed);
  CHECK(Checkpoint(resolve_checkpoint("", run.dir / "ckpt")).meta().step == 25);
}

TEST_CASE("training loop: --init random trains a model exported without weights",
          "[runtime][training-loop]") {
  LinearRun run;
  demo::write_linear_onnx(run.onnx, {}, 0, /*with_weights=*/false);
  REQUIRE_THROWS_WITH(run.train({"--steps", "5"}),
                      Contains("has no initializer named 'linear.weight'") &&
                          Contains("--init random"));
  REQUIRE(run.run({"--steps", "50", "--init", "random", "--seed", "3", "--metrics",
                   run.dir / "m.jsonl", "--save-onnx", run.dir / "trained.onnx"}) == 0);
  std::vector<std::string> losses = test::metric_losses(run.dir / "m.jsonl");
  CHECK(std::stod(losses.back()) < std::stod(losses.front()));
  // The export adds the initializers the original lacked.
  WeightReader exported(run.dir / "trained.onnx");
  std::vector<float> mean(1);
  exported.read(run.model.params[2].tensor, mean.data());
  CHECK(mean[0] != 0.0f);
}

TEST_CASE("training loop: a diverging loss stops the run with a clear error",
          "[runtime][training-loop]") {
  LinearRun run;
  REQUIRE_THROWS_WITH(
      run.train({"--steps", "50", "--lr", "1e38"}),
      (Contains("the loss is NaN at step 2") || Contains("the loss is inf at step 2")) &&
          Contains("training diverged"));
  CHECK(run.run({"--steps", "50", "--lr", "1e38"}) == 1);
}

TEST_CASE("training loop: command-line defaults and mistakes", "[runtime][training-loop]") {
  LinearRun run;
  TrainConfig config = test::parse({"--steps", "7", "--data", run.data()}, run.model);
  CHECK(config.steps == 7);
  CHECK(config.lr == 0.05f);
  CHECK(config.schedule == LrSchedule::constant);
  CHECK(config.warmup_steps == 0);
  CHECK(config.min_lr == 0.0f);
  CHECK(config.log_every == 10);
  CHECK(config.data.size() == 2);
  CHECK(config.data[1].input == "y");
  CHECK_FALSE(config.resume);
  config =
      test::parse({"--steps", "7", "--data", "x=a.npy", "--data", "y=b.npy", "--checkpoint-dir",
                   "d", "--resume", "--lr", "0.5", "--schedule", "cosine", "--init", "random"},
                  run.model);
  CHECK(config.data.size() == 2);
  CHECK(config.resume);
  CHECK(config.resume_path.empty());
  CHECK(config.lr == 0.5f);
  CHECK(config.schedule == LrSchedule::cosine);
  CHECK(config.init == WeightInit::random);

  auto usage = [&](const std::vector<std::string> &args, const std::string &message) {
    INFO(message);
    REQUIRE_THROWS_AS(test::parse(args, run.model), UsageError);
    REQUIRE_THROWS_WITH(test::parse(args, run.model), Contains(message));
  };
  usage({"--data", run.data()}, "--steps is required");
  usage({"--steps", "0", "--data", run.data()}, "--steps");
  usage({"--steps", "5"}, "no data: pass --data NAME=FILE.npy for each input (x float32[4, 3], "
                          "y float32[4, 1]), or --tokens FILE");
  usage({"--steps", "5", "--data", run.data(), "--tokens", "t.bin"}, "give one of them");
  usage({"--steps", "5", "--data", run.data(), "--checkpoint-every", "2"},
        "--checkpoint-every needs --checkpoint-dir");
  usage({"--steps", "5", "--data", run.data(), "--resume"}, "needs --checkpoint-dir");
  usage({"--steps", "5", "--data", run.data(), "--schedule", "linear"}, "--schedule");
  usage({"--steps", "5", "--data", "x"}, "--data 'x' is not NAME=FILE.npy");
  usage({"--steps", "5", "--data", run.data(), "--frobnicate"}, "--frobnicate");
  usage({"--steps", "five", "--data", run.data()}, "five");

  CHECK(run.run({"--steps", "5", "--bogus"}) == 2);
  CHECK(test::run({"--steps", "5", "--data", "x=nope.npy,y=nope.npy"}, run.model,
                  demo::linear_step) == 1);
  ModelInfo cuda = run.model;
  cuda.target = "cuda";
  CHECK(test::run({"--steps", "5", "--data", run.data()}, cuda, demo::linear_step) == 1);
}

TEST_CASE("training loop: checkpoints of another run are never overwritten",
          "[runtime][training-loop]") {
  LinearRun run;
  std::string ckpt = run.dir / "ckpt";
  REQUIRE(run.run({"--steps", "4", "--checkpoint-dir", ckpt}) == 0);
  std::vector<std::string> files = test::list_dir(ckpt);
  std::string bytes = test::read_bytes(ckpt + "/ckpt-00000004.safetensors");

  REQUIRE_THROWS_WITH(run.train({"--steps", "4", "--checkpoint-dir", ckpt}),
                      Contains("already holds checkpoints") && Contains("--resume"));

  // A checkpoint of another model: refused, naming the tensor, nothing touched.
  TempDir other;
  std::string bigram_onnx = other / "bigram.onnx";
  demo::write_bigram_onnx(bigram_onnx);
  write_token_file(other / "t.bin", std::vector<uint32_t>(64, 1));
  ModelInfo bigram = demo::bigram_model(bigram_onnx.c_str());
  TrainConfig config = test::parse({"--steps", "8", "--tokens", other / "t.bin", "--checkpoint-dir",
                                    ckpt, "--resume", "--log-every", "0"},
                                   bigram);
  REQUIRE_THROWS_WITH(train(config, bigram, demo::bigram_step, host_memory()),
                      Contains("does not fit this model: it has no tensor 'table.weight'"));
  CHECK(test::list_dir(ckpt) == files);
  CHECK(test::read_bytes(ckpt + "/ckpt-00000004.safetensors") == bytes);
}

TEST_CASE("training loop: --tokens trains a bigram language model", "[runtime][training-loop]") {
  TempDir dir;
  std::string onnx = dir / "bigram.onnx";
  demo::write_bigram_onnx(onnx);
  ModelInfo model = demo::bigram_model(onnx.c_str());
  std::vector<uint32_t> tokens;
  for (int i = 0; i < 401; ++i)
    tokens.push_back(static_cast<uint32_t>(i % 8)); // token t is always followed by t + 1
  write_token_file(dir / "t.bin", tokens);

  REQUIRE(test::run({"--steps", "100", "--tokens", dir / "t.bin", "--shuffle", "--metrics",
                     dir / "m.jsonl", "--log-every", "0"},
                    model, demo::bigram_step) == 0);
  std::vector<std::string> losses = test::metric_losses(dir / "m.jsonl");
  CHECK(std::stod(losses.front()) == Approx(std::log(8.0)).epsilon(1e-5)); // uniform start
  CHECK(std::stod(losses.back()) < 0.1);
  CHECK_THAT(test::read_bytes(dir / "m.jsonl"), Contains("\"tokens_per_s\":"));

  tokens[50] = 9; // outside the vocabulary
  write_token_file(dir / "bad.bin", tokens);
  TrainConfig config =
      test::parse({"--steps", "100", "--tokens", dir / "bad.bin", "--log-every", "0"}, model);
  REQUIRE_THROWS_WITH(train(config, model, demo::bigram_step, host_memory()),
                      Contains("index out of range") && Contains("bad.bin"));
}
