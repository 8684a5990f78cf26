//===- Emitter.cpp - write the train step as C++ or CUDA C++ --------------===//
//
// 1. Legalise, schedule (fused loops + library calls) and plan memory.
// 2. Emit static arrays for the non-splat constants.
// 3. Emit the step function: typed pointers for every stored value, then
//    the steps in order, then the copies of results into the arguments they
//    update and the loss.
// 4. Emit the ModelInfo table and main().
// CPU loops are OpenMP loops; on CUDA each fused loop is a kernel with one
// thread per element and library calls go to cleave::rt::cuda.
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/Codegen.h"
#include "compiler/Codegen/Collectives.h"

#include "compiler/Codegen/Legalize.h"
#include "compiler/Codegen/MemoryPlan.h"
#include "compiler/Codegen/Schedule.h"
#include "dialects/Cleave/IR/CleaveOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::codegen;

/// Loops with fewer elements run on one thread: forking costs more.
constexpr int64_t kParallelLoopThreshold = 1 << 15;
/// Threads per block of the generated CUDA kernels.
constexpr int64_t kCudaBlockSize = 256;

namespace {

std::string shapeList(ArrayRef<int64_t> values) {
  std::string text;
  llvm::raw_string_ostream os(text);
  llvm::interleaveComma(values, os);
  return text;
}

int64_t product(ArrayRef<int64_t> shape) {
  int64_t count = 1;
  for (int64_t size : shape)
    count *= size;
  return count;
}

RankedTensorType typeOf(Value value) { return cast<RankedTensorType>(value.getType()); }

FailureOr<std::string> cppElementType(Type type, Operation *where) {
  if (type.isF32())
    return std::string("float");
  if (type.isF64())
    return std::string("double");
  if (type.isSignlessInteger(64))
    return std::string("int64_t");
  if (type.isSignlessInteger(32))
    return std::string("int32_t");
  if (type.isSignlessInteger(16))
    return std::string("int16_t");
  if (type.isSignlessInteger(8))
    return std::string("int8_t");
  if (type.isSignlessInteger(1))
    return std::string("uint8_t");
  where->emitOpError() << "element type " << type
                       << " is not supported by the generated code yet (f32, f64 and integers are)";
  return failure();
}

std::string floatLiteral(double value, bool isFloat) {
  if (std::isnan(value))
    return isFloat ? "NAN" : "static_cast<double>(NAN)";
  if (std::isinf(value))
    return value > 0 ? "INFINITY" : "(-INFINITY)";
  std::string text = llvm::formatv("{0:e9}", value).str();
  return isFloat ? "(" + text + "f)" : "(" + text + ")";
}

/// cleave.cross_entropy's attributes as a K::CrossEntropyOptions literal.
std::string crossEntropyOptions(std::optional<uint64_t> ignoreIndex, double smoothing, bool sum) {
  return llvm::formatv("K::CrossEntropyOptions{{{0}, {1}, {2}, {3}}",
                       ignoreIndex ? "true" : "false",
                       ignoreIndex ? static_cast<int64_t>(*ignoreIndex) : int64_t(-100),
                       floatLiteral(smoothing, true), sum ? "true" : "false")
      .str();
}

/// One operand of a fused loop: how to read element `index` of the loop.
struct LoopOperand {
  Value value;
  std::string name;             // register or pointer variable
  SmallVector<int64_t> strides; // over the (collapsed) loop dimensions
  bool isScalarExpression = false;
};

class Emitter {
public:
  Emitter(func::FuncOp function, const CodegenOptions &options, raw_ostream &os)
      : function(function), options(options), os(os), cuda(options.target == Target::cuda) {}

  LogicalResult run(CodegenReport *report, Emitter *eval = nullptr);

  /// Where a parameter or input of the main function sits in
  /// StepBuffers::params / inputs, and its per-device type, by name.
  struct Slot {
    unsigned index;
    Type type;
  };
  llvm::StringMap<Slot> slotsByName();
  /// Makes this emitter write a second function into `namespace eval`
  /// that reads the main function's tables (`slots`).
  void setEvalFragment(llvm::StringMap<Slot> slots) {
    fragmentSlots = std::move(slots);
    fragment = true;
  }

private:
  // Naming.
  std::string valueName(Value value);
  FailureOr<std::string> typeName(Value value) {
    return cppElementType(typeOf(value).getElementType(), function);
  }
  /// A typed pointer expression to `value`'s storage.
  FailureOr<std::string> pointer(Value value);
  /// For 0-d step scalars (lr, bias corrections): their expression.
  std::optional<std::string> stepScalar(Value value);
  /// "_bf16" under --precision bf16: the kernel variant with bf16 operands.
  std::string bf16Suffix() const { return options.precision == Precision::bf16 ? "_bf16" : ""; }

  LogicalResult emitConstants();
  LogicalResult emitLoopKernels();
  LogicalResult emitStepFunction();
  LogicalResult emitLoop(int loopIndex);
  LogicalResult emitLoopBody(const FusedLoop &loop, ArrayRef<int64_t> dims,
                             ArrayRef<LoopOperand> inputs, ArrayRef<LoopOperand> outputs,
                             const std::string &indent, bool deviceCode);
  LogicalResult emitLibraryCall(Operation *op);
  FailureOr<std::string> scalarExpression(Operation *op,
                                          const llvm::DenseMap<Value, std::string> &registers,
                                          const std::string &flatIndex);
  LogicalResult collectLoopOperands(const FusedLoop &loop, SmallVectorImpl<int64_t> &dims,
                                    SmallVectorImpl<LoopOperand> &inputs,
                                    SmallVectorImpl<LoopOperand> &outputs);
  LogicalResult emitModelTable();
  /// Legalise, schedule and plan memory.
  LogicalResult prepare();
  /// Constants, CUDA kernels and the step function.
  LogicalResult emitFunction();
  /// The evaluation fragment: emitFunction() inside `namespace eval`, and
  /// the workspace it needs.
  LogicalResult emitEvalFragment();

