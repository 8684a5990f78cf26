//===- onnx_export.h - the trained model as ONNX ---------------------------===//
#ifndef CLEAVE_RT_ONNX_EXPORT_H
#define CLEAVE_RT_ONNX_EXPORT_H

#include "cleave/rt/device_memory.h"
#include "cleave/rt/tensor.h"

#include <string>
#include <vector>

namespace cleave::rt {

/// Writes `out_path` (atomically): the ModelProto of `model_path`, with the
/// initializer of each tensor in `params` (ModelInfo::params, in `memory`)
/// holding its trained value as inline raw_data; an initializer missing
/// from the original (a model exported without weights) is appended.
/// Every other tensor the original kept as external data (initializers,
/// Constant values, in subgraphs too) is inlined as well, so the result is
/// one self-contained file. Error when the original cannot be read, or the
/// result would exceed protobuf's 2 GiB message limit.
void export_onnx(const std::string &model_path, const std::string &out_path,
                 const std::vector<BoundTensor> &params, DeviceMemory &memory);

} // namespace cleave::rt

#endif // CLEAVE_RT_ONNX_EXPORT_H
