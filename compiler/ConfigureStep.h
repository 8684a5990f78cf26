//===- ConfigureStep.h - the tools' configuration search ------------------===//
//
// What cleavec and cleave-plan run before building the train step when
// the user gives a device count and lets the search plan (--plan auto):
// the 3-D search (passes/Planner/ConfigSearch.h) on a phase-tagged copy of
// the step, every given flag a pin; then the chosen configuration is
// written into the shard options, so that the existing flow (split,
// sharding search on the stage's sub-grid, partition, unroll) carries out
// exactly that configuration.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_COMPILER_CONFIGURESTEP_H
#define CLEAVE_COMPILER_CONFIGURESTEP_H

#include "compiler/ShardStep.h"
#include "compiler/TrainStep.h"
#include "passes/Planner/ConfigSearch.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <optional>

namespace mlir::cleave {

/// Whether `shard` asks for the configuration search: --plan auto on more
/// than one device, with a grid (if any) of pp, dp and tp axes only.
bool wantsConfigurationSearch(const ShardOptions &shard);

/// The search's pins from the user's flags.
llvm::Expected<ConfigSearchOptions> getConfigSearchOptions(const ShardOptions &shard,
                                                           llvm::StringRef precision);

/// Searches the configuration of `module`'s train step: built from its
/// @forward on a clone with phase tags when the module has no @train_step
/// yet, else the step itself (which must carry phase tags; without them
/// nothing is searched and the result is empty). On success `shard` holds
/// the chosen grid, micro-batches, schedule, virtual stages and ZeRO level,
/// and `train`'s phase tags are on when it is a pipeline.
llvm::Expected<std::optional<ConfigSearchResult>> configureTrainStep(ModuleOp module,
                                                                     TrainOptions &train,
                                                                     ShardOptions &shard,
                                                                     llvm::StringRef precision);

/// Writes `config` into `shard` (grid, micro-batches, schedule, virtual
/// stages, ZeRO), keeping the devices, pins and cluster.
void applyConfiguration(const Configuration &config, ShardOptions &shard);

/// "Plan: <spec> (searched <n> configurations in <t> s; predicted step <x> ms)".
std::string describeConfigurationChoice(const ConfigSearchResult &result);

} // namespace mlir::cleave

#endif // CLEAVE_COMPILER_CONFIGURESTEP_H
