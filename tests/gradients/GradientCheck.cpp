//===- GradientCheck.cpp - finite-difference check of every gradient rule -===//
//
//   cleave-gradient-check [--verbose] [--keep] CASES.mlir...
//
// Checks the gradients the whole training path computes (cleave-autodiff's
// rules, the train pipeline, codegen and the runtime kernels) against
// central finite differences of the loss, for every case function of every
// file given:
//
// 1. Parse the file. Each `func.func @name` in it is one case: its
//    arguments are parameters (`cleave.param`) and data inputs
//    (`cleave.input`), its results the op under test.
// 2. Merge the cases into one @forward (parameter and input names get the
//    prefix "<case>.") whose scalar output `loss` is the sum over cases and
//    results of sum(result * W), W a fixed pseudo-random constant, so that
//    no gradient is trivially uniform. One file is one compile.
// 3. Build the train step with `loss=model optimizer=sgd`, generate C++,
//    compile it into a shared library and dlopen it.
// 4. With lr = 0 a step returns the loss and leaves the parameters alone;
//    with lr = 1 plain SGD leaves p - grad, so grad = p_before - p_after.
// 5. Compare each element of each trainable parameter's gradient with
//    (loss(p + eps) - loss(p - eps)) / (2 eps) and report per case.
//
// Values come from the arguments' optional attributes:
//   gradcheck.init = array<f64: lo, hi[, phase]>  (default -1, 1, 0.25)
//       n distinct values lo + (k + phase) (hi - lo) / n, k = 0..n-1, in a
//       fixed shuffled order: away from each other (ties of max/min) and,
//       with phase 0.25 on a symmetric range, from 0 (kinks of relu/abs);
//   gradcheck.values = array<i64: ...> or array<f64: ...>
//       explicit values (index inputs, labels).
// A case function may set `gradcheck.eps` (f64, default 1e-2),
// `gradcheck.atol` (default 1e-3) and `gradcheck.rtol` (default 1e-2): an
// element passes when |grad - fd| <= atol + rtol |fd|. (The defaults leave
// a 10x margin over the float rounding seen in these cases' loss sums.)
// `gradcheck.sample` (i64) checks only that many elements, spread evenly
// over each parameter: for tensors large enough to take the kernels'
// multi-threaded paths.
//
// A `.onnxtext` file instead holds ONNX models in ONNX's textual syntax,
// each after a line `#--- name`: each is imported as the case @name (so the
// check covers the importer's decomposition of the op too), its float data
// inputs made trainable parameters with the default values above.
//
// Files are checked in parallel (-j); the output comes in file order.
// The exit code is 0 only when every case of every file passes.
//
//===----------------------------------------------------------------------===//
#include "compiler/BuildExecutable.h"
#include "compiler/Codegen/Codegen.h"
#include "compiler/Importer/Importer.h"
#include "compiler/Registration.h"
#include "compiler/TrainStep.h"
#include "dialects/Cleave/IR/CleaveDialect.h"
#include "dialects/Cleave/IR/CleaveOps.h"
#include "dialects/Cleave/IR/TensorBuilder.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include "cleave/rt/model.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <iterator>
#include <map>
#include <string>
#include <thread>
#include <vector>

using namespace mlir;
using namespace mlir::cleave;
namespace rt = ::cleave::rt;

static llvm::cl::list<std::string> inputFiles(llvm::cl::Positional, llvm::cl::OneOrMore,
                                              llvm::cl::desc("<case files (.mlir)>"));
static llvm::cl::opt<bool> verbose("verbose",
                                   llvm::cl::desc("Print every element's gradient and estimate"));
static llvm::cl::opt<bool> keep("keep", llvm::cl::desc("Keep the generated sources and libraries"));
static llvm::cl::opt<unsigned> jobs("j", llvm::cl::desc("Files checked in parallel (0: cores)"),
                                    llvm::cl::init(0));

