//===- TrainOptions.h - the loss and optimizer settings as values ---------===//
//
// The plain-value side of passes/TrainOptions.def: what the tools fill from
// their command line and hand to the train pipeline and to codegen. The
// pass and pipeline options are generated from the same table.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_PASSES_TRAINOPTIONS_H
#define CLEAVE_PASSES_TRAINOPTIONS_H

#include <cstdint>
#include <string>

namespace mlir::cleave {

/// The loss cleave-attach-loss builds (PyTorch semantics).
struct LossSettings {
#define CLEAVE_LOSS_OPTION(FIELD, TYPE, FLAG, CLI_FLAG, DEFAULT, HELP, CHECK, SHOW_DEFAULT)        \
  TYPE FIELD = DEFAULT;
#include "passes/TrainOptions.def"
};

/// The update cleave-optimizer builds, and the defaults (learning rate,
/// schedule) the generated executable starts from.
struct OptimizerSettings {
#define CLEAVE_OPTIMIZER_OPTION(FIELD, TYPE, FLAG, CLI_FLAG, DEFAULT, HELP, CHECK, SHOW_DEFAULT)   \
  TYPE FIELD = DEFAULT;
#define CLEAVE_EXECUTABLE_OPTION(FIELD, TYPE, CLI_FLAG, DEFAULT, HELP, CHECK) TYPE FIELD = DEFAULT;
#include "passes/TrainOptions.def"
  /// Tag the update's ops for cleave-pipeline-split (not a cleavec flag:
  /// set by the train pipeline when it builds a pipelined program).
  bool phaseTags = false;
};

} // namespace mlir::cleave

#endif // CLEAVE_PASSES_TRAINOPTIONS_H
