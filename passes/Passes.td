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

//===----------------------------------------------------------------------===//
// Train step construction
//===----------------------------------------------------------------------===//

def CleaveLowerDropout : Pass<"cleave-lower-dropout", "ModuleOp"> {
  let summary = "Rewrite training-mode dropout as a product with a per-step random mask";
  let description = [{
    So that autodiff sees a multiplication whose gradient reuses the very
    mask the forward pass drew. Each dropout gets its own mask stream.

    ```mlir
    %y = cleave.dropout %x {ratio = 1.0e-01 : f64} : tensor<2x16xf32>
    // becomes
    %m = cleave.random_mask {keep_probability = 9.0e-01 : f64, stream = 0 : i64} : tensor<2x16xf32>
    %y = cleave.binary mul %x, %m : (tensor<2x16xf32>, tensor<2x16xf32>) -> tensor<2x16xf32>
    ```
  }];
  let dependentDialects = ["::mlir::cleave::CleaveDialect"];
}

def CleaveDeriveEval : Pass<"cleave-derive-eval", "ModuleOp"> {
  let summary = "Clone the forward pass into its evaluation form (PyTorch's model.eval())";
  let description = [{
    Clones `source` (default `@forward`, before `cleave-lower-dropout`)
    into `result` (default `@forward_eval`) with every dropout removed and
    every `cleave.batch_norm` normalising with its running statistics
    instead of the batch's, which it no longer updates. The training
    executable runs the loss of this function on held-out data
    (`--eval-data`); `cleave-attach-loss{source=forward_eval
    result=eval_loss}` adds the loss.

    ```mlir
    %y = cleave.dropout %x {ratio = 1.0e-01 : f64} : tensor<2x16xf32>
    %z, %rm, %rv = cleave.batch_norm %y, %g, %b, %m, %v {epsilon = 1.0e-05 : f64, momentum = 1.0e-01 : f64} : ...
    // in @forward_eval becomes
    %e = cleave.binary add %v, %eps : (tensor<16xf32>, tensor<f32>) -> tensor<16xf32>
    %r = cleave.unary rsqrt %e : tensor<16xf32>
    %f = cleave.binary mul %g, %r : (tensor<16xf32>, tensor<16xf32>) -> tensor<16xf32>
    %c = cleave.binary sub %x, %m2 : ...   // %m reshaped to [16, 1, ...]
    %z = cleave.binary add %s, %b2 : ...   // (x - m) * f + b, per channel
    ```
  }];
  let options = [
    Option<"sourceFunction", "source", "std::string", "\"forward\"", "The training-mode forward pass">,
    Option<"resultFunction", "result", "std::string", "\"forward_eval\"", "Function to create">,
  ];
  let dependentDialects = ["::mlir::cleave::CleaveDialect"];
}