  func::FuncOp function;
  const CodegenOptions &options;
  raw_ostream &os;
  bool cuda;
  Schedule schedule;
  MemoryPlan plan;
  llvm::DenseMap<Value, std::string> names;
  llvm::DenseMap<Value, std::string> constantArrays;
  /// Scratch the kernels need, as C++ expressions for main() to maximise.
  SmallVector<std::string> scratchExpressions;
  std::string body; // the step function's statements
  bool fragment = false;
  llvm::StringMap<Slot> fragmentSlots;
  bool hasEval = false;
};

llvm::StringMap<Emitter::Slot> Emitter::slotsByName() {
  llvm::StringMap<Slot> slots;
  unsigned params = 0, inputs = 0;
  for (BlockArgument argument : function.getArguments()) {
    unsigned index = argument.getArgNumber();
    if (auto param = function.getArgAttrOfType<ParamAttr>(index, CleaveDialect::kParamAttrName))
      slots["param:" + param.getName().getValue().str()] = {params++, argument.getType()};
    else if (auto input =
                 function.getArgAttrOfType<StringAttr>(index, CleaveDialect::kInputAttrName))
      slots["input:" + input.getValue().str()] = {inputs++, argument.getType()};
  }
  return slots;
}

std::string Emitter::valueName(Value value) {
  auto it = names.find(value);
  if (it != names.end())
    return it->second;
  std::string name;
  if (auto argument = dyn_cast<BlockArgument>(value))
    name = "arg" + std::to_string(argument.getArgNumber());
  else
    name = "v" + std::to_string(names.size());
  names[value] = name;
  return name;
}

std::optional<std::string> Emitter::stepScalar(Value value) {
  auto argument = dyn_cast<BlockArgument>(value);
  if (!argument)
    return std::nullopt;
  auto name = function.getArgAttrOfType<StringAttr>(argument.getArgNumber(),
                                                    CleaveDialect::kStepScalarAttrName);
  if (!name)
    return std::nullopt;
  return "s." + name.getValue().str();
}

FailureOr<std::string> Emitter::pointer(Value value) {
  Value storage = schedule.storageOf(value);
  auto constant = constantArrays.find(storage);
  if (constant != constantArrays.end())
    return cuda ? constant->second + "_device" : constant->second;
  auto it = plan.storage.find(storage);
  if (it == plan.storage.end())
    return function.emitOpError() << "internal codegen error: a value has no storage",
           FailureOr<std::string>(failure());
  return valueName(it->second.kind == Storage::Kind::argument
                       ? Value(function.getArgument(it->second.argument))
                       : storage);
}

LogicalResult Emitter::emitConstants() {
  for (Operation &op : function.getBody().front()) {
    auto constant = dyn_cast<ConstantOp>(op);
    if (!constant || isSplatConstant(&op))
      continue;
    auto dense = dyn_cast<DenseElementsAttr>(constant.getValue());
    if (!dense)
      return constant.emitOpError() << "only dense constants can be emitted";
    FailureOr<std::string> type = typeName(constant.getResult());
    if (failed(type))
      return failure();
    std::string name = "kConstant" + std::to_string(constantArrays.size());
    SmallVector<std::string> elements;
    if (isa<FloatType>(dense.getElementType())) {
      for (APFloat value : dense.getValues<APFloat>())
        elements.push_back(floatLiteral(value.convertToDouble(), *type == "float"));
    } else {
      // Both branches int64_t: a conditional mixing getZExtValue's uint64_t
      // would print -1 as 18446744073709551615, which does not compile.
      for (APInt value : dense.getValues<APInt>())
        elements.push_back(std::to_string(dense.getElementType().isSignlessInteger(1)
                                              ? static_cast<int64_t>(value.getZExtValue())
                                              : value.getSExtValue()));
    }
    os << (cuda ? "__device__ " : "") << "const " << *type << " " << name << "[] = {"
       << llvm::join(elements, ", ") << "};\n";
    constantArrays[constant.getResult()] = name;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Fused loops
//===----------------------------------------------------------------------===//

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
  for (Value input : loop.inputs) {
    LoopOperand operand{input, "", stridesFor(typeOf(input).getShape()), false};
    if (std::optional<std::string> scalar = stepScalar(input)) {
      operand.name = *scalar;
      operand.isScalarExpression = true;
    } else {
      FailureOr<std::string> name = pointer(input);
      if (failed(name))
        return failure();
      operand.name = *name;
    }
    inputs.push_back(operand);
  }
  for (Value output : loop.outputs) {
    FailureOr<std::string> name = pointer(output);
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

FailureOr<std::string>
Emitter::scalarExpression(Operation *op, const llvm::DenseMap<Value, std::string> &registers,
                          const std::string &flatIndex) {
  auto reg = [&](Value value) -> std::string {
    if (auto it = registers.find(value); it != registers.end())
      return it->second;
    // A literal splat constant.
    auto constant = value.getDefiningOp<ConstantOp>();
    auto dense = cast<DenseElementsAttr>(constant.getValue());
    Type type = dense.getElementType();
    if (isa<FloatType>(type))
      return floatLiteral(dense.getSplatValue<APFloat>().convertToDouble(), type.isF32());
    if (type.isSignlessInteger(1))
      return dense.getSplatValue<APInt>().isZero() ? "uint8_t(0)" : "uint8_t(1)";
    return "int64_t(" + std::to_string(dense.getSplatValue<APInt>().getSExtValue()) + ")";
  };
  FailureOr<std::string> resultTypeName = typeName(op->getResult(0));
  if (failed(resultTypeName))
    return failure();
  const std::string &T = *resultTypeName;
  bool isFloatResult = isa<FloatType>(typeOf(op->getResult(0)).getElementType());
  auto literal = [&](double value) { return floatLiteral(value, T == "float"); };
  std::string math = cuda ? "" : "std::";
  // On the CPU, float exp and erf come from cleave/rt/vmath.h: plain
  // arithmetic that vectorises, where libm's are one call per element.
  std::string expFn = !cuda && T == "float" ? "cleave::rt::vexp" : math + "exp";
  std::string erfFn = !cuda && T == "float" ? "cleave::rt::verf" : math + "erf";

  if (auto unary = dyn_cast<UnaryOp>(op)) {
    std::string x = reg(unary.getInput());
    switch (unary.getKind()) {
    case UnaryKind::neg:
      return "(-" + x + ")";
    case UnaryKind::abs:
      return isFloatResult ? math + "fabs(" + x + ")" : "(" + x + " < 0 ? -" + x + " : " + x + ")";
    case UnaryKind::exp:
      return expFn + "(" + x + ")";
    case UnaryKind::log:
      return math + "log(" + x + ")";
    case UnaryKind::sqrt:
      return math + "sqrt(" + x + ")";
    case UnaryKind::rsqrt:
      return "(" + literal(1.0) + " / " + math + "sqrt(" + x + "))";
    case UnaryKind::reciprocal:
      return "(" + literal(1.0) + " / " + x + ")";
    case UnaryKind::tanh:
      return math + "tanh(" + x + ")";
    case UnaryKind::erf:
      return erfFn + "(" + x + ")";
    case UnaryKind::relu:
      return "(" + x + " > 0 ? " + x + " : " + T + "(0))";
    case UnaryKind::sigmoid:
      return "(" + literal(1.0) + " / (" + literal(1.0) + " + " + expFn + "(-" + x + ")))";
    case UnaryKind::sin:
      return math + "sin(" + x + ")";
    case UnaryKind::cos:
      return math + "cos(" + x + ")";
    case UnaryKind::floor:
      return math + "floor(" + x + ")";
    case UnaryKind::ceil:
      return math + "ceil(" + x + ")";
    case UnaryKind::sign:
      return T + "((" + x + " > 0) - (" + x + " < 0))";
    case UnaryKind::logical_not:
      return "uint8_t(!" + x + ")";
    case UnaryKind::identity:
      return x;
    // PyTorch's softplus returns x itself above its threshold of 20.
    case UnaryKind::softplus:
      return "(" + x + " > " + literal(20.0) + " ? " + x + " : " + math + "log1p(" + math + "exp(" +
             x + ")))";
    case UnaryKind::round:
      return math + "nearbyint(" + x + ")";
    }
  }
  if (auto binary = dyn_cast<BinaryOp>(op)) {
    std::string a = reg(binary.getLhs()), b = reg(binary.getRhs());
    switch (binary.getKind()) {
    case BinaryKind::add:
      return "(" + a + " + " + b + ")";
    case BinaryKind::sub:
      return "(" + a + " - " + b + ")";
    case BinaryKind::mul:
      return "(" + a + " * " + b + ")";
    case BinaryKind::div:
      return "(" + a + " / " + b + ")";
    case BinaryKind::pow:
      return isFloatResult ? math + "pow(" + a + ", " + b + ")"
                           : T + "(" + math + "pow(double(" + a + "), double(" + b + ")))";
    case BinaryKind::max:
      return "(" + a + " >= " + b + " ? " + a + " : " + b + ")";
    case BinaryKind::min:
      return "(" + a + " <= " + b + " ? " + a + " : " + b + ")";
    case BinaryKind::logical_and:
      return "uint8_t(" + a + " && " + b + ")";
    case BinaryKind::logical_or:
      return "uint8_t(" + a + " || " + b + ")";
    case BinaryKind::logical_xor:
      return "uint8_t((" + a + " != 0) != (" + b + " != 0))";
    }
  }
  if (auto compare = dyn_cast<CompareOp>(op)) {
    std::string a = reg(compare.getLhs()), b = reg(compare.getRhs());
    const char *symbol = "==";
    switch (compare.getKind()) {
    case CompareKind::eq:
      symbol = "==";
      break;
    case CompareKind::ne:
      symbol = "!=";
      break;
    case CompareKind::lt:
      symbol = "<";
      break;
    case CompareKind::le:
      symbol = "<=";
      break;
    case CompareKind::gt:
      symbol = ">";
      break;
    case CompareKind::ge:
      symbol = ">=";
      break;
    }
    return "uint8_t(" + a + " " + symbol + " " + b + ")";
  }
  if (auto select = dyn_cast<SelectOp>(op))
    return "(" + reg(select.getCondition()) + " ? " + reg(select.getOnTrue()) + " : " +
           reg(select.getOnFalse()) + ")";
  if (auto castOp = dyn_cast<CastOp>(op)) {
    std::string x = reg(castOp.getInput());
    if (typeOf(castOp.getResult()).getElementType().isSignlessInteger(1))
      return "uint8_t(" + x + " != 0)";
    return T + "(" + x + ")";
  }
  if (auto broadcast = dyn_cast<BroadcastOp>(op))
    return reg(broadcast.getInput());
  if (auto mask = dyn_cast<RandomMaskOp>(op)) {
    double keep = mask.getKeepProbability().convertToDouble();
    // Each mask draws from its own stream of the step's key.
    std::string element =
        "(uint64_t(" + std::to_string(mask.getStream()) + ") << 40) + uint64_t(" + flatIndex + ")";
    return "(cleave::rt::philox_keep(cleave::rt::philox_step_key(s.seed, s.step), " + element +
           ", " + literal(keep) + ") ? " + literal(1.0 / keep) + " : " + literal(0.0) + ")";
  }
  if (isSplatConstant(op))
    return reg(op->getResult(0));
  return op->emitOpError() << "cannot be emitted inside a fused loop", failure();
}

LogicalResult Emitter::emitLoopBody(const FusedLoop &loop, ArrayRef<int64_t> dims,
                                    ArrayRef<LoopOperand> inputs, ArrayRef<LoopOperand> outputs,
                                    const std::string &indent, bool deviceCode) {
  llvm::raw_string_ostream out(body);
  llvm::DenseMap<Value, std::string> registers;
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
  for (auto [i, op] : llvm::enumerate(loop.ops)) {
    if (isSplatConstant(op) && loop.ops.size() > 1)
      continue; // inlined where used
    FailureOr<std::string> expression = scalarExpression(op, registers, flatIndex);
    if (failed(expression))
      return failure();
    FailureOr<std::string> type = typeName(op->getResult(0));
    if (failed(type))
      return failure();
    std::string reg = "r" + std::to_string(i);
    out << indent << "const " << *type << " " << reg << " = " << *expression << ";\n";
    registers[op->getResult(0)] = reg;
  }
  for (const LoopOperand &output : outputs)
    out << indent << output.name << "[" << indexExpression(output.strides)
        << "] = " << registers.lookup(output.value) << ";\n";
  (void)deviceCode;
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
      << "]: " << llvm::join(opNames, ", ") << "\n";
  int64_t total = product(dims);
  if (cuda) {
    if (total == 0)
      return success(); // a launch of no blocks is a CUDA error
    std::string arguments;
    for (const LoopOperand &input : inputs)
      if (!input.isScalarExpression)
        arguments += input.name + ", ";
    for (const LoopOperand &output : outputs)
      arguments += output.name + ", ";
    out << "  fused_loop_" << loopIndex << "<<<" << (total + kCudaBlockSize - 1) / kCudaBlockSize
        << ", " << kCudaBlockSize << ">>>(" << arguments << "s);\n";
    out << "  CLEAVE_CUDA_CHECK(cudaGetLastError());\n";
    return success();
  }
  out << "  {\n";
  std::string indent = "    ";
  for (auto [d, size] : llvm::enumerate(dims)) {
    bool outermost = d == 0, innermost = d + 1 == dims.size();
    if (outermost && total >= kParallelLoopThreshold)
      out << indent
          << (innermost ? "#pragma omp parallel for simd\n" : "#pragma omp parallel for\n");
    else if (innermost)
      out << indent << "#pragma omp simd\n";
    out << indent << "for (int64_t i" << d << " = 0; i" << d << " < " << size << "; ++i" << d
        << ") {\n";
    indent += "  ";
  }
  if (failed(emitLoopBody(loop, dims, inputs, outputs, indent, false)))
    return failure();
  for (size_t d = dims.size(); d > 0; --d) {
    indent.resize(indent.size() - 2);
    out << indent << "}\n";
  }
  out << "  }\n";
  return success();
}

LogicalResult Emitter::emitLoopKernels() {
  // CUDA only: one kernel per fused loop, one thread per element.
  for (auto [loopIndex, loop] : llvm::enumerate(schedule.loops)) {
    SmallVector<int64_t> dims;
    SmallVector<LoopOperand> inputs, outputs;
    if (failed(collectLoopOperands(loop, dims, inputs, outputs)))
      return failure();
    // Parameters get names of their own (in0.., out0..): a buffer updated in
    // place (an optimizer step) is both an input and an output of the loop,
    // and two parameters cannot share its name. Such a buffer's pointers
    // must not be __restrict__ either.
    auto aliased = [&](const LoopOperand &operand) {
      int count = 0;
      for (const LoopOperand &other : inputs)
        count += !other.isScalarExpression && other.name == operand.name;
      for (const LoopOperand &other : outputs)
        count += other.name == operand.name;
      return count > 1;
    };
    std::string parameters;
    auto addParameter = [&](const LoopOperand &operand, StringRef qualifier,
                            const std::string &name) -> LogicalResult {
      FailureOr<std::string> type = typeName(operand.value);
      if (failed(type))
        return failure();
      parameters +=
          qualifier.str() + *type + (aliased(operand) ? " *" : " *__restrict__ ") + name + ", ";
      return success();
    };
    for (auto [i, input] : llvm::enumerate(inputs))
      if (!input.isScalarExpression &&
          failed(addParameter(input, "const ", "in" + std::to_string(i))))
        return failure();
    for (auto [i, output] : llvm::enumerate(outputs))
      if (failed(addParameter(output, "", "out" + std::to_string(i))))
        return failure();
    for (auto [i, input] : llvm::enumerate(inputs))
      if (!input.isScalarExpression)
        input.name = "in" + std::to_string(i);
    for (auto [i, output] : llvm::enumerate(outputs))
      output.name = "out" + std::to_string(i);
    std::string saved = std::move(body);
    body.clear();
    llvm::raw_string_ostream out(body);
    out << "__global__ void fused_loop_" << loopIndex << "(" << parameters
        << "cleave::rt::StepScalars s) {\n";
    out << "  int64_t flat = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;\n";
    out << "  if (flat >= " << product(dims) << ") return;\n";
    // Recover the loop indices from the flat index.
    int64_t inner = 1;
    for (int64_t d = dims.size() - 1; d >= 0; --d) {
      out << "  const int64_t i" << d << " = (flat / " << inner << ") % " << dims[d] << ";\n";
      inner *= dims[d];
    }
    if (failed(emitLoopBody(loop, dims, inputs, outputs, "  ", true)))
      return failure();
    out << "}\n\n";
    os << body;
    body = std::move(saved);
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Library calls
//===----------------------------------------------------------------------===//

/// [outer, n, inner] around `axis` of `shape`.
static std::string outerNInner(ArrayRef<int64_t> shape, int64_t axis) {
  return std::to_string(product(shape.take_front(axis))) + ", " + std::to_string(shape[axis]) +
         ", " + std::to_string(product(shape.drop_front(axis + 1)));
}

static int64_t elementBytes(Value value) {
  return std::max<int64_t>(1, typeOf(value).getElementTypeBitWidth() / 8);
}

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

LogicalResult Emitter::emitLibraryCall(Operation *op) {
  llvm::raw_string_ostream out(body);
  auto ptr = [&](Value value) -> std::string {
    FailureOr<std::string> name = pointer(value);
    return succeeded(name) ? *name : std::string("nullptr");
  };
  auto shapeArray = [&](StringRef name, ArrayRef<int64_t> values) {
    out << "    const int64_t " << name << "[] = {" << (values.empty() ? "0" : shapeList(values))
        << "};\n";
  };
  auto requireF32 = [&](Value value) -> LogicalResult {
    if (!typeOf(value).getElementType().isF32())
      return op->emitOpError() << "is only generated for f32 tensors so far";
    return success();
  };
  out << "  { // " << op->getName().getStringRef() << "\n";
  LogicalResult result = success();
  if (auto matmul = dyn_cast<MatmulOp>(op)) {
    // The CPU runtime also multiplies f64 (dgemm): f64 models run there.
    bool cpuF64 = !cuda && typeOf(matmul.getResult()).getElementType().isF64();
    if (!cpuF64 && failed(requireF32(matmul.getResult())))
      return failure();
    ArrayRef<int64_t> c = matmul.getType().getShape();
    ArrayRef<int64_t> a = matmul.getLhs().getType().getShape();
    ArrayRef<int64_t> b = matmul.getRhs().getType().getShape();
    int64_t batch = product(c.drop_back(2)), m = c[c.size() - 2], n = c.back();
    int64_t k = matmul.getContractionSize();
    int64_t strideA = product(a.drop_back(2)) == 1 ? 0 : a[a.size() - 1] * a[a.size() - 2];
    int64_t strideB = product(b.drop_back(2)) == 1 ? 0 : b[b.size() - 1] * b[b.size() - 2];
    if (options.precision == Precision::bf16 && !cpuF64) {
      // Rounded operands live in the step's scratch, sized with the rest
      // (once per distinct shape: a GPT repeats a handful of them).
      std::string bytes =
          llvm::formatv("K::matmul_bf16_scratch_bytes({0}, {1}, {2}, {3}, {4}, {5})", batch, m, n,
                        k, strideA, strideB)
              .str();
      if (!llvm::is_contained(scratchExpressions, bytes))
        scratchExpressions.push_back(bytes);
      out << llvm::formatv("    K::matmul_bf16({0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}, {8}, {9}, "
                           "{10}, false, scratch);\n",
                           ptr(matmul.getLhs()), ptr(matmul.getRhs()), ptr(matmul.getResult()),
                           batch, m, n, k, matmul.getTransposeA() ? "true" : "false",
                           matmul.getTransposeB() ? "true" : "false", strideA, strideB);
    } else {
      out << llvm::formatv("    K::matmul({0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}, {8}, {9}, {10}, "
                           "false);\n",
                           ptr(matmul.getLhs()), ptr(matmul.getRhs()), ptr(matmul.getResult()),
                           batch, m, n, k, matmul.getTransposeA() ? "true" : "false",
                           matmul.getTransposeB() ? "true" : "false", strideA, strideB);
    }
  } else if (auto reduce = dyn_cast<ReduceOp>(op)) {
    Type element = reduce.getType().getElementType();
    if (!element.isF32() && !element.isSignlessInteger(64) && !(element.isF64() && !cuda))
      return op->emitOpError() << "reduces only f32 and i64 tensors (and f64 on the CPU) in "
                                  "generated code";
    shapeArray("shape", reduce.getInput().getType().getShape());
    shapeArray("axes", reduce.getAxes());
    out << llvm::formatv("    K::reduce({0}, {1}, {2}, shape, axes, {3}, K::ReduceKind::{4});\n",
                         ptr(reduce.getInput()), ptr(reduce.getResult()),
                         reduce.getInput().getType().getRank(), reduce.getAxes().size(),
                         stringifyReduceKind(reduce.getKind()));
  } else if (auto softmax = dyn_cast<SoftmaxOp>(op)) {
    if (failed(requireF32(softmax.getResult())))
      return failure();
    out << llvm::formatv("    K::{0}({1}, {2}, {3});\n",
                         softmax.getLog() ? "log_softmax" : "softmax", ptr(softmax.getInput()),
                         ptr(softmax.getResult()),
                         outerNInner(softmax.getType().getShape(), softmax.getAxis()));
  } else if (auto grad = dyn_cast<SoftmaxGradOp>(op)) {
    out << llvm::formatv("    K::{0}({1}, {2}, {3}, {4});\n",
                         grad.getLog() ? "log_softmax_grad" : "softmax_grad", ptr(grad.getResult()),
                         ptr(grad.getResultGrad()), ptr(grad.getInputGrad()),
                         outerNInner(grad.getResult().getType().getShape(), grad.getAxis()));
  } else if (auto norm = dyn_cast<LayerNormOp>(op)) {
    if (failed(requireF32(norm.getResult())))
      return failure();
    ArrayRef<int64_t> shape = norm.getType().getShape();
    int64_t rows = product(shape.take_front(norm.getAxis()));
    int64_t cols = product(shape.drop_front(norm.getAxis()));
    out << llvm::formatv("    K::layer_norm({0}, {1}, {2}, {3}, {4}, {5}, {6});\n",
                         ptr(norm.getInput()), ptr(norm.getScale()),
                         norm.getBias() ? ptr(norm.getBias()) : "nullptr", ptr(norm.getResult()),
                         rows, cols, floatLiteral(norm.getEpsilon().convertToDouble(), true));
  } else if (auto grad = dyn_cast<LayerNormGradOp>(op)) {
    ArrayRef<int64_t> shape = grad.getInput().getType().getShape();
    int64_t rows = product(shape.take_front(grad.getAxis()));
    int64_t cols = product(shape.drop_front(grad.getAxis()));
    scratchExpressions.push_back("K::layer_norm_grad_scratch_bytes(" + std::to_string(rows) + ")");
    auto optional = [&](Value value) {
      return value.use_empty() ? std::string("nullptr") : ptr(value);
    };
    out << llvm::formatv("    K::layer_norm_grad({0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}, {8}, "
                         "scratch);\n",
                         ptr(grad.getInput()), ptr(grad.getScale()), ptr(grad.getResultGrad()),
                         optional(grad.getInputGrad()), optional(grad.getScaleGrad()),
                         optional(grad.getBiasGrad()), rows, cols,
                         floatLiteral(grad.getEpsilon().convertToDouble(), true));
  } else if (auto norm = dyn_cast<BatchNormOp>(op)) {
    ArrayRef<int64_t> shape = norm.getInput().getType().getShape();
    out << llvm::formatv(
        "    K::batch_norm_train({0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}, {8}, "
        "{9}, {10}, {11}, {12});\n",
        ptr(norm.getInput()), ptr(norm.getScale()), ptr(norm.getBias()), ptr(norm.getRunningMean()),
        ptr(norm.getRunningVar()), ptr(norm.getResult()), ptr(norm.getNewRunningMean()),
        ptr(norm.getNewRunningVar()), shape[0], shape[1], product(shape.drop_front(2)),
        floatLiteral(norm.getEpsilon().convertToDouble(), true),
        floatLiteral(norm.getMomentum().convertToDouble(), true));
  } else if (auto grad = dyn_cast<BatchNormGradOp>(op)) {
    ArrayRef<int64_t> shape = grad.getInput().getType().getShape();
    auto optional = [&](Value value) {
      return value.use_empty() ? std::string("nullptr") : ptr(value);
    };
    out << llvm::formatv("    K::batch_norm_grad({0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}, {8}, "
                         "{9});\n",
                         ptr(grad.getInput()), ptr(grad.getScale()), ptr(grad.getResultGrad()),
                         optional(grad.getInputGrad()), optional(grad.getScaleGrad()),
                         optional(grad.getBiasGrad()), shape[0], shape[1],
                         product(shape.drop_front(2)),
                         floatLiteral(grad.getEpsilon().convertToDouble(), true));
  } else if (auto gather = dyn_cast<GatherOp>(op)) {
    ArrayRef<int64_t> shape = gather.getInput().getType().getShape();
    int64_t axis = gather.getAxis();
    out << llvm::formatv(
        "    K::gather({0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}, io.invalid_index);\n",
        ptr(gather.getInput()), ptr(gather.getIndices()), ptr(gather.getResult()),
        product(shape.take_front(axis)), shape[axis],
        gather.getIndices().getType().getNumElements(), product(shape.drop_front(axis + 1)),
        elementBytes(gather.getResult()));
  } else if (auto scatter = dyn_cast<ScatterAddOp>(op)) {
    ArrayRef<int64_t> shape = scatter.getType().getShape();
    int64_t axis = scatter.getAxis();
    out << llvm::formatv(
        "    K::scatter_add({0}, {1}, {2}, {3}, {4}, {5}, {6}, io.invalid_index);\n",
        ptr(scatter.getUpdates()), ptr(scatter.getIndices()), ptr(scatter.getResult()),
        product(shape.take_front(axis)), shape[axis],
        scatter.getIndices().getType().getNumElements(), product(shape.drop_front(axis + 1)));
  } else if (auto transpose = dyn_cast<TransposeOp>(op)) {
    shapeArray("shape", transpose.getInput().getType().getShape());
    shapeArray("permutation", transpose.getPermutation());
    out << llvm::formatv("    K::transpose({0}, {1}, {2}, shape, permutation, {3});\n",
                         ptr(transpose.getInput()), ptr(transpose.getResult()),
                         transpose.getType().getRank(), elementBytes(transpose.getResult()));
  } else if (auto slice = dyn_cast<SliceOp>(op)) {
    shapeArray("input_shape", slice.getInput().getType().getShape());
    shapeArray("starts", slice.getStarts());
    shapeArray("strides", slice.getStrides());
    shapeArray("output_shape", slice.getType().getShape());
    out << llvm::formatv("    K::slice({0}, {1}, {2}, input_shape, starts, strides, output_shape, "
                         "{3});\n",
                         ptr(slice.getInput()), ptr(slice.getResult()), slice.getType().getRank(),
                         elementBytes(slice.getResult()));
  } else if (auto scatter = dyn_cast<SliceScatterOp>(op)) {
    shapeArray("input_shape", scatter.getSource().getType().getShape());
    shapeArray("starts", scatter.getStarts());
    shapeArray("strides", scatter.getStrides());
    shapeArray("output_shape", scatter.getType().getShape());
    out << llvm::formatv("    K::slice_scatter({0}, {1}, {2}, input_shape, starts, strides, "
                         "output_shape, {3});\n",
                         ptr(scatter.getSource()), ptr(scatter.getResult()),
                         scatter.getType().getRank(), elementBytes(scatter.getResult()));
  } else if (auto concat = dyn_cast<ConcatOp>(op)) {
    ArrayRef<int64_t> shape = concat.getType().getShape();
    int64_t axis = concat.getAxis();
    SmallVector<std::string> inputs;
    SmallVector<int64_t> sizes;
    for (Value input : concat.getInputs()) {
      inputs.push_back(ptr(input));
      sizes.push_back(typeOf(input).getDimSize(axis));
    }
    out << "    const void *const inputs[] = {" << llvm::join(inputs, ", ") << "};\n";
    shapeArray("sizes", sizes);
    out << llvm::formatv("    K::concat(inputs, sizes, {0}, {1}, {2}, {3}, {4});\n", sizes.size(),
                         ptr(concat.getResult()), product(shape.take_front(axis)),
                         product(shape.drop_front(axis + 1)), elementBytes(concat.getResult()));
  } else if (auto iota = dyn_cast<IotaOp>(op)) {
    Type element = iota.getType().getElementType();
    if (!element.isF32() && !element.isSignlessInteger(64))
      return op->emitOpError() << "generates only f32 and i64 sequences";
    out << llvm::formatv("    K::iota({0}, {1}, {2}, {3});\n", iota.getStart(), iota.getStep(),
                         iota.getType().getNumElements(), ptr(iota.getResult()));
  } else if (auto conv = dyn_cast<Conv2dOp>(op)) {
    std::string params =
        convParams(conv.getInput().getType().getShape(), conv.getFilter().getType().getShape(),
                   conv.getType().getShape(), conv.getStrides(), conv.getPadding(),
                   conv.getDilations(), conv.getGroups());
    scratchExpressions.push_back("K::conv2d" + bf16Suffix() + "_scratch_bytes(" + params + ")");
    out << llvm::formatv("    K::conv2d{5}({0}, {1}, {2}, {3}, {4}, scratch);\n",
                         ptr(conv.getInput()), ptr(conv.getFilter()),
                         conv.getBias() ? ptr(conv.getBias()) : "nullptr", ptr(conv.getResult()),
                         params, bf16Suffix());
  } else if (auto grad = dyn_cast<Conv2dGradInputOp>(op)) {
    std::string params =
        convParams(grad.getType().getShape(), grad.getFilter().getType().getShape(),
                   grad.getResultGrad().getType().getShape(), grad.getStrides(), grad.getPadding(),
                   grad.getDilations(), grad.getGroups());
    scratchExpressions.push_back("K::conv2d" + bf16Suffix() + "_scratch_bytes(" + params + ")");
    out << llvm::formatv("    K::conv2d_grad_input{4}({0}, {1}, {2}, {3}, scratch);\n",
                         ptr(grad.getResultGrad()), ptr(grad.getFilter()), ptr(grad.getInputGrad()),
                         params, bf16Suffix());
  } else if (auto grad = dyn_cast<Conv2dGradFilterOp>(op)) {
    std::string params = convParams(grad.getInput().getType().getShape(), grad.getType().getShape(),
                                    grad.getResultGrad().getType().getShape(), grad.getStrides(),
                                    grad.getPadding(), grad.getDilations(), grad.getGroups());
    scratchExpressions.push_back("K::conv2d" + bf16Suffix() + "_scratch_bytes(" + params + ")");
    out << llvm::formatv("    K::conv2d_grad_filter{4}({0}, {1}, {2}, {3}, scratch);\n",
                         ptr(grad.getInput()), ptr(grad.getResultGrad()), ptr(grad.getFilterGrad()),
                         params, bf16Suffix());
  } else if (auto pool = dyn_cast<Pool2dOp>(op)) {
    out << llvm::formatv(
        "    K::pool2d({0}, {1}, {2});\n", ptr(pool.getInput()), ptr(pool.getResult()),
        poolParams(pool.getKind(), pool.getInput().getType().getShape(), pool.getType().getShape(),
                   pool.getKernel(), pool.getStrides(), pool.getPadding(), pool.getCeilMode(),
                   pool.getCountIncludePad()));
  } else if (auto grad = dyn_cast<Pool2dGradOp>(op)) {
    out << llvm::formatv("    K::pool2d_grad({0}, {1}, {2}, {3});\n", ptr(grad.getInput()),
                         ptr(grad.getResultGrad()), ptr(grad.getInputGrad()),
                         poolParams(grad.getKind(), grad.getInput().getType().getShape(),
                                    grad.getResultGrad().getType().getShape(), grad.getKernel(),
                                    grad.getStrides(), grad.getPadding(), grad.getCeilMode(),
                                    grad.getCountIncludePad()));
  } else if (auto loss = dyn_cast<CrossEntropyOp>(op)) {
    ArrayRef<int64_t> shape = loss.getLogits().getType().getShape();
    if (!loss.getLabels().getType().getElementType().isSignlessInteger(64))
      return op->emitOpError() << "needs i64 labels in generated code";
    out << llvm::formatv(
        "    K::cross_entropy({0}, {1}, {2}, {3}, {4}, io.invalid_index, {5});\n",
        ptr(loss.getLogits()), ptr(loss.getLabels()), ptr(loss.getResult()), shape[0], shape[1],
        crossEntropyOptions(loss.getIgnoreIndex(), loss.getLabelSmoothing().convertToDouble(),
                            loss.getSum()));
  } else if (auto grad = dyn_cast<CrossEntropyGradOp>(op)) {
    ArrayRef<int64_t> shape = grad.getLogits().getType().getShape();
    out << llvm::formatv("    K::cross_entropy_grad({0}, {1}, {2}, {3}, {4}, {5}, "
                         "io.invalid_index, {6});\n",
                         ptr(grad.getLogits()), ptr(grad.getLabels()), ptr(grad.getResultGrad()),
                         ptr(grad.getResult()), shape[0], shape[1],
                         crossEntropyOptions(grad.getIgnoreIndex(),
                                             grad.getLabelSmoothing().convertToDouble(),
                                             grad.getSum()));
  } else if (isCollective(op)) {
    FailureOr<std::string> call = emitCollectiveCall(op, ptr, cuda);
    if (failed(call))
      return failure();
    out << *call;
  } else {
    result = op->emitOpError() << "has no code generation rule";
  }
  out << "  }\n";
  return result;
}

//===----------------------------------------------------------------------===//
// The step function, the model table and main()
//===----------------------------------------------------------------------===//

LogicalResult Emitter::emitStepFunction() {
  llvm::raw_string_ostream out(body);
  // Typed pointers to the arguments.
  unsigned params = 0, states = 0, inputs = 0;
  for (BlockArgument argument : function.getArguments()) {
    unsigned index = argument.getArgNumber();
    if (stepScalar(argument))
      continue;
    FailureOr<std::string> type = typeName(argument);
    if (failed(type))
      return failure();
    std::string source;
    if (fragment) {
      // The evaluation function reads the train step's tables, by name.
      std::string key;
      bool isParam = false;
      if (auto param = function.getArgAttrOfType<ParamAttr>(index, CleaveDialect::kParamAttrName)) {
        key = "param:" + param.getName().getValue().str();
        isParam = true;
      } else if (auto input =
                     function.getArgAttrOfType<StringAttr>(index, CleaveDialect::kInputAttrName)) {
        key = "input:" + input.getValue().str();
      }
      auto slot = fragmentSlots.find(key);
      if (slot == fragmentSlots.end() || slot->second.type != argument.getType())
        return function.emitOpError()
                   << "argument #" << index << " ('" << key
                   << "') is not an argument of the train step with the same per-device type",
               failure();
      std::string position = std::to_string(slot->second.index);
      source = isParam ? "io.params[" + position + "]"
                       : "const_cast<void *>(io.inputs[" + position + "])";
    } else if (function.getArgAttr(index, CleaveDialect::kParamAttrName))
      source = "io.params[" + std::to_string(params++) + "]";
    else if (function.getArgAttr(index, CleaveDialect::kOptStateAttrName))
      source = "io.opt_state[" + std::to_string(states++) + "]";
    else
      source = "const_cast<void *>(io.inputs[" + std::to_string(inputs++) + "])";
    out << "  " << *type << " *const " << valueName(argument) << " = static_cast<" << *type
        << " *>(" << source << ");\n";
  }
  // Typed pointers into the workspace, in the function's order so that the
  // names (and so the generated source) are the same on every run.
  SmallVector<Value> workspaceValues;
  function.walk([&](Operation *op) {
    for (Value result : op->getResults()) {
      auto it = plan.storage.find(result);
      if (it != plan.storage.end() && it->second.kind == Storage::Kind::workspace)
        workspaceValues.push_back(result);
    }
  });
  for (Value value : workspaceValues) {
    const Storage &storage = plan.storage.find(value)->second;
    FailureOr<std::string> type = typeName(value);
    if (failed(type))
      return failure();
    out << "  " << *type << " *const " << valueName(value) << " = reinterpret_cast<" << *type
        << " *>(workspace + " << storage.offset << ");\n";
  }
  // Device code reads constants through their device addresses.
  SmallVector<std::pair<std::string, Value>> constantsByName;
  for (auto &[value, name] : constantArrays)
    constantsByName.push_back({name, value});
  llvm::sort(constantsByName, llvm::less_first());
  if (cuda)
    for (auto &[name, value] : constantsByName) {
      FailureOr<std::string> type = typeName(value);
      if (failed(type))
        return failure();
      out << "  const " << *type << " *" << name << "_device = nullptr;\n";
      out << "  CLEAVE_CUDA_CHECK(cudaGetSymbolAddress((void **)&" << name << "_device, " << name
          << "));\n";
    }
  out << "  void *const scratch = workspace + " << plan.workspaceBytes << ";\n";
  out << "  (void)scratch;\n\n";
  for (const Step &step : schedule.steps) {
    if (step.loop >= 0 ? failed(emitLoop(step.loop)) : failed(emitLibraryCall(step.op)))
      return failure();
  }
  // Results into the arguments they update, and the loss.
  auto returnOp = cast<func::ReturnOp>(function.getBody().front().getTerminator());
  for (auto [result, argument] : plan.copiesAtEnd) {
    FailureOr<std::string> from = pointer(result);
    if (failed(from))
      return failure();
    std::string to = valueName(function.getArgument(argument));
    if (cuda)
      out << "  CLEAVE_CUDA_CHECK(cudaMemcpyAsync(" << to << ", " << *from << ", "
          << valueBytes(result) << ", cudaMemcpyDeviceToDevice));\n";
    else
      out << "  std::memcpy(" << to << ", " << *from << ", " << valueBytes(result) << ");\n";
  }
  unsigned outputIndex = 0;
  for (auto [index, result] : llvm::enumerate(returnOp.getOperands())) {
    if (function.getResultAttr(index, CleaveDialect::kOutputAttrName)) {
      FailureOr<std::string> from = pointer(result);
      if (failed(from))
        return failure();
      std::string to = "io.outputs[" + std::to_string(outputIndex++) + "]";
      if (cuda)
        out << "  CLEAVE_CUDA_CHECK(cudaMemcpyAsync(" << to << ", " << *from << ", "
            << valueBytes(result) << ", cudaMemcpyDeviceToDevice));\n";
      else
        out << "  std::memcpy(" << to << ", " << *from << ", " << valueBytes(result) << ");\n";
      continue;
    }
    if (!function.getResultAttr(index, CleaveDialect::kLossAttrName))
      continue;
    FailureOr<std::string> from = pointer(result);
    if (failed(from))
      return failure();
    if (cuda)
      out << "  CLEAVE_CUDA_CHECK(cudaMemcpy(io.loss, " << *from
          << ", sizeof(float), cudaMemcpyDeviceToHost));\n";
    else
      out << "  *io.loss = " << *from << "[0];\n";
  }
  return success();
}

static const char *dtypeName(Type type) {
  if (type.isF32())
    return "f32";
  if (type.isF64())
    return "f64";
  if (type.isF16())
    return "f16";
  if (type.isBF16())
    return "bf16";
  if (type.isSignlessInteger(64))
    return "i64";
  if (type.isSignlessInteger(32))
    return "i32";
  if (type.isSignlessInteger(8))
    return "i8";
  if (type.isSignlessInteger(1))
    return "i1";
  return nullptr; // int16: the loops handle it, cleave::rt::DType does not
}

static std::string cString(StringRef text) {
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\')
      quoted += '\\';
    quoted += c;
  }
  return quoted + "\"";
}

LogicalResult Emitter::emitModelTable() {
  SmallVector<std::string> params, states, inputs;
  for (BlockArgument argument : function.getArguments())
    if (!dtypeName(typeOf(argument).getElementType()))
      return function.emitOpError()
             << "argument #" << argument.getArgNumber() << " has element type "
             << typeOf(argument).getElementType()
             << ", which the runtime's tensor table (cleave::rt::DType) cannot describe";
  int shapeIndex = 0;
  // Tables list global shapes; a sharded program's step sees each rank's
  // block (Collectives.h, runtime distribution.h).
  SmallVector<std::string> paramShardings, stateShardings, inputShardings;
  auto spec = [&](StringRef name, RankedTensorType localType, unsigned argument,
                  SmallVectorImpl<std::string> &shardings) {
    ArgumentLayout layout = argumentLayout(function, argument);
    shardings.push_back(cString(layout.sharding));
    auto type = RankedTensorType::get(layout.globalShape, localType.getElementType());
    std::string shape = "kShape" + std::to_string(shapeIndex++);
    os << "const int64_t " << shape << "[] = {"
       << (type.getRank() ? shapeList(type.getShape()) : "0") << "};\n";
    return llvm::formatv("{{{0}, cleave::rt::DType::{1}, {2}, {3}}", cString(name),
                         dtypeName(type.getElementType()), type.getRank(), shape)
        .str();
  };
  for (BlockArgument argument : function.getArguments()) {
    unsigned index = argument.getArgNumber();
    RankedTensorType type = typeOf(argument);
    if (auto param = function.getArgAttrOfType<ParamAttr>(index, CleaveDialect::kParamAttrName))
      params.push_back("{" + spec(param.getName().getValue(), type, index, paramShardings) +
                       ", cleave::rt::ParamKind::" + stringifyParamKind(param.getKind()).str() +
                       "}");
    else if (auto state =
                 function.getArgAttrOfType<StringAttr>(index, CleaveDialect::kOptStateAttrName))
      states.push_back(spec(state.getValue(), type, index, stateShardings));
    else if (auto input =
                 function.getArgAttrOfType<StringAttr>(index, CleaveDialect::kInputAttrName))
      inputs.push_back(spec(input.getValue(), type, index, inputShardings));
  }
  auto array = [&](StringRef type, StringRef name, ArrayRef<std::string> entries) {
    os << "const " << type << " " << name << "[] = {\n";
    for (const std::string &entry : entries)
      os << "    " << entry << ",\n";
    if (entries.empty())
      os << "    {},\n"; // C++ has no empty arrays; the count says 0
    os << "};\n";
  };
  array("cleave::rt::ParamSpec", "kParams", params);
  array("cleave::rt::TensorSpec", "kOptState", states);
  array("cleave::rt::TensorSpec", "kInputs", inputs);
  std::optional<std::string> grid = gridOf(function);
  if (grid) {
    array("char *", "kParamShardings", paramShardings);
    array("char *", "kOptStateShardings", stateShardings);
    array("char *", "kInputShardings", inputShardings);
  }

  int64_t batch = 0;
  for (BlockArgument argument : function.getArguments())
    if (function.getArgAttr(argument.getArgNumber(), CleaveDialect::kInputAttrName) &&
        typeOf(argument).getRank() > 0) {
      batch = argumentLayout(function, argument.getArgNumber()).globalShape[0];
      break;
    }
  const TrainSettings &train = options.train;
  os << "\ncleave::rt::ModelInfo makeModelInfo() {\n";
  std::string scratch = "int64_t(0)";
  for (const std::string &expression : scratchExpressions)
    scratch = "std::max<int64_t>(" + scratch + ", " + expression + ")";
  os << "  cleave::rt::ModelInfo model{};\n";
  os << "  model.model_path = " << cString(options.modelPath) << ";\n";
  os << "  model.params = kParams;\n  model.num_params = " << params.size() << ";\n";
  os << "  model.opt_state = kOptState;\n  model.num_opt_state = " << states.size() << ";\n";
  os << "  model.inputs = kInputs;\n  model.num_inputs = " << inputs.size() << ";\n";
  os << "  model.workspace_bytes = " << plan.workspaceBytes << " + " << scratch << ";\n";
  if (hasEval) {
    // One workspace serves both functions: they never run at once.
    os << "  model.workspace_bytes = std::max<int64_t>(model.workspace_bytes, "
          "eval::workspace_bytes());\n";
    os << "  model.eval_step = eval::train_step;\n";
  }
  // TrainDefaults are double: the host derives AdamW's per-step scalars
  // from them, so they must not pass through float (17 digits round-trip).
  auto exact = [](double value) { return llvm::formatv("{0:e16}", value).str(); };
  os << llvm::formatv(
      "  model.defaults = cleave::rt::TrainDefaults{{cleave::rt::OptimizerKind::{0}, "
      "{1}, {2}, {3}, {4}, {5}, {6}, {7}, cleave::rt::LrSchedule::{8}, {9}, {10}};\n",
      train.optimizer, exact(train.lr), exact(train.beta1), exact(train.beta2), exact(train.eps),
      exact(train.weightDecay), exact(train.momentum), exact(train.clipGradNorm), train.schedule,
      train.warmupSteps, batch);
  os << "  model.target = " << (cuda ? "\"cuda\"" : "\"cpu\"") << ";\n";
  if (grid) {
    os << "  model.grid = " << cString(*grid) << ";\n";
    os << "  model.param_shardings = kParamShardings;\n";
    os << "  model.opt_state_shardings = kOptStateShardings;\n";
    os << "  model.input_shardings = kInputShardings;\n";
  }
  os << "  return model;\n}\n\n} // namespace\n\n";
  if (options.emitMain) {
    os << "int main(int argc, char **argv) {\n";
    os << "  cleave::rt::prepare_process(argv);\n";
    os << "  return cleave::rt::" << (cuda ? "cuda::" : "cpu::")
       << (grid ? "run_training_distributed" : "run_training")
       << "(argc, argv, makeModelInfo(), train_step);\n}\n";
  } else {
    const std::string &prefix = options.symbolPrefix;
    os << "extern \"C\" const cleave::rt::ModelInfo *" << prefix << "model_info() {\n";
    os << "  static const cleave::rt::ModelInfo model = makeModelInfo();\n  return &model;\n}\n\n";
    os << "extern \"C\" void " << prefix
       << "train_step(const cleave::rt::StepScalars *s, const cleave::rt::StepBuffers *io) {\n";
    os << "  train_step(*s, *io);\n}\n";
  }
  return success();
}

LogicalResult Emitter::prepare() {
  if (failed(legalizeForCodegen(function)))
    return failure();
  schedule = buildSchedule(function);
  plan = planMemory(function, schedule);
  return success();
}

LogicalResult Emitter::emitFunction() {
  if (failed(emitConstants()))
    return failure();
  if (cuda && failed(emitLoopKernels()))
    return failure();
  body.clear();
  if (failed(emitStepFunction()))
    return failure();
  os << (cuda ? "\n" : "\nCLEAVE_CPU_MULTIVERSION // see cleave/rt/vmath.h\n");
  os << "void train_step(const cleave::rt::StepScalars &s, const cleave::rt::StepBuffers &io) {\n";
  os << "  char *const workspace = static_cast<char *>(io.workspace);\n";
  os << body << "}\n\n";
  return success();
}

LogicalResult Emitter::emitEvalFragment() {
  if (failed(prepare()))
    return failure();
  os << "// Evaluation (@" << function.getSymName() << "): " << schedule.steps.size()
     << " steps, workspace " << plan.workspaceBytes << " bytes.\n";
  os << "namespace eval {\n\n";
  if (failed(emitFunction()))
    return failure();
  std::string scratch = "int64_t(0)";
  for (const std::string &expression : scratchExpressions)
    scratch = "std::max<int64_t>(" + scratch + ", " + expression + ")";
  os << "int64_t workspace_bytes() { return " << plan.workspaceBytes << " + " << scratch
     << "; }\n\n";
  os << "} // namespace eval\n\n";
  return success();
}

LogicalResult Emitter::run(CodegenReport *report, Emitter *eval) {
  if (failed(prepare()))
    return failure();

  os << "// Generated by cleavec from " << options.modelPath << "; do not edit.\n";
  os << "// Train step: " << schedule.steps.size() << " steps (" << schedule.loops.size()
     << " fused loops), workspace " << plan.workspaceBytes << " bytes (" << plan.naiveBytes
     << " without reuse).\n";
  if (options.precision == Precision::bf16)
    os << "// Precision bf16: matmul and conv2d operands rounded to bfloat16, fp32 sums; "
          "all else fp32.\n";
  os << "#include \"cleave/rt/model.h\"\n#include \"cleave/rt/philox.h\"\n";
  if (gridOf(function))
    os << (cuda ? "#include \"cleave/rt/cuda_collectives.h\"\n"
                : "#include \"cleave/rt/collectives.h\"\n");
  os << (cuda ? "#include \"cleave/rt/cuda_kernels.h\"\n"
              : "#include \"cleave/rt/kernels.h\"\n#include \"cleave/rt/vmath.h\"\n");
  os << "#include <algorithm>\n#include <cmath>\n#include <cstdint>\n#include <cstring>\n\n";
  os << "namespace {\n";
  os << (cuda ? "namespace K = cleave::rt::cuda;\n\n" : "namespace K = cleave::rt::cpu;\n\n");
  if (failed(emitFunction()))
    return failure();
  // After the train step, so that its code reads first; inside its own
  // namespace, whose names shadow the train step's.
  if (eval) {
    eval->setEvalFragment(slotsByName());
    if (failed(eval->emitEvalFragment()))
      return failure();
    hasEval = true;
  }
  if (failed(emitModelTable()))
    return failure();

  if (report) {
    report->workspaceBytes = plan.workspaceBytes;
    report->naiveBytes = plan.naiveBytes;
    report->fusedLoops = schedule.loops.size();
    for (const FusedLoop &loop : schedule.loops)
      report->fusedOps += loop.ops.size();
    report->libraryCalls = schedule.steps.size() - schedule.loops.size();
  }
  return success();
}

} // namespace

LogicalResult codegen::emitTrainStep(ModuleOp module, const CodegenOptions &options,
                                     raw_ostream &os, CodegenReport *report) {
  auto function = module.lookupSymbol<func::FuncOp>(options.function);
  if (!function)
    return module.emitError() << "codegen needs a @" << options.function
                              << " function (run the train pipeline for @train_step)";
  Emitter emitter(function, options, os);
  if (options.evalFunction.empty())
    return emitter.run(report);
  auto eval = module.lookupSymbol<func::FuncOp>(options.evalFunction);
  if (!eval)
    return module.emitError() << "codegen: no @" << options.evalFunction
                              << " function (the train pipeline builds it with eval=true)";
  Emitter evalEmitter(eval, options, os);
  return emitter.run(report, &evalEmitter);
}
