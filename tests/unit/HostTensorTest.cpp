// HostTensor: the compile-time values the importer folds shape arithmetic with.
#include "compiler/Importer/HostTensor.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/MLIRContext.h"
#include "onnx/onnx_pb.h"

#include <catch2/catch.hpp>

#include <cstring>
#include <limits>

using namespace mlir;
using mlir::cleave::importer::broadcastShapes;
using mlir::cleave::importer::computeStrides;
using mlir::cleave::importer::forEachBroadcastIndex;
using mlir::cleave::importer::HostTensor;

TEST_CASE("broadcastShapes follows NumPy rules", "[hosttensor]") {
  std::vector<int64_t> result;
  REQUIRE(broadcastShapes({2, 1, 4}, {3, 1}, result));
  CHECK(result == std::vector<int64_t>{2, 3, 4});
  REQUIRE(broadcastShapes({}, {5}, result));
  CHECK(result == std::vector<int64_t>{5});
  CHECK_FALSE(broadcastShapes({2, 3}, {4}, result));
}

TEST_CASE("computeStrides is row-major", "[hosttensor]") {
  CHECK(computeStrides({2, 3, 4}) == std::vector<int64_t>{12, 4, 1});
  CHECK(computeStrides({}).empty());
}

TEST_CASE("forEachBroadcastIndex reads broadcast operands at stride 0", "[hosttensor]") {
  std::vector<std::pair<int64_t, int64_t>> seen;
  forEachBroadcastIndex({2, 3}, {std::vector<int64_t>{2, 1}, std::vector<int64_t>{3}},
                        [&](int64_t flat, llvm::ArrayRef<int64_t> offsets) {
                          seen.emplace_back(offsets[0], offsets[1]);
                          CHECK(flat == static_cast<int64_t>(seen.size()) - 1);
                        });
  std::vector<std::pair<int64_t, int64_t>> expected = {{0, 0}, {0, 1}, {0, 2},
                                                       {1, 0}, {1, 1}, {1, 2}};
  CHECK(seen == expected);
}

TEST_CASE("HostTensor keeps int64 exact, including INT64_MAX sentinels", "[hosttensor]") {
  MLIRContext context;
  Builder builder(&context);
  int64_t big = std::numeric_limits<int64_t>::max();
  HostTensor ends = HostTensor::fromInts(builder.getI64Type(), {2}, {big, -1});
  CHECK(ends.getInt(0) == big);
  CHECK(ends.getInt(1) == -1);
  auto attr = ends.toAttr();
  CHECK(attr.getValues<int64_t>()[0] == big);
}

TEST_CASE("HostTensor casts like ONNX Cast", "[hosttensor]") {
  MLIRContext context;
  Builder builder(&context);
  HostTensor values = HostTensor::fromDoubles(builder.getF32Type(), {3}, {1.7, -2.5, 0.0});
  HostTensor ints = values.castTo(builder.getI64Type());
  CHECK(ints.toInts() == std::vector<int64_t>{1, -2, 0});
  HostTensor bools = values.castTo(builder.getI1Type());
  CHECK(bools.toInts() == std::vector<int64_t>{1, 1, 0});
}

TEST_CASE("HostTensor decodes raw and typed TensorProto data", "[hosttensor]") {
  MLIRContext context;
  Builder builder(&context);
  onnx::TensorProto raw;
  raw.set_name("w");
  raw.set_data_type(onnx::TensorProto::FLOAT);
  raw.add_dims(2);
  float data[2] = {0.5f, -3.0f};
  raw.set_raw_data(std::string(reinterpret_cast<const char *>(data), sizeof(data)));
  auto decoded = HostTensor::fromProto(raw, builder.getF32Type());
  REQUIRE(static_cast<bool>(decoded));
  CHECK(decoded->getDouble(0) == 0.5);
  CHECK(decoded->getDouble(1) == -3.0);

  onnx::TensorProto typed;
  typed.set_name("shape");
  typed.set_data_type(onnx::TensorProto::INT64);
  typed.add_dims(3);
  for (int64_t v : {2, -1, 16})
    typed.add_int64_data(v);
  auto shape = HostTensor::fromProto(typed, builder.getI64Type());
  REQUIRE(static_cast<bool>(shape));
  CHECK(shape->toInts() == std::vector<int64_t>{2, -1, 16});
}

TEST_CASE("HostTensor rejects a TensorProto whose data does not fill its shape", "[hosttensor]") {
  MLIRContext context;
  Builder builder(&context);
  onnx::TensorProto bad;
  bad.set_name("short");
  bad.set_data_type(onnx::TensorProto::INT64);
  bad.add_dims(4);
  bad.add_int64_data(1);
  auto decoded = HostTensor::fromProto(bad, builder.getI64Type());
  REQUIRE_FALSE(static_cast<bool>(decoded));
  std::string message = llvm::toString(decoded.takeError());
  CHECK(message.find("'short'") != std::string::npos);
  CHECK(message.find("holds 1 values but its shape needs 4") != std::string::npos);
}
