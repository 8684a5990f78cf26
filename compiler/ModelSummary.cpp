//===- ModelSummary.cpp - a short readable table of an imported model -----===//
#include "compiler/ModelSummary.h"

#include "dialects/Cleave/IR/CleaveOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/Support/FormatVariadic.h"

#include <map>

using namespace mlir;
using namespace mlir::cleave;

static std::string typeText(Type type) {
  auto tensor = cast<RankedTensorType>(type);
  std::string text;
  llvm::raw_string_ostream os(text);
  os << tensor.getElementType() << " [";
  llvm::interleaveComma(tensor.getShape(), os);
  os << "]";
  return text;
}

/// 1234567 -> "1,234,567": parameter counts are read by people.
static std::string grouped(int64_t value) {
  std::string digits = std::to_string(value), text;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0)
      text += ',';
    text += digits[i];
  }
  return text;
}

static std::string humanBytes(double bytes) {
  const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 4) {
    bytes /= 1024;
    ++unit;
  }
  return llvm::formatv("{0:F1} {1}", bytes, units[unit]).str();
}

/// One line per role: trained, frozen (a buffer nothing writes: a rotary
/// table, a mask, a frozen weight) and updated by the forward (BatchNorm's
/// running statistics): how many, how big, and their names (the first few
/// when there are many: a 39B GPT has 580).
static void printKinds(func::FuncOp function, llvm::raw_ostream &os) {
  struct Kind {
    const char *title;
    int64_t count = 0, elements = 0;
    std::vector<std::string> names;
  };
  Kind kinds[] = {
      {"trainable"}, {"frozen (no gradient, never updated)"}, {"buffers updated by the forward"}};
  llvm::DenseSet<Value> written;
  function.walk([&](BatchNormOp op) {
    written.insert(op.getRunningMean());
    written.insert(op.getRunningVar());
  });
  for (BlockArgument argument : function.getArguments()) {
    auto param = function.getArgAttrOfType<ParamAttr>(argument.getArgNumber(),
                                                      CleaveDialect::kParamAttrName);
    if (!param)
      continue;
    Kind &kind = kinds[param.getKind() == ParamKind::trainable ? 0
                       : written.contains(argument)            ? 2
                                                               : 1];
    ++kind.count;
    kind.elements += cast<RankedTensorType>(argument.getType()).getNumElements();
    kind.names.push_back(param.getName().str());
  }
  constexpr size_t kShown = 16;
  for (const Kind &kind : kinds) {
    if (!kind.count && &kind != &kinds[0])
      continue;
    os << "  " << kind.title << ": " << kind.count << " tensors, " << grouped(kind.elements)
       << " elements";
    for (auto [index, name] : llvm::enumerate(llvm::ArrayRef(kind.names).take_front(kShown)))
      os << (index ? ", " : ": ") << name;
    if (kind.names.size() > kShown)
      os << ", ... (" << kind.names.size() - kShown << " more)";
    os << "\n";
  }
}

void mlir::cleave::printModelSummary(ModuleOp module, llvm::raw_ostream &os) {
  for (auto function : module.getOps<func::FuncOp>()) {
    os << "function @" << function.getName();
    if (auto source = module->getAttrOfType<StringAttr>(CleaveDialect::kSourceAttrName))
      os << " from " << source.getValue();
    if (auto opset = module->getAttrOfType<IntegerAttr>(CleaveDialect::kOpsetAttrName))
      os << " (opset " << opset.getInt() << ")";
    os << "\n";

    int64_t parameterCount = 0, parameterElements = 0, parameterBytes = 0, bufferCount = 0;
    os << "\ninputs:\n";
    for (BlockArgument argument : function.getArguments()) {
      unsigned index = argument.getArgNumber();
      if (auto param = function.getArgAttrOfType<ParamAttr>(index, CleaveDialect::kParamAttrName)) {
        auto type = cast<RankedTensorType>(argument.getType());
        ++parameterCount;
        bufferCount += param.getKind() == ParamKind::buffer;
        parameterElements += type.getNumElements();
        parameterBytes += getTensorBytes(type);
      } else if (auto name =
                     function.getArgAttrOfType<StringAttr>(index, CleaveDialect::kInputAttrName)) {
        os << llvm::formatv("  {0,-24} {1}\n", name.getValue(), typeText(argument.getType()));
      }
    }
    os << "outputs:\n";
    for (unsigned i = 0; i < function.getNumResults(); ++i) {
      auto name = function.getResultAttrOfType<StringAttr>(i, CleaveDialect::kOutputAttrName);
      os << llvm::formatv("  {0,-24} {1}\n", name ? name.getValue() : "?",
                          typeText(function.getResultTypes()[i]));
    }
    os << llvm::formatv("parameters: {0} tensors ({1} of them buffers), {2} elements, {3}\n",
                        parameterCount, bufferCount, grouped(parameterElements),
                        humanBytes(parameterBytes));
    printKinds(function, os);

    struct Row {
      int64_t count = 0, flops = 0, bytes = 0;
    };
    std::map<std::string, Row> rows;
    Row total;
    function.walk([&](Operation *op) {
      auto cost = dyn_cast<CostOpInterface>(op);
      if (!cost)
        return;
      Row &row = rows[op->getName().getStringRef().str()];
      int64_t flops = cost.getFlops(), bytes = cost.getBytesAccessed();
      row.count += 1;
      row.flops += flops;
      row.bytes += bytes;
      total.count += 1;
      total.flops += flops;
      total.bytes += bytes;
    });
    os << "\n"
       << llvm::formatv("{0,-22} {1,6} {2,16} {3,12}\n", "op", "count", "forward FLOPs", "bytes");
    for (const auto &[name, row] : rows)
      os << llvm::formatv("{0,-22} {1,6} {2,16} {3,12}\n", name, row.count, grouped(row.flops),
                          humanBytes(row.bytes));
    os << llvm::formatv("{0,-22} {1,6} {2,16} {3,12}\n", "total", total.count, grouped(total.flops),
                        humanBytes(total.bytes));
  }
}