namespace {

constexpr llvm::StringLiteral kInitAttr = "gradcheck.init";
constexpr llvm::StringLiteral kValuesAttr = "gradcheck.values";
constexpr llvm::StringLiteral kEpsAttr = "gradcheck.eps";
constexpr llvm::StringLiteral kAbsoluteToleranceAttr = "gradcheck.atol";
constexpr llvm::StringLiteral kRelativeToleranceAttr = "gradcheck.rtol";
constexpr llvm::StringLiteral kSampleAttr = "gradcheck.sample";
constexpr double kDefaultEps = 1e-2;
constexpr double kDefaultAbsoluteTolerance = 1e-3;
constexpr double kDefaultRelativeTolerance = 1e-2;
/// Workspace alignment: what the kernels' vector loads prefer.
constexpr size_t kWorkspaceAlignment = 64;

/// SplitMix64: a tiny, portable generator, so values do not depend on the
/// standard library's distributions.
struct Random {
  uint64_t state;
  explicit Random(uint64_t seed) : state(seed) {}
  uint64_t next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, 1).
  double uniform() { return (next() >> 11) * (1.0 / 9007199254740992.0); }
};

uint64_t hashName(llvm::StringRef name) {
  uint64_t hash = 1469598103934665603ull; // FNV-1a
  for (char c : name)
    hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return hash;
}

/// How to fill one argument: explicit values or a shuffled grid.
struct InitSpec {
  std::vector<double> values; // explicit, when not empty
  double lo = -1.0, hi = 1.0, phase = 0.25;

  std::vector<double> generate(int64_t count, llvm::StringRef name) const {
    if (!values.empty()) {
      std::vector<double> result(count);
      for (int64_t i = 0; i < count; ++i)
        result[i] = values[i % values.size()];
      return result;
    }
    std::vector<int64_t> order(count);
    for (int64_t i = 0; i < count; ++i)
      order[i] = i;
    Random random(hashName(name));
    for (int64_t i = count - 1; i > 0; --i) // Fisher-Yates
      std::swap(order[i], order[random.next() % (i + 1)]);
    std::vector<double> result(count);
    for (int64_t i = 0; i < count; ++i)
      result[i] = lo + (order[i] + phase) * (hi - lo) / count;
    return result;
  }
};

/// What the merged @forward's arguments are, by their prefixed names.
struct CaseInfo {
  std::string name;
  double eps = kDefaultEps;
  double atol = kDefaultAbsoluteTolerance;
  double rtol = kDefaultRelativeTolerance;
  int64_t sample = 0; // elements checked per parameter; 0: all
};

struct ModuleSpec {
  std::vector<CaseInfo> cases;
  std::map<std::string, InitSpec> inits;      // by parameter / input name
  std::map<std::string, unsigned> caseOfName; // parameter / input name -> case index
};

/// The verdict on one case.
struct CaseResult {
  std::string name;
  int64_t elements = 0, failures = 0;
  double worstRatio = 0.0; // max |grad - fd| / (atol + rtol |fd|)
  double worstError = 0.0; // max |grad - fd|
  std::string details;
};

struct FileResult {
  std::string file;
  bool ok = false;
  std::string error; // a failure before any case ran
  std::vector<CaseResult> cases;
  double seconds = 0.0;
  std::string kept; // --keep: where the source, IR and library are
};

//===----------------------------------------------------------------------===//
// 1-2. Merging the cases into @forward with a weighted-sum loss
//===----------------------------------------------------------------------===//

FailureOr<InitSpec> readInit(func::FuncOp function, unsigned index, std::string &error) {
  InitSpec spec;
  if (Attribute attr = function.getArgAttr(index, kInitAttr)) {
    auto range = dyn_cast<DenseF64ArrayAttr>(attr);
    if (!range || range.size() < 2 || range.size() > 3) {
      error = llvm::formatv("@{0} argument #{1}: {2} must be array<f64: lo, hi[, phase]>",
                            function.getSymName(), index, kInitAttr);
      return failure();
    }
    spec.lo = range[0];
    spec.hi = range[1];
    if (range.size() == 3)
      spec.phase = range[2];
  }
  if (Attribute attr = function.getArgAttr(index, kValuesAttr)) {
    if (auto ints = dyn_cast<DenseI64ArrayAttr>(attr))
      for (int64_t value : ints.asArrayRef())
        spec.values.push_back(static_cast<double>(value));
    else if (auto floats = dyn_cast<DenseF64ArrayAttr>(attr))
      spec.values.assign(floats.asArrayRef().begin(), floats.asArrayRef().end());
    if (spec.values.empty()) {
      error = llvm::formatv("@{0} argument #{1}: {2} must be a non-empty array<i64|f64: ...>",
                            function.getSymName(), index, kValuesAttr);
      return failure();
    }
  }
  return spec;
}

