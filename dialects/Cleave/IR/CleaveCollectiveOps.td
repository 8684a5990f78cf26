//===- CleaveCollectiveOps.td - collectives that overlap compute ----------===//
//
// cleave-overlap-collectives rewrites a shard.all_reduce, reduce_scatter or
// all_gather whose result is needed later than its input exists into a
// start (the same attributes as the shard op, plus `slot`) and a
// cleave.collective_wait right before the first use, so that the
// collective runs while the ops between them compute. The started buffer
// is only the wait's to read; the wait also takes the start's input, so
// that the memory plan keeps it alive and unchanged until the collective
// is done. `slot` numbers the pending collective within the step
// (runtime: collective::*_start and wait_collective); collective slots are
// numbered apart from the pipeline transfers' slots.
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_DIALECT_CLEAVECOLLECTIVEOPS_TD
#define CLEAVE_DIALECT_CLEAVECOLLECTIVEOPS_TD

// The shard dialect's reduction kind (#shard<partial sum>), taken as is so
// that a start carries exactly what the shard op it replaces did.
def Cleave_ShardReductionAttr
    : Attr<CPred<"::llvm::isa<::mlir::shard::ReductionKindAttr>($_self)">,
           "shard reduction kind"> {
  let storageType = "::mlir::shard::ReductionKindAttr";
  let returnType = "::mlir::shard::ReductionKind";
  let convertFromStorage = "$_self.getValue()";
  let constBuilderCall = "::mlir::shard::ReductionKindAttr::get($_builder.getContext(), $0)";
}

// Not Pure: a collective is an effect the other ranks observe, and it must
// stay where the schedule put it (every rank starts its collectives in the
// same order).
class Cleave_CollectiveStartOp<string mnemonic, dag extra>
    : Op<Cleave_Dialect, mnemonic,
         [MemoryEffects<[MemRead, MemWrite]>,
          DeclareOpInterfaceMethods<Cleave_CostOpInterface, ["getFlops", "getBytesAccessed"]>]> {
  let arguments = !con((ins Cleave_StaticTensor:$input, FlatSymbolRefAttr:$grid,
                            DenseI16ArrayAttr:$grid_axes), extra, (ins I64Attr:$slot));
  let results = (outs Cleave_StaticTensor:$result);
  let hasVerifier = 1;
}

def Cleave_AllReduceStartOp : Cleave_CollectiveStartOp<"all_reduce_start",
    (ins Cleave_ShardReductionAttr:$reduction)> {
  let summary = "start a shard.all_reduce; its cleave.collective_wait gives the result";
  let description = [{
    ```mlir
    %buf = cleave.all_reduce_start %grad {grid = @grid, grid_axes = array<i16: 0>,
        reduction = #shard<partial sum>, slot = 0 : i64} : tensor<12xf32> -> tensor<12xf32>
    ```
  }];
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

def Cleave_ReduceScatterStartOp : Cleave_CollectiveStartOp<"reduce_scatter_start",
    (ins Cleave_ShardReductionAttr:$reduction, IndexAttr:$scatter_axis)> {
  let summary = "start a shard.reduce_scatter; its cleave.collective_wait gives the result";
  let description = [{
    ```mlir
    %buf = cleave.reduce_scatter_start %grad {grid = @grid, grid_axes = array<i16: 0>,
        reduction = #shard<partial sum>, scatter_axis = 0 : index, slot = 0 : i64}
        : tensor<2x6xf32> -> tensor<1x6xf32>
    ```
  }];
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

def Cleave_AllGatherStartOp : Cleave_CollectiveStartOp<"all_gather_start",
    (ins IndexAttr:$gather_axis)> {
  let summary = "start a shard.all_gather; its cleave.collective_wait gives the result";
  let description = [{
    ```mlir
    %buf = cleave.all_gather_start %w {grid = @grid, grid_axes = array<i16: 0>,
        gather_axis = 0 : index, slot = 1 : i64} : tensor<32x64xf32> -> tensor<64x64xf32>
    ```
  }];
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

def Cleave_CollectiveWaitOp : Op<Cleave_Dialect, "collective_wait",
    [MemoryEffects<[MemRead, MemWrite]>, AllTypesMatch<["buffer", "result"]>,
     DeclareOpInterfaceMethods<Cleave_CostOpInterface, ["getFlops", "getBytesAccessed"]>]> {
  let summary = "wait for a started collective; the result is its buffer, complete";
  let description = [{
    `buffer` is the result of an all_reduce_start, reduce_scatter_start or
    all_gather_start and `input` that start's input: reading it here keeps
    its storage alive and untouched until the collective is done. The
    result is `buffer`'s storage (a view).

    ```mlir
    %sum = cleave.collective_wait %buf, %grad {slot = 0 : i64} : tensor<12xf32>, tensor<12xf32>
    ```
  }];
  let arguments = (ins Cleave_StaticTensor:$buffer, Cleave_StaticTensor:$input, I64Attr:$slot);
  let results = (outs Cleave_StaticTensor:$result);
  let assemblyFormat = "$buffer `,` $input attr-dict `:` type($buffer) `,` type($input)";
  let hasVerifier = 1;
}

#endif // CLEAVE_DIALECT_CLEAVECOLLECTIVEOPS_TD
