//===- CleaveOps.td - the cleave op set -----------------------------------===//
//
// A compact core: every model the importer accepts is expressed with these
// ops. Ops are pure functions of ranked, statically shaped tensors; their
// verifiers check shapes so that later passes can trust them.
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_DIALECT_CLEAVEOPS_TD
#define CLEAVE_DIALECT_CLEAVEOPS_TD

include "dialects/Cleave/IR/CleaveBase.td"
include "dialects/Cleave/Interfaces/CostInterface.td"
include "dialects/Cleave/Interfaces/HeavyOpTrait.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"

// `costMethods` lists the CostOpInterface methods an op defines itself
// instead of taking the defaults (one FLOP per result element; every
// operand and result read or written once).
class Cleave_Op<string mnemonic, list<Trait> traits = [], list<string> costMethods = []>
    : Op<Cleave_Dialect, mnemonic,
         !listconcat(traits, [Pure, DeclareOpInterfaceMethods<Cleave_CostOpInterface, costMethods>])>;

defvar Cleave_MovesDataOnly = ["getFlops"];


def Cleave_StaticTensor : Type<And<[AnyRankedTensor.predicate,
                                     HasStaticShapePred]>,
                               "statically shaped tensor", "::mlir::RankedTensorType">;
def Cleave_FloatTensor : Type<And<[Cleave_StaticTensor.predicate,
                                   CPred<"::llvm::isa<::mlir::FloatType>(::llvm::cast<::mlir::ShapedType>($_self).getElementType())">]>,
                              "statically shaped float tensor", "::mlir::RankedTensorType">;
def Cleave_IndexTensor : Type<And<[Cleave_StaticTensor.predicate,
                                   CPred<"::llvm::cast<::mlir::ShapedType>($_self).getElementType().isSignlessInteger(32) || "
                                         "::llvm::cast<::mlir::ShapedType>($_self).getElementType().isSignlessInteger(64)">]>,
                              "statically shaped i32 or i64 tensor", "::mlir::RankedTensorType">;
def Cleave_BoolTensor : Type<And<[Cleave_StaticTensor.predicate,
                                  CPred<"::llvm::cast<::mlir::ShapedType>($_self).getElementType().isSignlessInteger(1)">]>,
                             "statically shaped i1 tensor", "::mlir::RankedTensorType">;

//===----------------------------------------------------------------------===//
// Leaves
//===----------------------------------------------------------------------===//

