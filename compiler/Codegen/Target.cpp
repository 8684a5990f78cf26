//===- Target.cpp - the CPU and the CUDA flavour of the generated source -===//
//
// CPU: kernels from cleave::rt::cpu, fused loops as OpenMP loop nests
// inside the step function, float exp/erf from cleave/rt/vmath.h.
// CUDA: kernels from cleave::rt::cuda, each fused loop a kernel with one
// thread per element, constants in device memory read through their
// symbol's address, copies with cudaMemcpy.
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/Target.h"

#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::cleave::codegen;

/// Loops with fewer elements run on one thread: forking costs more.
constexpr int64_t kParallelLoopThreshold = 1 << 15;
/// Threads per block of the generated CUDA kernels.
constexpr int64_t kCudaBlockSize = 256;

static int64_t product(ArrayRef<int64_t> dims) {
  int64_t count = 1;
  for (int64_t size : dims)
    count *= size;
  return count;
}

LogicalResult CodegenTarget::emitLoopKernel(raw_ostream &, int, ArrayRef<KernelParameter>,
                                            ArrayRef<int64_t>, LoopBodyWriter) const {
  return success(); // loops run inside the step function
}

void CodegenTarget::emitIncludes(raw_ostream &os, bool distributed) const {
  os << "#include \"cleave/rt/model.h\"\n#include \"cleave/rt/philox.h\"\n";
  if (distributed)
    os << "#include \"cleave/rt/" << spelling.collectivesHeader << "\"\n";
  for (StringRef header : spelling.kernelHeaders)
    os << "#include \"cleave/rt/" << header << "\"\n";
}

namespace {

const StringRef kCpuKernelHeaders[] = {"kernels.h", "vmath.h"};
const TargetSpelling kCpu = {
    /*name=*/"cpu",
    /*collectivesHeader=*/"collectives.h",
    /*kernelHeaders=*/kCpuKernelHeaders,
    /*kernelNamespace=*/"cleave::rt::cpu",
    /*collectivePrefix=*/"cleave::rt::collective::",
    /*hasF64Kernels=*/true,
    /*constantQualifier=*/"",
    /*stepFunctionPrefix=*/"\nCLEAVE_CPU_MULTIVERSION // see cleave/rt/vmath.h\n",
    /*loopsAreKernels=*/false,
};

const StringRef kCudaKernelHeaders[] = {"cuda_kernels.h"};
const TargetSpelling kCuda = {
    /*name=*/"cuda",
    /*collectivesHeader=*/"cuda_collectives.h",
    /*kernelHeaders=*/kCudaKernelHeaders,
    /*kernelNamespace=*/"cleave::rt::cuda",
    // The device-buffer twins (cuda_collectives.h): same arguments,
    // pointers into device memory.
    /*collectivePrefix=*/"cleave::rt::cuda::collective::",
    /*hasF64Kernels=*/false,
    /*constantQualifier=*/"__device__ ",
    /*stepFunctionPrefix=*/"\n",
    /*loopsAreKernels=*/true,
};

class CpuTarget final : public CodegenTarget {
public:
  CpuTarget() : CodegenTarget(kCpu) {}
  std::string constantPointer(StringRef name) const override { return name.str(); }
  void emitConstantAccess(raw_ostream &, StringRef, StringRef) const override {}

  std::string copyStatement(StringRef to, StringRef from, int64_t bytes) const override {
    return ("  std::memcpy(" + to + ", " + from + ", " + std::to_string(bytes) + ");\n").str();
  }
  std::string lossStatement(StringRef from) const override {
    return ("  *io.loss = " + from + "[0];\n").str();
  }

  // Float exp and erf come from cleave/rt/vmath.h: plain arithmetic that
  // vectorises, where libm's are one call per element.
  std::string mathFunction(StringRef function) const override { return ("std::" + function).str(); }
  std::string fastMathFunction(StringRef function, bool isFloat) const override {
    if (isFloat && (function == "exp" || function == "erf"))
      return ("cleave::rt::v" + function).str();
    return mathFunction(function);
  }

