//===- Precision.cpp - the bytes a training run keeps and moves per element ===//
#include "passes/Analysis/Cost/Precision.h"

#include "dialects/Cleave/Interfaces/CostInterface.h"

#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;
using namespace mlir::cleave;

std::optional<Precision> mlir::cleave::parsePrecision(llvm::StringRef name) {
  if (name == "fp32")
    return Precision::fp32;
  if (name == "bf16")
    return Precision::bf16;
  return std::nullopt;
}

llvm::StringRef mlir::cleave::getPrecisionName(Precision precision) {
  return precision == Precision::bf16 ? "bf16" : "fp32";
}

Type mlir::cleave::getTrainingType(Type type, Precision precision) {
  if (precision == Precision::fp32)
    return type;
  Type bf16 = BFloat16Type::get(type.getContext());
  // Scalars (the loss, a gradient norm) stay fp32, as autocast keeps them.
  if (auto tensor = dyn_cast<RankedTensorType>(type))
    return tensor.getRank() > 0 && tensor.getElementType().isF32() ? tensor.clone(bf16) : type;
  return type;
}

int64_t mlir::cleave::getActivationBytes(Type type, Precision precision) {
  return getTensorBytes(getTrainingType(type, precision));
}

int64_t mlir::cleave::getParameterBytes(Type type, Precision precision) {
  // The master copy stays in the parameter's own type; a tensor that is
  // not narrowed has no separate working copy.
  Type working = getTrainingType(type, precision);
  int64_t bytes = getTensorBytes(type);
  return working == type ? bytes : bytes + getTensorBytes(working);
}

int64_t mlir::cleave::getOptimizerStateBytes(Type type, Precision) { return getTensorBytes(type); }

ComputeOptions mlir::cleave::getComputeOptions(Precision precision) {
  ComputeOptions options;
  if (precision == Precision::bf16) {
    options.matmulType = DType::bf16;
    options.bf16Activations = true;
  }
  return options;
}
