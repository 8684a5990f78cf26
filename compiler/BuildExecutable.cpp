//===- BuildExecutable.cpp - generated source to a training executable ---===//
#include "compiler/BuildExecutable.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::cleave;

static llvm::Error makeError(const std::string &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

Toolchain mlir::cleave::getBuiltInToolchain() {
  Toolchain toolchain;
  toolchain.runtimeInclude = CLEAVE_RUNTIME_INCLUDE_DIR;
  toolchain.runtimeLibraryDir = CLEAVE_RUNTIME_LIBRARY_DIR;
  toolchain.cpuLinkFlags = CLEAVE_RUNTIME_CPU_LINK_FLAGS;
  toolchain.cudaLinkFlags = CLEAVE_RUNTIME_CUDA_LINK_FLAGS;
  toolchain.commLinkFlags = CLEAVE_RUNTIME_COMM_LINK_FLAGS;
  toolchain.cudaCommLinkFlags = CLEAVE_RUNTIME_CUDA_COMM_LINK_FLAGS;
  toolchain.cxx = CLEAVE_HOST_CXX;
  toolchain.nvcc = CLEAVE_NVCC;
  return toolchain;
}

/// Splits a space-separated flag list.
static void appendFlags(std::vector<std::string> &args, llvm::StringRef flags) {
  llvm::SmallVector<llvm::StringRef> parts;
  flags.split(parts, ' ', -1, /*KeepEmpty=*/false);
  for (llvm::StringRef part : parts)
    args.push_back(part.str());
}

llvm::Error mlir::cleave::compileExecutable(const std::string &source, codegen::Target target,
                                            const std::string &output, const Toolchain &toolchain,
                                            bool sharedLibrary) {
  bool cuda = target == codegen::Target::cuda;
  llvm::SmallString<128> sourcePath, logPath;
  if (auto error =
          llvm::sys::fs::createTemporaryFile("cleave-train", cuda ? "cu" : "cpp", sourcePath))
    return makeError("cannot create a temporary file: " + error.message());
  if (auto error = llvm::sys::fs::createTemporaryFile("cleave-cc", "log", logPath))
    return makeError("cannot create a temporary file: " + error.message());
  {
    std::error_code error;
    llvm::raw_fd_ostream file(sourcePath, error);
    if (error)
      return makeError("cannot write '" + std::string(sourcePath) + "': " + error.message());
    file << source;
  }
  std::string compiler = cuda ? toolchain.nvcc : toolchain.cxx;
  llvm::ErrorOr<std::string> program = llvm::sys::findProgramByName(compiler);
  if (!program)
    return makeError("cannot find the " + std::string(cuda ? "CUDA" : "C++") + " compiler '" +
                     compiler + "'" +
                     (cuda ? "; install the CUDA toolkit or use --target cpu" : ""));
  std::vector<std::string> args = {*program,
                                   toolchain.optimization,
                                   "-std=c++17",
                                   "-o",
                                   output,
                                   std::string(sourcePath),
                                   "-I" + toolchain.runtimeInclude,
                                   "-L" + toolchain.runtimeLibraryDir};
  if (sharedLibrary) {
    args.push_back("-shared");
    args.push_back(cuda ? "-Xcompiler=-fPIC" : "-fPIC");
  }
  if (cuda) {
    llvm::SmallVector<llvm::StringRef> archs;
    llvm::StringRef(toolchain.cudaArchitectures).split(archs, ';');
    for (llvm::StringRef arch : archs)
      args.push_back(("-gencode=arch=compute_" + arch + ",code=sm_" + arch).str());
    appendFlags(args, toolchain.cudaLinkFlags);
  } else {
    args.push_back("-fopenmp");
    args.push_back("-march=x86-64-v2");
    appendFlags(args, toolchain.cpuLinkFlags);
  }
  std::vector<llvm::StringRef> argRefs(args.begin(), args.end());
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, logPath.str(), logPath.str()};
  std::string message;
  int status =
      llvm::sys::ExecuteAndWait(*program, argRefs, std::nullopt, redirects, 0, 0, &message);
  std::string log;
  if (auto buffer = llvm::MemoryBuffer::getFile(logPath))
    log = (*buffer)->getBuffer().str();
  llvm::sys::fs::remove(logPath);
  if (status != 0) {
    std::string command;
    for (const std::string &arg : args)
      command += arg + " ";
    return makeError("compiling the generated program failed (kept at " + std::string(sourcePath) +
                     "):\n" + command + "\n" + log + message);
  }
  llvm::sys::fs::remove(sourcePath);
  return llvm::Error::success();
}