def CleaveSplitFusedProjections : Pass<"cleave-split-fused-projections", "ModuleOp"> {
  let summary = "Turn a product whose result is only sliced apart into one product per slice";
  let description = [{
    A fused projection (GPT-2's c_attn: one product with [Wq; Wk; Wv], then
    q, k and v sliced from the last dimension) becomes one product per slice
    with the matching rows of the weight and entries of the bias, so that
    tensor parallelism can split each of q, k and v by heads (a split of the
    fused product's columns would cut across them). The weight stays one
    parameter; each slice of it is a `cleave.slice`. Runs on the forward,
    before autodiff.

    ```mlir
    %m = cleave.matmul %x, %w {transpose_b} : (tensor<8x4xf32>, tensor<6x4xf32>) -> tensor<8x6xf32>
    %q = cleave.slice %m {starts = array<i64: 0, 0>, strides = array<i64: 1, 1>} : tensor<8x6xf32> -> tensor<8x3xf32>
    %k = cleave.slice %m {starts = array<i64: 0, 3>, strides = array<i64: 1, 1>} : tensor<8x6xf32> -> tensor<8x3xf32>
    // becomes
    %wq = cleave.slice %w {starts = array<i64: 0, 0>, strides = array<i64: 1, 1>} : tensor<6x4xf32> -> tensor<3x4xf32>
    %q = cleave.matmul %x, %wq {transpose_b} : (tensor<8x4xf32>, tensor<3x4xf32>) -> tensor<8x3xf32>
    %wk = cleave.slice %w {starts = array<i64: 3, 0>, strides = array<i64: 1, 1>} : tensor<6x4xf32> -> tensor<3x4xf32>
    %k = cleave.matmul %x, %wk {transpose_b} : (tensor<8x4xf32>, tensor<3x4xf32>) -> tensor<8x3xf32>
    ```
  }];
}

def CleaveAttachLoss : Pass<"cleave-attach-loss", "ModuleOp"> {
  let summary = "Build @loss from @forward: the model output compared with a labels input";
  let description = [{
    Clones `@forward` into `@loss`, appends a labels argument
    (`{cleave.input = "<labels>"}`) and returns the scalar loss
    (`{cleave.loss}`) followed by every BatchNorm running statistic the
    step updates (`{cleave.updates = <buffer argument>}`). PyTorch
    semantics: mean reduction; cross-entropy takes the class dimension
    last, so [B, C] logits with [B] labels and [B, T, V] logits with [B, T]
    labels both work. `loss=model` uses a scalar model output as the loss.
    Cross-entropy follows `F.cross_entropy(..., ignore_index, label_smoothing)`:
    the sum over rows whose label is not `ignore-index`, divided by the
    count of those rows (two ops, so that a split batch sums partial
    sums and partial counts).

    ```mlir
    func.func @forward(%w: tensor<4x3xf32> {cleave.param = #cleave.param<"w", trainable>},
                       %x: tensor<2x3xf32> {cleave.input = "x"}) -> (tensor<2x4xf32> {cleave.output = "logits"})
    // cleave-attach-loss{loss=cross_entropy labels=y} adds
    func.func @loss(%w: ..., %x: ..., %y: tensor<2xi64> {cleave.input = "y"}) -> (tensor<f32> {cleave.loss}) {
      ...
      %s = cleave.cross_entropy %logits, %y {ignore_index = -100 : i64, label_smoothing = 0.0 : f64, sum} : (tensor<2x4xf32>, tensor<2xi64>) -> tensor<f32>
      %kept = cleave.compare ne %y, %ignore : (tensor<2xi64>, tensor<i64>) -> tensor<2xi1>
      %count = cleave.reduce sum %keptf {axes = array<i64: 0>} : tensor<2xf32> -> tensor<f32>
      %l = cleave.binary div %s, %count : (tensor<f32>, tensor<f32>) -> tensor<f32>
      return %l : tensor<f32>
    }
    ```
  }];
  // The loss options (loss, labels, output, ignore-index,
  // label-smoothing) are declared with cleavec's flags in
  // passes/TrainOptions.def and added by AttachLoss.cpp.
  let options = [
    Option<"sourceFunction", "source", "std::string", "\"forward\"", "The model function">,
    Option<"resultFunction", "result", "std::string", "\"loss\"", "Function to create">,
  ];
  let dependentDialects = ["::mlir::cleave::CleaveDialect"];
}

def CleaveAutodiff : Pass<"cleave-autodiff", "ModuleOp"> {
  let summary = "Reverse-mode differentiation of the loss with respect to the trainable parameters";
  let description = [{
    Clones the loss function (`source`, default `@loss`) into `result`
    (default `@gradients`), which returns what the loss function returned
    followed by one gradient per trainable parameter the loss depends on
    (`{cleave.grad_of = <argument>}`). Gradient rules are kept per op family
    in `passes/Autodiff/`; only values on a path from a trainable parameter
    to the loss get gradient work, and a value with several users (a tied
    embedding) sums its gradients.

    ```mlir
    func.func @loss(%w: tensor<3x4xf32> {cleave.param = #cleave.param<"w", trainable>},
                    %x: tensor<2x3xf32> {cleave.input = "x"}, %y: tensor<2xi64> {cleave.input = "y"})
        -> (tensor<f32> {cleave.loss})
    // becomes additionally
    func.func @gradients(...) -> (tensor<f32> {cleave.loss}, tensor<3x4xf32> {cleave.grad_of = 0 : i64})
    ```
  }];
  let options = [
    Option<"sourceFunction", "source", "std::string", "\"loss\"", "Function to differentiate">,
    Option<"resultFunction", "result", "std::string", "\"gradients\"", "Function to create">,
    Option<"phaseTags", "phase-tags", "bool", "false",
           "Number the forward ops (cleave.fwd_id) and tag each op the gradient rules add with "
           "the op it differentiates (cleave.bwd_of), for cleave-pipeline-split">,
  ];
  let dependentDialects = ["::mlir::cleave::CleaveDialect"];
}

def CleaveOptimizer : Pass<"cleave-optimizer", "ModuleOp"> {
  let summary = "Build @train_step: gradients, optional clipping, and the optimizer update";
  let description = [{
    Creates `@train_step(params..., opt_state..., inputs..., lr[, bias
    corrections]) -> (updated params, states and buffers..., loss)` from
    `@gradients`. Updates follow torch.optim exactly: AdamW (decoupled
    weight decay, bias correction supplied per step by the host) or SGD
    (weight decay added to the gradient, momentum buffer). Every updated
    tensor carries `{cleave.updates = <argument>}` so that codegen writes it
    in place. With `clip-grad-norm` > 0 the gradients are scaled as
    `torch.nn.utils.clip_grad_norm_` does.

    ```mlir
    func.func @train_step(%w: tensor<3x4xf32> {cleave.param = ...},
                          %m: tensor<3x4xf32> {cleave.opt_state = "w.exp_avg"},
                          %v: tensor<3x4xf32> {cleave.opt_state = "w.exp_avg_sq"},
                          %x: ..., %y: ..., %lr: tensor<f32> {cleave.step_scalar = "lr"}, ...)
        -> (tensor<3x4xf32> {cleave.updates = 0 : i64}, ..., tensor<f32> {cleave.loss})
    ```
  }];
  // The options (optimizer, beta1, beta2, eps, weight-decay, momentum,
  // clip-grad-norm) are declared with cleavec's flags in
  // passes/TrainOptions.def and added by Optimizer.cpp.
  let options = [
    Option<"phaseTags", "phase-tags", "bool", "false",
           "Tag each op of the update with the argument of the parameter it updates "
           "(cleave.update_of; -1 for clipping), for cleave-pipeline-split">,
  ];
  let dependentDialects = ["::mlir::cleave::CleaveDialect", "::mlir::func::FuncDialect"];
}

//===----------------------------------------------------------------------===//
// Sharding
//===----------------------------------------------------------------------===//

def CleaveSeedSharding : Pass<"cleave-seed-sharding", "ModuleOp"> {
  let summary = "Lay a device grid over the train step and shard its arguments";
  let description = [{
    Adds the module's `shard.grid` (axes named by `grid`, e.g. `dp=2,tp=2`)
    and a `cleave.sharding` on every argument and result of `function`:
    batch inputs split their first dimension over `dp`; parameters and
    optimizer state follow `shard` pins (`NAME=SPEC`, SPEC one grid axis,
    `a*b` or `-` per dimension) and the ZeRO level over `dp` (1: optimizer
    state and the update split, the gradient all-reduced whole; 2: the
    gradient reduce-scattered instead; 3: parameters split too); every
    updated tensor keeps its argument's sharding. A level from 1 is
    recorded as the module's `cleave.zero` for `cleave-partition`.
    `cleave-propagate-sharding` then shards the ops in between.

    ```mlir
    func.func @train_step(%w: tensor<8x4xf32> {cleave.param = ...}, %x: tensor<16x4xf32> {cleave.input = "x"}) ...
    // with grid=dp=2 zero=3 becomes
    shard.grid @grid(shape = 2) {cleave.axis_names = ["dp"]}
    func.func @train_step(%w: tensor<8x4xf32> {cleave.param = ..., cleave.sharding = #shard<axisarray[[0], []]>},
                          %x: tensor<16x4xf32> {cleave.input = "x", cleave.sharding = #shard<axisarray[[0], []]>}) ...
    ```
  }];
  let options = [
    Option<"function", "function", "std::string", "\"train_step\"", "The function to shard">,
    Option<"gridSpec", "grid", "std::string", "\"dp=1\"", "Grid axes, e.g. dp=2,tp=2">,
    Option<"zero", "zero", "int", "0", "ZeRO level over the dp axis: 0, 1 (optimizer state), 2 (and gradients) or 3 (and parameters)">,
    Option<"pins", "shard", "std::string", "\"\"",
           "Pinned parameter shardings, NAME=SPEC separated by ';'">,
    Option<"fromSearch", "from-search", "bool", "false",
           "Carry out cleave-search-sharding's fallback: take grid, zero and shard from the module's cleave.shard_fallback; do nothing without it">,
  ];
  let dependentDialects = ["::mlir::shard::ShardDialect"];
}

def CleavePropagateSharding : Pass<"cleave-propagate-sharding", "ModuleOp"> {
  let summary = "Choose how every op of the train step is split, from its arguments' shardings";
  let description = [{
    Writes `cleave.factor_axes` on every op of `function` that has a
    FactorRule. A forward walk splits each factor like the first operand
    dimension that carries it (so a batch split flows through the forward
    and backward passes); a backward walk then gives ops that are still
    unsplit the layout their users want (so a ZeRO optimizer update runs on
    shards and its gradient is reduce-scattered rather than all-reduced).
    A factor that must stay whole, that an axis does not divide, or whose
    axis the op already uses, stays unsplit.

    ```mlir
    // %x split on rows over axis 0:
    %y = cleave.matmul %x, %w : (tensor<16x4xf32>, tensor<4x8xf32>) -> tensor<16x8xf32>
    // gets (factors m, n, k)
    %y = cleave.matmul %x, %w {cleave.factor_axes = #shard<axisarray[[0], [], []]>} : ...
    ```
  }];
  let options = [
    Option<"function", "function", "std::string", "\"train_step\"", "The function to shard">,
    Option<"fromSearch", "from-search", "bool", "false",
           "Run only to complete cleave-search-sharding's fallback (the module's cleave.shard_fallback, removed here)">,
    Option<"sequenceParallel", "sequence-parallel", "bool", "false",
           "Megatron-SP: scatter a partial sum over the tp axis into rows where it enters a norm or an elementwise op (reduce_scatter; all_gather before the next tensor-parallel product) instead of all-reducing it">,
  ];
  let dependentDialects = ["::mlir::shard::ShardDialect"];
}

def CleaveSearchSharding : Pass<"cleave-search-sharding", "ModuleOp"> {
  let summary = "Choose the device grid and every op's sharding by predicted step time (ILP)";
  let description = [{
    Alpa's intra-operator search over the train step: for each grid
    (dp, tp) with dp * tp = `devices` (tp inside a node when there are
    several), one 0-1 program picks a strategy per op group (heavy ops
    lead; elementwise and layout ops follow their largest operand; those
    that read one parameter directly decide together and share its
    resharding) and a
    layout per parameter and batch input, minimising compute time plus
    resharding time from the cost model of the `cluster` profile, with
    parameters, gradients, optimizer state and the activations kept for the
    backward within the devices' memory. Groups of identical structure in
    the same context (the same op of every repeated layer, found by
    Weisfeiler-Lehman labels) share one decision, so the program is about
    one layer's size. CBC solves it within 0.05% (within `time-limit`
    seconds per solve): exactly on a one-axis grid; on two axes from the
    one-axis plan, one axis at a time with the other held, until neither
    gains. The cheapest grid wins; the grids run in parallel. Writes the
    module's `shard.grid`, `cleave.factor_axes` on ops and `cleave.sharding`
    on arguments and results, as `cleave-partition` expects, and the
    prediction as `cleave.predicted_step_seconds` on the function. When no
    plan fits, the plan needing the least memory is written (the report
    says by how much it misses). Where the distinct groups hold more than
    `max-ops` ops or the program would exceed its size limit the pass
    plans nothing and records the fallback on the module instead:
    `cleave.shard_fallback = {grid = "dp=N", shard = "...", zero = 0|3}`,
    data parallelism over all devices, with ZeRO-3 when parameters and
    optimizer state exceed half a device's memory. The pipeline carries it
    out with `cleave-seed-sharding{from-search=true}` and
    `cleave-propagate-sharding{from-search=true}` after the search; both do
    nothing when the search planned. With `zero` (1 to 3) the ZeRO level is
    applied on top of the plan over its dp axis (passes/Sharding/Zero.h):
    optimizer state (and at 3 parameters) not yet split over dp gets it, the
    update's ops follow, and under ZeRO-1 they are marked
    `cleave.reduce_whole`. `--debug-only=cleave-search-sharding`
    (in a build with LLVM debug output) traces grids, trials and descent.

    ```mlir
    func.func @train_step(%w: tensor<64x32xf32> {cleave.param = ...}, %x: tensor<8x32xf32> {cleave.input = "x"}, ...)
    // with devices=4 cluster=cpu becomes (data parallelism wins for a small model)
    shard.grid @grid(shape = 4) {cleave.axis_names = ["dp"]}
    func.func @train_step(%w: ..., %x: tensor<8x32xf32> {cleave.input = "x", cleave.sharding = #shard<axisarray[[0], []]>}, ...)
      %0 = cleave.matmul %x, %w {cleave.factor_axes = #shard<axisarray[[0], [], []]>, transpose_b} ...
    ```
  }];
  let options = [
    Option<"function", "function", "std::string", "\"train_step\"", "The function to shard">,
    Option<"devices", "devices", "int", "1", "Number of devices">,
    Option<"clusterName", "cluster", "std::string", "\"cpu\"", "Cluster profile name or JSON file">,
    Option<"gridSpec", "grid", "std::string", "\"\"", "Search only this grid (\"dp=2,tp=2\"); empty: every (dp, tp) of `devices`">,
    Option<"pins", "pins", "std::string", "\"\"", "Parameter layouts the plan must keep: NAME=SPEC separated by ';' (as cleave-seed-sharding)">,
    Option<"zero", "zero", "int", "0", "ZeRO level applied over the searched plan's dp axis (0 to 3; cleave-seed-sharding's meaning), and the fallback's">,
    Option<"timeLimit", "time-limit", "double", "2.0", "Seconds CBC may spend per solve (the best plan found by then is used)">,
    Option<"maxOps", "max-ops", "int", "2500",
           "Train steps whose distinct groups (repeated layers counted once) hold more ops skip the search for the fallback plan">,
    Option<"precision", "precision", "std::string", "\"fp32\"",
           "fp32, or bf16: price a mixed-precision run (bf16 products, activations, gradients and messages; fp32 master weights and optimizer state)">,
    Option<"sequenceParallel", "sequence-parallel", "std::string", "\"auto\"",
           "Norms' rows split over the tp axis (Megatron-SP): auto (the cost decides; equal times go to fewer activation bytes), on (required wherever a norm's rows divide), off (forbidden)">,
  ];
  let dependentDialects = ["::mlir::shard::ShardDialect"];
}

