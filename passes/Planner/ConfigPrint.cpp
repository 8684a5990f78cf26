//===- ConfigPrint.cpp - the configuration search's result, for people ----===//
#include "passes/Planner/ConfigSearch.h"

#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::cleave;

void mlir::cleave::printConfigurationSearch(const ConfigSearchResult &result,
                                            llvm::raw_ostream &os) {
  auto gib = [](double bytes) {
    if (bytes >= 1 << 30)
      return llvm::formatv("{0:F2} GiB", bytes / (1 << 30)).str();
    if (bytes >= 1 << 20)
      return llvm::formatv("{0:F2} MiB", bytes / (1 << 20)).str();
    return llvm::formatv("{0:F1} KiB", bytes / 1024).str();
  };
  const PricedConfiguration &best = result.best;
  os << "Configuration: " << formatConfiguration(best.config) << " ("
     << (best.fits ? "fits" : "does not fit") << "; predicted step "
     << llvm::formatv("{0:F3}", best.stepSeconds * 1e3) << " ms, " << gib(best.memoryBytes)
     << " per device on the largest stage)\n";
  os << "  searched " << result.priced << " configurations in "
     << llvm::formatv("{0:F2}", result.seconds) << " s\n";
  os << llvm::formatv("  compute {0:F3} ms, bubble {1:F3} ms, tensor parallel {2:F3} ms, data "
                      "parallel {3:F3} ms ({6:F3} ms exposed), pipeline transfers {4:F3} ms, "
                      "recompute {5:F3} ms\n",
                      best.computeSeconds * 1e3, best.bubbleSeconds * 1e3,
                      best.tensorParallelSeconds * 1e3, best.dataParallelSeconds * 1e3,
                      best.pipelineTransferSeconds * 1e3, best.recomputeSeconds * 1e3,
                      best.exposedDataParallelSeconds * 1e3);
  os << "  alternatives (step, memory per device, fits):\n";
  for (const PricedConfiguration &other : llvm::drop_begin(result.considered))
    os << "    " << formatConfiguration(other.config) << ": "
       << llvm::formatv("{0:F3}", other.stepSeconds * 1e3) << " ms, " << gib(other.memoryBytes)
       << ", " << (other.fits ? "fits" : "does not fit") << "\n";
}
