//===- ConvolutionCalls.cpp - conv2d and pool2d, forward and backward -----===//
#include "compiler/Codegen/Rules.h"

#include "dialects/Cleave/IR/CleaveOps.h"

#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::codegen;

static std::string convParams(ArrayRef<int64_t> input, ArrayRef<int64_t> filter,
                              ArrayRef<int64_t> output, ArrayRef<int64_t> strides,
                              ArrayRef<int64_t> padding, ArrayRef<int64_t> dilations,
                              int64_t groups) {
  return llvm::formatv("K::Conv2dParams{{{0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}, {8}, {9}, {10}, "
                       "{11}, {12}, {13}, {14}, {15}, {16}, {17}}",
                       input[0], input[1], input[2], input[3], filter[0], output[2], output[3],
                       filter[2], filter[3], strides[0], strides[1], padding[0], padding[1],
                       padding[2], padding[3], dilations[0], dilations[1], groups)
      .str();
}

static std::string poolParams(PoolKind kind, ArrayRef<int64_t> input, ArrayRef<int64_t> output,
                              ArrayRef<int64_t> kernel, ArrayRef<int64_t> strides,
                              ArrayRef<int64_t> padding, bool ceilMode, bool countIncludePad) {
  return llvm::formatv("K::Pool2dParams{{K::PoolKind::{0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}, "
                       "{8}, {9}, {10}, {11}, {12}, {13}, {14}, {15}, {16}}",
                       kind == PoolKind::max ? "max" : "avg", input[0], input[1], input[2],
                       input[3], output[2], output[3], kernel[0], kernel[1], strides[0], strides[1],
                       padding[0], padding[1], padding[2], padding[3], ceilMode ? "true" : "false",
                       countIncludePad ? "true" : "false")
      .str();
}

/// The convolution kernels size their scratch (im2col, bf16 copies) from
/// the same parameters.
static void addConvScratch(CallContext &ctx, const std::string &params) {
  ctx.addScratch("K::conv2d" + ctx.bf16Suffix() + "_scratch_bytes(" + params + ")");
}

static LogicalResult emitConv2d(CallContext &ctx, Conv2dOp conv) {
  std::string params =
      convParams(conv.getInput().getType().getShape(), conv.getFilter().getType().getShape(),
                 conv.getType().getShape(), conv.getStrides(), conv.getPadding(),
                 conv.getDilations(), conv.getGroups());
  addConvScratch(ctx, params);
  return ctx.callKernel("conv2d" + ctx.bf16Suffix(), ctx.ptr(conv.getInput()),
                        ctx.ptr(conv.getFilter()),
                        conv.getBias() ? ctx.ptr(conv.getBias()) : "nullptr",
                        ctx.ptr(conv.getResult()), params, "scratch");
}

static LogicalResult emitConv2dGradInput(CallContext &ctx, Conv2dGradInputOp grad) {
  std::string params = convParams(grad.getType().getShape(), grad.getFilter().getType().getShape(),
                                  grad.getResultGrad().getType().getShape(), grad.getStrides(),
                                  grad.getPadding(), grad.getDilations(), grad.getGroups());
  addConvScratch(ctx, params);
  return ctx.callKernel("conv2d_grad_input" + ctx.bf16Suffix(), ctx.ptr(grad.getResultGrad()),
                        ctx.ptr(grad.getFilter()), ctx.ptr(grad.getInputGrad()), params, "scratch");
}

static LogicalResult emitConv2dGradFilter(CallContext &ctx, Conv2dGradFilterOp grad) {
  std::string params = convParams(grad.getInput().getType().getShape(), grad.getType().getShape(),
                                  grad.getResultGrad().getType().getShape(), grad.getStrides(),
                                  grad.getPadding(), grad.getDilations(), grad.getGroups());
  addConvScratch(ctx, params);
  return ctx.callKernel("conv2d_grad_filter" + ctx.bf16Suffix(), ctx.ptr(grad.getInput()),
                        ctx.ptr(grad.getResultGrad()), ctx.ptr(grad.getFilterGrad()), params,
                        "scratch");
}

static LogicalResult emitPool2d(CallContext &ctx, Pool2dOp pool) {
  return ctx.callKernel("pool2d", ctx.ptr(pool.getInput()), ctx.ptr(pool.getResult()),
                        poolParams(pool.getKind(), pool.getInput().getType().getShape(),
                                   pool.getType().getShape(), pool.getKernel(), pool.getStrides(),
                                   pool.getPadding(), pool.getCeilMode(),
                                   pool.getCountIncludePad()));
}

static LogicalResult emitPool2dGrad(CallContext &ctx, Pool2dGradOp grad) {
  return ctx.callKernel("pool2d_grad", ctx.ptr(grad.getInput()), ctx.ptr(grad.getResultGrad()),
                        ctx.ptr(grad.getInputGrad()),
                        poolParams(grad.getKind(), grad.getInput().getType().getShape(),
                                   grad.getResultGrad().getType().getShape(), grad.getKernel(),
                                   grad.getStrides(), grad.getPadding(), grad.getCeilMode(),
                                   grad.getCountIncludePad()));
}

void mlir::cleave::codegen::registerConvolutionCalls(RuleTable &table) {
  table.addCalls(emitConv2d, emitConv2dGradInput, emitConv2dGradFilter, emitPool2d, emitPool2dGrad);
}
