//===- CleaveBase.td - the cleave dialect, its enums and attributes -------===//
//
// The `cleave` dialect is the compiler's core op set: a compact, static-shape
// tensor IR that the ONNX importer targets and that autodiff, the sharding
// search and codegen consume. Parameters are never carried as dense
// attributes: a function argument names the ONNX initializer it stands for
// (see ParamAttr), and the generated binary loads the values at start.
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_DIALECT_CLEAVEBASE_TD
#define CLEAVE_DIALECT_CLEAVEBASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def Cleave_Dialect : Dialect {
  let name = "cleave";
  let cppNamespace = "::mlir::cleave";
  let summary = "Static-shape tensor ops for training and partitioning deep-learning models";
  let description = [{
    Ops work on ranked tensors with static shapes. Elementwise ops broadcast
    like NumPy. A model becomes one `func.func` whose arguments are either
    parameters (`{cleave.param = #cleave.param<"name", trainable>}`) or data
    inputs (`{cleave.input = "name"}`), and whose results carry
    `{cleave.output = "name"}`.

    ```mlir
    func.func @forward(%w: tensor<4x3xf32> {cleave.param = #cleave.param<"fc.weight", trainable>},
                       %x: tensor<2x3xf32> {cleave.input = "x"})
        -> (tensor<2x4xf32> {cleave.output = "y"}) {
      %y = cleave.matmul %x, %w {transpose_b} : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x4xf32>
      return %y : tensor<2x4xf32>
    }
    ```
  }];
  let useDefaultAttributePrinterParser = 1;
  let hasRegionArgAttrVerify = 1;
  let hasRegionResultAttrVerify = 1;
  let hasOperationAttrVerify = 1;
  // Folders that produce an attribute (a reshaped or broadcast constant)
  // become cleave.constant ops through materializeConstant.
  let hasConstantMaterializer = 1;
  let extraClassDeclaration = [{
    /// Argument attribute: this argument is a model parameter (ParamAttr).
    static constexpr ::llvm::StringLiteral kParamAttrName = "cleave.param";
    /// Argument attribute: this argument is a data input of that name.
    static constexpr ::llvm::StringLiteral kInputAttrName = "cleave.input";
    /// Result attribute: this result is the model output of that name.
    static constexpr ::llvm::StringLiteral kOutputAttrName = "cleave.output";
    /// Module attribute: path of the model file the parameters come from.
    static constexpr ::llvm::StringLiteral kSourceAttrName = "cleave.source";
    /// Module attribute: the ONNX default-domain opset the model was imported at.
    static constexpr ::llvm::StringLiteral kOpsetAttrName = "cleave.opset";
    /// Train step roles, written by the training passes:
    /// argument: optimizer state tensor "<param>.<slot>" (string);
    static constexpr ::llvm::StringLiteral kOptStateAttrName = "cleave.opt_state";
    /// argument: a per-step scalar the host computes ("lr", ...) (string);
    static constexpr ::llvm::StringLiteral kStepScalarAttrName = "cleave.step_scalar";
    /// result: the loss (unit);
    static constexpr ::llvm::StringLiteral kLossAttrName = "cleave.loss";
    /// result: the new value of that argument (i64 argument index);
    static constexpr ::llvm::StringLiteral kUpdatesAttrName = "cleave.updates";
    /// result: the gradient of that argument (i64 argument index).
    static constexpr ::llvm::StringLiteral kGradOfAttrName = "cleave.grad_of";
    /// Cost annotations written by -cleave-annotate-costs.
    static constexpr ::llvm::StringLiteral kFlopsAttrName = "cleave.flops";
    static constexpr ::llvm::StringLiteral kBytesAttrName = "cleave.bytes";
    static constexpr ::llvm::StringLiteral kTotalFlopsAttrName = "cleave.total_flops";
    static constexpr ::llvm::StringLiteral kTotalBytesAttrName = "cleave.total_bytes";
    /// Sharding plans (read and written through
    /// passes/Analysis/Sharding/ShardingAttrs.h): per op, the grid axes of
    /// each factor; per argument or result, the axes of each dimension; on
    /// the shard.grid, the names of its axes.
    static constexpr ::llvm::StringLiteral kFactorAxesAttrName = "cleave.factor_axes";
    static constexpr ::llvm::StringLiteral kShardingAttrName = "cleave.sharding";
    static constexpr ::llvm::StringLiteral kAxisNamesAttrName = "cleave.axis_names";
    /// On a function: the step time (seconds) the sharding search predicted.
    static constexpr ::llvm::StringLiteral kPredictedStepSecondsAttrName = "cleave.predicted_step_seconds";
    /// On the module: the sharding search's fallback, left to seeding and
    /// propagation (a dictionary: grid, zero, shard; cleave-search-sharding).
    static constexpr ::llvm::StringLiteral kShardFallbackAttrName = "cleave.shard_fallback";
    /// On an op (unit; ZeRO-1's update): an operand partial over the `dp`
    /// axis that the op wants split over it is all-reduced whole and then
    /// sliced, not reduce-scattered (cleave-partition).
    static constexpr ::llvm::StringLiteral kReduceWholeAttrName = "cleave.reduce_whole";
    /// Pipelines and micro-batches (docs/pipeline.md). Written when the
    /// train pipeline runs with phase-tags: on each op of the forward, its
    /// position (i64); on each op autodiff adds, the cleave.fwd_id of the
    /// forward op it differentiates (i64); on each op the optimizer adds,
    /// the train_step argument index of the parameter it updates (i64, -1
    /// for what spans all parameters: gradient clipping).
    static constexpr ::llvm::StringLiteral kForwardIdAttrName = "cleave.fwd_id";
    static constexpr ::llvm::StringLiteral kBackwardOfAttrName = "cleave.bwd_of";
    static constexpr ::llvm::StringLiteral kUpdateOfAttrName = "cleave.update_of";
    /// Written by cleave-pipeline-split: per op, its pipeline chunk (i64,
    /// virtual stage; rank stage = chunk % stages) and its phase
    /// ("forward", "backward", "update"); on the module, the pipeline
    /// (a dictionary, docs/pipeline.md).
    static constexpr ::llvm::StringLiteral kStageAttrName = "cleave.stage";
    static constexpr ::llvm::StringLiteral kPhaseAttrName = "cleave.phase";
    static constexpr ::llvm::StringLiteral kPipelineAttrName = "cleave.pipeline";
  }];
}

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def Cleave_UnaryKind : I32EnumAttr<"UnaryKind", "elementwise unary function", [
    I32EnumAttrCase<"neg", 0>, I32EnumAttrCase<"abs", 1>,
    I32EnumAttrCase<"exp", 2>, I32EnumAttrCase<"log", 3>,
    I32EnumAttrCase<"sqrt", 4>, I32EnumAttrCase<"rsqrt", 5>,
    I32EnumAttrCase<"reciprocal", 6>, I32EnumAttrCase<"tanh", 7>,
    I32EnumAttrCase<"erf", 8>, I32EnumAttrCase<"relu", 9>,
    I32EnumAttrCase<"sigmoid", 10>, I32EnumAttrCase<"sin", 11>,
    I32EnumAttrCase<"cos", 12>, I32EnumAttrCase<"floor", 13>,
    I32EnumAttrCase<"ceil", 14>, I32EnumAttrCase<"sign", 15>,
    I32EnumAttrCase<"logical_not", 16>, I32EnumAttrCase<"identity", 17>,
    I32EnumAttrCase<"softplus", 18>, I32EnumAttrCase<"round", 19>]> {
  let cppNamespace = "::mlir::cleave";
  let genSpecializedAttr = 0;
}
def Cleave_UnaryKindAttr : EnumAttr<Cleave_Dialect, Cleave_UnaryKind, "unary_kind"> {
  let assemblyFormat = "$value";
}