  LogicalResult emitLoopStep(raw_ostream &os, const LoopLaunch &launch,
                             LoopBodyWriter body) const override {
    int64_t total = product(launch.dims);
    os << "  {\n";
    std::string indent = "    ";
    for (auto [d, size] : llvm::enumerate(launch.dims)) {
      bool outermost = d == 0, innermost = d + 1 == launch.dims.size();
      if (outermost && total >= kParallelLoopThreshold)
        os << indent
           << (innermost ? "#pragma omp parallel for simd\n" : "#pragma omp parallel for\n");
      else if (innermost)
        os << indent << "#pragma omp simd\n";
      os << indent << "for (int64_t i" << d << " = 0; i" << d << " < " << size << "; ++i" << d
         << ") {\n";
      indent += "  ";
    }
    if (failed(body(os, indent)))
      return failure();
    for (size_t d = launch.dims.size(); d > 0; --d) {
      indent.resize(indent.size() - 2);
      os << indent << "}\n";
    }
    os << "  }\n";
    return success();
  }
};

class CudaTarget final : public CodegenTarget {
public:
  CudaTarget() : CodegenTarget(kCuda) {}
  std::string constantPointer(StringRef name) const override { return (name + "_device").str(); }
  // Device code reads constants through their device addresses.
  void emitConstantAccess(raw_ostream &os, StringRef type, StringRef name) const override {
    os << "  const " << type << " *" << name << "_device = nullptr;\n";
    os << "  CLEAVE_CUDA_CHECK(cudaGetSymbolAddress((void **)&" << name << "_device, " << name
       << "));\n";
  }

  std::string copyStatement(StringRef to, StringRef from, int64_t bytes) const override {
    return ("  CLEAVE_CUDA_CHECK(cudaMemcpyAsync(" + to + ", " + from + ", " +
            std::to_string(bytes) + ", cudaMemcpyDeviceToDevice));\n")
        .str();
  }
  std::string lossStatement(StringRef from) const override {
    return ("  CLEAVE_CUDA_CHECK(cudaMemcpy(io.loss, " + from +
            ", sizeof(float), cudaMemcpyDeviceToHost));\n")
        .str();
  }

  std::string mathFunction(StringRef function) const override { return function.str(); }

  // One thread per element.
  LogicalResult emitLoopKernel(raw_ostream &os, int index, ArrayRef<KernelParameter> parameters,
                               ArrayRef<int64_t> dims, LoopBodyWriter body) const override {
    os << "__global__ void fused_loop_" << index << "(";
    // A buffer updated in place is both an input and an output of the loop:
    // its pointers must not be __restrict__.
    for (const KernelParameter &parameter : parameters)
      os << (parameter.isConst ? "const " : "") << parameter.type
         << (parameter.aliased ? " *" : " *__restrict__ ") << parameter.name << ", ";
    os << "cleave::rt::StepScalars s) {\n";
    os << "  int64_t flat = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;\n";
    os << "  if (flat >= " << product(dims) << ") return;\n";
    // Recover the loop indices from the flat index.
    int64_t inner = 1;
    for (int64_t d = dims.size() - 1; d >= 0; --d) {
      os << "  const int64_t i" << d << " = (flat / " << inner << ") % " << dims[d] << ";\n";
      inner *= dims[d];
    }
    if (failed(body(os, "  ")))
      return failure();
    os << "}\n\n";
    return success();
  }
  LogicalResult emitLoopStep(raw_ostream &os, const LoopLaunch &launch,
                             LoopBodyWriter) const override {
    int64_t total = product(launch.dims);
    if (total == 0)
      return success(); // a launch of no blocks is a CUDA error
    os << "  fused_loop_" << launch.index << "<<<" << (total + kCudaBlockSize - 1) / kCudaBlockSize
       << ", " << kCudaBlockSize << ">>>(";
    for (const std::string &argument : launch.arguments)
      os << argument << ", ";
    os << "s);\n";
    os << "  CLEAVE_CUDA_CHECK(cudaGetLastError());\n";
    return success();
  }
};

} // namespace

std::unique_ptr<CodegenTarget> CodegenTarget::get(Target target) {
  if (target == Target::cuda)
    return std::make_unique<CudaTarget>();
  return std::make_unique<CpuTarget>();
}
