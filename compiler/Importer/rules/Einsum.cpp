//===- Einsum.cpp - import rule for ONNX Einsum --------------------------===//
//
// Einsum becomes the ops a hand-written model would use, so it inherits
// their gradients, costs and sharding rules:
//   - a label repeated within one operand (a diagonal, "ii->i") is taken
//     with a strided slice of the two dimensions flattened (stride n + 1);
//   - a label no later operand or the output needs is summed out at once;
//   - a size-1 dimension broadcast against a larger one ('...' or an
//     explicit label) is dropped: the operand is constant along it;
//   - operands are contracted left to right, each pair as one batched
//     matmul [batch, M, K] x [batch, K, N] after a transpose and a reshape
//     of each side, where batch are the labels both sides and later
//     steps share, K those only this pair needs, M and N the rest;
//   - the result is transposed into the output's order.
// Integer operands multiply and sum instead of using matmul (float only).
//
//===----------------------------------------------------------------------===//
#include "compiler/Importer/NodeContext.h"

#include "dialects/Cleave/IR/TensorBuilder.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

#include <map>
#include <set>

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::importer;

namespace {

/// Labels are letters; the dimensions under '...' get labels from here on,
/// numbered so that the last ellipsis dimension of every operand lines up.
constexpr int kEllipsisLabel = 1000;

/// One side of an equation: its labels, with where '...' stood.
struct Term {
  std::vector<int> labels;
  int ellipsisAt = -1; // index into labels, or -1 without '...'
};

/// An operand on its way through: its value and one label per dimension.
struct Operand {
  Value value;
  std::vector<int> labels;
};

class EinsumBuilder {
public:
  explicit EinsumBuilder(NodeContext &ctx) : ctx(ctx), b(ctx.getBuilder(), ctx.getLoc()) {}

  LogicalResult build();

private:
  FailureOr<Term> parseTerm(StringRef text);
  Value transposed(Value value, ArrayRef<int64_t> permutation);
  /// Takes the diagonal of every label that `operand` repeats.
  void takeDiagonals(Operand &operand);
  /// Sums out the labels that `needed` lacks.
  void sumUnneeded(Operand &operand, const std::set<int> &needed);
  /// Drops size-1 dimensions whose label is larger elsewhere.
  void dropBroadcastDims(Operand &operand);
  /// Brings `operand` to `order` (a permutation of its labels).
  Value permute(const Operand &operand, ArrayRef<int> order);
  Operand contract(Operand lhs, Operand rhs, const std::set<int> &keep);

  NodeContext &ctx;
  TensorBuilder b;
  std::map<int, int64_t> sizes; // label -> size (the largest seen)
};

} // namespace

FailureOr<Term> EinsumBuilder::parseTerm(StringRef text) {
  Term term;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (llvm::isAlpha(c)) {
      term.labels.push_back(c);
    } else if (text.substr(i).starts_with("...") && term.ellipsisAt < 0) {
      term.ellipsisAt = term.labels.size();
      i += 2;
    } else {
      (void)ctx.fail("equation term '" + text.str() + "' has an unexpected '" + std::string(1, c) +
                     "' (labels are letters, with at most one '...')");
      return failure();
    }
  }
  return term;
}

Value EinsumBuilder::transposed(Value value, ArrayRef<int64_t> permutation) {
  if (llvm::equal(permutation, llvm::seq<int64_t>(0, permutation.size())))
    return value;
  return b.transpose(value, permutation);
}

void EinsumBuilder::takeDiagonals(Operand &operand) {
  for (;;) {
    int first = -1, second = -1;
    for (size_t i = 0; i < operand.labels.size() && first < 0; ++i)
      for (size_t j = i + 1; j < operand.labels.size(); ++j)
        if (operand.labels[i] == operand.labels[j]) {
          first = i;
          second = j;
          break;
        }
    if (first < 0)
      return;
    // [others..., first, second] -> [others..., n * n] -> every (n + 1)th.
    SmallVector<int64_t> permutation;
    std::vector<int> labels;
    for (size_t i = 0; i < operand.labels.size(); ++i)
      if ((int)i != first && (int)i != second) {
        permutation.push_back(i);
        labels.push_back(operand.labels[i]);
      }
    permutation.append({first, second});
    Value value = transposed(operand.value, permutation);
    SmallVector<int64_t> shape(TensorBuilder::shapeOf(value));
    int64_t n = shape.back();
    shape.pop_back();
    shape.back() = n * n;
    value = b.reshape(value, shape);
    SmallVector<int64_t> starts(shape.size(), 0), strides(shape.size(), 1);
    strides.back() = n + 1;
    shape.back() = n;
    auto type = RankedTensorType::get(shape, TensorBuilder::elementTypeOf(value));
    operand.value = SliceOp::create(ctx.getBuilder(), ctx.getLoc(), type, value, starts, strides);
    labels.push_back(operand.labels[first]);
    operand.labels = labels;
  }
}