def CleavePartition : Pass<"cleave-partition", "ModuleOp"> {
  let summary = "Rewrite a sharded function into the per-device program with collectives";
  let description = [{
    Reads the plan (`cleave.factor_axes` on ops, `cleave.sharding` on
    arguments and results) and gives every value its per-device type.
    Where a value's layout differs from what its user needs it inserts
    `shard.all_reduce` / `shard.reduce_scatter` (partial sums),
    `shard.all_gather` (dropped axes) and `shard.all_slice` (added axes,
    no communication). An op marked `cleave.reduce_whole` (ZeRO-1's update)
    gets an operand partial over `dp` all-reduced whole and sliced, not
    reduce-scattered. A mean over a split dimension is rescaled so that
    partial results add up to the global mean. A module without a
    `shard.grid` is left alone.

    ```mlir
    shard.grid @grid(shape = 2)
    func.func @f(%x: tensor<8x4xf32> {cleave.sharding = #shard<axisarray[[0], []]>}, %w: tensor<4x3xf32>)
        -> tensor<4x3xf32> {
      %g = cleave.matmul %x, %x {transpose_a, cleave.factor_axes = #shard<axisarray[[], [], [0]]>} ...
    // becomes
    func.func @f(%x: tensor<4x4xf32> ..., %w: tensor<4x3xf32>) -> tensor<4x3xf32> {
      %g = cleave.matmul %x, %x {transpose_a} : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
      %r = shard.all_reduce %g on @grid grid_axes = [0] : tensor<4x4xf32> -> tensor<4x4xf32>
    ```
  }];
  let options = [
    Option<"function", "function", "std::string", "\"train_step\"",
           "The function to partition (others keep their global types)">,
  ];
  let dependentDialects = ["::mlir::shard::ShardDialect", "::mlir::cleave::CleaveDialect"];
}

def CleaveBucketCollectives : Pass<"cleave-bucket-collectives", "func::FuncOp"> {
  let summary = "Merge gradient all-reduces (and reduce-scatters) into few large messages";
  let description = [{
    Like PyTorch DDP's gradient buckets: consecutive `shard.all_reduce` ops
    of one block with the same grid, grid axes, reduction and element type
    become one all-reduce of the concatenation of their flattened operands,
    up to `bucket-bytes` per message; `cleave.slice` + `cleave.reshape`
    give each original result back. `shard.reduce_scatter` ops (ZeRO's
    gradients) merge the same way: each input as [ranks, per-rank block]
    (transposed first when the scattered dimension is not the outermost),
    joined along the blocks, one reduce-scatter of the leading dimension.

    Buckets are formed in readiness order, like DDP's reverse-parameter
    buckets: the gradient collectives (those whose result no product,
    convolution or collective reads: only the optimizer) first move up to
    right after their operand's definition, ordered by it, so that the
    backward's first gradients (the last layers') fill the first bucket.
    The partitioner leaves them at their optimizer users in parameter
    order, where the first bucket would wait for the backward's last
    gradient and hold every later one behind it. Every rank runs the same
    program, so this compile-time reorder is the same on every rank: every
    rank still issues the same collectives in the same order. Other
    collectives (sums over the pipeline axis `pp` included), calls and ops
    with effects (pipeline transfers) keep their places and are fences:
    no gradient collective moves across them, so the order against other
    stages' transfers is kept.

    The merged op goes right after the last operand's definition (never
    above the previous collective); pure ops that read a member's result
    before that point move down behind it; a bucket that cannot be placed
    so is closed and a new one begins. Each element is summed over the
    same ranks as before (in the same order under the rank reduction
    order), so results are bit-identical. `bucket-bytes=0` turns the pass
    off.

    ```mlir
    %a = shard.all_reduce %ga on @grid grid_axes = [0] : tensor<4x2xf32> -> tensor<4x2xf32>
    %b = shard.all_reduce %gb on @grid grid_axes = [0] : tensor<3xf32> -> tensor<3xf32>
    // becomes
    %fa = cleave.reshape %ga : tensor<4x2xf32> to tensor<8xf32>
    %cat = cleave.concat %fa, %gb {axis = 0 : i64} : (tensor<8xf32>, tensor<3xf32>) -> tensor<11xf32>
    %sum = shard.all_reduce %cat on @grid grid_axes = [0] : tensor<11xf32> -> tensor<11xf32>
    %sa = cleave.slice %sum {starts = array<i64: 0>, strides = array<i64: 1>} : tensor<11xf32> -> tensor<8xf32>
    %a = cleave.reshape %sa : tensor<8xf32> to tensor<4x2xf32>
    %b = cleave.slice %sum {starts = array<i64: 8>, strides = array<i64: 1>} : tensor<11xf32> -> tensor<3xf32>
    ```
  }];
  let options = [
    Option<"bucketBytes", "bucket-bytes", "int64_t", "26214400",
           "Largest merged message in bytes (25 MiB like PyTorch DDP); 0 disables the pass">,
  ];
  let dependentDialects = ["::mlir::shard::ShardDialect", "::mlir::cleave::CleaveDialect"];
}

