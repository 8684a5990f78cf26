//===- ShardStep.cpp - split a train step over a device grid --------------===//
#include "compiler/ShardStep.h"

#include "dialects/Cleave/IR/CleaveOps.h"
#include "passes/Passes.h"
#include "passes/Sharding/Sharding.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"

using namespace mlir;
using namespace mlir::cleave;

static llvm::Error makeError(const std::string &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

bool mlir::cleave::usesSearch(const ShardOptions &options) {
  // --devices asks for a plan; --grid and --shard then constrain the
  // search. Without --devices they are the plan, completed by propagation
  // (as --compare and --zero always are).
  return options.plan == "auto" && options.zero == 0 && options.devices > 1;
}

bool mlir::cleave::wantsSharding(const ShardOptions &options) {
  return !options.grid.empty() || options.devices > 1 || options.zero != 0 || !options.pins.empty();
}

/// The product of the sizes of "dp=2,tp=2", or -1 when malformed (the seed
/// pass then says why).
static int64_t gridDevices(llvm::StringRef grid) {
  int64_t devices = 1;
  llvm::SmallVector<llvm::StringRef> parts;
  grid.split(parts, ',');
  for (llvm::StringRef part : parts) {
    int64_t size = 0;
    if (part.split('=').second.trim().getAsInteger(10, size) || size < 1)
      return -1;
    devices *= size;
  }
  return devices;
}

/// The name a train-step argument is known by: its parameter's, or its
/// input's; empty for optimizer state and step scalars.
static std::string argumentName(func::FuncOp function, unsigned index) {
  if (auto param = function.getArgAttrOfType<ParamAttr>(index, CleaveDialect::kParamAttrName))
    return "param:" + param.getName().getValue().str();
  if (auto input = function.getArgAttrOfType<StringAttr>(index, CleaveDialect::kInputAttrName))
    return "input:" + input.getValue().str();
  return "";
}

/// The evaluation function runs on the train step's blocks of the
/// parameters and of the batch: give its arguments the train step's
/// layouts, by name, and let propagation shard the ops in between.
static LogicalResult seedEvalFromTrainStep(ModuleOp module) {
  auto train = module.lookupSymbol<func::FuncOp>("train_step");
  auto eval = module.lookupSymbol<func::FuncOp>(kEvalFunction);
  if (!train || !eval)
    return success();
  llvm::StringMap<Attribute> layouts;
  for (unsigned i = 0; i < train.getNumArguments(); ++i)
    if (Attribute layout = train.getArgAttr(i, kShardingAttr))
      layouts[argumentName(train, i)] = layout;
  for (unsigned i = 0; i < eval.getNumArguments(); ++i) {
    std::string name = argumentName(eval, i);
    if (name.empty())
      return eval.emitOpError() << "argument #" << i << " is neither a parameter nor an input";
    if (Attribute layout = layouts.lookup(name))
      eval.setArgAttr(i, kShardingAttr, layout);
  }
  return success();
}

llvm::Error mlir::cleave::shardTrainStep(ModuleOp module, const ShardOptions &options) {
  std::string grid = options.grid;
  if (grid.empty())
    grid = "dp=" + std::to_string(options.devices > 0 ? options.devices : 1);
  int64_t devices = gridDevices(grid);
  if (options.devices > 0 && devices > 0 && devices != options.devices)
    return makeError("--grid " + grid + " has " + std::to_string(devices) +
                     " devices but --devices is " + std::to_string(options.devices) +
                     ": make them agree (or drop one of the two)");
  for (const std::string &pin : options.pins)
    if (pin.find(';') != std::string::npos)
      return makeError("--shard '" + pin + "' contains ';': give one NAME=SPEC per --shard");

  PassManager pm(module.getContext());
  CleaveSeedShardingOptions seed;
  seed.gridSpec = grid;
  seed.zero = options.zero;
  seed.pins = llvm::join(options.pins, ";");
  if (usesSearch(options)) {
    CleaveSearchShardingOptions search;
    search.devices = options.devices;
    search.clusterName = options.cluster;
    search.gridSpec = options.grid;
    search.pins = llvm::join(options.pins, ";");
    pm.addPass(createCleaveSearchSharding(search));
    // Past its size the search records a fallback for these two to carry
    // out; when it planned, they do nothing.
    CleaveSeedShardingOptions fallbackSeed;
    fallbackSeed.fromSearch = true;
    pm.addPass(createCleaveSeedSharding(fallbackSeed));
    CleavePropagateShardingOptions fallbackPropagate;
    fallbackPropagate.fromSearch = true;
    pm.addPass(createCleavePropagateSharding(fallbackPropagate));
  } else {
    pm.addPass(createCleaveSeedSharding(seed));
    pm.addPass(createCleavePropagateSharding());
  }
  // The partition half runs separately when someone wants to see the plan
  // in between.
  PassManager partition(module.getContext());
  bool eval = static_cast<bool>(module.lookupSymbol(kEvalFunction));
  // The evaluation function's plan follows the train step's (it sees the
  // same parameter blocks), so the rest runs once that plan exists.
  OpPassManager &rest = options.beforePartition || eval ? partition : pm;
  if (eval) {
    CleavePropagateShardingOptions propagate;
    propagate.function = kEvalFunction.str();
    rest.addPass(createCleavePropagateSharding(propagate));
  }
  rest.addPass(createCleavePartition());
  if (eval) {
    CleavePartitionOptions partitionEval;
    partitionEval.function = kEvalFunction.str();
    rest.addPass(createCleavePartition(partitionEval));
  }
  // No CSE after the partition: it would merge the backward's re-gather of
  // an activation with the forward's, keeping the gathered copy live
  // across the step (Partition.cpp).
  rest.addPass(createCanonicalizerPass());
  CleaveBucketCollectivesOptions bucket;
  bucket.bucketBytes = options.bucketBytes;
  rest.addNestedPass<func::FuncOp>(createCleaveBucketCollectives(bucket));
  std::string diagnostics;
  ScopedDiagnosticHandler handler(module.getContext(), [&](Diagnostic &diagnostic) {
    llvm::raw_string_ostream os(diagnostics);
    os << diagnostic << "\n";
    return success();
  });
  auto failedOver = [&] {
    return makeError("sharding the train step over " + grid + " failed: " + diagnostics);
  };
  if (failed(pm.run(module)))
    return failedOver();
  if (eval && failed(seedEvalFromTrainStep(module)))
    return failedOver();
  if (options.beforePartition)
    options.beforePartition(module);
  if ((options.beforePartition || eval) && failed(partition.run(module)))
    return failedOver();
  return llvm::Error::success();
}
