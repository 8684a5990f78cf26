//===- Importer.h - ONNX model -> cleave dialect --------------------------===//
//
// Reads an ONNX model (binary protobuf or ONNX's textual syntax), validates
// it with ONNX's checker and shape inference, and builds one `func.func
// @forward` in the cleave dialect: parameters first (named after their
// initializers, values left in the file), then data inputs. Every failure
// comes back as an llvm::Error with one message a user can act on.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_COMPILER_IMPORTER_IMPORTER_H
#define CLEAVE_COMPILER_IMPORTER_IMPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mlir::cleave {

struct ImportOptions {
  /// Static shapes for data inputs, by name; required for inputs whose ONNX
  /// shape has symbolic or unknown dimensions, allowed for any input.
  std::map<std::string, std::vector<int64_t>> inputShapes;
  /// Fills a symbolic first (batch) dimension of every data input.
  std::optional<int64_t> batchSize;
  /// Require every external-data file to exist and be large enough. Off
  /// for planning a model whose weights were never written.
  bool requireWeights = true;
  /// Glob patterns (llvm::GlobPattern) over parameter names: matching
  /// parameters are frozen, i.e. buffers (#cleave.param<..., buffer>) that
  /// no forward op writes. Each must match at least one parameter. The model's own list,
  /// metadata_props key kFrozenMetadataKey, is honoured as well.
  std::vector<std::string> freeze;
};

/// metadata_props key of a comma-separated list of initializer names that
/// training must not update (PyTorch's registered buffers).
constexpr const char *kFrozenMetadataKey = "cleave.frozen";

/// The lowest and highest default-domain opsets the importer accepts.
constexpr int64_t kMinOpset = 7;
constexpr int64_t kMaxOpset = 17;

/// Imports the model at `path`: binary ONNX, or textual ONNX when the file
/// name ends in `.onnxtext` or the file starts with '<'.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
importOnnxFile(const std::string &path, const ImportOptions &options, mlir::MLIRContext &context);

/// Imports a model written in ONNX's textual syntax. External-data paths
/// resolve against `baseDirectory`.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
importOnnxText(const std::string &text, const ImportOptions &options, mlir::MLIRContext &context,
               const std::string &baseDirectory = ".");

/// The ONNX op types the importer knows, sorted.
std::vector<std::string> getSupportedOnnxOps();

/// Parses "name=d0,d1,..." (as given to --input-shape).
llvm::Error parseInputShape(const std::string &text, ImportOptions &options);

} // namespace mlir::cleave

#endif // CLEAVE_COMPILER_IMPORTER_IMPORTER_H