def Cleave_ConstantOp : Cleave_Op<"constant", [ConstantLike, AllTypesMatch<["value", "result"]>], ["getFlops", "getBytesAccessed"]> {
  let summary = "a small constant tensor (never a model parameter)";
  let description = [{
    Holds constants the model itself computes with: scales, masks, shape
    tensors, fill values. Parameters are function arguments instead.

    ```mlir
    %c = cleave.constant dense<0.125> : tensor<f32>
    ```
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs Cleave_StaticTensor:$result);
  let assemblyFormat = "$value attr-dict";
  let hasFolder = 1;
}

def Cleave_IotaOp : Cleave_Op<"iota", [], Cleave_MovesDataOnly> {
  let summary = "the sequence start, start + step, ... along a 1-D tensor";
  let description = [{
    ONNX `Range` on static bounds. Kept as an op rather than folded into a
    constant because causal masks built from it grow with the sequence.

    ```mlir
    %pos = cleave.iota {start = 0 : i64, step = 1 : i64} : tensor<1024xi64>
    ```
  }];
  let arguments = (ins I64Attr:$start, I64Attr:$step);
  let results = (outs Cleave_StaticTensor:$result);
  let assemblyFormat = "attr-dict `:` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

// In the formats below, "``$kind" drops the space the op printer would put
// before the enum: the enum attribute prints its own, and both together gave
// `cleave.unary  erf`.

def Cleave_UnaryOp : Cleave_Op<"unary", [SameOperandsAndResultType]> {
  let summary = "elementwise unary function";
  let description = [{
    ```mlir
    %y = cleave.unary erf %x : tensor<2x16x128xf32>
    ```
  }];
  let arguments = (ins Cleave_UnaryKindAttr:$kind, Cleave_StaticTensor:$input);
  let results = (outs Cleave_StaticTensor:$result);
  let assemblyFormat = "``$kind $input attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Cleave_BinaryOp : Cleave_Op<"binary"> {
  let summary = "elementwise binary function with NumPy broadcasting";
  let description = [{
    Operands and result share an element type; the result shape is the
    NumPy broadcast of the operand shapes.

    ```mlir
    %y = cleave.binary add %x, %b : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
    ```
  }];
  let arguments = (ins Cleave_BinaryKindAttr:$kind, Cleave_StaticTensor:$lhs,
                       Cleave_StaticTensor:$rhs);
  let results = (outs Cleave_StaticTensor:$result);
  let assemblyFormat = "``$kind $lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Cleave_CompareOp : Cleave_Op<"compare"> {
  let summary = "elementwise comparison with NumPy broadcasting, giving i1";
  let description = [{
    ```mlir
    %m = cleave.compare gt %col, %row : (tensor<1x16xi64>, tensor<16x1xi64>) -> tensor<16x16xi1>
    ```
  }];
  let arguments = (ins Cleave_CompareKindAttr:$kind, Cleave_StaticTensor:$lhs,
                       Cleave_StaticTensor:$rhs);
  let results = (outs Cleave_BoolTensor:$result);
  let assemblyFormat = "``$kind $lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Cleave_SelectOp : Cleave_Op<"select"> {
  let summary = "elementwise choice between two tensors (ONNX Where)";
  let description = [{
    `result = condition ? on_true : on_false`, all three broadcast together.

    ```mlir
    %s = cleave.select %mask, %ninf, %scores : (tensor<16x16xi1>, tensor<f32>, tensor<2x2x16x16xf32>) -> tensor<2x2x16x16xf32>
    ```
  }];
  let arguments = (ins Cleave_BoolTensor:$condition, Cleave_StaticTensor:$on_true,
                       Cleave_StaticTensor:$on_false);
  let results = (outs Cleave_StaticTensor:$result);
  let assemblyFormat = "$condition `,` $on_true `,` $on_false attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Cleave_CastOp : Cleave_Op<"cast", [], Cleave_MovesDataOnly> {
  let summary = "elementwise conversion to another element type";
  let description = [{
    Float to integer truncates toward zero; anything to i1 is `!= 0`.

    ```mlir
    %h = cleave.cast %x : tensor<4xf32> to tensor<4xbf16>
    ```
  }];
  let arguments = (ins Cleave_StaticTensor:$input);
  let results = (outs Cleave_StaticTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `to` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Cleave_DropoutOp : Cleave_Op<"dropout", [SameOperandsAndResultType]> {
  let summary = "zeroes each element with probability `ratio`, scales the rest by 1/(1-ratio)";
  let description = [{
    Training-mode dropout. Inference-mode dropout and `ratio = 0` import as
    nothing at all.

    ```mlir
    %y = cleave.dropout %x {ratio = 1.000000e-01 : f64} : tensor<2x16x32xf32>
    ```
  }];
  let arguments = (ins Cleave_FloatTensor:$input, F64Attr:$ratio);
  let results = (outs Cleave_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Contractions and normalisations
//===----------------------------------------------------------------------===//

def Cleave_MatmulOp : Cleave_Op<"matmul", [Cleave_HeavyOp], ["getFlops"]> {
  let summary = "batched matrix product with optional operand transposes";
  let description = [{
    Operands have rank >= 2; their leading (batch) dimensions broadcast like
    NumPy. With `transpose_a` the last two dimensions of `lhs` are read as
    [K, M], with `transpose_b` those of `rhs` as [N, K].

    ```mlir
    %y = cleave.matmul %x, %w {transpose_b} : (tensor<8x32xf32>, tensor<64x32xf32>) -> tensor<8x64xf32>
    ```
  }];
  let arguments = (ins Cleave_FloatTensor:$lhs, Cleave_FloatTensor:$rhs,
                       UnitAttr:$transpose_a, UnitAttr:$transpose_b);
  let results = (outs Cleave_FloatTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  // Absorbs a transpose of an operand's last two dimensions into its flag.
  let hasCanonicalizer = 1;
  let extraClassDeclaration = [{
    /// Size of the contracted dimension.
    int64_t getContractionSize();
  }];
}

def Cleave_ReduceOp : Cleave_Op<"reduce", [Cleave_HeavyOp], ["getFlops"]> {
  let summary = "reduces a tensor along a set of dimensions";
  let description = [{
    `axes` are sorted, non-negative and unique. Without `keep_dims` the
    reduced dimensions disappear from the result; with it they stay as 1.

    ```mlir
    %m = cleave.reduce mean %x {axes = array<i64: 2>, keep_dims} : tensor<2x16x32xf32> -> tensor<2x16x1xf32>
    ```
  }];
  let arguments = (ins Cleave_ReduceKindAttr:$kind, Cleave_StaticTensor:$input,
                       DenseI64ArrayAttr:$axes, UnitAttr:$keep_dims);
  let results = (outs Cleave_StaticTensor:$result);
  let assemblyFormat = "``$kind $input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Cleave_SoftmaxOp : Cleave_Op<"softmax", [SameOperandsAndResultType, Cleave_HeavyOp], ["getFlops"]> {
  let summary = "softmax (or log-softmax) along one axis";
  let description = [{
    ```mlir
    %p = cleave.softmax %scores {axis = 3 : i64} : tensor<2x2x16x16xf32>
    %lp = cleave.softmax %logits {axis = 1 : i64, log} : tensor<8x10xf32>
    ```
  }];
  let arguments = (ins Cleave_FloatTensor:$input, I64Attr:$axis, UnitAttr:$log);
  let results = (outs Cleave_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Cleave_LayerNormOp : Cleave_Op<"layer_norm", [Cleave_HeavyOp], ["getFlops"]> {
  let summary = "normalises over the trailing dimensions from `axis` on, then scales and shifts";
  let description = [{
    `y = (x - mean) / sqrt(var + epsilon) * scale + bias`, with mean and
    (population) variance over dimensions `axis..rank-1`. `scale` and `bias`
    have exactly those trailing dimensions; `bias` may be absent.

    ```mlir
    %y = cleave.layer_norm %x, %g, %b {axis = 2 : i64, epsilon = 1.0e-05 : f64}
        : (tensor<2x16x32xf32>, tensor<32xf32>, tensor<32xf32>) -> tensor<2x16x32xf32>
    ```
  }];
  let arguments = (ins Cleave_FloatTensor:$input, Cleave_FloatTensor:$scale,
                       Optional<Cleave_FloatTensor>:$bias, I64Attr:$axis, F64Attr:$epsilon);
  let results = (outs Cleave_FloatTensor:$result);
  let assemblyFormat = "$input `,` $scale (`,` $bias^)? attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Cleave_BatchNormOp : Cleave_Op<"batch_norm", [Cleave_HeavyOp], ["getFlops"]> {
  let summary = "training-mode batch normalisation over N and the spatial dimensions";
  let description = [{
    Normalises `input` [N, C, ...] with the batch's own per-channel mean and
    population variance, then scales and shifts per channel. It also returns
    the running statistics updated as PyTorch does in train mode:
    `running' = (1 - momentum) * running + momentum * batch_statistic`, with
    the unbiased batch variance for `running_var`. (`momentum` here is
    PyTorch's; ONNX's is 1 - momentum.)

    ```mlir
    %y, %rm, %rv = cleave.batch_norm %x, %g, %b, %m, %v {epsilon = 1.0e-05 : f64, momentum = 1.0e-01 : f64}
        : (tensor<8x16x32x32xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>)
        -> (tensor<8x16x32x32xf32>, tensor<16xf32>, tensor<16xf32>)
    ```
  }];
  let arguments = (ins Cleave_FloatTensor:$input, Cleave_FloatTensor:$scale,
                       Cleave_FloatTensor:$bias, Cleave_FloatTensor:$running_mean,
                       Cleave_FloatTensor:$running_var, F64Attr:$epsilon, F64Attr:$momentum);
  let results = (outs Cleave_FloatTensor:$result, Cleave_FloatTensor:$new_running_mean,
                      Cleave_FloatTensor:$new_running_var);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

def Cleave_GatherOp : Cleave_Op<"gather", [Cleave_HeavyOp], Cleave_MovesDataOnly> {
  let summary = "picks slices of `input` along `axis` by index (embedding lookup)";
  let description = [{
    ONNX Gather: result shape = input.shape[:axis] + indices.shape +
    input.shape[axis+1:]. Indices must lie in [0, input.shape[axis]);
    negative indices were normalised by the importer where known.

    ```mlir
    %e = cleave.gather %wte[%idx] {axis = 0 : i64} : (tensor<64x32xf32>, tensor<2x16xi64>) -> tensor<2x16x32xf32>
    ```
  }];
  let arguments = (ins Cleave_StaticTensor:$input, Cleave_IndexTensor:$indices, I64Attr:$axis);
  let results = (outs Cleave_StaticTensor:$result);
  let assemblyFormat = "$input `[` $indices `]` attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Cleave_ReshapeOp : Cleave_Op<"reshape", [], ["getFlops", "getBytesAccessed"]> {
  let summary = "same elements, row-major, in another static shape";
  let description = [{
    ```mlir
    %y = cleave.reshape %x : tensor<2x16x32xf32> to tensor<2x16x2x16xf32>
    ```
  }];
  let arguments = (ins Cleave_StaticTensor:$input);
  let results = (outs Cleave_StaticTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `to` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Cleave_BroadcastOp : Cleave_Op<"broadcast", [], Cleave_MovesDataOnly> {
  let summary = "NumPy broadcast to a larger shape (ONNX Expand)";
  let description = [{
    ```mlir
    %y = cleave.broadcast %x : tensor<1x32xf32> to tensor<16x32xf32>
    ```
  }];
  let arguments = (ins Cleave_StaticTensor:$input);
  let results = (outs Cleave_StaticTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `to` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Cleave_TransposeOp : Cleave_Op<"transpose", [], Cleave_MovesDataOnly> {
  let summary = "permutes dimensions: result dim i is input dim permutation[i]";
  let description = [{
    ```mlir
    %y = cleave.transpose %x [0, 2, 1, 3] : tensor<2x16x2x16xf32> -> tensor<2x2x16x16xf32>
    ```
  }];
  let arguments = (ins Cleave_StaticTensor:$input, DenseI64ArrayAttr:$permutation);
  let results = (outs Cleave_StaticTensor:$result);
  let assemblyFormat = "$input $permutation attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  // The folder removes an identity permutation; the canonicalizer composes a
  // transpose of a transpose into one.
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def Cleave_SliceOp : Cleave_Op<"slice", [], Cleave_MovesDataOnly> {
  let summary = "a strided window: dim i takes elements starts[i] + k * strides[i]";
  let description = [{
    The result type gives how many elements each dimension takes; strides
    are positive.

    ```mlir
    %q = cleave.slice %qkv {starts = array<i64: 0, 0, 0>, strides = array<i64: 1, 1, 1>}
        : tensor<2x16x96xf32> -> tensor<2x16x32xf32>
    ```
  }];
  let arguments = (ins Cleave_StaticTensor:$input, DenseI64ArrayAttr:$starts,
                       DenseI64ArrayAttr:$strides);
  let results = (outs Cleave_StaticTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Cleave_ConcatOp : Cleave_Op<"concat", [], Cleave_MovesDataOnly> {
  let summary = "joins tensors along one axis";
  let description = [{
    ```mlir
    %y = cleave.concat %a, %b {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x5xf32>) -> tensor<2x8xf32>
    ```
  }];
  let arguments = (ins Variadic<Cleave_StaticTensor>:$inputs, I64Attr:$axis);
  let results = (outs Cleave_StaticTensor:$result);
  let assemblyFormat = "$inputs attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Convolutional networks
//===----------------------------------------------------------------------===//

def Cleave_Conv2dOp : Cleave_Op<"conv2d", [Cleave_HeavyOp], ["getFlops"]> {
  let summary = "2-D convolution, NCHW input and [F, C/groups, KH, KW] filter";
  let description = [{
    `padding` is [top, left, bottom, right], like ONNX `pads`.

    ```mlir
    %y = cleave.conv2d %x, %w, %b {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>,
                                    dilations = array<i64: 1, 1>, groups = 1 : i64}
        : (tensor<8x3x32x32xf32>, tensor<16x3x3x3xf32>, tensor<16xf32>) -> tensor<8x16x32x32xf32>
    ```
  }];
  let arguments = (ins Cleave_FloatTensor:$input, Cleave_FloatTensor:$filter,
                       Optional<Cleave_FloatTensor>:$bias, DenseI64ArrayAttr:$strides,
                       DenseI64ArrayAttr:$padding, DenseI64ArrayAttr:$dilations, I64Attr:$groups);
  let results = (outs Cleave_FloatTensor:$result);
  let assemblyFormat = "$input `,` $filter (`,` $bias^)? attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Cleave_Pool2dOp : Cleave_Op<"pool2d", [Cleave_HeavyOp], ["getFlops"]> {
  let summary = "2-D max or average pooling over NCHW windows";
  let description = [{
    `padding` is [top, left, bottom, right]. Average pooling divides by the
    window size, counting padded elements only with `count_include_pad`.
    With `ceil_mode` a partial last window still yields an output.

    ```mlir
    %y = cleave.pool2d max %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>,
                               padding = array<i64: 0, 0, 0, 0>} : tensor<8x16x32x32xf32> -> tensor<8x16x16x16xf32>
    ```
  }];
  let arguments = (ins Cleave_PoolKindAttr:$kind, Cleave_FloatTensor:$input,
                       DenseI64ArrayAttr:$kernel, DenseI64ArrayAttr:$strides,
                       DenseI64ArrayAttr:$padding, UnitAttr:$count_include_pad,
                       UnitAttr:$ceil_mode);
  let results = (outs Cleave_FloatTensor:$result);
  let assemblyFormat = "``$kind $input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

include "dialects/Cleave/IR/CleaveTrainingOps.td"
include "dialects/Cleave/IR/CleavePipelineOps.td"
include "dialects/Cleave/IR/CleaveCollectiveOps.td"

#endif // CLEAVE_DIALECT_CLEAVEOPS_TD
