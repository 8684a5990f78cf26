//===- Passes.td - the cleave passes --------------------------------------===//
//
// Every pass flag starts with `cleave-`. Pipelines that chain these passes
// are built in C++ (Pipelines.cpp) so that `cleave-opt` and `cleavec` run
// the very same sequence.
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_PASSES_TD
#define CLEAVE_PASSES_TD

include "mlir/Pass/PassBase.td"

//===----------------------------------------------------------------------===//
// Analysis
//===----------------------------------------------------------------------===//

def CleaveAnnotateCosts : Pass<"cleave-annotate-costs", "func::FuncOp"> {
  let summary = "Attach each op's FLOP and byte counts, from CostOpInterface, as attributes";
  let description = [{
    Writes `cleave.flops` and `cleave.bytes` (i64) onto every op that
    implements `CostOpInterface`, and their totals onto the function. It
    makes the cost model's per-op inputs visible in IR dumps and pins them
    in lit tests; `cleavec --emit=summary` prints the same totals.

    Before:
    ```mlir
    func.func @f(%a: tensor<8x32xf32>, %b: tensor<32x64xf32>) -> tensor<8x64xf32> {
      %0 = cleave.matmul %a, %b : (tensor<8x32xf32>, tensor<32x64xf32>) -> tensor<8x64xf32>
      return %0 : tensor<8x64xf32>
    }
    ```
    After:
    ```mlir
    func.func @f(...) attributes {cleave.total_bytes = 11264 : i64, cleave.total_flops = 32768 : i64} {
      %0 = cleave.matmul %a, %b {cleave.bytes = 11264 : i64, cleave.flops = 32768 : i64} : ...
    ```
  }];
  let dependentDialects = ["::mlir::cleave::CleaveDialect"];
}

#endif // CLEAVE_PASSES_TD
