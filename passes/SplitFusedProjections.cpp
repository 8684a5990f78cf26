//===- SplitFusedProjections.cpp - one product per slice of a fused one ---===//
//
// A fused projection computes several outputs with one product and slices
// them apart (GPT-2's c_attn: x . W^T + b, W = [Wq; Wk; Wv], then q, k and
// v are slices of the last dimension). Splitting the product's columns
// over tensor-parallel ranks would cut across q, k and v (a contiguous
// block of W's rows holds all of q's heads and some of k's), so the
// sharding search could not split attention heads through it. This pass
// slices first: each slice becomes its own product with the matching rows
// of W (and entries of b), q = x . Wq^T + bq, whose columns (heads) split
// like any projection's. The arithmetic per output element is unchanged;
// the backward adds the three weight gradients into W's rows.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "dialects/Cleave/IR/CleaveOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/Support/DebugLog.h"

namespace mlir::cleave {
#define GEN_PASS_DEF_CLEAVESPLITFUSEDPROJECTIONS
#include "passes/Passes.h.inc"
} // namespace mlir::cleave

#define DEBUG_TYPE "cleave-split-fused-projections"

using namespace mlir;
using namespace mlir::cleave;

namespace {

/// The [begin, end) of the last dimension `slice` keeps, when it keeps
/// everything else whole with unit strides.
std::optional<std::pair<int64_t, int64_t>> lastDimRange(SliceOp slice) {
  auto input = cast<RankedTensorType>(slice.getInput().getType());
  auto result = cast<RankedTensorType>(slice.getResult().getType());
  int64_t last = input.getRank() - 1;
  if (last < 0)
    return std::nullopt;
  for (int64_t d = 0; d < input.getRank(); ++d) {
    if (slice.getStrides()[d] != 1)
      return std::nullopt;
    if (d != last && (slice.getStarts()[d] != 0 || input.getDimSize(d) != result.getDimSize(d)))
      return std::nullopt;
  }
  int64_t begin = slice.getStarts()[last];
  return std::make_pair(begin, begin + result.getDimSize(last));
}

/// Rewrites `product` (and its bias add) when every use is a slice of the
/// last dimension; returns whether it did.
bool splitProduct(MatmulOp product) {
  auto type = cast<RankedTensorType>(product.getType());
  auto weightType = dyn_cast<RankedTensorType>(product.getRhs().getType());
  if (!weightType || weightType.getRank() != 2 || product.getTransposeA())
    return false;
  int64_t columns = type.getDimSize(type.getRank() - 1);
  // An optional bias add: add(b, x . W) or add(x . W, b) with b of [columns].
  Value sliced = product.getResult();
  BinaryOp biasAdd;
  Value bias;
  if (product->hasOneUse())
    if (auto add = dyn_cast<BinaryOp>(*product->getUsers().begin());
        add && add.getKind() == BinaryKind::add && add.getType() == type) {
      Value other = add.getLhs() == product.getResult() ? add.getRhs() : add.getLhs();
      auto otherType = cast<RankedTensorType>(other.getType());
      if (otherType.getRank() == 1 && otherType.getDimSize(0) == columns) {
        biasAdd = add;
        bias = other;
        sliced = add.getResult();
      }
    }
  SmallVector<std::pair<SliceOp, std::pair<int64_t, int64_t>>> slices;
  for (Operation *user : sliced.getUsers()) {
    auto slice = dyn_cast<SliceOp>(user);
    if (!slice)
      return false;
    std::optional<std::pair<int64_t, int64_t>> range = lastDimRange(slice);
    if (!range)
      return false;
    slices.push_back({slice, *range});
  }
  if (slices.size() < 2 || (biasAdd && !product->hasOneUse()))
    return false;

  OpBuilder builder(product);
  bool weightRows = product.getTransposeB(); // W is [columns, k], else [k, columns]
  for (auto [slice, range] : slices) {
    builder.setInsertionPoint(slice);
    Location loc = slice.getLoc();
    int64_t size = range.second - range.first;
    SmallVector<int64_t> starts{0, 0}, shape(weightType.getShape());
    starts[weightRows ? 0 : 1] = range.first;
    shape[weightRows ? 0 : 1] = size;
    Value weight =
        SliceOp::create(builder, loc, RankedTensorType::get(shape, weightType.getElementType()),
                        product.getRhs(), starts, ArrayRef<int64_t>{1, 1});
    SmallVector<int64_t> resultShape(type.getShape());
    resultShape.back() = size;
    auto resultType = RankedTensorType::get(resultShape, type.getElementType());
    Value value = MatmulOp::create(builder, product.getLoc(), resultType, product.getLhs(), weight,
                                   product.getTransposeA(), product.getTransposeB());
    if (biasAdd) {
      auto biasType = cast<RankedTensorType>(bias.getType());
      Value part =
          SliceOp::create(builder, loc, RankedTensorType::get({size}, biasType.getElementType()),
                          bias, ArrayRef<int64_t>{range.first}, ArrayRef<int64_t>{1});
      bool biasFirst = biasAdd.getLhs() == bias;
      value = BinaryOp::create(builder, biasAdd.getLoc(), resultType, BinaryKind::add,
                               biasFirst ? part : value, biasFirst ? value : part);
    }
    slice.getResult().replaceAllUsesWith(value);
    slice.erase();
  }
  if (biasAdd)
    biasAdd.erase();
  product.erase();
  return true;
}

struct SplitFusedProjectionsPass
    : public mlir::cleave::impl::CleaveSplitFusedProjectionsBase<SplitFusedProjectionsPass> {
  void runOnOperation() override {
    SmallVector<MatmulOp> products;
    getOperation().walk([&](MatmulOp product) { products.push_back(product); });
    LDBG() << products.size() << " products to check for fused projections";
    for (MatmulOp product : products)
      (void)splitProduct(product);
  }
};

} // namespace