/// Replaces the case functions of `module` by one @forward and fills `spec`.
LogicalResult buildForward(ModuleOp module, ModuleSpec &spec, std::string &error) {
  SmallVector<func::FuncOp> cases(module.getOps<func::FuncOp>());
  if (cases.empty()) {
    error = "the file has no case functions";
    return failure();
  }
  MLIRContext *context = module.getContext();
  OpBuilder builder(context);
  Location loc = builder.getUnknownLoc();

  SmallVector<Type> argTypes;
  SmallVector<DictionaryAttr> argAttrs;
  for (func::FuncOp function : cases) {
    if (function.getSymName() == "forward") {
      error = "a case may not be called @forward: the merged function is";
      return failure();
    }
    CaseInfo info;
    info.name = function.getSymName().str();
    if (auto eps = function->getAttrOfType<FloatAttr>(kEpsAttr))
      info.eps = eps.getValueAsDouble();
    if (auto atol = function->getAttrOfType<FloatAttr>(kAbsoluteToleranceAttr))
      info.atol = atol.getValueAsDouble();
    if (auto rtol = function->getAttrOfType<FloatAttr>(kRelativeToleranceAttr))
      info.rtol = rtol.getValueAsDouble();
    if (auto sample = function->getAttrOfType<IntegerAttr>(kSampleAttr))
      info.sample = sample.getInt();
    unsigned caseIndex = spec.cases.size();
    spec.cases.push_back(info);
    for (unsigned i = 0; i < function.getNumArguments(); ++i) {
      NamedAttrList attrs;
      std::string name;
      if (ParamAttr param =
              function.getArgAttrOfType<ParamAttr>(i, CleaveDialect::kParamAttrName)) {
        name = info.name + "." + param.getName().getValue().str();
        attrs.set(CleaveDialect::kParamAttrName,
                  ParamAttr::get(context, builder.getStringAttr(name), param.getKind()));
      } else if (auto input =
                     function.getArgAttrOfType<StringAttr>(i, CleaveDialect::kInputAttrName)) {
        name = info.name + "." + input.getValue().str();
        attrs.set(CleaveDialect::kInputAttrName, builder.getStringAttr(name));
      } else {
        error = llvm::formatv("@{0} argument #{1} is neither a cleave.param nor a cleave.input",
                              info.name, i);
        return failure();
      }
      FailureOr<InitSpec> init = readInit(function, i, error);
      if (failed(init))
        return failure();
      spec.inits[name] = *init;
      spec.caseOfName[name] = caseIndex;
      argTypes.push_back(function.getArgumentTypes()[i]);
      argAttrs.push_back(attrs.getDictionary(context));
    }
  }

  builder.setInsertionPointToEnd(module.getBody());
  auto forward = func::FuncOp::create(
      builder, loc, "forward",
      builder.getFunctionType(argTypes, {RankedTensorType::get({}, builder.getF32Type())}));
  forward.setAllArgAttrs(argAttrs);
  Block *body = forward.addEntryBlock();
  builder.setInsertionPointToStart(body);
  TensorBuilder b(builder, loc);

  Value loss;
  unsigned nextArg = 0;
  for (func::FuncOp function : cases) {
    IRMapping mapping;
    for (BlockArgument argument : function.getArguments())
      mapping.map(argument, forward.getArgument(nextArg++));
    Block &source = function.getBody().front();
    for (Operation &op : source.without_terminator())
      builder.clone(op, mapping);
    for (auto [index, result] : llvm::enumerate(source.getTerminator()->getOperands())) {
      Value value = mapping.lookup(result);
      auto type = cast<RankedTensorType>(value.getType());
      if (!type.getElementType().isF32()) {
        error = llvm::formatv("@{0} result #{1} must be f32 (cast it), got {2}",
                              function.getSymName(), index, type.getElementType());
        return failure();
      }
      // Weights in +-[0.5, 1.5]: never near 0, never uniform.
      Random random(hashName(function.getSymName()) + index);
      SmallVector<float> weights(type.getNumElements());
      for (float &weight : weights)
        weight = (random.next() & 1 ? 1.0f : -1.0f) * static_cast<float>(0.5 + random.uniform());
      Value w =
          ConstantOp::create(builder, loc, DenseElementsAttr::get(type, ArrayRef<float>(weights)));
      Value term = b.sumAll(b.mul(value, w));
      loss = loss ? b.add(loss, term) : term;
    }
  }
  if (!loss) {
    error = "the cases return nothing";
    return failure();
  }
  func::ReturnOp::create(builder, loc, loss);
  forward.setResultAttr(0, CleaveDialect::kOutputAttrName, builder.getStringAttr("loss"));
  for (func::FuncOp function : cases)
    function.erase();
  if (failed(forward.verify())) {
    error = "the merged @forward does not verify";
    return failure();
  }
  return success();
}

