//===- CleaveOpCosts.cpp - FLOP and byte counts of the cleave ops ---------===//
//
// Counts follow the usual conventions of the systems we compare against
// (see shared/ANCHORS.md): a multiply-add is 2 FLOPs, data movement is free
// of FLOPs, and normalisations cost a handful of operations per element.
//
//===----------------------------------------------------------------------===//
#include "dialects/Cleave/IR/CleaveOps.h"

using namespace mlir;
using namespace mlir::cleave;

// Per-element operation counts of the fused normalisations: softmax is max,
// subtract, exp, sum, divide; layer/batch norm are mean, subtract, square,
// sum, rsqrt-multiply, scale, shift (plus a spare for the variance divide).
static constexpr int64_t kSoftmaxFlopsPerElement = 5;
static constexpr int64_t kNormFlopsPerElement = 8;

int64_t ConstantOp::getFlops() { return 0; }
// Constants are baked into the executable; reading them is not traffic.
int64_t ConstantOp::getBytesAccessed() { return 0; }
int64_t IotaOp::getFlops() { return 0; }
int64_t CastOp::getFlops() { return 0; }
int64_t GatherOp::getFlops() { return 0; }
int64_t ReshapeOp::getFlops() { return 0; }
// A row-major reshape is a new view of the same buffer.
int64_t ReshapeOp::getBytesAccessed() { return 0; }
int64_t BroadcastOp::getFlops() { return 0; }
int64_t TransposeOp::getFlops() { return 0; }
int64_t SliceOp::getFlops() { return 0; }
int64_t ConcatOp::getFlops() { return 0; }

int64_t MatmulOp::getFlops() { return 2 * getType().getNumElements() * getContractionSize(); }

int64_t ReduceOp::getFlops() { return getInput().getType().getNumElements(); }

int64_t SoftmaxOp::getFlops() { return kSoftmaxFlopsPerElement * getType().getNumElements(); }

int64_t LayerNormOp::getFlops() { return kNormFlopsPerElement * getType().getNumElements(); }

int64_t BatchNormOp::getFlops() {
  return kNormFlopsPerElement * getResult().getType().getNumElements();
}

int64_t Conv2dOp::getFlops() {
  ArrayRef<int64_t> filter = getFilter().getType().getShape();
  int64_t macsPerOutput = filter[1] * filter[2] * filter[3];
  int64_t flops = 2 * getType().getNumElements() * macsPerOutput;
  if (getBias())
    flops += getType().getNumElements();
  return flops;
}

int64_t Pool2dOp::getFlops() {
  return getType().getNumElements() * getKernel()[0] * getKernel()[1];
}
