//===- OnnxExportTest.cpp - --save-onnx --------------------------------------===//
#include "TestUtil.h"

#include "cleave/rt/onnx_export.h"
#include "cleave/rt/weights.h"

#include "onnx/onnx_pb.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

using namespace cleave::rt;
using Catch::Matchers::Contains;
using test::TempDir;

namespace {

onnx::ModelProto load(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  onnx::ModelProto model;
  REQUIRE(model.ParseFromIstream(&in));
  return model;
}

const onnx::TensorProto *find(const onnx::ModelProto &model, const std::string &name) {
  for (const onnx::TensorProto &tensor : model.graph().initializer())
    if (tensor.name() == name)
      return &tensor;
  return nullptr;
}

void set_external(onnx::TensorProto &tensor, int64_t offset, int64_t length) {
  tensor.set_data_location(onnx::TensorProto::EXTERNAL);
  for (auto [key, value] : {std::pair<std::string, std::string>{"location", "m.weights"},
                            {"offset", std::to_string(offset)},
                            {"length", std::to_string(length)}}) {
    auto *entry = tensor.add_external_data();
    entry->set_key(key);
    entry->set_value(value);
  }
}

const int64_t k2x2[] = {2, 2};
const int64_t k2[] = {2};

} // namespace

TEST_CASE("onnx export: trained values replace the initializers, inline", "[runtime][export]") {
  TempDir dir;
  // The original: w external, `shape` (not a parameter) external, a Constant
  // node with an external tensor, b inline; the new parameter `extra` is
  // not in it at all.
  std::vector<float> blob = {1, 2, 3, 4};
  std::vector<int64_t> shape_values = {4, 1};
  std::string bytes(reinterpret_cast<const char *>(blob.data()), 16);
  bytes.append(reinterpret_cast<const char *>(shape_values.data()), 16);
  test::write_bytes(dir / "m.weights", bytes);
  onnx::ModelProto original;
  original.set_ir_version(8);
  original.mutable_graph()->set_name("g");
  onnx::NodeProto *node = original.mutable_graph()->add_node();
  node->set_op_type("Constant");
  node->add_output("c");
  onnx::AttributeProto *value = node->add_attribute();
  value->set_name("value");
  value->set_type(onnx::AttributeProto::TENSOR);
  value->mutable_t()->set_data_type(onnx::TensorProto::INT64);
  value->mutable_t()->add_dims(2);
  set_external(*value->mutable_t(), 16, 16);
  onnx::TensorProto *w = original.mutable_graph()->add_initializer();
  w->set_name("w");
  w->set_data_type(onnx::TensorProto::FLOAT);
  w->add_dims(2);
  w->add_dims(2);
  set_external(*w, 0, 16);
  onnx::TensorProto *shape = original.mutable_graph()->add_initializer();
  shape->set_name("shape");
  shape->set_data_type(onnx::TensorProto::INT64);
  shape->add_dims(2);
  set_external(*shape, 16, 16);
  onnx::TensorProto *b = original.mutable_graph()->add_initializer();
  b->set_name("b");
  b->set_data_type(onnx::TensorProto::FLOAT);
  b->add_dims(2);
  b->add_float_data(0);
  b->add_float_data(0);
  {
    std::ofstream out(dir / "m.onnx", std::ios::binary);
    REQUIRE(original.SerializeToOstream(&out));
  }

  std::vector<float> trained_w = {10, 20, 30, 40}, trained_b = {-1, -2}, trained_extra = {7, 8};
  TensorSpec w_spec{"w", DType::f32, 2, k2x2}, b_spec{"b", DType::f32, 1, k2},
      extra_spec{"extra", DType::f32, 1, k2};
  std::string out_dir = dir / "elsewhere";
  std::filesystem::create_directory(out_dir);
  std::string out = out_dir + "/trained.onnx";
  export_onnx(dir / "m.onnx", out,
              {{&w_spec, trained_w.data()},
               {&b_spec, trained_b.data()},
               {&extra_spec, trained_extra.data()}},
              host_memory());
  CHECK(test::list_dir(out_dir) == std::vector<std::string>{"trained.onnx"});

  onnx::ModelProto exported = load(out);
  CHECK(exported.graph().name() == "g");
  CHECK(exported.graph().node_size() == 1);
  for (const onnx::TensorProto &tensor : exported.graph().initializer()) {
    INFO(tensor.name());
    CHECK(tensor.data_location() == onnx::TensorProto::DEFAULT);
    CHECK(tensor.external_data_size() == 0);
  }
  CHECK(find(exported, "w")->raw_data() ==
        std::string(reinterpret_cast<const char *>(trained_w.data()), 16));
  CHECK(find(exported, "b")->float_data_size() == 0); // replaced by raw_data
  CHECK(find(exported, "shape")->raw_data() == bytes.substr(16));
  CHECK(exported.graph().node(0).attribute(0).t().raw_data() == bytes.substr(16));
  REQUIRE(find(exported, "extra"));

  // And the runtime reads its own export back.
  WeightReader reader(out);
  std::vector<float> values(4);
  reader.read(w_spec, values.data());
  CHECK(values == trained_w);
  reader.read(extra_spec, values.data());
  CHECK(values[1] == 8.0f);
}

TEST_CASE("onnx export: errors name the files", "[runtime][export]") {
  TempDir dir;
  std::vector<float> values = {1, 2};
  TensorSpec spec{"b", DType::f32, 1, k2};
  REQUIRE_THROWS_WITH(
      export_onnx(dir / "missing.onnx", dir / "out.onnx", {{&spec, values.data()}}, host_memory()),
      Contains("cannot open") && Contains("missing.onnx"));

  onnx::ModelProto original;
  onnx::TensorProto *lost = original.mutable_graph()->add_initializer();
  lost->set_name("lost");
  lost->set_data_type(onnx::TensorProto::FLOAT);
  lost->add_dims(2);
  set_external(*lost, 0, 8);
  {
    std::ofstream out(dir / "m.onnx", std::ios::binary);
    REQUIRE(original.SerializeToOstream(&out));
  }
  REQUIRE_THROWS_WITH(
      export_onnx(dir / "m.onnx", dir / "out.onnx", {{&spec, values.data()}}, host_memory()),
      Contains("initializer 'lost'") && Contains("m.weights"));
  CHECK_FALSE(test::file_exists(dir / "out.onnx"));
  CHECK_FALSE(test::file_exists(dir / "out.onnx.tmp"));
}