def Cleave_BinaryKind : I32EnumAttr<"BinaryKind", "elementwise binary function", [
    I32EnumAttrCase<"add", 0>, I32EnumAttrCase<"sub", 1>,
    I32EnumAttrCase<"mul", 2>, I32EnumAttrCase<"div", 3>,
    I32EnumAttrCase<"pow", 4>, I32EnumAttrCase<"max", 5>,
    I32EnumAttrCase<"min", 6>, I32EnumAttrCase<"logical_and", 7>,
    I32EnumAttrCase<"logical_or", 8>, I32EnumAttrCase<"logical_xor", 9>]> {
  let cppNamespace = "::mlir::cleave";
  let genSpecializedAttr = 0;
}
def Cleave_BinaryKindAttr : EnumAttr<Cleave_Dialect, Cleave_BinaryKind, "binary_kind"> {
  let assemblyFormat = "$value";
}

def Cleave_CompareKind : I32EnumAttr<"CompareKind", "elementwise comparison", [
    I32EnumAttrCase<"eq", 0>, I32EnumAttrCase<"ne", 1>,
    I32EnumAttrCase<"lt", 2>, I32EnumAttrCase<"le", 3>,
    I32EnumAttrCase<"gt", 4>, I32EnumAttrCase<"ge", 5>]> {
  let cppNamespace = "::mlir::cleave";
  let genSpecializedAttr = 0;
}
def Cleave_CompareKindAttr : EnumAttr<Cleave_Dialect, Cleave_CompareKind, "compare_kind"> {
  let assemblyFormat = "$value";
}

