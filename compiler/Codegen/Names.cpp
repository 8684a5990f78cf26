//===- Names.cpp - C++ names for the values of the generated step ---------===//
#include "compiler/Codegen/Names.h"

#include "dialects/Cleave/IR/CleaveOps.h"
#include "dialects/Cleave/IR/NodeName.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Regex.h"

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::codegen;

std::string codegen::nodeComment(ArrayRef<Operation *> ops) {
  SmallVector<std::string> nodes;
  for (Operation *op : ops) {
    std::string node = nodeNameOf(op);
    // A comment ends at the line's end.
    std::replace(node.begin(), node.end(), '\n', ' ');
    if (!node.empty() && !llvm::is_contained(nodes, node))
      nodes.push_back(node);
  }
  return nodes.empty() ? "" : " (ONNX " + llvm::join(nodes, ", ") + ")";
}

std::string codegen::sanitizeIdentifier(StringRef text) {
  std::string name;
  for (char c : text) {
    if (llvm::isAlnum(c))
      name += c;
    else if (!name.empty() && name.back() != '_')
      name += '_'; // no leading, no double underscores (reserved in C++)
  }
  while (!name.empty() && name.back() == '_')
    name.pop_back();
  if (!name.empty() && llvm::isDigit(name.front()))
    name = "t_" + name;
  return name;
}

/// Names a generated variable could clash with: C++ keywords, the types,
/// functions and variables the generated code names unqualified, and the
/// macros it uses.
static bool isReserved(StringRef name) {
  static const llvm::StringSet<> words = {
      // C++17 keywords and alternative tokens.
      "alignas", "alignof", "and", "and_eq", "asm", "auto", "bitand", "bitor", "bool", "break",
      "case", "catch", "char", "char16_t", "char32_t", "class", "compl", "const", "constexpr",
      "const_cast", "continue", "decltype", "default", "delete", "do", "double", "dynamic_cast",
      "else", "enum", "explicit", "export", "extern", "false", "float", "for", "friend", "goto",
      "if", "inline", "int", "long", "mutable", "namespace", "new", "noexcept", "not", "not_eq",
      "nullptr", "operator", "or", "or_eq", "private", "protected", "public", "register",
      "reinterpret_cast", "return", "short", "signed", "sizeof", "static", "static_assert",
      "static_cast", "struct", "switch", "template", "this", "thread_local", "throw", "true", "try",
      "typedef", "typeid", "typename", "union", "unsigned", "using", "virtual", "void", "volatile",
      "wchar_t", "while", "char8_t", "concept", "consteval", "constinit", "co_await", "co_return",
      "co_yield", "requires", "final", "override",
      // Names of the generated code and its headers.
      "s", "io", "workspace", "scratch", "K", "std", "cleave", "eval", "main", "argc", "argv",
      "model", "flat", "shape", "axes", "permutation", "input_shape", "starts", "strides",
      "output_shape", "inputs", "sizes", "train_step", "makeModelInfo", "workspace_bytes", "int8_t",
      "int16_t", "int32_t", "int64_t", "uint8_t", "uint16_t", "uint32_t", "uint64_t", "size_t",
      "exp", "log", "sqrt", "tanh", "erf", "sin", "cos", "floor", "ceil", "pow", "fabs", "log1p",
      "nearbyint", "max", "min", "blockIdx", "blockDim", "threadIdx", "NAN", "INFINITY", "NULL",
      "EOF", "errno", "assert"};
  if (words.contains(name))
    return true;
  // Registers, loop indices, kernel parameters, constants and shapes, the
  // old numbered names, the CUDA API and this project's macros.
  static const llvm::Regex generated(
      "^((x|r|i|in|out|v|arg)[0-9]+|kConstant.*|kShape.*|fused_loop_.*|cuda.*|CLEAVE_.*)$");
  return generated.match(name);
}

std::string ValueNames::unique(const std::string &base) {
  std::string name = base;
  for (int suffix = 1; isReserved(name) || taken.contains(name); ++suffix)
    name = base + "_" + std::to_string(suffix);
  taken.insert(name);
  return name;
}

/// The name an op's results take when its location names no node: what
/// it computes ("matmul", or the kind: "add", "sqrt").
static std::string opName(Operation *op) {
  if (auto unary = dyn_cast<UnaryOp>(op))
    return stringifyUnaryKind(unary.getKind()).str();
  if (auto binary = dyn_cast<BinaryOp>(op))
    return stringifyBinaryKind(binary.getKind()).str();
  return op->getName().stripDialect().str();
}

