//===- PlanKernels.h - the launch floor of a step's kernels ---------------===//
#ifndef CLEAVE_COMPILER_PLAN_PLANKERNELS_H
#define CLEAVE_COMPILER_PLAN_PLANKERNELS_H

#include "mlir/IR/Block.h"
#include "llvm/ADT/ArrayRef.h"

#include <cstdint>
#include <vector>

namespace mlir::cleave {

struct KernelFloor {
  /// The seconds of each top-level op, each kernel's last op raised so
  /// that the kernel takes at least the launch floor.
  std::vector<double> steps;
  /// What the floor added.
  double launchSeconds = 0;
  int64_t kernels = 0;
};

/// Groups `body`'s top-level ops into the kernels codegen will launch and
/// raises each to at least `launchSeconds` (Cluster::kernelLaunch).
/// `opSeconds` holds each top-level op's compute, in body order.
KernelFloor applyLaunchFloor(Block &body, llvm::ArrayRef<double> opSeconds, double launchSeconds);

} // namespace mlir::cleave

#endif // CLEAVE_COMPILER_PLAN_PLANKERNELS_H