def CleaveOverlapCollectives : Pass<"cleave-overlap-collectives", "func::FuncOp"> {
  let summary = "Start collectives early and wait for them late, so that they overlap compute";
  let description = [{
    Each `shard.all_reduce`, `shard.reduce_scatter` and `shard.all_gather`
    of a block becomes a `cleave.*_start` and a `cleave.collective_wait`
    when ops would run between them:
      - the start goes right after its input's definition (a gradient
        bucket: after the last gradient it carries), but never above the
        block's previous collective (started or blocking): every rank runs
        the same program, and the runtime completes collectives in start
        order, so the order of starts stays the program's;
      - a collective of a function argument (a ZeRO-3 parameter
        all-gather) starts no earlier than the previous such collective's
        wait: one layer ahead, so that at most two gathered parameters
        are live, in the forward and in the backward;
      - the `cleave.slice` / `cleave.reshape` ops that unpack the result (a
        bucket's pieces) move down to just before their first reader, and
        the wait goes right before the first op that reads the result.
    Collectives over the pipeline axis "pp" stay blocking (the stages'
    transfers are ordered against them). Slots are numbered per function,
    the lowest free one at each start; a slot is free again after its wait.
    Results are bit-identical: the same collectives with the same inputs.

    ```mlir
    %g = cleave.matmul %dy, %x {transpose_a} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<8x8xf32>
    %sum = shard.all_reduce %g on @grid grid_axes = [0] : tensor<8x8xf32> -> tensor<8x8xf32>
    %dx = cleave.matmul %dy, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
    %new = cleave.binary sub %w, %sum : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
    // becomes
    %g = cleave.matmul %dy, %x {transpose_a} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<8x8xf32>
    %buf = cleave.all_reduce_start %g {grid = @grid, grid_axes = array<i16: 0>, reduction = #shard<partial sum>, slot = 0 : i64} : tensor<8x8xf32> -> tensor<8x8xf32>
    %dx = cleave.matmul %dy, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
    %sum = cleave.collective_wait %buf, %g {slot = 0 : i64} : tensor<8x8xf32>, tensor<8x8xf32>
    %new = cleave.binary sub %w, %sum : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
    ```
  }];
  let dependentDialects = ["::mlir::shard::ShardDialect", "::mlir::cleave::CleaveDialect"];
}

