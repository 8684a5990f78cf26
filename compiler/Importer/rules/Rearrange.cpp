//===- Rearrange.cpp - import rules for ONNX DepthToSpace, SpaceToDepth --===//
//
// Both move blocks between the channel and the spatial dimensions of an
// NCHW tensor: a reshape that splits out the block, a transpose, and a
// reshape that merges it back elsewhere (PixelShuffle's own definition).
//
//===----------------------------------------------------------------------===//
#include "compiler/Importer/NodeContext.h"

#include "dialects/Cleave/IR/TensorBuilder.h"

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::importer;

/// The extents of the NCHW input and the block size s, both checked.
struct BlockedInput {
  int64_t n, c, h, w, s;
};

static FailureOr<BlockedInput> readBlockedInput(NodeContext &ctx) {
  if (ctx.getInputType(0).getRank() != 4) {
    (void)ctx.fail("needs a rank-4 NCHW input");
    return failure();
  }
  int64_t block = ctx.getAttrInt("blocksize", 0);
  if (block < 1) {
    (void)ctx.fail("blocksize must be at least 1, not " + std::to_string(block));
    return failure();
  }
  ArrayRef<int64_t> shape = ctx.getInputShape(0);
  return BlockedInput{shape[0], shape[1], shape[2], shape[3], block};
}

static LogicalResult importDepthToSpace(NodeContext &ctx) {
  FailureOr<BlockedInput> input = readBlockedInput(ctx);
  if (failed(input))
    return failure();
  auto [n, c, h, w, s] = *input;
  if (c % (s * s) != 0)
    return ctx.fail("channels (" + std::to_string(c) + ") must be a multiple of blocksize^2");
  std::string mode = ctx.getAttrString("mode", "DCR");
  TensorBuilder b(ctx.getBuilder(), ctx.getLoc());
  Value x = ctx.getInput(0);
  int64_t depth = c / (s * s);
  Value moved;
  if (mode == "DCR")
    moved = b.transpose(b.reshape(x, {n, s, s, depth, h, w}), {0, 3, 4, 1, 5, 2});
  else if (mode == "CRD")
    moved = b.transpose(b.reshape(x, {n, depth, s, s, h, w}), {0, 1, 4, 2, 5, 3});
  else
    return ctx.fail("unknown mode '" + mode + "'; supported: DCR, CRD");
  ctx.setOutput(0, b.reshape(moved, {n, depth, h * s, w * s}));
  return success();
}

static LogicalResult importSpaceToDepth(NodeContext &ctx) {
  FailureOr<BlockedInput> input = readBlockedInput(ctx);
  if (failed(input))
    return failure();
  auto [n, c, h, w, s] = *input;
  if (h % s != 0 || w % s != 0)
    return ctx.fail("height and width must be multiples of blocksize " + std::to_string(s));
  TensorBuilder b(ctx.getBuilder(), ctx.getLoc());
  Value blocks = b.reshape(ctx.getInput(0), {n, c, h / s, s, w / s, s});
  Value moved = b.transpose(blocks, {0, 3, 5, 1, 2, 4});
  ctx.setOutput(0, b.reshape(moved, {n, c * s * s, h / s, w / s}));
  return success();
}

void cleave::importer::registerRearrangeRules(RuleTable &table) {
  table.add("DepthToSpace", importDepthToSpace);
  table.add("SpaceToDepth", importSpaceToDepth);
}
