//===- cleavec.cpp - the Cleave compiler driver ---------------------------===//
//
// cleavec model.onnx --emit=mlir|summary [-o out] [--input-shape x=2,16]
//
// Each --emit stage prints what the compiler holds after that step, so a
// user can see what the importer made of their model.
//
//===----------------------------------------------------------------------===//
#include "compiler/Importer/Importer.h"
#include "compiler/ModelSummary.h"
#include "compiler/Registration.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OperationSupport.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <CLI/CLI.hpp>

#include <iostream>

int main(int argc, char **argv) {
  CLI::App app{"cleavec: compile an ONNX model into a training program"};
  std::string modelPath, emit = "summary", outputPath = "-";
  std::vector<std::string> inputShapes;
  int64_t batchSize = 0;
  bool noWeights = false, listOps = false;
  app.add_option("model", modelPath, "ONNX model (.onnx, or textual .onnxtext)");
  app.add_option("--emit", emit, "What to print: mlir (the imported IR) or summary (a table)")
      ->check(CLI::IsMember({"mlir", "summary"}));
  app.add_option("-o,--output", outputPath, "Output file ('-' for stdout)");
  app.add_option("--input-shape", inputShapes,
                 "Static shape for a data input, name=d0,d1,... (repeatable)");
  app.add_option("--batch-size", batchSize, "Fills a dynamic first dimension of every input")
      ->check(CLI::PositiveNumber);
  app.add_flag("--no-weights", noWeights,
               "Import even if external-data weight files are missing (shapes only, for "
               "planning)");
  app.add_flag("--list-ops", listOps, "Print the supported ONNX op types and exit");
  CLI11_PARSE(app, argc, argv);

  if (listOps) {
    for (const std::string &op : mlir::cleave::getSupportedOnnxOps())
      std::cout << op << "\n";
    return 0;
  }
  if (modelPath.empty()) {
    std::cerr << "cleavec: error: no model given\n" << app.help();
    return 2;
  }

  mlir::cleave::ImportOptions options;
  options.requireWeights = !noWeights;
  if (batchSize > 0)
    options.batchSize = batchSize;
  for (const std::string &shape : inputShapes)
    if (llvm::Error error = mlir::cleave::parseInputShape(shape, options)) {
      std::cerr << "cleavec: error: " << llvm::toString(std::move(error)) << "\n";
      return 2;
    }

  mlir::MLIRContext context;
  mlir::cleave::loadAllDialects(context);
  auto module = mlir::cleave::importOnnxFile(modelPath, options, context);
  if (!module) {
    std::cerr << "cleavec: error: " << llvm::toString(module.takeError()) << "\n";
    return 1;
  }

  std::string errorMessage;
  auto output = mlir::openOutputFile(outputPath, &errorMessage);
  if (!output) {
    std::cerr << "cleavec: error: " << errorMessage << "\n";
    return 1;
  }
  if (emit == "mlir")
    (*module)->print(output->os());
  else
    mlir::cleave::printModelSummary(**module, output->os());
  output->keep();
  return 0;
}