def CleaveCopyArgumentSharding : Pass<"cleave-copy-argument-sharding", "ModuleOp"> {
  let summary = "Give a function's arguments the layouts of the train step's, by name";
  let description = [{
    The evaluation function (`function`, default `@eval_loss`) runs on the
    train step's blocks of the parameters and of the batch: every argument
    gets the `cleave.sharding` of the `source` argument that holds the same
    parameter or input; `cleave-propagate-sharding{function=eval_loss}`
    then shards the ops in between. A module without `function` is left
    alone; an argument that is neither a parameter nor an input is an error.

    ```mlir
    func.func @train_step(%w: tensor<8x4xf32> {cleave.param = #cleave.param<"w", trainable>, cleave.sharding = #shard<axisarray[[0], []]>}, ...)
    func.func @eval_loss(%w: tensor<8x4xf32> {cleave.param = #cleave.param<"w", trainable>}, ...)
    // becomes
    func.func @eval_loss(%w: tensor<8x4xf32> {cleave.param = #cleave.param<"w", trainable>, cleave.sharding = #shard<axisarray[[0], []]>}, ...)
    ```
  }];
  let options = [
    Option<"source", "source", "std::string", "\"train_step\"", "The function whose layouts to copy">,
    Option<"function", "function", "std::string", "\"eval_loss\"", "The function to give them">,
  ];
  let dependentDialects = ["::mlir::shard::ShardDialect"];
}