void EinsumBuilder::sumUnneeded(Operand &operand, const std::set<int> &needed) {
  SmallVector<int64_t> axes;
  std::vector<int> kept;
  for (auto [i, label] : llvm::enumerate(operand.labels)) {
    if (needed.count(label))
      kept.push_back(label);
    else
      axes.push_back(i);
  }
  if (axes.empty())
    return;
  operand.value = b.reduce(ReduceKind::sum, operand.value, axes, /*keepDims=*/false);
  operand.labels = kept;
}

void EinsumBuilder::dropBroadcastDims(Operand &operand) {
  ArrayRef<int64_t> shape = TensorBuilder::shapeOf(operand.value);
  SmallVector<int64_t> kept;
  std::vector<int> labels;
  for (auto [i, label] : llvm::enumerate(operand.labels)) {
    if (shape[i] == 1 && sizes[label] > 1)
      continue;
    kept.push_back(shape[i]);
    labels.push_back(label);
  }
  operand.value = b.reshape(operand.value, kept);
  operand.labels = labels;
}

Value EinsumBuilder::permute(const Operand &operand, ArrayRef<int> order) {
  SmallVector<int64_t> permutation;
  for (int label : order)
    permutation.push_back(llvm::find(operand.labels, label) - operand.labels.begin());
  return transposed(operand.value, permutation);
}

Operand EinsumBuilder::contract(Operand lhs, Operand rhs, const std::set<int> &keep) {
  // Labels this pair alone needs are summed out first.
  std::set<int> lhsNeeded(keep), rhsNeeded(keep);
  lhsNeeded.insert(rhs.labels.begin(), rhs.labels.end());
  rhsNeeded.insert(lhs.labels.begin(), lhs.labels.end());
  sumUnneeded(lhs, lhsNeeded);
  sumUnneeded(rhs, rhsNeeded);

  std::vector<int> batch, contracted, lhsFree, rhsFree;
  for (int label : lhs.labels) {
    bool shared = llvm::is_contained(rhs.labels, label);
    if (shared && keep.count(label))
      batch.push_back(label);
    else if (shared)
      contracted.push_back(label);
    else
      lhsFree.push_back(label);
  }
  for (int label : rhs.labels)
    if (!llvm::is_contained(lhs.labels, label))
      rhsFree.push_back(label);
  auto count = [&](ArrayRef<int> labels) {
    int64_t total = 1;
    for (int label : labels)
      total *= sizes[label];
    return total;
  };
  int64_t batchSize = count(batch), m = count(lhsFree), n = count(rhsFree), k = count(contracted);

  std::vector<int> lhsOrder(batch), rhsOrder(batch);
  llvm::append_range(lhsOrder, lhsFree);
  llvm::append_range(lhsOrder, contracted);
  llvm::append_range(rhsOrder, contracted);
  llvm::append_range(rhsOrder, rhsFree);
  Value a = b.reshape(permute(lhs, lhsOrder), {batchSize, m, k});
  Value c = b.reshape(permute(rhs, rhsOrder), {batchSize, k, n});
  Type element = TensorBuilder::elementTypeOf(a);
  Value product;
  if (isa<FloatType>(element)) {
    product = b.matmul(a, c, false, false);
  } else {
    Type i64 = ctx.getBuilder().getI64Type();
    Value terms = b.mul(b.reshape(b.convert(a, i64), {batchSize, m, k, 1}),
                        b.reshape(b.convert(c, i64), {batchSize, 1, k, n}));
    product = b.convert(b.reduce(ReduceKind::sum, terms, {2}, false), element);
  }
  Operand result;
  result.labels = batch;
  llvm::append_range(result.labels, lhsFree);
  llvm::append_range(result.labels, rhsFree);
  SmallVector<int64_t> shape;
  for (int label : result.labels)
    shape.push_back(sizes[label]);
  result.value = b.reshape(product, shape);
  return result;
}

