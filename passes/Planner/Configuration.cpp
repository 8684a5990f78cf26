//===- Configuration.cpp - one point of the 3-D search, and its text ------===//
#include "passes/Planner/Configuration.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSwitch.h"

using namespace mlir;
using namespace mlir::cleave;

std::string Configuration::grid() const {
  std::string text;
  auto add = [&](const char *name, int64_t size) {
    if (size > 1)
      text += (text.empty() ? "" : ",") + std::string(name) + "=" + std::to_string(size);
  };
  add("pp", pp);
  add("dp", dp);
  add("tp", tp);
  return text.empty() ? "dp=1" : text;
}

std::string mlir::cleave::formatConfiguration(const Configuration &config) {
  std::string text = config.grid();
  if (config.microBatches != 1)
    text += " micro-batches=" + std::to_string(config.microBatches);
  if (config.schedule != "1f1b")
    text += " schedule=" + config.schedule;
  if (config.virtualStages != 1)
    text += " virtual-stages=" + std::to_string(config.virtualStages);
  if (config.recompute != RecomputeMode::none)
    text += " recompute=" + recomputeModeName(config.recompute).str();
  if (config.zero != 0)
    text += " zero=" + std::to_string(config.zero);
  if (config.sequenceParallel)
    text += " sequence-parallel=on";
  if (config.precision != "fp32")
    text += " precision=" + config.precision;
  return text;
}

static llvm::Error specError(llvm::StringRef spec, const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 "configuration '" + spec + "': " + message);
}

/// A positive integer value of token `name`.
static llvm::Expected<int64_t> positive(llvm::StringRef spec, llvm::StringRef name,
                                        llvm::StringRef value) {
  int64_t number = 0;
  if (value.getAsInteger(10, number) || number < 1)
    return specError(spec, name + "=" + value + ": give a positive integer");
  return number;
}

llvm::Expected<Configuration> mlir::cleave::parseConfiguration(llvm::StringRef spec) {
  llvm::SmallVector<llvm::StringRef> tokens;
  llvm::SplitString(spec, tokens, " \t");
  if (tokens.empty())
    return specError(spec, "empty: give a grid such as dp=8 or pp=2,dp=2,tp=2");
  Configuration config;
  llvm::SmallVector<llvm::StringRef> axes;
  tokens.front().split(axes, ',');
  for (llvm::StringRef axis : axes) {
    auto [name, value] = axis.split('=');
    int64_t *size = llvm::StringSwitch<int64_t *>(name)
                        .Case("pp", &config.pp)
                        .Case("dp", &config.dp)
                        .Case("tp", &config.tp)
                        .Default(nullptr);
    if (!size)
      return specError(spec, "grid axis '" + name + "': the grid names pp, dp and tp (e.g. " +
                                 "pp=2,dp=2,tp=2)");
    llvm::Expected<int64_t> number = positive(spec, name, value);
    if (!number)
      return number.takeError();
    *size = *number;
  }
  for (llvm::StringRef token : llvm::drop_begin(tokens)) {
    auto [name, value] = token.split('=');
    if (name == "micro-batches" || name == "virtual-stages") {
      llvm::Expected<int64_t> number = positive(spec, name, value);
      if (!number)
        return number.takeError();
      (name == "micro-batches" ? config.microBatches : config.virtualStages) = *number;
    } else if (name == "schedule") {
      if (value != "gpipe" && value != "1f1b" && value != "interleaved")
        return specError(spec, "schedule=" + value + ": use gpipe, 1f1b or interleaved");
      config.schedule = value.str();
    } else if (name == "recompute") {
      std::optional<RecomputeMode> mode = parseRecomputeMode(value);
      if (!mode)
        return specError(spec, "recompute=" + value + ": use none, selective or full");
      config.recompute = *mode;
    } else if (name == "zero") {
      if (value.size() != 1 || value[0] < '0' || value[0] > '3')
        return specError(spec, "zero=" + value + ": use 0, 1, 2 or 3");
      config.zero = value[0] - '0';
    } else if (name == "sequence-parallel") {
      if (value != "on" && value != "off")
        return specError(spec, "sequence-parallel=" + value + ": use on or off");
      config.sequenceParallel = value == "on";
    } else if (name == "precision") {
      if (value != "fp32" && value != "bf16")
        return specError(spec, "precision=" + value + ": use fp32 or bf16");
      config.precision = value.str();
    } else {
      return specError(spec, "unknown token '" + token +
                                 "': use micro-batches, schedule, virtual-stages, recompute, "
                                 "zero, sequence-parallel or precision (NAME=VALUE)");
    }
  }
  if (config.virtualStages > 1 && config.schedule != "interleaved")
    return specError(spec, "virtual-stages=" + std::to_string(config.virtualStages) +
                               " needs schedule=interleaved");
  return config;
}
