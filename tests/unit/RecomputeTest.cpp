// recomputeActivations (passes/Recompute/Recompute.h) as the configuration
// search uses it: on a clone of a phase-tagged, unsharded train step, whose
// split then counts a smaller stash (none > selective > full), while the
// train step it was cloned from keeps its own.
#include "passes/Recompute/Recompute.h"

#include "compiler/Importer/Importer.h"
#include "compiler/Registration.h"
#include "compiler/TrainStep.h"
#include "passes/Pipeline/SplitFigures.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"

#include <catch2/catch.hpp>

#include <map>

using namespace mlir;
using namespace mlir::cleave;

namespace {

/// The stash (bytes) the one-chunk split of `trainStep` counts.
int64_t stashBytes(func::FuncOp trainStep, const Cluster &cluster) {
  FailureOr<TrainStepPhases> phases = TrainStepPhases::analyze(trainStep);
  REQUIRE(succeeded(phases));
  CutProfile profile = profileCuts(*phases, [](Operation *) { return 0.0; });
  ChunkAssignment assignment = assignChunks(*phases, {0});
  FailureOr<SplitFigures> figures =
      countSplit(*phases, assignment, profile, SplitSettings(), cluster);
  REQUIRE(succeeded(figures));
  return figures->chunkActivationBytes.front();
}

bool hasClones(func::FuncOp function) {
  bool found = false;
  function.walk([&](Operation *op) { found |= op->hasAttr(kRecomputedAttrName); });
  return found;
}

} // namespace

TEST_CASE("recompute: a clone of gpt_small's train step stashes less, the step itself is unchanged",
          "[recompute]") {
  MLIRContext context;
  loadAllDialects(context);
  auto module = importOnnxFile(CLEAVE_MODELS_DIR "/gpt_small.onnx", ImportOptions(), context);
  REQUIRE(static_cast<bool>(module));
  TrainOptions options;
  options.labels = "y";
  options.settings.phaseTags = true;
  REQUIRE(!buildTrainStep(**module, options));
  auto trainStep = (*module)->lookupSymbol<func::FuncOp>("train_step");
  REQUIRE(trainStep);
  llvm::Expected<Cluster> cluster = loadCluster("cpu", 1);
  REQUIRE(static_cast<bool>(cluster));

  std::map<RecomputeMode, int64_t> stash;
  for (RecomputeMode mode : {RecomputeMode::none, RecomputeMode::selective, RecomputeMode::full}) {
    OwningOpRef<func::FuncOp> clone = trainStep.clone();
    RecomputeSummary summary;
    REQUIRE(succeeded(recomputeActivations(*clone, mode, &summary)));
    stash[mode] = stashBytes(*clone, *cluster);
    CHECK(hasClones(*clone) == (mode != RecomputeMode::none));
    // 4 blocks: 4 attention cores, 8 layers (attention and MLP of each)
    // recomputed; the head and the loss are not.
    if (mode == RecomputeMode::selective)
      CHECK(summary.regions == 4);
    if (mode == RecomputeMode::full)
      CHECK(summary.regions == 8);
  }
  CHECK(stash[RecomputeMode::none] == stashBytes(trainStep, *cluster));
  CHECK(stash[RecomputeMode::none] > stash[RecomputeMode::selective]);
  CHECK(stash[RecomputeMode::selective] > stash[RecomputeMode::full]);
  CHECK_FALSE(hasClones(trainStep));
}

TEST_CASE("recompute: modes by name", "[recompute]") {
  for (RecomputeMode mode : {RecomputeMode::none, RecomputeMode::selective, RecomputeMode::full})
    CHECK(parseRecomputeMode(recomputeModeName(mode)) == mode);
  CHECK_FALSE(parseRecomputeMode("partial").has_value());
  CHECK_FALSE(parseRecomputeMode("").has_value());
}
