//===- CheckpointTest.cpp - checkpoint files, `latest`, atomicity ----------===//
#include "TestUtil.h"

#include "cleave/rt/checkpoint.h"

#include <catch2/catch.hpp>

#include <cstring>

using namespace cleave::rt;
using Catch::Matchers::Contains;
using test::TempDir;

namespace {

const int64_t kWeightShape[] = {2, 3};
const int64_t kBiasShape[] = {3};
const ParamSpec kParams[] = {
    {{"fc.weight", DType::f32, 2, kWeightShape}, ParamKind::trainable},
    {{"fc.bias", DType::f32, 1, kBiasShape}, ParamKind::trainable},
};
const TensorSpec kOptState[] = {
    {"fc.weight.momentum_buffer", DType::f32, 2, kWeightShape},
    {"fc.bias.momentum_buffer", DType::f32, 1, kBiasShape},
};

ModelInfo model() {
  ModelInfo info{};
  info.model_path = "models/fc.onnx";
  info.params = kParams;
  info.num_params = 2;
  info.opt_state = kOptState;
  info.num_opt_state = 2;
  info.target = "cpu";
  return info;
}

/// Host tensors for the model, filled with `base + index`.
struct State {
  std::vector<std::vector<float>> values;
  std::vector<BoundTensor> tensors;

  explicit State(float base) {
    for (const TensorSpec *spec : checkpoint_specs(model())) {
      std::vector<float> data(static_cast<size_t>(num_elements(*spec)));
      for (size_t i = 0; i < data.size(); ++i)
        data[i] = base + static_cast<float>(i);
      values.push_back(std::move(data));
    }
    std::vector<const TensorSpec *> specs = checkpoint_specs(model());
    for (size_t i = 0; i < specs.size(); ++i)
      tensors.push_back({specs[i], values[i].data()});
  }
};

CheckpointMeta meta(int64_t step) {
  CheckpointMeta meta;
  meta.step = step;
  meta.model = "fc";
  meta.optimizer = "sgd";
  meta.seed = 18446744073709551615ull;
  meta.data_position = step * 8;
  meta.data = "x=x.npy, y=y.npy (100 rows)";
  meta.data_samples = 100;
  meta.shuffle = true;
  meta.steps = 50;
  meta.lr = 0.1;
  meta.min_lr = 3e-4 / 7;
  meta.schedule = "cosine";
  meta.warmup = 5;
  return meta;
}

} // namespace

TEST_CASE("checkpoint: write, point latest at it, read back", "[runtime][checkpoint]") {
  TempDir dir;
  std::string ckpt_dir = dir / "ckpts";
  State saved(1.0f);
  std::string path = write_checkpoint(ckpt_dir, meta(12), saved.tensors, host_memory());
  CHECK(path == ckpt_dir + "/ckpt-00000012.safetensors");
  CHECK(test::read_bytes(ckpt_dir + "/latest") == "ckpt-00000012.safetensors\n");
  CHECK(test::list_dir(ckpt_dir) ==
        std::vector<std::string>{"ckpt-00000012.safetensors", "latest"});
  CHECK(has_checkpoints(ckpt_dir));
  CHECK(resolve_checkpoint("", ckpt_dir) == path);
  CHECK(resolve_checkpoint(ckpt_dir, "") == path);
  CHECK(resolve_checkpoint(path, "elsewhere") == path);

  Checkpoint checkpoint(path);
  const CheckpointMeta &read = checkpoint.meta();
  CHECK(read.step == 12);
  CHECK(read.model == "fc");
  CHECK(read.seed == 18446744073709551615ull);
  CHECK(read.data_position == 96);
  CHECK(read.data == "x=x.npy, y=y.npy (100 rows)");
  CHECK(read.shuffle);
  CHECK(read.lr == 0.1); // doubles survive the text round trip exactly
  CHECK(read.min_lr == 3e-4 / 7);
  CHECK(read.schedule == "cosine");
  CHECK(read.warmup == 5);

  checkpoint.verify(checkpoint_specs(model()));
  State loaded(-100.0f);
  checkpoint.load(loaded.tensors, host_memory());
  CHECK(loaded.values == saved.values);

  // The file is plain safetensors: names, dtypes, shapes as the model's.
  SafetensorsFile file(path);
  CHECK(file.find("fc.weight.momentum_buffer")->shape == std::vector<int64_t>{2, 3});
}

