//===- Passes.td - the codegen passes -------------------------------------===//
//
// Codegen's own passes, declared beside it so that codegen's rewrites can
// be run and tested on their own with cleave-opt.
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_CODEGEN_PASSES_TD
#define CLEAVE_CODEGEN_PASSES_TD

include "mlir/Pass/PassBase.td"

def CleaveLegalizeForCodegen : Pass<"cleave-legalize-for-codegen", "func::FuncOp"> {
  let summary = "Rewrite a function into ops that each map onto one runtime kernel or fused loop";
  let description = [{
    What codegen (compiler/Codegen) runs first on the train step, so that
    every op it meets has one library call or scalar expression:

    - A batched `cleave.matmul` operand whose batch dimensions broadcast
      only partly (`[2, 1, M, K]` against a `[2, 3]` batch) is broadcast to
      the whole batch: the runtime's matmul takes one batch stride per
      operand.
    - The weight gradient that autodiff writes as a batch of products summed
      over the batch (`reduce sum [0]` of a `transpose_a` matmul of
      `[B, R, M]` and `[B, R, N]`) becomes one product contracting over all
      `B * R` rows; a following transpose `[1, 0]` becomes the swapped
      product.
    - A `cleave.dropout` left in the function is an error: run
      `cleave-lower-dropout` first.

    ```mlir
    %p = cleave.matmul %x, %g {transpose_a} : (tensor<2x3x4xf32>, tensor<2x3x5xf32>) -> tensor<2x4x5xf32>
    %s = cleave.reduce sum %p {axes = array<i64: 0>} : tensor<2x4x5xf32> -> tensor<4x5xf32>
    // becomes
    %x2 = cleave.reshape %x : tensor<2x3x4xf32> to tensor<6x4xf32>
    %g2 = cleave.reshape %g : tensor<2x3x5xf32> to tensor<6x5xf32>
    %s = cleave.matmul %x2, %g2 {transpose_a} : (tensor<6x4xf32>, tensor<6x5xf32>) -> tensor<4x5xf32>
    ```
  }];
  let dependentDialects = ["::mlir::cleave::CleaveDialect"];
}

def CleavePrintCodegenSchedule : Pass<"cleave-print-codegen-schedule", "func::FuncOp"> {
  let summary = "Print the fused-loop schedule and the memory plan codegen builds for a function";
  let description = [{
    For tests and for reading what codegen will do (run after
    `cleave-legalize-for-codegen`): prints, to stdout, each step of the
    schedule (a library call, or a fused loop with its ops, iteration
    shape, inputs and outputs), then where each stored value lives (an
    argument, or a workspace offset with the steps it is live over), the
    results copied into arguments at the end, and the workspace size with
    and without reuse. Values are named as the IR printer names them.

    ```
    schedule @f: 3 steps, 1 fused loops
      step 0: call cleave.matmul -> %0
      step 1: loop 0 over [8, 64]: cleave.binary, cleave.unary; in %0, %arg2; out %2
      ...
    memory @f: workspace 4096 bytes (6144 without reuse)
      %0: workspace [0, 2048) steps 0..1
    ```
  }];
}

def CleaveEmitCpp : Pass<"cleave-emit-cpp", "ModuleOp"> {
  let summary = "Print the C++ or CUDA C++ source codegen writes for the module's train step";
  let description = [{
    What `cleavec --emit=cpp` writes, from an MLIR module rather than an
    ONNX file, so that lit tests can check the source of hand-written
    programs (a pipeline's `@train_step_stage<p>` functions, transfers).
    Compiles `@train_step`, or, where the module has
    `@train_step_stage0`.. instead, one step function per stage and a
    `train_step` that runs the stage of the rank's coordinate on grid axis
    `pp`. The source goes to stdout; the module is legalised in place.

    ```mlir
    func.func @train_step_stage0(...) { ... cleave.send_start %h {axis = "pp", peer = 1 : i64, tag = 0 : i64, slot = 0 : i64} : tensor<4x8xf32> ... }
    // prints
    //   namespace stage0 { ... cleave::rt::collective::send_start(io.collectives, "pp", 1, h, 128, 0, 0); ... }
    //   void train_step(...) { switch (cleave::rt::collective::grid_coordinate(io.collectives, "pp")) { ... } }
    ```
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"cpu\"",
           "cpu or cuda">,
    Option<"emitMain", "emit-main", "bool", /*default=*/"true",
           "write main(); false: the C symbols of a shared library">,
    Option<"modelPath", "model-path", "std::string", /*default=*/"\"model.onnx\"",
           "the ONNX file the program loads its initial weights from">,
  ];
}

#endif // CLEAVE_CODEGEN_PASSES_TD
