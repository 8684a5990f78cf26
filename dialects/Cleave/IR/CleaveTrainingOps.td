//===- CleaveTrainingOps.td - ops that training adds ----------------------===//
//
// The importer never emits these: the loss, autodiff and optimizer passes
// do. Gradients of the heavier ops are ops of their own so that each backend
// runs them as one kernel instead of a chain of elementwise passes.
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_DIALECT_CLEAVETRAININGOPS_TD
#define CLEAVE_DIALECT_CLEAVETRAININGOPS_TD

//===----------------------------------------------------------------------===//
// Losses and randomness
//===----------------------------------------------------------------------===//

def Cleave_CrossEntropyOp : Cleave_Op<"cross_entropy", [Cleave_HeavyOp], ["getFlops"]> {
  let summary = "softmax cross-entropy of [N, C] logits against [N] class labels";
  let description = [{
    PyTorch's `F.cross_entropy(logits, labels, ignore_index=..., label_smoothing=...)`.
    Each row whose label is not `ignore_index` contributes
    `logsumexp(x) - (1 - s) * x[label] - s * mean(x)` (`s` =
    `label_smoothing`); rows labelled `ignore_index` contribute nothing.
    Reduction: the mean over the rows not ignored (over all rows without
    `ignore_index`), or with `sum` the plain sum. `cleave-attach-loss`
    builds the sum and divides it by the count of rows not ignored as
    separate ops, so that a batch split over devices adds partial sums and
    partial counts.

    ```mlir
    %loss = cleave.cross_entropy %logits, %labels : (tensor<32x64xf32>, tensor<32xi64>) -> tensor<f32>
    %sum = cleave.cross_entropy %logits, %labels {ignore_index = -100 : i64, label_smoothing = 1.0e-01 : f64, sum}
        : (tensor<32x64xf32>, tensor<32xi64>) -> tensor<f32>
    ```
  }];
  let arguments = (ins Cleave_FloatTensor:$logits, Cleave_IndexTensor:$labels,
                       OptionalAttr<I64Attr>:$ignore_index,
                       DefaultValuedAttr<F64Attr, "0.0">:$label_smoothing, UnitAttr:$sum);
  let results = (outs Cleave_FloatTensor:$result);
  let assemblyFormat = "$logits `,` $labels attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Cleave_CrossEntropyGradOp : Cleave_Op<"cross_entropy_grad", [Cleave_HeavyOp], ["getFlops"]> {
  let summary = "gradient of cleave.cross_entropy with respect to the logits";
  let description = [{
    `(softmax(logits) - (1 - s) * onehot(labels) - s / C) * result_grad / N`
    on rows not ignored, zero on rows labelled `ignore_index`; N is the
    forward's divisor (1 with `sum`). Attributes are the forward's.

    ```mlir
    %g = cleave.cross_entropy_grad %logits, %labels, %dloss
        : (tensor<32x64xf32>, tensor<32xi64>, tensor<f32>) -> tensor<32x64xf32>
    ```
  }];
  let arguments = (ins Cleave_FloatTensor:$logits, Cleave_IndexTensor:$labels,
                       Cleave_FloatTensor:$result_grad, OptionalAttr<I64Attr>:$ignore_index,
                       DefaultValuedAttr<F64Attr, "0.0">:$label_smoothing, UnitAttr:$sum);
  let results = (outs Cleave_FloatTensor:$result);
  let assemblyFormat = "$logits `,` $labels `,` $result_grad attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Cleave_RandomMaskOp : Cleave_Op<"random_mask"> {
  let summary = "a per-step Bernoulli mask: 1/keep with probability keep, else 0";
  let description = [{
    Dropout is lowered to `input * random_mask` so that its gradient reuses
    the same mask. Element i depends only on the run's seed, the step number
    and (`stream`, i) through a counter-based generator (Philox), so every
    backend and every device produces the same mask.

    ```mlir
    %m = cleave.random_mask {keep_probability = 9.000000e-01 : f64, stream = 3 : i64} : tensor<2x16x32xf32>
    ```
  }];
  let arguments = (ins F64Attr:$keep_probability, I64Attr:$stream);
  let results = (outs Cleave_FloatTensor:$result);
  let assemblyFormat = "attr-dict `:` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Gradients of the fused ops
//===----------------------------------------------------------------------===//

def Cleave_SoftmaxGradOp : Cleave_Op<"softmax_grad", [Cleave_HeavyOp], ["getFlops"]> {
  let summary = "input gradient of cleave.softmax from its result and result gradient";
  let description = [{
    softmax: `y * (dy - sum(dy * y, axis))`; with `log`: `dy - exp(y) * sum(dy, axis)`.

    ```mlir
    %dx = cleave.softmax_grad %y, %dy {axis = 3 : i64} : (tensor<2x2x16x16xf32>, tensor<2x2x16x16xf32>) -> tensor<2x2x16x16xf32>
    ```
  }];
  let arguments = (ins Cleave_FloatTensor:$result, Cleave_FloatTensor:$result_grad, I64Attr:$axis,
                       UnitAttr:$log);
  let results = (outs Cleave_FloatTensor:$input_grad);
  let assemblyFormat = "$result `,` $result_grad attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Cleave_LayerNormGradOp : Cleave_Op<"layer_norm_grad", [Cleave_HeavyOp], ["getFlops"]> {
  let summary = "gradients of cleave.layer_norm with respect to input, scale and bias";
  let description = [{
    Recomputes the mean and reciprocal standard deviation from `input`.

    ```mlir
    %dx, %dg, %db = cleave.layer_norm_grad %x, %g, %dy {axis = 2 : i64, epsilon = 1.0e-05 : f64}
        : (tensor<2x16x32xf32>, tensor<32xf32>, tensor<2x16x32xf32>)
        -> (tensor<2x16x32xf32>, tensor<32xf32>, tensor<32xf32>)
    ```
  }];
  let arguments = (ins Cleave_FloatTensor:$input, Cleave_FloatTensor:$scale,
                       Cleave_FloatTensor:$result_grad, I64Attr:$axis, F64Attr:$epsilon);
  let results = (outs Cleave_FloatTensor:$input_grad, Cleave_FloatTensor:$scale_grad,
                      Cleave_FloatTensor:$bias_grad);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Cleave_BatchNormGradOp : Cleave_Op<"batch_norm_grad", [Cleave_HeavyOp], ["getFlops"]> {
  let summary = "training-mode gradients of cleave.batch_norm (input, scale, bias)";
  let description = [{
    ```mlir
    %dx, %dg, %db = cleave.batch_norm_grad %x, %g, %dy {epsilon = 1.0e-05 : f64}
        : (tensor<8x16x4x4xf32>, tensor<16xf32>, tensor<8x16x4x4xf32>)
        -> (tensor<8x16x4x4xf32>, tensor<16xf32>, tensor<16xf32>)
    ```
  }];
  let arguments = (ins Cleave_FloatTensor:$input, Cleave_FloatTensor:$scale,
                       Cleave_FloatTensor:$result_grad, F64Attr:$epsilon);
  let results = (outs Cleave_FloatTensor:$input_grad, Cleave_FloatTensor:$scale_grad,
                      Cleave_FloatTensor:$bias_grad);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Cleave_ScatterAddOp : Cleave_Op<"scatter_add", [Cleave_HeavyOp], Cleave_MovesDataOnly> {
  let summary = "gradient of cleave.gather: sums `updates` into zeros at `indices` along `axis`";
  let description = [{
    The result has the gathered tensor's shape; rows that several indices
    pick accumulate (tied or repeated embeddings).

    ```mlir
    %dw = cleave.scatter_add %dy[%idx] {axis = 0 : i64} : (tensor<2x16x32xf32>, tensor<2x16xi64>) -> tensor<64x32xf32>
    ```
  }];
  let arguments = (ins Cleave_FloatTensor:$updates, Cleave_IndexTensor:$indices, I64Attr:$axis);
  let results = (outs Cleave_FloatTensor:$result);
  let assemblyFormat = "$updates `[` $indices `]` attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Cleave_SliceScatterOp : Cleave_Op<"slice_scatter", [], Cleave_MovesDataOnly> {
  let summary = "gradient of cleave.slice: zeros of the larger shape with `source` at the window";
  let description = [{
    ```mlir
    %dqkv = cleave.slice_scatter %dq {starts = array<i64: 0, 0, 32>, strides = array<i64: 1, 1, 1>}
        : tensor<2x16x32xf32> -> tensor<2x16x96xf32>
    ```
  }];
  let arguments = (ins Cleave_StaticTensor:$source, DenseI64ArrayAttr:$starts,
                       DenseI64ArrayAttr:$strides);
  let results = (outs Cleave_StaticTensor:$result);
  let assemblyFormat = "$source attr-dict `:` type($source) `->` type($result)";
  let hasVerifier = 1;
}

def Cleave_Conv2dGradInputOp : Cleave_Op<"conv2d_grad_input", [Cleave_HeavyOp], ["getFlops"]> {
  let summary = "gradient of cleave.conv2d with respect to its input";
  let description = [{
    Attributes are those of the forward convolution; the result type is
    the forward input's type.

    ```mlir
    %dx = cleave.conv2d_grad_input %dy, %w {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>,
                                           dilations = array<i64: 1, 1>, groups = 1 : i64}
        : (tensor<8x16x32x32xf32>, tensor<16x3x3x3xf32>) -> tensor<8x3x32x32xf32>
    ```
  }];
  let arguments = (ins Cleave_FloatTensor:$result_grad, Cleave_FloatTensor:$filter,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$padding,
                       DenseI64ArrayAttr:$dilations, I64Attr:$groups);
  let results = (outs Cleave_FloatTensor:$input_grad);
  let assemblyFormat = "$result_grad `,` $filter attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Cleave_Conv2dGradFilterOp : Cleave_Op<"conv2d_grad_filter", [Cleave_HeavyOp], ["getFlops"]> {
  let summary = "gradient of cleave.conv2d with respect to its filter";
  let description = [{
    ```mlir
    %dw = cleave.conv2d_grad_filter %x, %dy {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>,
                                            dilations = array<i64: 1, 1>, groups = 1 : i64}
        : (tensor<8x3x32x32xf32>, tensor<8x16x32x32xf32>) -> tensor<16x3x3x3xf32>
    ```
  }];
  let arguments = (ins Cleave_FloatTensor:$input, Cleave_FloatTensor:$result_grad,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$padding,
                       DenseI64ArrayAttr:$dilations, I64Attr:$groups);
  let results = (outs Cleave_FloatTensor:$filter_grad);
  let assemblyFormat = "$input `,` $result_grad attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Cleave_Pool2dGradOp : Cleave_Op<"pool2d_grad", [Cleave_HeavyOp], ["getFlops"]> {
  let summary = "gradient of cleave.pool2d with respect to its input";
  let description = [{
    Max pooling routes each window's gradient to the window's first
    maximum (as PyTorch does); average pooling spreads it evenly over the
    elements the forward divided by.

    ```mlir
    %dx = cleave.pool2d_grad max %x, %dy {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>,
                                         padding = array<i64: 0, 0, 0, 0>}
        : (tensor<8x16x32x32xf32>, tensor<8x16x16x16xf32>) -> tensor<8x16x32x32xf32>
    ```
  }];
  let arguments = (ins Cleave_PoolKindAttr:$kind, Cleave_FloatTensor:$input,
                       Cleave_FloatTensor:$result_grad, DenseI64ArrayAttr:$kernel,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$padding,
                       UnitAttr:$count_include_pad, UnitAttr:$ceil_mode);
  let results = (outs Cleave_FloatTensor:$input_grad);
  let assemblyFormat = "$kind $input `,` $result_grad attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

#endif // CLEAVE_DIALECT_CLEAVETRAININGOPS_TD
