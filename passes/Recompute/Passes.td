//===- Passes.td - activation recomputation ------------------------------===//
#ifndef CLEAVE_PASSES_RECOMPUTE_TD
#define CLEAVE_PASSES_RECOMPUTE_TD

include "mlir/Pass/PassBase.td"

def CleaveRecompute : Pass<"cleave-recompute", "ModuleOp"> {
  let summary = "Recompute chosen forward activations in the backward instead of stashing them";
  let description = [{
    Runs on `@train_step` built with the train pipeline's phase tags
    (`phase-tags=true`), before `cleave-pipeline-split`. A forward value a
    backward op reads is stashed from the forward to that op; for the
    values `mode` chooses, the forward ops that make them are cloned right
    before the first backward op reading one of them, from values that stay
    stashed, and the backward reads the clones:

    - `none`: nothing;
    - `selective` (Megatron-LM's selective recomputation): each attention
      core, found by its structure (a softmax over the last axis fed,
      through scaling and masking, by a batched product Q K^T and feeding,
      through dropout, the left operand of a batched product with V), is
      recomputed from Q, K and V. A model without one is left unchanged
      (the remark says so);
    - `full`: every layer but the last (the layer boundaries of the
      pipeline split, docs/pipeline.md) is recomputed from its inputs and
      the parameters.

    Clones carry `cleave.recomputed` and the `cleave.bwd_of` of the backward
    op they precede (the split puts them in its chunk's backward; CSE cannot
    merge them with the originals). A cloned `cleave.random_mask` draws the
    same stream as its original: dropout is bit for bit the same. A remark
    on the function says what was recomputed.

    ```mlir
    %s = cleave.matmul %q, %k {cleave.fwd_id = 3 : i64} ...
    %p = cleave.softmax %s {axis = 3 : i64, cleave.fwd_id = 4 : i64} ...
    %o = cleave.matmul %p, %v {cleave.fwd_id = 5 : i64} ...
    ...
    %dv = cleave.matmul %p, %do {cleave.bwd_of = 5 : i64, transpose_a} ...
    %dp = cleave.softmax_grad %p, %g {axis = 3 : i64, cleave.bwd_of = 4 : i64} ...
    // with mode=selective, the backward reads a clone of %p:
    %s2 = cleave.matmul %q, %k {cleave.bwd_of = 5 : i64, cleave.recomputed} ...
    %p2 = cleave.softmax %s2 {axis = 3 : i64, cleave.bwd_of = 5 : i64, cleave.recomputed} ...
    %dv = cleave.matmul %p2, %do {cleave.bwd_of = 5 : i64, transpose_a} ...
    %dp = cleave.softmax_grad %p2, %g {axis = 3 : i64, cleave.bwd_of = 4 : i64} ...
    ```
  }];
  let options = [
    Option<"function", "function", "std::string", "\"train_step\"", "The function to recompute">,
    Option<"mode", "mode", "std::string", "\"full\"",
           "What to recompute: none, selective (attention cores) or full (every layer but the "
           "last)">,
  ];
  let dependentDialects = ["::mlir::cleave::CleaveDialect"];
}

#endif // CLEAVE_PASSES_RECOMPUTE_TD