//===----------------------------------------------------------------------===//
// 3-5. Compile, load, step, compare
//===----------------------------------------------------------------------===//

using ModelInfoFn = const rt::ModelInfo *(*)();
using TrainStepFn = void (*)(const rt::StepScalars *, const rt::StepBuffers *);

/// Bytes per element, indexed by rt::DType (i1 is stored as one byte).
constexpr int64_t kDTypeBytes[] = {4, 8, 2, 2, 8, 4, 1, 1}; // f32 f64 f16 bf16 i64 i32 i8 i1
static_assert(std::size(kDTypeBytes) == static_cast<size_t>(rt::DType::i1) + 1,
              "one size per rt::DType");

int64_t dtypeBytes(rt::DType dtype) { return kDTypeBytes[static_cast<int>(dtype)]; }

int64_t numElements(const rt::TensorSpec &spec) {
  int64_t count = 1;
  for (int32_t d = 0; d < spec.rank; ++d)
    count *= spec.shape[d];
  return count;
}

/// Host storage for one tensor, filled from its InitSpec.
std::vector<char> makeTensor(const rt::TensorSpec &spec, const InitSpec &init) {
  int64_t count = numElements(spec);
  std::vector<double> values = init.generate(count, spec.name);
  std::vector<char> bytes(count * dtypeBytes(spec.dtype));
  for (int64_t i = 0; i < count; ++i) {
    switch (spec.dtype) {
    case rt::DType::f32:
      reinterpret_cast<float *>(bytes.data())[i] = values[i];
      break;
    case rt::DType::f64:
      reinterpret_cast<double *>(bytes.data())[i] = values[i];
      break;
    case rt::DType::i64:
      reinterpret_cast<int64_t *>(bytes.data())[i] = std::llround(values[i]);
      break;
    case rt::DType::i32:
      reinterpret_cast<int32_t *>(bytes.data())[i] = std::lround(values[i]);
      break;
    case rt::DType::i8:
    case rt::DType::i1:
      bytes[i] = static_cast<char>(std::lround(values[i]));
      break;
    default:
      break;
    }
  }
  return bytes;
}

/// One loaded train step and the host buffers it works on.
class StepRunner {
public:
  StepRunner(const rt::ModelInfo &model, TrainStepFn step, const ModuleSpec &spec)
      : model(model), step(step) {
    for (int32_t i = 0; i < model.num_params; ++i) {
      auto it = spec.inits.find(model.params[i].tensor.name);
      initial.push_back(
          makeTensor(model.params[i].tensor, it == spec.inits.end() ? InitSpec() : it->second));
    }
    params = initial;
    for (int32_t i = 0; i < model.num_opt_state; ++i)
      state.emplace_back(numElements(model.opt_state[i]) * dtypeBytes(model.opt_state[i].dtype));
    for (int32_t i = 0; i < model.num_inputs; ++i) {
      auto it = spec.inits.find(model.inputs[i].name);
      inputs.push_back(
          makeTensor(model.inputs[i], it == spec.inits.end() ? InitSpec() : it->second));
    }
    for (auto &tensor : params)
      paramPointers.push_back(tensor.data());
    for (auto &tensor : state)
      statePointers.push_back(tensor.data());
    for (auto &tensor : inputs)
      inputPointers.push_back(tensor.data());
    size_t bytes = std::max<int64_t>(model.workspace_bytes, 1);
    bytes = (bytes + kWorkspaceAlignment - 1) / kWorkspaceAlignment * kWorkspaceAlignment;
    workspace = std::aligned_alloc(kWorkspaceAlignment, bytes);
  }
  ~StepRunner() { std::free(workspace); }
  StepRunner(const StepRunner &) = delete;
  StepRunner &operator=(const StepRunner &) = delete;

