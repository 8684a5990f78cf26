//===- FusedLoops.cpp - a run of elementwise ops as one loop or kernel ----===//
//
// A fused loop reads its inputs once per element into registers (x0, x1..),
// computes each op's expression (the rule table's) into a register of its
// own (r0, r1..) and stores the values that leave the loop. Dimensions that
// every operand walks contiguously are merged first, so most loops are
// one flat loop. How the loop runs (an OpenMP loop nest or a CUDA kernel)
// is the target's.
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/Emitter.h"
#include "compiler/Codegen/Rules.h"

#include "dialects/Cleave/IR/CleaveOps.h"

#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::codegen;

LogicalResult Emitter::collectLoopOperands(const FusedLoop &loop, SmallVectorImpl<int64_t> &dims,
                                           SmallVectorImpl<LoopOperand> &inputs,
                                           SmallVectorImpl<LoopOperand> &outputs) {
  ArrayRef<int64_t> shape = loop.shape;
  size_t rank = shape.size();
  auto stridesFor = [&](ArrayRef<int64_t> operandShape) {
    SmallVector<int64_t> strides(rank, 0);
    int64_t stride = 1;
    for (int64_t d = operandShape.size() - 1, l = rank - 1; d >= 0; --d, --l) {
      strides[l] = operandShape[d] == 1 ? 0 : stride;
      stride *= operandShape[d];
    }
    return strides;
  };
  Operation *first = loop.ops.front();
  for (Value input : loop.inputs) {
    LoopOperand operand{input, "", stridesFor(typeOf(input).getShape()), false};
    if (std::optional<std::string> scalar = stepScalar(input)) {
      operand.name = *scalar;
      operand.isScalarExpression = true;
    } else {
      FailureOr<std::string> name = pointer(input, first);
      if (failed(name))
        return failure();
      operand.name = *name;
    }
    inputs.push_back(operand);
  }
  for (Value output : loop.outputs) {
    FailureOr<std::string> name = pointer(output, first);
    if (failed(name))
      return failure();
    outputs.push_back(LoopOperand{output, *name, stridesFor(shape), false});
  }
  // Merge dimension d into d+1 when every operand walks them as one.
  SmallVector<int64_t> merged(shape);
  for (int64_t d = rank - 2; d >= 0; --d) {
    auto mergeable = [&](const LoopOperand &operand) {
      return operand.strides[d] == operand.strides[d + 1] * merged[d + 1];
    };
    if (!llvm::all_of(inputs, mergeable) || !llvm::all_of(outputs, mergeable))
      continue;
    merged[d] *= merged[d + 1];
    merged.erase(merged.begin() + d + 1);
    for (LoopOperand &operand : inputs) {
      operand.strides[d] = operand.strides[d + 1];
      operand.strides.erase(operand.strides.begin() + d + 1);
    }
    for (LoopOperand &operand : outputs) {
      operand.strides[d] = operand.strides[d + 1];
      operand.strides.erase(operand.strides.begin() + d + 1);
    }
  }
  if (merged.empty())
    merged.push_back(1); // a 0-d loop runs once
  for (LoopOperand &operand : inputs)
    if (operand.strides.empty())
      operand.strides.push_back(0);
  for (LoopOperand &operand : outputs)
    if (operand.strides.empty())
      operand.strides.push_back(0);
  dims.assign(merged.begin(), merged.end());
  return success();
}

static std::string indexExpression(ArrayRef<int64_t> strides) {
  SmallVector<std::string> terms;
  for (auto [d, stride] : llvm::enumerate(strides)) {
    if (stride == 0)
      continue;
    std::string index = "i" + std::to_string(d);
    terms.push_back(stride == 1 ? index : index + " * " + std::to_string(stride));
  }
  return terms.empty() ? "0" : llvm::join(terms, " + ");
}

/// A splat constant inlined into the loop that reads it.
static std::string splatLiteral(Value value) {
  auto constant = value.getDefiningOp<ConstantOp>();
  auto dense = cast<DenseElementsAttr>(constant.getValue());
  Type type = dense.getElementType();
  if (isa<FloatType>(type))
    return floatLiteral(dense.getSplatValue<APFloat>().convertToDouble(), type.isF32());
  if (type.isSignlessInteger(1))
    return dense.getSplatValue<APInt>().isZero() ? "uint8_t(0)" : "uint8_t(1)";
  return "int64_t(" + std::to_string(dense.getSplatValue<APInt>().getSExtValue()) + ")";
}