TEST_CASE("checkpoint: a writer killed before its rename leaves the previous one in force",
          "[runtime][checkpoint]") {
  TempDir dir;
  State first(1.0f), second(2.0f);
  write_checkpoint(dir.path(), meta(2), first.tensors, host_memory());

  // Step 4's file is complete but never renamed; step 6's was cut short.
  std::string temp = write_checkpoint_temp(dir.path(), meta(4), second.tensors, host_memory());
  CHECK(temp == dir / "ckpt-00000004.safetensors.tmp");
  test::write_bytes(dir / "ckpt-00000006.safetensors.tmp", std::string("\x10\x00\x00\x00 torn", 9));

  CHECK(test::read_bytes(dir / "latest") == "ckpt-00000002.safetensors\n");
  CHECK_FALSE(test::file_exists(dir / "ckpt-00000004.safetensors"));
  Checkpoint resumed(resolve_checkpoint("", dir.path()));
  CHECK(resumed.meta().step == 2);
  State loaded(0.0f);
  resumed.load(loaded.tensors, host_memory());
  CHECK(loaded.values == first.values);

  // Finishing the rename makes step 4 the latest.
  CHECK(publish_checkpoint(dir.path(), 4) == dir / "ckpt-00000004.safetensors");
  CHECK(Checkpoint(resolve_checkpoint("", dir.path())).meta().step == 4);
  // A later writer of the same name simply truncates a stale .tmp.
  write_checkpoint(dir.path(), meta(6), second.tensors, host_memory());
  CHECK(Checkpoint(resolve_checkpoint("", dir.path())).meta().step == 6);
  CHECK_FALSE(test::file_exists(dir / "ckpt-00000006.safetensors.tmp"));
}

TEST_CASE("checkpoint: a checkpoint of another model is refused, naming the tensor",
          "[runtime][checkpoint]") {
  TempDir dir;
  State saved(1.0f);
  std::string path = write_checkpoint(dir.path(), meta(3), saved.tensors, host_memory());
  Checkpoint checkpoint(path);

  const int64_t wide[] = {2, 4};
  TensorSpec reshaped{"fc.weight", DType::f32, 2, wide};
  TensorSpec retyped{"fc.bias", DType::f64, 1, kBiasShape};
  TensorSpec renamed{"fc.weights", DType::f32, 2, kWeightShape};
  std::vector<const TensorSpec *> specs = checkpoint_specs(model());

  auto with = [&](size_t index, const TensorSpec *spec) {
    std::vector<const TensorSpec *> changed = specs;
    changed[index] = spec;
    return changed;
  };
  REQUIRE_THROWS_WITH(checkpoint.verify(with(0, &reshaped)),
                      Contains("does not fit this model: tensor 'fc.weight' is float32[2, 3] in "
                               "the checkpoint but the model has float32[2, 4]"));
  REQUIRE_THROWS_WITH(checkpoint.verify(with(1, &retyped)),
                      Contains("tensor 'fc.bias' is float32[3]") && Contains("float64[3]"));
  REQUIRE_THROWS_WITH(checkpoint.verify(with(0, &renamed)),
                      Contains("it has no tensor 'fc.weights' (float32[2, 3])"));
  specs.pop_back();
  REQUIRE_THROWS_WITH(
      checkpoint.verify(specs),
      Contains("it has tensor 'fc.bias.momentum_buffer', which the model does not"));
}

TEST_CASE("checkpoint: damaged files and directories give clear errors", "[runtime][checkpoint]") {
  TempDir dir;
  REQUIRE_THROWS_WITH(resolve_checkpoint("", dir.path()),
                      Contains("no checkpoint to resume from") &&
                          Contains("latest' does not exist"));
  REQUIRE_THROWS_WITH(resolve_checkpoint("", ""), Contains("needs --checkpoint-dir"));
  CHECK_FALSE(has_checkpoints(dir.path()));

  State saved(1.0f);
  std::string path = write_checkpoint(dir.path(), meta(3), saved.tensors, host_memory());
  std::string bytes = test::read_bytes(path);
  test::write_bytes(path, bytes.substr(0, bytes.size() - 10));
  REQUIRE_THROWS_WITH(Checkpoint(path),
                      Contains("not a valid safetensors file") && Contains("(truncated)"));
  test::write_bytes(path, std::string("\x05\x00\x00\x00\x00\x00\x00\x00{}xyz", 13));
  REQUIRE_THROWS_WITH(Checkpoint(path), Contains("does not parse"));
  REQUIRE_THROWS_WITH(Checkpoint(dir / "nowhere.safetensors"), Contains("cannot open"));

  // Valid safetensors, but not written by a Cleave run.
  SafetensorsWriter foreign(dir / "foreign.safetensors", {}, {{"format", "pt"}});
  foreign.commit();
  REQUIRE_THROWS_WITH(Checkpoint(dir / "foreign.safetensors"),
                      Contains("lacks the metadata field 'cleave_checkpoint'"));
  Metadata fields = to_metadata(meta(3));
  fields["step"] = "three";
  REQUIRE_THROWS_WITH(from_metadata(fields, "c.safetensors"),
                      Contains("malformed metadata field step = 'three'"));

  test::write_bytes(dir / "latest", "../../etc/passwd\n");
  REQUIRE_THROWS_WITH(resolve_checkpoint("", dir.path()), Contains("latest' is damaged"));
}
