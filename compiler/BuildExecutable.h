//===- BuildExecutable.h - generated source to a training executable -----===//
//
// The last step of cleavec: the host compiler (c++ or nvcc) turns the
// generated source into an executable or shared library linked with the
// runtime. Kept out of the tool so that tests drive the same code.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_COMPILER_BUILDEXECUTABLE_H
#define CLEAVE_COMPILER_BUILDEXECUTABLE_H

#include "compiler/Codegen/Codegen.h"

#include "llvm/Support/Error.h"

#include <string>

namespace mlir::cleave {

/// Where the runtime's headers and libraries are, and how to link them.
struct Toolchain {
  std::string cxx = "c++";
  std::string nvcc = "nvcc";
  std::string runtimeInclude;
  std::string runtimeLibraryDir;
  std::string cpuLinkFlags;  // libraries after the runtime's, for the CPU target
  std::string cudaLinkFlags; // likewise for CUDA
  /// Put before cpuLinkFlags for a program compiled for a device grid (the
  /// communicators and MPI); empty where MPI was not found at build time.
  std::string commLinkFlags;
  /// Likewise before cudaLinkFlags (device communicators, MPI, NCCL);
  /// empty where MPI or the CUDA runtime was not built.
  std::string cudaCommLinkFlags;
  std::string cudaArchitectures = "80;90";
  /// Optimisation flag for the generated program. Tests that compile
  /// hundreds of small programs trade run-time speed for compile time.
  std::string optimization = "-O2";
};

/// The toolchain cleavec was built with (paths of this build tree).
Toolchain getBuiltInToolchain();

/// Compiles generated `source` (C++ for cpu, CUDA C++ for cuda) into the
/// executable `output`, or a shared library when `sharedLibrary` (source
/// generated without main()). The compiler's output is returned in the error.
llvm::Error compileExecutable(const std::string &source, codegen::Target target,
                              const std::string &output, const Toolchain &toolchain,
                              bool sharedLibrary = false);

} // namespace mlir::cleave

#endif // CLEAVE_COMPILER_BUILDEXECUTABLE_H
