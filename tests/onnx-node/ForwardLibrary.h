//===- ForwardLibrary.h - many generated programs in one shared library ----===//
//
// Compiling each node test's forward pass on its own would parse the
// runtime headers and link the runtime once per model (hundreds of times).
// Instead the sources of many programs, each generated with its own symbol
// prefix and without main(), become one translation unit: their #include
// lines once at the top, each program's body in a namespace of its own
// (the generated code keeps its helpers in an anonymous namespace, which
// would clash between programs). One compiler run builds the library;
// `<prefix>model_info` and `<prefix>train_step` find each program in it.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_TESTS_ONNX_NODE_FORWARDLIBRARY_H
#define CLEAVE_TESTS_ONNX_NODE_FORWARDLIBRARY_H

#include "compiler/BuildExecutable.h"

#include "cleave/rt/model.h"

#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace mlir::cleave::nodetests {

/// One program's generated source (CodegenOptions::emitMain = false) and
/// the symbol prefix it was generated with.
struct GeneratedProgram {
  std::string symbolPrefix;
  std::string source;
};

/// The programs as one translation unit (see the file comment).
std::string joinPrograms(const std::vector<GeneratedProgram> &programs);

/// Compiles `programs` into the shared library `path` with the built-in
/// toolchain (compiler/BuildExecutable.h) at optimisation `optimization`.
llvm::Error buildForwardLibrary(const std::vector<GeneratedProgram> &programs,
                                const std::string &path, const std::string &optimization);

using ModelInfoFunction = const ::cleave::rt::ModelInfo *(*)();
using StepFunction = void (*)(const ::cleave::rt::StepScalars *, const ::cleave::rt::StepBuffers *);

/// A loaded library; closed on destruction.
class ForwardLibrary {
public:
  static llvm::Expected<ForwardLibrary> open(const std::string &path);
  ForwardLibrary(ForwardLibrary &&other) noexcept : handle(other.handle) { other.handle = nullptr; }
  ForwardLibrary(const ForwardLibrary &) = delete;
  ~ForwardLibrary();

  /// The entry points of the program generated with `symbolPrefix`.
  llvm::Error lookup(const std::string &symbolPrefix, ModelInfoFunction &info,
                     StepFunction &step) const;

private:
  explicit ForwardLibrary(void *handle) : handle(handle) {}
  void *handle;
};

} // namespace mlir::cleave::nodetests

#endif // CLEAVE_TESTS_ONNX_NODE_FORWARDLIBRARY_H