LogicalResult Emitter::emitLoopBody(raw_ostream &out, const FusedLoop &loop, ArrayRef<int64_t> dims,
                                    ArrayRef<LoopOperand> inputs, ArrayRef<LoopOperand> outputs,
                                    StringRef indent) {
  llvm::DenseMap<Value, std::string> registers;
  auto registerOf = [&](Value value) -> std::string {
    if (auto it = registers.find(value); it != registers.end())
      return it->second;
    return splatLiteral(value);
  };
  // The flat element index (row-major over the loop shape): what random
  // masks are keyed on.
  SmallVector<int64_t> contiguous(dims.size(), 1);
  for (int64_t d = dims.size() - 2; d >= 0; --d)
    contiguous[d] = contiguous[d + 1] * dims[d + 1];
  std::string flatIndex = "(" + indexExpression(contiguous) + ")";
  // Every load before any store: an output may overwrite an input in place.
  for (auto [i, input] : llvm::enumerate(inputs)) {
    FailureOr<std::string> type = typeName(input.value);
    if (failed(type))
      return failure();
    std::string reg = "x" + std::to_string(i);
    std::string read = input.isScalarExpression
                           ? input.name
                           : input.name + "[" + indexExpression(input.strides) + "]";
    out << indent << "const " << *type << " " << reg << " = " << read << ";\n";
    registers[input.value] = reg;
  }
  const RuleTable &rules = getRuleTable();
  for (auto [i, op] : llvm::enumerate(loop.ops)) {
    if (isSplatConstant(op) && loop.ops.size() > 1)
      continue; // inlined where used
    FailureOr<std::string> type = typeName(op->getResult(0));
    if (failed(type))
      return failure();
    const ExpressionRule *rule = rules.lookupExpression(op);
    if (!rule)
      return op->emitOpError() << "cannot be emitted inside a fused loop";
    ExpressionContext ctx(op, *target, *type, registerOf, flatIndex);
    FailureOr<std::string> expression = (*rule)(ctx);
    if (failed(expression))
      return failure();
    std::string reg = "r" + std::to_string(i);
    out << indent << "const " << *type << " " << reg << " = " << *expression << ";\n";
    registers[op->getResult(0)] = reg;
  }
  for (const LoopOperand &output : outputs)
    out << indent << output.name << "[" << indexExpression(output.strides)
        << "] = " << registers.lookup(output.value) << ";\n";
  return success();
}

LogicalResult Emitter::emitLoop(int loopIndex) {
  const FusedLoop &loop = schedule.loops[loopIndex];
  SmallVector<int64_t> dims;
  SmallVector<LoopOperand> inputs, outputs;
  if (failed(collectLoopOperands(loop, dims, inputs, outputs)))
    return failure();
  llvm::raw_string_ostream out(body);
  SmallVector<std::string> opNames;
  for (Operation *op : loop.ops)
    opNames.push_back(op->getName().getStringRef().str());
  out << "  // fused loop " << loopIndex << " over [" << shapeList(loop.shape)
      << "]: " << llvm::join(opNames, ", ") << nodeComment(loop.ops) << "\n";
  SmallVector<std::string> arguments;
  for (const LoopOperand &input : inputs)
    if (!input.isScalarExpression)
      arguments.push_back(input.name);
  for (const LoopOperand &output : outputs)
    arguments.push_back(output.name);
  LoopLaunch launch{loopIndex, dims, arguments};
  return target->emitLoopStep(out, launch, [&](raw_ostream &os, StringRef indent) {
    return emitLoopBody(os, loop, dims, inputs, outputs, indent);
  });
}

LogicalResult Emitter::emitLoopKernels() {
  if (!target->loopsAreKernels())
    return success();
  for (auto [loopIndex, loop] : llvm::enumerate(schedule.loops)) {
    SmallVector<int64_t> dims;
    SmallVector<LoopOperand> inputs, outputs;
    if (failed(collectLoopOperands(loop, dims, inputs, outputs)))
      return failure();
    // Parameters get names of their own (in0.., out0..): a buffer updated in
    // place (an optimizer step) is both an input and an output of the loop,
    // and two parameters cannot share its name.
    auto aliased = [&](const LoopOperand &operand) {
      int count = 0;
      for (const LoopOperand &other : inputs)
        count += !other.isScalarExpression && other.name == operand.name;
      for (const LoopOperand &other : outputs)
        count += other.name == operand.name;
      return count > 1;
    };
    SmallVector<KernelParameter> parameters;
    auto addParameter = [&](const LoopOperand &operand, bool isConst,
                            const std::string &name) -> LogicalResult {
      FailureOr<std::string> type = typeName(operand.value);
      if (failed(type))
        return failure();
      parameters.push_back(KernelParameter{*type, name, isConst, aliased(operand)});
      return success();
    };
    for (auto [i, input] : llvm::enumerate(inputs))
      if (!input.isScalarExpression && failed(addParameter(input, true, "in" + std::to_string(i))))
        return failure();
    for (auto [i, output] : llvm::enumerate(outputs))
      if (failed(addParameter(output, false, "out" + std::to_string(i))))
        return failure();
    for (auto [i, input] : llvm::enumerate(inputs))
      if (!input.isScalarExpression)
        input.name = "in" + std::to_string(i);
    for (auto [i, output] : llvm::enumerate(outputs))
      output.name = "out" + std::to_string(i);
    if (failed(target->emitLoopKernel(os, loopIndex, parameters, dims,
                                      // C++17 lambdas cannot capture a structured binding; name it.
                                      [&, &kernelLoop = loop](raw_ostream &out, StringRef indent) {
                                        return emitLoopBody(out, kernelLoop, dims, inputs, outputs,
                                                            indent);
                                      })))
      return failure();
  }
  return success();
}
