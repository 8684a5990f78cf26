//===- CumSum.cpp - import rule for ONNX CumSum --------------------------===//
//
// A cumulative sum along an axis of size n is a product with an n x n
// triangular 0/1 matrix: y[..., i] = sum_j x[..., j] * [j <= i] (j < i when
// exclusive, j >= i / j > i when reversed). The matrix is built at run time
// from two iotas and a compare, so no n^2 constant lands in the program,
// and the product inherits matmul's gradient (the transposed triangle),
// cost and sharding rules. Integer tensors sum the masked copies instead
// (matmul is float only), which is exact.
//
// The work is n times that of a running sum: fine for the position ids and
// masks exports build with it (n = sequence length), not for huge n.
// Unlike a running sum, an infinite element makes the whole row NaN (inf
// times a 0 of the mask).
//
//===----------------------------------------------------------------------===//
#include "compiler/Importer/NodeContext.h"

#include "dialects/Cleave/IR/TensorBuilder.h"

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::importer;

static LogicalResult importCumSum(NodeContext &ctx) {
  RankedTensorType type = ctx.getInputType(0);
  int64_t rank = type.getRank();
  if (rank == 0)
    return ctx.fail("needs an input of rank 1 or more");
  Type element = type.getElementType();
  if (element.isSignlessInteger(1))
    return ctx.fail("bool inputs are not supported");
  FailureOr<double> axisValue = ctx.getConstantScalar(1, "axis");
  if (failed(axisValue))
    return failure();
  FailureOr<int64_t> axis = ctx.normalizeAxis(static_cast<int64_t>(*axisValue), rank);
  if (failed(axis))
    return failure();
  bool exclusive = ctx.getAttrInt("exclusive", 0) != 0;
  bool reverse = ctx.getAttrInt("reverse", 0) != 0;

  TensorBuilder b(ctx.getBuilder(), ctx.getLoc());
  ArrayRef<int64_t> shape = type.getShape();
  int64_t n = shape[*axis];
  // The axis last, everything else flattened into rows: [rows, n].
  SmallVector<int64_t> permutation, permuted;
  for (int64_t d = 0; d < rank; ++d)
    if (d != *axis)
      permutation.push_back(d);
  permutation.push_back(*axis);
  for (int64_t d : permutation)
    permuted.push_back(shape[d]);
  int64_t rows = type.getNumElements() / n;
  bool moved = *axis != rank - 1;
  Value x = ctx.getInput(0);
  if (moved)
    x = b.transpose(x, permutation);
  x = b.reshape(x, {rows, n});

  // mask[j, i]: does x[j] count towards y[i]?
  Type i64 = ctx.getBuilder().getI64Type();
  Value iota =
      IotaOp::create(ctx.getBuilder(), ctx.getLoc(), RankedTensorType::get({n}, i64), 0, 1);
  CompareKind kind = reverse ? (exclusive ? CompareKind::gt : CompareKind::ge)
                             : (exclusive ? CompareKind::lt : CompareKind::le);
  Value mask = b.compare(kind, b.reshape(iota, {n, 1}), b.reshape(iota, {1, n}));

  Value y;
  if (isa<FloatType>(element)) {
    y = b.matmul(x, b.convert(mask, element), false, false);
  } else {
    Value wide = b.convert(x, i64);
    Value masked = b.select(mask, b.reshape(wide, {rows, n, 1}), b.scalar(i64, 0.0));
    y = b.convert(b.reduce(ReduceKind::sum, masked, {1}, false), element);
  }
  SmallVector<int64_t> inverse(rank);
  for (int64_t d = 0; d < rank; ++d)
    inverse[permutation[d]] = d;
  y = b.reshape(y, permuted);
  ctx.setOutput(0, moved ? b.transpose(y, inverse) : y);
  return success();
}

void cleave::importer::registerCumSumRules(RuleTable &table) { table.add("CumSum", importCumSum); }