LogicalResult EinsumBuilder::build() {
  std::string equation;
  for (char c : ctx.getAttrString("equation", ""))
    if (!llvm::isSpace(c))
      equation += c;
  if (equation.empty())
    return ctx.fail("needs an equation");
  if (failed(ctx.requireAllInputs()))
    return failure();
  StringRef text(equation);
  auto [inputText, outputText] = text.split("->");
  bool explicitOutput = text.contains("->");
  SmallVector<StringRef> inputTerms;
  inputText.split(inputTerms, ',');
  if (inputTerms.size() != ctx.getNumInputs())
    return ctx.fail("the equation has " + std::to_string(inputTerms.size()) + " input terms for " +
                    std::to_string(ctx.getNumInputs()) + " inputs");

  // Labels of every operand, '...' expanded to the ellipsis labels.
  std::vector<Term> terms;
  int64_t ellipsisRank = 0;
  for (auto [i, termText] : llvm::enumerate(inputTerms)) {
    FailureOr<Term> term = parseTerm(termText);
    if (failed(term))
      return failure();
    int64_t rank = ctx.getInputType(i).getRank();
    int64_t covered = rank - (int64_t)term->labels.size();
    if (covered < 0 || (covered > 0 && term->ellipsisAt < 0))
      return ctx.fail("term '" + termText.str() + "' does not match input " + std::to_string(i) +
                      " of rank " + std::to_string(rank));
    ellipsisRank = std::max(ellipsisRank, covered);
    terms.push_back(*term);
  }
  SmallVector<Operand> operands;
  Type element = ctx.getInputType(0).getElementType();
  for (auto [i, term] : llvm::enumerate(terms)) {
    if (ctx.getInputType(i).getElementType() != element)
      return ctx.fail("inputs have different element types");
    Operand operand;
    operand.value = ctx.getInput(i);
    int64_t covered = ctx.getInputType(i).getRank() - (int64_t)term.labels.size();
    for (size_t j = 0; j <= term.labels.size(); ++j) {
      if ((int)j == term.ellipsisAt)
        for (int64_t e = ellipsisRank - covered; e < ellipsisRank; ++e)
          operand.labels.push_back(kEllipsisLabel + e);
      if (j < term.labels.size())
        operand.labels.push_back(term.labels[j]);
    }
    ArrayRef<int64_t> shape = ctx.getInputShape(i);
    // A repeated label takes a diagonal: its dimensions must agree.
    for (size_t d = 0; d < operand.labels.size(); ++d)
      for (size_t e = d + 1; e < operand.labels.size(); ++e)
        if (operand.labels[d] == operand.labels[e] && shape[d] != shape[e])
          return ctx.fail("label '" + std::string(1, char(operand.labels[d])) +
                          "' is repeated in input " + std::to_string(i) + " with sizes " +
                          std::to_string(shape[d]) + " and " + std::to_string(shape[e]));
    for (auto [d, label] : llvm::enumerate(operand.labels)) {
      int64_t &size = sizes[label];
      if (size > 1 && shape[d] > 1 && size != shape[d])
        return ctx.fail("label '" + (label < kEllipsisLabel ? std::string(1, char(label)) : "...") +
                        "' has sizes " + std::to_string(size) + " and " + std::to_string(shape[d]));
      size = std::max(size, shape[d]);
    }
    operands.push_back(operand);
  }

  std::vector<int> output;
  if (explicitOutput) {
    FailureOr<Term> term = parseTerm(outputText);
    if (failed(term))
      return failure();
    for (size_t j = 0; j <= term->labels.size(); ++j) {
      if ((int)j == term->ellipsisAt)
        for (int64_t e = 0; e < ellipsisRank; ++e)
          output.push_back(kEllipsisLabel + e);
      if (j < term->labels.size())
        output.push_back(term->labels[j]);
    }
    if (term->ellipsisAt < 0 && ellipsisRank > 0)
      return ctx.fail("the output needs '...' where the inputs have it");
    for (auto [i, label] : llvm::enumerate(output)) {
      if (!sizes.count(label))
        return ctx.fail("output label '" + std::string(1, char(label)) + "' is in no input term");
      if (llvm::is_contained(ArrayRef<int>(output).take_front(i), label))
        return ctx.fail("output label '" + std::string(1, char(label)) + "' appears twice");
    }
  } else {
    // Implicit output: the ellipsis, then the letters used once, sorted.
    for (int64_t e = 0; e < ellipsisRank; ++e)
      output.push_back(kEllipsisLabel + e);
    std::map<int, int> uses;
    for (const Term &term : terms)
      for (int label : term.labels)
        ++uses[label];
    for (auto [label, count] : uses)
      if (count == 1)
        output.push_back(label);
  }

  for (Operand &operand : operands) {
    takeDiagonals(operand);
    dropBroadcastDims(operand);
  }
  std::set<int> outputLabels(output.begin(), output.end());
  auto neededAfter = [&](size_t index) {
    std::set<int> needed = outputLabels;
    for (size_t j = index + 1; j < operands.size(); ++j)
      needed.insert(operands[j].labels.begin(), operands[j].labels.end());
    return needed;
  };
  Operand result = operands[0];
  for (size_t i = 1; i < operands.size(); ++i)
    result = contract(result, operands[i], neededAfter(i));
  sumUnneeded(result, outputLabels);
  // Every output label survives: a dimension is only dropped where the
  // same label is larger in another operand, which keeps it.
  ctx.setOutput(0, permute(result, output));
  return success();
}

void cleave::importer::registerEinsumRules(RuleTable &table) {
  table.add("Einsum", [](NodeContext &ctx) { return EinsumBuilder(ctx).build(); });
}