  /// One step from `initial` (possibly perturbed) at learning rate `lr`;
  /// returns the loss, leaves the updated parameters in `params`.
  float run(float lr) {
    for (size_t i = 0; i < params.size(); ++i)
      std::memcpy(params[i].data(), initial[i].data(), initial[i].size());
    for (auto &tensor : state)
      std::fill(tensor.begin(), tensor.end(), 0);
    rt::StepScalars scalars{/*step=*/1, lr, /*bias_correction1=*/1.0f, /*bias_correction2=*/1.0f,
                            /*seed=*/0};
    float loss = NAN;
    rt::StepBuffers buffers{
        paramPointers.data(), statePointers.data(), inputPointers.data(), &loss, workspace,
        &invalidIndex};
    step(&scalars, &buffers);
    return loss;
  }

  const rt::ModelInfo &model;
  TrainStepFn step;
  std::vector<std::vector<char>> initial, params, state, inputs;
  std::vector<void *> paramPointers, statePointers;
  std::vector<const void *> inputPointers;
  void *workspace = nullptr;
  int32_t invalidIndex = 0;
};

void compareGradients(StepRunner &runner, const ModuleSpec &spec, FileResult &result) {
  std::map<std::string, CaseResult> byCase;
  for (const CaseInfo &info : spec.cases)
    byCase[info.name].name = info.name;

  runner.run(1.0f);
  std::vector<std::vector<float>> grads;
  for (size_t i = 0; i < runner.params.size(); ++i) {
    auto *before = reinterpret_cast<const float *>(runner.initial[i].data());
    auto *after = reinterpret_cast<const float *>(runner.params[i].data());
    std::vector<float> grad(runner.initial[i].size() / sizeof(float));
    for (size_t k = 0; k < grad.size(); ++k)
      grad[k] = before[k] - after[k];
    grads.push_back(std::move(grad));
  }
  if (runner.invalidIndex)
    result.error = "the step flagged an out-of-range index (check gradcheck.values)";

  for (int32_t p = 0; p < runner.model.num_params; ++p) {
    const rt::ParamSpec &param = runner.model.params[p];
    if (param.kind != rt::ParamKind::trainable)
      continue;
    // Every parameter name was made by buildForward.
    const CaseInfo &info = spec.cases[spec.caseOfName.find(param.tensor.name)->second];
    CaseResult &verdict = byCase[info.name];
    if (param.tensor.dtype != rt::DType::f32) {
      verdict.failures++;
      verdict.details +=
          llvm::formatv("    {0}: only f32 parameters are checked\n", param.tensor.name);
      continue;
    }
    auto *values = reinterpret_cast<float *>(runner.initial[p].data());
    std::vector<size_t> checked;
    size_t count = grads[p].size();
    if (info.sample > 0 && static_cast<size_t>(info.sample) < count)
      for (int64_t j = 0; j < info.sample; ++j)
        checked.push_back(static_cast<size_t>((j + 0.5) * count / info.sample));
    else
      for (size_t k = 0; k < count; ++k)
        checked.push_back(k);
    for (size_t k : checked) {
      float saved = values[k];
      values[k] = saved + static_cast<float>(info.eps);
      double plus = runner.run(0.0f);
      values[k] = saved - static_cast<float>(info.eps);
      double minus = runner.run(0.0f);
      // The step sizes actually taken, after rounding to float.
      double h = (double)(saved + (float)info.eps) - (double)(saved - (float)info.eps);
      values[k] = saved;
      double fd = (plus - minus) / h;
      double grad = grads[p][k];
      double allowed = info.atol + info.rtol * std::fabs(fd);
      double error = std::fabs(grad - fd);
      bool ok = error <= allowed; // false for NaN too
      verdict.elements++;
      verdict.worstRatio =
          std::max(verdict.worstRatio, std::isnan(error) ? INFINITY : error / allowed);
      verdict.worstError = std::max(verdict.worstError, std::isnan(error) ? INFINITY : error);
      if (!ok || verbose) {
        std::string line =
            llvm::formatv("    {0}[{1}] = {2:f4}: grad {3:f6}, finite difference {4:f6}",
                          param.tensor.name, k, saved, grad, fd);
        if (!ok) {
          double base = runner.run(0.0f);
          double right = (plus - base) / (h / 2), left = (base - minus) / (h / 2);
          line += llvm::formatv(" (one-sided {0:f6} / {1:f6}{2})", left, right,
                                std::fabs(left - right) > allowed
                                    ? "; they differ: a kink within eps? move the inputs"
                                    : "");
        }
        verdict.details += line + "\n";
      }
      if (!ok)
        verdict.failures++;
    }
  }
  for (const CaseInfo &info : spec.cases) {
    CaseResult &verdict = byCase[info.name];
    // A case that checks nothing must not pass.
    if (verdict.elements == 0 && verdict.failures == 0) {
      verdict.failures = 1;
      verdict.details += "    no element of a trainable f32 parameter to check\n";
    }
    result.cases.push_back(verdict);
  }
}