//===----------------------------------------------------------------------===//
// Pipelines
//===----------------------------------------------------------------------===//

def CleavePrintPipelineSchedule : Pass<"cleave-print-pipeline-schedule", "ModuleOp"> {
  let summary = "Print the per-stage order of a pipeline schedule";
  let description = [{
    Builds the schedule `cleave-pipeline-unroll` generates for `stages`
    rank stages, `micro-batches` micro-batches and `virtual-stages` chunks
    per rank (passes/Analysis/Pipeline/Schedule.h), checks it (every
    forward and backward once, on its chunk's stage, no deadlock) and
    prints it to stdout, or to the file `output`: one line per rank stage,
    `F<c>.<m>` the forward of chunk c (which runs on stage c % stages) on
    micro-batch m, `B<c>.<m>` its backward, `W<c>.<m>` the weight-gradient
    part under `zb-h1`. The module is left unchanged and may be empty. Bad
    options (a count below 1, `virtual-stages` above 1 with another
    schedule than `interleaved`, `interleaved` with micro-batches not a
    multiple of the stages) fail with a message saying which.

    ```mlir
    module {}
    // with stages=2 micro-batches=3 schedule=1f1b prints
    // schedule 1f1b stages 2 micro-batches 3 virtual-stages 1
    // stage 0: F0.0 F0.1 B0.0 F0.2 B0.1 B0.2
    // stage 1: F1.0 B1.0 F1.1 B1.1 F1.2 B1.2
    ```
  }];
  let options = [
    Option<"stages", "stages", "int", "1", "Pipeline (rank) stages S">,
    Option<"microBatches", "micro-batches", "int", "1", "Micro-batches per step M">,
    Option<"virtualStages", "virtual-stages", "int", "1",
           "Chunks per rank stage V (above 1 only with the interleaved schedule)">,
    Option<"schedule", "schedule", "std::string", "\"1f1b\"",
           "gpipe, 1f1b, interleaved or zb-h1">,
    Option<"output", "output", "std::string", "\"\"", "File to write; empty: stdout">,
  ];
}

def CleavePipelineUnroll : Pass<"cleave-pipeline-unroll", "ModuleOp"> {
  let summary = "Run the per-device train step as micro-batches, and as one function per "
                "pipeline stage";
  let description = [{
    After the partition: forward and backward ops (`cleave.phase`, else
    the phase tags cleave.fwd_id / cleave.bwd_of) are cloned once per
    micro-batch on rows [m*b, (m+1)*b) of every batch input (`cleave.slice`
    of each `cleave.input` argument, b = its local rows / M; an M that does
    not divide them is an error naming the input). What they hand to the
    update ops (gradients) and the loss are summed in micro-batch order and
    scaled by 1/M: PyTorch's accumulation loop, `(loss_m / M).backward()`
    per micro-batch then one `step()`. Buffers a micro-batch updates
    (results with `cleave.updates` made by forward ops: BatchNorm's running
    statistics) pass from micro-batch m to m+1. Sum collectives whose users
    all run in the update phase move there: the data-parallel all-reduce
    reduces the accumulated gradient once per step. `cleave.random_mask`
    of micro-batch m draws stream `stream * M + m`. M comes from
    `micro-batches`, else the module's `cleave.pipeline`; M = 1 changes
    nothing.

    With `stages` S > 1 in `cleave.pipeline` (ops tagged by
    cleave-pipeline-split) `@train_step` becomes `@train_step_stage<p>`,
    p < S, each with its signature: the ops of the stage's chunks per
    action of its schedule (`buildSchedule`), `cleave.send_start` /
    `cleave.recv_start` where a value crosses stages (tag = transfer * M +
    m, receives posted one action ahead and in the peer's send order,
    waits late), the update of the stage's parameters, another stage's
    tensors returned as they are (a parameter several stages read comes
    from its owner), the loss all-reduced over "pp", the grid's new first
    axis (docs/pipeline.md).

    ```mlir
    func.func @train_step(%w: tensor<4x3xf32> {cleave.param = ...}, %x: tensor<8x4xf32> {cleave.input = "x"})
        -> (tensor<4x3xf32> {cleave.updates = 0 : i64}) {
      %g = cleave.matmul %x, %y {transpose_a, cleave.bwd_of = 0 : i64} ...
      %u = cleave.binary sub %w, %g {cleave.update_of = 0 : i64} ...
    // with micro-batches=2 becomes
      %x0 = cleave.slice %x {starts = array<i64: 0, 0>, ...} : tensor<8x4xf32> -> tensor<4x4xf32>
      %g0 = cleave.matmul %x0, ...
      %x1 = cleave.slice %x {starts = array<i64: 4, 0>, ...} : tensor<8x4xf32> -> tensor<4x4xf32>
      %g1 = cleave.matmul %x1, ...
      %s = cleave.binary add %g0, %g1
      %g = cleave.binary mul %s, %half
      %u = cleave.binary sub %w, %g {cleave.update_of = 0 : i64} ...
    ```
  }];
  let options = [
    Option<"microBatches", "micro-batches", "int", "0",
           "Micro-batches per step (0: the module's cleave.pipeline)">,
    Option<"trainStep", "function", "std::string", "\"train_step\"", "The step to unroll">,
  ];
  let dependentDialects = ["::mlir::shard::ShardDialect", "::mlir::cleave::CleaveDialect"];
}

def CleavePipelineSplit : Pass<"cleave-pipeline-split", "ModuleOp"> {
  let summary = "Cut the train step into pipeline chunks balanced by the cost model";
  let description = [{
    Reads the phase tags of `@train_step` (built with the train pipeline's
    `phase-tags=true`: `cleave.fwd_id`, `cleave.bwd_of`, `cleave.update_of`)
    and cuts its forward into C = `stages` x `virtual-stages` contiguous
    chunks; chunk c runs on rank stage c % stages. Without `cuts` the cuts
    fall on layer boundaries (the positions of the forward where the fewest
    activations cross, one per layer: docs/pipeline.md) chosen by dynamic
    programming to minimise the slowest chunk's forward + backward seconds
    under the cost model of `cluster` (per micro-batch, on one of the
    stage's `dp` x `tp` devices), then the activation bytes crossing the
    cuts. `cuts` pins them instead: C - 1 ONNX node names, each ending a
    chunk, in forward order.

    Every non-constant op gets `cleave.phase` and `cleave.stage` (its
    chunk): forward ops by the cuts, backward ops with the forward op they
    differentiate, update ops with the chunk owning their parameter (the
    first whose forward reads it), untagged ops with their users, else
    their producers. The module gets `cleave.pipeline`: the settings, the
    cuts, per chunk its seconds, parameter and stashed activation bytes,
    per cut the bytes crossing it, per stage its memory (weights, gradients,
    optimizer state, activations in flight under `schedule`) and seconds,
    the predicted step and bubble, and the parameters several chunks read
    (`shared_parameters`, e.g. a tied embedding). With `stages=1` every op
    is chunk 0.

    ```mlir
    %1 = cleave.matmul %x, %w0 {cleave.fwd_id = 0 : i64} ...
    %2 = cleave.unary relu %1 {cleave.fwd_id = 1 : i64} ...
    %3 = cleave.matmul %2, %w1 {cleave.fwd_id = 2 : i64} ...
    %4 = cleave.matmul %g, %w1 {cleave.bwd_of = 2 : i64} ...
    // with stages=2 becomes
    module attributes {cleave.pipeline = {stages = 2 : i64, cuts = ["relu0"], ...}}
    %1 = cleave.matmul %x, %w0 {cleave.fwd_id = 0 : i64, cleave.phase = "forward", cleave.stage = 0 : i64} ...
    %2 = cleave.unary relu %1 {cleave.fwd_id = 1 : i64, cleave.phase = "forward", cleave.stage = 0 : i64} ...
    %3 = cleave.matmul %2, %w1 {cleave.fwd_id = 2 : i64, cleave.phase = "forward", cleave.stage = 1 : i64} ...
    %4 = cleave.matmul %g, %w1 {cleave.bwd_of = 2 : i64, cleave.phase = "backward", cleave.stage = 1 : i64} ...
    ```
  }];
  let options = [
    Option<"function", "function", "std::string", "\"train_step\"", "The function to split">,
    Option<"stages", "stages", "int64_t", "1", "Pipeline stages (the grid's pp)">,
    Option<"virtualStages", "virtual-stages", "int64_t", "1",
           "Chunks per stage (interleaved schedule only)">,
    Option<"microBatches", "micro-batches", "int64_t", "1", "Micro-batches per step">,
    Option<"schedule", "schedule", "std::string", "\"1f1b\"",
           "The schedule the memory and bubble are counted for: gpipe, 1f1b, interleaved">,
    ListOption<"cuts", "cuts", "std::string",
               "ONNX node names that end a chunk (C - 1 of them, in forward order); empty: "
               "balance by the cost model">,
    Option<"clusterName", "cluster", "std::string", "\"cpu\"", "Cluster profile name or JSON file">,
    Option<"dataParallel", "dp", "int64_t", "1", "Data-parallel devices per stage">,
    Option<"tensorParallel", "tp", "int64_t", "1", "Tensor-parallel devices per stage">,
    Option<"print", "print", "bool", "false",
           "Print the chosen split to stdout as cleavec does (printPipelineSplit)">,
    Option<"precision", "precision", "std::string", "\"fp32\"",
           "fp32, or bf16: count a mixed-precision run (bf16 products, activations, transfers and gradients; fp32 master weights and optimizer state; key `precision` in cleave.pipeline)">,
  ];
  let dependentDialects = ["::mlir::cleave::CleaveDialect"];
}

def CleaveSearchConfiguration : Pass<"cleave-search-configuration", "ModuleOp"> {
  let summary = "Choose stages, sub-grid, micro-batches, schedule, recomputation and ZeRO by "
                "the cost model";
  let description = [{
    The 3-D search (docs/planner.md) over a phase-tagged `@train_step`
    (the train pipeline with `phase-tags=true`) on `devices` devices of
    `cluster`: pipeline stages S (divisors of the devices, at most the
    layers), the stage's dp x tp sub-grid (tp inside a node, dp dividing
    the batch), micro-batches (divisors of the per-dp batch, at least S
    with a pipeline, at most 256), the schedule (1f1b, interleaved with two
    virtual stages where the layers allow), recomputation and the ZeRO
    level. Each configuration is priced without being built: the split's
    chunks (cleave-pipeline-split's balance and counting), the sharding
    search's plan of each distinct sub-grid shape (run once per shape), the
    schedule's simulation, the dp synchronisation per ZeRO level and the
    memory per stage. The fastest configuration that fits wins; one with
    more machinery must gain 0.1% over a simpler one; when none fits, the
    one needing the least memory. Every option given restricts the search
    (`grid` may name some axes only: "pp=2"). Changes no op: writes the
    module attribute `cleave.configuration` (pp, dp, tp, micro_batches,
    schedule, virtual_stages, recompute, zero, sequence_parallel,
    precision, predicted_step_seconds, memory_bytes, fits,
    configurations_priced, search_seconds, spec); `print` also prints the
    chosen configuration and the best alternatives.

    ```mlir
    func.func @train_step(...) // phase-tagged, a 4-layer MLP, batch 32
    // with devices=4 becomes
    module attributes {cleave.configuration = {dp = 4 : i64, micro_batches = 1 : i64,
        pp = 1 : i64, spec = "dp=4", tp = 1 : i64, zero = 0 : i64, ...}}
    ```
  }];
  let options = [
    Option<"devices", "devices", "int64_t", "1", "Devices to plan for">,
    Option<"clusterName", "cluster", "std::string", "\"cpu\"", "Cluster profile name or JSON file">,
    Option<"grid", "grid", "std::string", "\"\"",
           "Pinned grid axes among pp, dp and tp, whole or partial (\"pp=2\", \"dp=2,tp=2\")">,
    Option<"zero", "zero", "int", "-1", "Pinned ZeRO level 0..3 (-1: searched)">,
    Option<"microBatches", "micro-batches", "int64_t", "0", "Pinned micro-batches (0: searched)">,
    Option<"schedule", "schedule", "std::string", "\"\"",
           "Pinned schedule: gpipe, 1f1b or interleaved (empty: searched)">,
    Option<"virtualStages", "virtual-stages", "int64_t", "0",
           "Pinned chunks per stage (0: searched)">,
    Option<"recompute", "recompute", "std::string", "\"\"",
           "Pinned recomputation: none, selective or full (empty: searched)">,
    ListOption<"cuts", "cuts", "std::string",
               "Pinned pipeline cuts (ONNX node names ending each chunk but the last)">,
    Option<"pins", "pins", "std::string", "\"\"", "Parameter pins NAME=SPEC;NAME=SPEC">,
    Option<"precision", "precision", "std::string", "\"fp32\"", "fp32 or bf16 (never searched)">,
    Option<"print", "print", "bool", "false",
           "Print the chosen configuration and the best alternatives to stdout">,
  ];
  let dependentDialects = ["::mlir::cleave::CleaveDialect"];
}

#endif // CLEAVE_PASSES_TD