/// The train step is built in order: the forward ops, the loss, autodiff's
/// ops, then the optimizer's (which carry no node). The gradient of a
/// parameter is where the ops its update depends on leave the optimizer's
/// tail: the first value, breadth first from the update, defined before the
/// tail or by autodiff's last sum of two contributions (a weight used twice).
ValueNames::ValueNames(func::FuncOp function) : function(function) {
  Block &body = function.getBody().front();
  llvm::DenseMap<Operation *, int> position;
  int lastNode = -1, loss = -1;
  for (Operation &op : body.without_terminator()) {
    position[&op] = position.size();
    if (!nodeNameOf(&op).empty())
      lastNode = position[&op];
  }
  Operation *terminator = body.getTerminator();
  for (OpOperand &use : terminator->getOpOperands())
    if (function.getResultAttr(use.getOperandNumber(), CleaveDialect::kLossAttrName))
      if (Operation *op = use.get().getDefiningOp())
        loss = position.lookup(op);
  auto inTail = [&](Value value) {
    Operation *op = value.getDefiningOp();
    return op && position.lookup(op) > lastNode;
  };
  auto isAccumulation = [&](Operation *op) {
    return isa<BinaryOp>(op) && cast<BinaryOp>(op).getKind() == BinaryKind::add &&
           llvm::none_of(op->getOperands(), inTail);
  };
  for (OpOperand &use : terminator->getOpOperands()) {
    auto updated = function.getResultAttrOfType<IntegerAttr>(use.getOperandNumber(),
                                                             CleaveDialect::kUpdatesAttrName);
    if (!updated)
      continue;
    auto param =
        function.getArgAttrOfType<ParamAttr>(updated.getInt(), CleaveDialect::kParamAttrName);
    if (!param || !inTail(use.get()))
      continue;
    SmallVector<Value> queue = {use.get()};
    llvm::DenseSet<Value> seen;
    for (size_t next = 0; next < queue.size(); ++next) {
      Value value = queue[next];
      Operation *op = value.getDefiningOp();
      if (!op || !seen.insert(value).second)
        continue;
      if (isa<ConstantOp>(op))
        continue; // the optimizer's constants stand first
      if (!inTail(value) || isAccumulation(op)) {
        // A view is named through the value whose storage it shares.
        while (auto reshape = value.getDefiningOp<ReshapeOp>())
          value = reshape.getInput();
        if (value.getDefiningOp())
          structuralNames.try_emplace(value,
                                      sanitizeIdentifier(param.getName().getValue()) + "_grad");
        break;
      }
      llvm::append_range(queue, op->getOperands());
    }
  }
  if (loss < 0)
    return;
  for (Operation &op : body.without_terminator()) {
    std::string node = sanitizeIdentifier(nodeNameOf(&op));
    if (position[&op] > loss && !node.empty())
      for (Value result : op.getResults())
        structuralNames.try_emplace(result, node + "_grad");
  }
}

std::string ValueNames::baseName(Value value) {
  if (auto argument = dyn_cast<BlockArgument>(value)) {
    unsigned index = argument.getArgNumber();
    if (auto param = function.getArgAttrOfType<ParamAttr>(index, CleaveDialect::kParamAttrName))
      return sanitizeIdentifier(param.getName().getValue());
    for (StringRef attr : {CleaveDialect::kOptStateAttrName, CleaveDialect::kInputAttrName,
                           CleaveDialect::kStepScalarAttrName})
      if (auto name = function.getArgAttrOfType<StringAttr>(index, attr))
        return sanitizeIdentifier(name.getValue());
    return "arg";
  }
  // A result that becomes an argument's next value.
  Block &body = function.getBody().front();
  for (OpOperand &use : body.getTerminator()->getOpOperands())
    if (use.get() == value)
      if (auto updated = function.getResultAttrOfType<IntegerAttr>(
              use.getOperandNumber(), CleaveDialect::kUpdatesAttrName)) {
        return get(function.getArgument(updated.getInt())) + "_new";
      }
  auto structural = structuralNames.find(value);
  if (structural != structuralNames.end())
    return structural->second;
  Operation *op = value.getDefiningOp();
  std::string node = sanitizeIdentifier(nodeNameOf(op));
  return node.empty() ? opName(op) : node;
}

std::string ValueNames::get(Value value) {
  auto it = names.find(value);
  if (it != names.end())
    return it->second;
  std::string base = baseName(value);
  if (base.empty())
    base = "value";
  std::string name = unique(base);
  names[value] = name;
  return name;
}
