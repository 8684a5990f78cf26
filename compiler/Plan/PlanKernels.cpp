//===- PlanKernels.cpp - the launch floor of a step's kernels -------------===//
//
// On a GPU every kernel costs at least its launch (device.kernel_launch_us),
// so a step of many tiny kernels is bound by their count, not by its FLOPs
// or bytes. The kernels are counted as codegen's schedule (Schedule.h)
// will emit them, on the step before legalisation: one per library op
// (products, reductions, norms, gathers, ...), one per fused loop (a run of
// elementwise ops with the same result shape, consecutive in program
// order); reshapes are views, non-splat constants static data, splat
// constants literals, and collectives and pipeline transfers are not
// compute kernels (a collective's launch is in its own price). A kernel's
// time is the larger of its ops' compute and the floor: launches are
// asynchronous, so the host's launch overlaps the previous kernel's work
// and only kernels shorter than it are bound by it.
//
//===----------------------------------------------------------------------===//
#include "compiler/Plan/PlanKernels.h"

#include "compiler/Codegen/Schedule.h"
#include "dialects/Cleave/IR/CleaveOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <algorithm>

using namespace mlir;
using namespace mlir::cleave;

/// Whether `op` launches no compute kernel of its own.
static bool launchesNothing(Operation &op) {
  if (isa<ReshapeOp, func::ReturnOp, SendStartOp, SendWaitOp, RecvStartOp, RecvWaitOp>(op))
    return true;
  // A started collective's launch is in its own price, as a blocking one's.
  if (isa<AllReduceStartOp, ReduceScatterStartOp, AllGatherStartOp, CollectiveWaitOp>(op))
    return true;
  if (isa<ConstantOp>(op))
    return true; // a literal inside a loop, or static data
  return op.getDialect() && op.getDialect()->getNamespace() == "shard";
}

KernelFloor mlir::cleave::applyLaunchFloor(Block &body, llvm::ArrayRef<double> opSeconds,
                                           double launchSeconds) {
  KernelFloor floor;
  floor.steps.assign(opSeconds.begin(), opSeconds.end());
  // The open kernel: its last op's index, its seconds, its loop's shape.
  int64_t last = -1;
  double seconds = 0;
  std::optional<llvm::SmallVector<int64_t>> loopShape;
  auto close = [&]() {
    if (last < 0)
      return;
    ++floor.kernels;
    if (seconds < launchSeconds) {
      floor.steps[last] += launchSeconds - seconds;
      floor.launchSeconds += launchSeconds - seconds;
    }
    last = -1;
    seconds = 0;
    loopShape.reset();
  };
  int64_t index = -1;
  for (Operation &op : body) {
    ++index;
    if (index >= static_cast<int64_t>(opSeconds.size()))
      break;
    if (launchesNothing(op))
      continue;
    std::optional<llvm::SmallVector<int64_t>> shape;
    if (codegen::isElementwise(&op) && op.getNumResults() == 1)
      if (auto type = dyn_cast<RankedTensorType>(op.getResult(0).getType()))
        shape = llvm::SmallVector<int64_t>(type.getShape());
    // An elementwise op joins the open loop of its shape; anything else is
    // a kernel of its own.
    if (!(shape && loopShape && *shape == *loopShape))
      close();
    last = index;
    seconds += opSeconds[index];
    loopShape = shape;
    if (!shape)
      close();
  }
  close();
  return floor;
}
