//===- ForwardLibrary.cpp - many generated programs in one shared library --===//
#include "ForwardLibrary.h"

#include "llvm/ADT/StringRef.h"

#include <dlfcn.h>
#include <set>

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::nodetests;

static llvm::Error makeError(const std::string &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

std::string nodetests::joinPrograms(const std::vector<GeneratedProgram> &programs) {
  std::vector<std::string> includes;
  std::set<std::string> seen;
  std::string bodies;
  for (const GeneratedProgram &program : programs) {
    bodies += "namespace " + program.symbolPrefix + "program {\n";
    llvm::StringRef rest(program.source);
    while (!rest.empty()) {
      auto [line, next] = rest.split('\n');
      rest = next;
      // Hoisted: a header included inside a namespace would declare its
      // contents there.
      if (line.starts_with("#include")) {
        if (seen.insert(line.str()).second)
          includes.push_back(line.str());
        continue;
      }
      bodies += line.str() + "\n";
    }
    bodies += "} // namespace " + program.symbolPrefix + "program\n\n";
  }
  std::string unit = "// " + std::to_string(programs.size()) +
                     " generated forward programs in one translation unit.\n";
  for (const std::string &include : includes)
    unit += include + "\n";
  return unit + "\n" + bodies;
}

llvm::Error nodetests::buildForwardLibrary(const std::vector<GeneratedProgram> &programs,
                                           const std::string &path,
                                           const std::string &optimization) {
  Toolchain toolchain = getBuiltInToolchain();
  toolchain.optimization = optimization;
  return compileExecutable(joinPrograms(programs), codegen::Target::cpu, path, toolchain,
                           /*sharedLibrary=*/true);
}

llvm::Expected<ForwardLibrary> ForwardLibrary::open(const std::string &path) {
  void *handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle)
    return makeError(std::string("dlopen failed: ") + dlerror());
  return ForwardLibrary(handle);
}

ForwardLibrary::~ForwardLibrary() {
  if (handle)
    dlclose(handle);
}

llvm::Error ForwardLibrary::lookup(const std::string &symbolPrefix, ModelInfoFunction &info,
                                   StepFunction &step) const {
  info = reinterpret_cast<ModelInfoFunction>(dlsym(handle, (symbolPrefix + "model_info").c_str()));
  step = reinterpret_cast<StepFunction>(dlsym(handle, (symbolPrefix + "train_step").c_str()));
  if (!info || !step)
    return makeError("the library lacks " + symbolPrefix + "model_info or " + symbolPrefix +
                     "train_step");
  return llvm::Error::success();
}
