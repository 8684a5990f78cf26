//===- onnx_tensor.h - reading ONNX models and their tensors' bytes --------===//
//
// Private to cleave_rt_core; shared by weights.cpp (initial parameter
// values) and onnx_export.cpp (which inlines external data). External data
// follows the ONNX convention: data_location = EXTERNAL and the
// external_data entries `location` (a path relative to the model's
// directory), `offset` and `length` in bytes.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_CORE_ONNX_TENSOR_H
#define CLEAVE_RT_CORE_ONNX_TENSOR_H

#include "cleave/rt/model.h"
#include "file_util.h"

#include "onnx/onnx_pb.h"

#include <map>
#include <optional>
#include <string>

namespace cleave::rt {

/// Parses the ModelProto at `path` (one pass over the file; external data
/// is not touched). Error when the file is missing or not an ONNX model.
onnx::ModelProto load_model_proto(const std::string &path);

/// The runtime DType of an ONNX TensorProto data type, if it has one.
std::optional<DType> dtype_from_onnx(int32_t data_type);
int32_t onnx_from_dtype(DType dtype);
/// "float32", "uint16", ...: how messages name an ONNX data type.
std::string onnx_type_name(int32_t data_type);

bool is_external(const onnx::TensorProto &tensor);

/// Opens each external data file once and reads byte ranges from it.
class ExternalData {
public:
  /// `model_path` is the ONNX file; locations resolve against its directory.
  explicit ExternalData(const std::string &model_path);

  /// The tensor's data length in bytes: its `length` entry, or else what
  /// its dims and data type need. Error when neither is known.
  int64_t length(const onnx::TensorProto &tensor);
  /// Reads the tensor's `length(tensor)` bytes into `dst`. Errors name the
  /// initializer, the model and the data file.
  void read(const onnx::TensorProto &tensor, void *dst);

private:
  struct Location {
    std::string path;
    int64_t offset = 0;
    std::optional<int64_t> length;
  };
  Location locate(const onnx::TensorProto &tensor);

  std::string model_path_;
  std::map<std::string, File> files_;
};

} // namespace cleave::rt

#endif // CLEAVE_RT_CORE_ONNX_TENSOR_H
