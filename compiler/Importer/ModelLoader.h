//===- ModelLoader.h - read and validate an ONNX model --------------------===//
//
// Everything that happens before IR is built: parsing, the opset check,
// ONNX's checker, fixing symbolic input dimensions, external-data checks and
// ONNX shape inference. Kept apart from graph translation so each can be
// read (and tested) on its own.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_COMPILER_IMPORTER_MODELLOADER_H
#define CLEAVE_COMPILER_IMPORTER_MODELLOADER_H

#include "compiler/Importer/Importer.h"

#include "onnx/onnx_pb.h"

#include <string>
#include <unordered_map>

namespace mlir::cleave::importer {

/// Parses binary or textual ONNX into `model`.
llvm::Error parseModelFile(const std::string &path, onnx::ModelProto &model);
llvm::Error parseModelText(const std::string &text, onnx::ModelProto &model);

/// The default-domain opset, checked against [kMinOpset, kMaxOpset].
llvm::Expected<int64_t> getCheckedOpset(const onnx::ModelProto &model);

/// Checks external-data files (unless options say not to), runs ONNX's
/// checker and makes every data input's shape static (from `options`).
llvm::Error checkModel(onnx::ModelProto &model, const ImportOptions &options,
                       const std::string &baseDirectory);

/// Runs ONNX shape inference (strict, with data propagation). On return
/// `inferredTypes` maps each value name ONNX could type. ONNX 1.12 does not
/// validate every attribute it computes with: call it only on nodes the
/// import rules have accepted.
llvm::Error inferShapes(onnx::ModelProto &model,
                        std::unordered_map<std::string, onnx::TypeProto> &inferredTypes);

/// Where an external-data initializer keeps its bytes.
struct ExternalData {
  std::string location;
  int64_t offset = 0;
  int64_t length = -1; // -1: to the end of the tensor's natural size
};
ExternalData readExternalData(const onnx::TensorProto &tensor);

} // namespace mlir::cleave::importer

#endif // CLEAVE_COMPILER_IMPORTER_MODELLOADER_H
