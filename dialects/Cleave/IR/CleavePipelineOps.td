//===- CleavePipelineOps.td - point-to-point transfers between stages -----===//
//
// cleave-pipeline-unroll writes these into each pipeline stage's program:
// an activation (forward) or its gradient (backward) that one stage
// produces and another uses. A transfer is started early and waited for
// late, so that it overlaps compute: the value a send reads, and the buffer
// a receive fills, stay alive (and untouched) until the matching wait.
// `axis` is the grid axis the stages lie on ("pp"); `peer` is the other
// stage's coordinate on it (the other coordinates are this rank's); `tag`
// matches a send with its receive; `slot` numbers the pending request
// within the step (runtime: collective::send_start / recv_start / wait).
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_DIALECT_CLEAVEPIPELINEOPS_TD
#define CLEAVE_DIALECT_CLEAVEPIPELINEOPS_TD

// Not Pure: a transfer is an effect another rank observes, and it must stay
// where the schedule put it.
class Cleave_TransferOp<string mnemonic, list<Trait> traits = []>
    : Op<Cleave_Dialect, mnemonic,
         !listconcat(traits, [DeclareOpInterfaceMethods<Cleave_CostOpInterface, ["getFlops"]>])>;

def Cleave_SendStartOp : Cleave_TransferOp<"send_start", [MemoryEffects<[MemRead, MemWrite]>]> {
  let summary = "start sending a tensor to another pipeline stage";
  let description = [{
    ```mlir
    cleave.send_start %act {axis = "pp", peer = 1 : i64, tag = 7 : i64, slot = 0 : i64} : tensor<4x64xf32>
    ```
  }];
  let arguments = (ins Cleave_StaticTensor:$input, StrAttr:$axis, I64Attr:$peer, I64Attr:$tag,
                       I64Attr:$slot);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def Cleave_SendWaitOp : Cleave_TransferOp<"send_wait", [MemoryEffects<[MemRead, MemWrite]>]> {
  let summary = "wait until a started send no longer reads its tensor";
  let description = [{
    Reads `input` (the tensor the matching `send_start` sends) so that
    its storage lives until here.

    ```mlir
    cleave.send_wait %act {slot = 0 : i64} : tensor<4x64xf32>
    ```
  }];
  let arguments = (ins Cleave_StaticTensor:$input, I64Attr:$slot);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def Cleave_RecvStartOp : Cleave_TransferOp<"recv_start", [MemoryEffects<[MemRead, MemWrite]>]> {
  let summary = "start receiving a tensor from another pipeline stage";
  let description = [{
    The result is the buffer being filled: only `recv_wait` may read it.

    ```mlir
    %buffer = cleave.recv_start {axis = "pp", peer = 0 : i64, tag = 7 : i64, slot = 1 : i64} : tensor<4x64xf32>
    ```
  }];
  let arguments = (ins StrAttr:$axis, I64Attr:$peer, I64Attr:$tag, I64Attr:$slot);
  let results = (outs Cleave_StaticTensor:$result);
  let assemblyFormat = "attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Cleave_RecvWaitOp : Cleave_TransferOp<"recv_wait", [MemoryEffects<[MemRead, MemWrite]>,
                                                          AllTypesMatch<["buffer", "result"]>]> {
  let summary = "wait for a started receive; the result is the received tensor";
  let description = [{
    The result is the operand's storage (a view), complete.

    ```mlir
    %act = cleave.recv_wait %buffer {slot = 1 : i64} : tensor<4x64xf32>
    ```
  }];
  let arguments = (ins Cleave_StaticTensor:$buffer, I64Attr:$slot);
  let results = (outs Cleave_StaticTensor:$result);
  let assemblyFormat = "$buffer attr-dict `:` type($result)";
  let hasVerifier = 1;
}

#endif // CLEAVE_DIALECT_CLEAVEPIPELINEOPS_TD