/// Imports each `#--- name` section of an `.onnxtext` file as case @name
/// into one module: float data inputs become trainable parameters.
OwningOpRef<ModuleOp> importOnnxCases(const std::string &path, MLIRContext &context,
                                      std::string &error) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer) {
    error = "cannot read " + path;
    return nullptr;
  }
  SmallVector<std::pair<std::string, std::string>> sections;
  SmallVector<StringRef> lines;
  (*buffer)->getBuffer().split(lines, '\n');
  for (StringRef line : lines) {
    if (line.consume_front("#--- "))
      sections.push_back({line.trim().str(), ""});
    else if (!sections.empty())
      sections.back().second += line.str() + "\n";
  }
  if (sections.empty()) {
    error = "no `#--- name` sections in " + path;
    return nullptr;
  }
  OwningOpRef<ModuleOp> module = ModuleOp::create(UnknownLoc::get(&context));
  for (auto &[name, text] : sections) {
    auto imported = importOnnxText(text, ImportOptions(), context);
    if (!imported) {
      error = name + ": " + llvm::toString(imported.takeError());
      return nullptr;
    }
    auto forward = (**imported).lookupSymbol<func::FuncOp>("forward");
    if (!forward) {
      error = name + ": the import has no @forward";
      return nullptr;
    }
    forward->remove();
    module->push_back(forward);
    forward.setSymName(name);
    for (unsigned i = 0; i < forward.getNumArguments(); ++i) {
      auto input = forward.getArgAttrOfType<StringAttr>(i, CleaveDialect::kInputAttrName);
      if (!input || !isa<FloatType>(getElementTypeOrSelf(forward.getArgument(i).getType())))
        continue;
      forward.removeArgAttr(i, CleaveDialect::kInputAttrName);
      forward.setArgAttr(i, CleaveDialect::kParamAttrName,
                         ParamAttr::get(&context, input, ParamKind::trainable));
    }
  }
  return module;
}

