//===- onnx_export.cpp - the trained model as ONNX -------------------------===//
#include "cleave/rt/onnx_export.h"

#include "cleave/rt/check.h"
#include "file_util.h"
#include "onnx_tensor.h"

#include <google/protobuf/io/zero_copy_stream_impl.h>

#include <climits>
#include <unordered_map>

namespace cleave::rt {

using onnx::TensorProto;

namespace {

/// Replaces the external reference of `tensor` with its bytes.
void inline_external(TensorProto &tensor, ExternalData &external) {
  std::string bytes(static_cast<size_t>(external.length(tensor)), '\0');
  external.read(tensor, bytes.data());
  tensor.clear_external_data();
  tensor.clear_data_location();
  tensor.set_raw_data(std::move(bytes));
}

/// Inlines every external tensor of `graph`: initializers and tensor
/// attributes of its nodes, recursing into subgraphs (If, Loop, Scan).
void inline_graph(onnx::GraphProto &graph, ExternalData &external) {
  for (TensorProto &tensor : *graph.mutable_initializer())
    if (is_external(tensor))
      inline_external(tensor, external);
  for (onnx::NodeProto &node : *graph.mutable_node()) {
    for (onnx::AttributeProto &attribute : *node.mutable_attribute()) {
      if (attribute.has_t() && is_external(attribute.t()))
        inline_external(*attribute.mutable_t(), external);
      for (TensorProto &tensor : *attribute.mutable_tensors())
        if (is_external(tensor))
          inline_external(tensor, external);
      if (attribute.has_g())
        inline_graph(*attribute.mutable_g(), external);
      for (onnx::GraphProto &subgraph : *attribute.mutable_graphs())
        inline_graph(subgraph, external);
    }
  }
}

} // namespace

void export_onnx(const std::string &model_path, const std::string &out_path,
                 const std::vector<BoundTensor> &params, DeviceMemory &memory) {
  // Every parameter goes into the one protobuf message: refuse before
  // copying gigabytes when they alone break the 2 GiB limit.
  int64_t param_bytes = 0;
  for (const BoundTensor &param : params)
    param_bytes += byte_size(*param.spec);
  if (param_bytes > INT_MAX)
    fail("cannot --save-onnx '", out_path, "': the parameters alone take ", param_bytes,
         " bytes, over protobuf's 2 GiB limit for one ONNX message");

  onnx::ModelProto model = load_model_proto(model_path);
  onnx::GraphProto &graph = *model.mutable_graph();

  std::unordered_map<std::string, TensorProto *> initializers;
  for (TensorProto &tensor : *graph.mutable_initializer())
    initializers.emplace(tensor.name(), &tensor);
  for (const BoundTensor &param : params) {
    auto found = initializers.find(param.spec->name);
    TensorProto *tensor = found != initializers.end() ? found->second : graph.add_initializer();
    tensor->Clear();
    tensor->set_name(param.spec->name);
    tensor->set_data_type(onnx_from_dtype(param.spec->dtype));
    for (int32_t d = 0; d < param.spec->rank; ++d)
      tensor->add_dims(param.spec->shape[d]);
    std::string bytes(static_cast<size_t>(byte_size(*param.spec)), '\0');
    memory.copy_to_host(bytes.data(), param.data, byte_size(*param.spec));
    tensor->set_raw_data(std::move(bytes));
  }
  // The trained parameters are inline now; whatever else still points at
  // the original's data files is copied in.
  ExternalData external(model_path);
  inline_graph(graph, external);

  size_t size = model.ByteSizeLong();
  if (size > static_cast<size_t>(INT_MAX))
    fail("cannot --save-onnx '", out_path, "': the model with its weights inline is ", size,
         " bytes, over protobuf's 2 GiB limit for one message");
  AtomicFileWriter out(out_path);
  {
    google::protobuf::io::FileOutputStream stream(out.fd());
    if (!model.SerializeToZeroCopyStream(&stream) || !stream.Flush())
      fail("cannot write '", out.temp_path(), "': ", last_system_error());
  }
  out.commit();
}

} // namespace cleave::rt