def Cleave_ReduceKind : I32EnumAttr<"ReduceKind", "reduction", [
    I32EnumAttrCase<"sum", 0>, I32EnumAttrCase<"mean", 1>,
    I32EnumAttrCase<"max", 2>, I32EnumAttrCase<"min", 3>,
    I32EnumAttrCase<"prod", 4>]> {
  let cppNamespace = "::mlir::cleave";
  let genSpecializedAttr = 0;
}
def Cleave_ReduceKindAttr : EnumAttr<Cleave_Dialect, Cleave_ReduceKind, "reduce_kind"> {
  let assemblyFormat = "$value";
}

def Cleave_PoolKind : I32EnumAttr<"PoolKind", "pooling window function", [
    I32EnumAttrCase<"max", 0>, I32EnumAttrCase<"avg", 1>]> {
  let cppNamespace = "::mlir::cleave";
  let genSpecializedAttr = 0;
}
def Cleave_PoolKindAttr : EnumAttr<Cleave_Dialect, Cleave_PoolKind, "pool_kind"> {
  let assemblyFormat = "$value";
}

def Cleave_ParamKind : I32EnumAttr<"ParamKind", "how training treats a parameter", [
    // Updated by the optimizer from its gradient.
    I32EnumAttrCase<"trainable", 0>,
    // State updated by the forward pass itself (BatchNorm running statistics).
    I32EnumAttrCase<"buffer", 1>]> {
  let cppNamespace = "::mlir::cleave";
}

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

class Cleave_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Cleave_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

def Cleave_ParamAttr : Cleave_Attr<"Param", "param"> {
  let summary = "names a model parameter whose values live outside the IR";
  let description = [{
    Marks a function argument as the model parameter `name` (the ONNX
    initializer of that name). The values stay in the model file (or its
    external-data files); only the name, type and role travel in the IR, so
    a 39B-parameter model imports and plans without reading its weights.

    ```mlir
    #cleave.param<"transformer.wte.weight", trainable>
    #cleave.param<"bn1.running_mean", buffer>
    ```
  }];
  let parameters = (ins "::mlir::StringAttr":$name, "::mlir::cleave::ParamKind":$kind);
  let assemblyFormat = "`<` $name `,` $kind `>`";
}

#endif // CLEAVE_DIALECT_CLEAVEBASE_TD