void checkFile(const std::string &path, FileResult &result) {
  auto start = std::chrono::steady_clock::now();
  result.file = path;
  auto finish = [&] {
    result.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  MLIRContext context(MLIRContext::Threading::DISABLED);
  loadAllDialects(context);
  std::string diagnostics;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diagnostic) {
    llvm::raw_string_ostream os(diagnostics);
    os << diagnostic.getLocation() << ": " << diagnostic << "\n";
    return success();
  });
  OwningOpRef<ModuleOp> module;
  if (StringRef(path).ends_with(".onnxtext")) {
    module = importOnnxCases(path, context, result.error);
    if (!module)
      return finish();
  } else {
    module = parseSourceFile<ModuleOp>(path, &context);
  }
  if (!module) {
    result.error = "cannot parse:\n" + diagnostics;
    return finish();
  }
  ModuleSpec spec;
  if (failed(buildForward(*module, spec, result.error))) {
    result.error += "\n" + diagnostics;
    return finish();
  }

  TrainOptions train;
  train.loss = "model";
  train.settings.optimizer = "sgd";
  if (llvm::Error error = buildTrainStep(*module, train)) {
    result.error = llvm::toString(std::move(error));
    return finish();
  }
  codegen::CodegenOptions options;
  options.target = codegen::Target::cpu;
  options.train = train.settings;
  options.emitMain = false;
  options.modelPath = path;
  std::string source;
  llvm::raw_string_ostream os(source);
  if (failed(codegen::emitTrainStep(*module, options, os))) {
    result.error = "code generation failed:\n" + diagnostics;
    return finish();
  }

  llvm::SmallString<128> directory;
  if (std::error_code error = llvm::sys::fs::createUniqueDirectory("cleave-gradcheck", directory)) {
    result.error = "cannot create a temporary directory: " + error.message();
    return finish();
  }
  std::string stem = llvm::sys::path::stem(path).str();
  std::string library = (directory + "/" + stem + ".so").str();
  if (keep) {
    std::error_code error;
    llvm::raw_fd_ostream file((directory + "/" + stem + ".cpp").str(), error);
    file << source;
    std::string ir;
    llvm::raw_string_ostream irStream(ir);
    module->print(irStream);
    llvm::raw_fd_ostream irFile((directory + "/" + stem + ".train.mlir").str(), error);
    irFile << ir;
  }
  if (llvm::Error error =
          compileExecutable(source, codegen::Target::cpu, library, getBuiltInToolchain(),
                            /*sharedLibrary=*/true)) {
    result.error = llvm::toString(std::move(error));
    return finish();
  }
  void *handle = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    result.error = std::string("dlopen failed: ") + dlerror();
    return finish();
  }
  auto info = reinterpret_cast<ModelInfoFn>(dlsym(handle, "cleave_model_info"));
  auto step = reinterpret_cast<TrainStepFn>(dlsym(handle, "cleave_train_step"));
  if (!info || !step) {
    result.error = "the library lacks cleave_model_info or cleave_train_step";
    return finish();
  }
  {
    StepRunner runner(*info(), step, spec);
    compareGradients(runner, spec, result);
  }
  // The library stays loaded: its OpenMP threads may outlive the call.
  if (keep)
    result.kept = std::string(directory);
  else
    llvm::sys::fs::remove_directories(directory);
  result.ok = result.error.empty() &&
              llvm::all_of(result.cases, [](const CaseResult &c) { return c.failures == 0; });
  finish();
}

} // namespace

int main(int argc, char **argv) {
  llvm::cl::ParseCommandLineOptions(argc, argv, "finite-difference check of gradient rules\n");
  // The libraries bring libgomp and OpenBLAS's pthread pool. With OpenMP's
  // default active waiting both pools spin against each other (on 2 cores
  // a step with a large fused loop and an sgemm took 20-50x longer), so
  // idle OpenMP threads sleep here, unless the caller says otherwise. It
  // takes effect because libgomp is first loaded by dlopen, after this.
  setenv("OMP_WAIT_POLICY", "passive", /*overwrite=*/0);
  auto start = std::chrono::steady_clock::now();
  std::vector<FileResult> results(inputFiles.size());
  unsigned workers = jobs ? jobs : std::max(1u, std::thread::hardware_concurrency());
  std::atomic<size_t> next{0};
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < std::min<size_t>(workers, inputFiles.size()); ++t)
    threads.emplace_back([&] {
      for (size_t i; (i = next++) < inputFiles.size();)
        checkFile(inputFiles[i], results[i]);
    });
  for (std::thread &thread : threads)
    thread.join();

  int failedCases = 0, totalCases = 0, failedFiles = 0;
  llvm::raw_ostream &out = llvm::outs();
  for (const FileResult &file : results) {
    out << llvm::formatv("== {0} ({1:f1} s)\n", llvm::sys::path::filename(file.file), file.seconds);
    if (!file.kept.empty())
      out << "kept in " << file.kept << "\n";
    if (!file.error.empty()) {
      out << "ERROR: " << file.error << "\n";
      ++failedFiles;
    }
    for (const CaseResult &c : file.cases) {
      ++totalCases;
      failedCases += c.failures != 0;
      out << llvm::formatv(
          "{0} {1,-30} {2,4} elements, worst |grad - fd| {3:e1} = {4:f3} of allowed\n",
          c.failures ? "FAIL" : "PASS", c.name, c.elements, c.worstError, c.worstRatio);
      if (c.failures && c.elements)
        out << llvm::formatv("    {0} of {1} elements outside the tolerance\n", c.failures,
                             c.elements);
      out << c.details;
    }
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  out << llvm::formatv("{0} of {1} cases passed, {2} files failed before checking ({3:f1} s)\n",
                       totalCases - failedCases, totalCases, failedFiles, seconds);
  return failedCases || failedFiles ? 1 : 0;
}
