// Bad inputs and options of cleave-pipeline-split fail with one message each
// that names the thing and what to do.
// RUN: rm -rf %t && split-file %s %t
// RUN: cleave-opt %t/tagged.mlir --split-input-file --verify-diagnostics -o /dev/null --cleave-pipeline-split="stages=2 cuts=a"
// RUN: not cleave-opt %t/mlp.mlir -o /dev/null --mlir-print-op-on-diagnostic=false --cleave-train-pipeline="loss=cross_entropy labels=y optimizer=sgd phase-tags=true" --cleave-pipeline-split="stages=4" 2>&1 | FileCheck %s --check-prefix=LAYERS
// RUN: not cleave-opt %t/mlp.mlir -o /dev/null --mlir-print-op-on-diagnostic=false --cleave-train-pipeline="loss=cross_entropy labels=y optimizer=sgd phase-tags=true" --cleave-pipeline-split="stages=2 cuts=relu0,relu1" 2>&1 | FileCheck %s --check-prefix=COUNT
// RUN: not cleave-opt %t/mlp.mlir -o /dev/null --mlir-print-op-on-diagnostic=false --cleave-train-pipeline="loss=cross_entropy labels=y optimizer=sgd phase-tags=true" --cleave-pipeline-split="stages=2 cuts=relu" 2>&1 | FileCheck %s --check-prefix=NAME
// RUN: not cleave-opt %t/mlp.mlir -o /dev/null --mlir-print-op-on-diagnostic=false --cleave-train-pipeline="loss=cross_entropy labels=y optimizer=sgd phase-tags=true" --cleave-pipeline-split="stages=3 cuts=relu1,relu0" 2>&1 | FileCheck %s --check-prefix=ORDER
// RUN: not cleave-opt %t/mlp.mlir -o /dev/null --mlir-print-op-on-diagnostic=false --cleave-train-pipeline="loss=cross_entropy labels=y optimizer=sgd phase-tags=true" --cleave-pipeline-split="stages=2 virtual-stages=2" 2>&1 | FileCheck %s --check-prefix=VIRTUAL
// RUN: not cleave-opt %t/mlp.mlir -o /dev/null --mlir-print-op-on-diagnostic=false --cleave-train-pipeline="loss=cross_entropy labels=y optimizer=sgd phase-tags=true" --cleave-pipeline-split="stages=2 schedule=pipedream" 2>&1 | FileCheck %s --check-prefix=SCHEDULE
// RUN: not cleave-opt %t/mlp.mlir -o /dev/null --mlir-print-op-on-diagnostic=false --cleave-train-pipeline="loss=cross_entropy labels=y optimizer=sgd phase-tags=true" --cleave-pipeline-split="stages=2 virtual-stages=2 schedule=interleaved micro-batches=3" 2>&1 | FileCheck %s --check-prefix=INTERLEAVED
// RUN: not cleave-opt %t/mlp.mlir -o /dev/null --mlir-print-op-on-diagnostic=false --cleave-train-pipeline="loss=cross_entropy labels=y optimizer=sgd phase-tags=true" --cleave-pipeline-split="stages=0" 2>&1 | FileCheck %s --check-prefix=STAGES
// RUN: not cleave-opt %t/mlp.mlir -o /dev/null --mlir-print-op-on-diagnostic=false --cleave-train-pipeline="loss=cross_entropy labels=y optimizer=sgd" --cleave-pipeline-split="stages=2" 2>&1 | FileCheck %s --check-prefix=UNTAGGED

// The MLP has 3 layers (fc0 relu0 | fc1 relu1 | fc2 and the loss).
// LAYERS: error: 'func.func' op cannot be cut into 4 pipeline chunks (4 stages x 1 virtual stages): the model has 3 layers; at most 3 chunks (docs/pipeline.md, "The split")
// COUNT: error: 'func.func' op needs 1 pipeline cut for 2 chunks (2 stages x 1 virtual stages), got 2
// NAME: error: 'func.func' op has no forward op of ONNX node 'relu' to cut the pipeline after; near names: 'relu0', 'relu1', 'fc0', 'fc1'
// ORDER: error: 'func.func' op pipeline cut 'relu0' ends at or before the previous cut 'relu1': give the cuts in forward order, one per chunk boundary
// VIRTUAL: error: cleave-pipeline-split: 2 virtual stages need the interleaved schedule, not 1f1b: use --schedule interleaved or --virtual-stages 1
// SCHEDULE: error: cleave-pipeline-split: unknown pipeline schedule 'pipedream': use gpipe, 1f1b, interleaved or zb-h1
// INTERLEAVED: error: cleave-pipeline-split: the interleaved schedule needs micro-batches to be a multiple of the pipeline stages (as Megatron-LM does): 3 micro-batches on 2 stages; use 2 or 4 micro-batches
// STAGES: error: cleave-pipeline-split: stages (0), virtual-stages (1), micro-batches (1), dp and tp must be at least 1
// UNTAGGED: error: 'func.func' op has no op tagged cleave.fwd_id: cleave-pipeline-split needs the train step built with phase tags (--cleave-train-pipeline="... phase-tags=true")

//--- mlp.mlir
module {
  func.func @forward(%w0: tensor<64x32xf32> {cleave.param = #cleave.param<"0.weight", trainable>}, %b0: tensor<64xf32> {cleave.param = #cleave.param<"0.bias", trainable>}, %w1: tensor<64x64xf32> {cleave.param = #cleave.param<"2.weight", trainable>}, %b1: tensor<64xf32> {cleave.param = #cleave.param<"2.bias", trainable>}, %w2: tensor<10x64xf32> {cleave.param = #cleave.param<"4.weight", trainable>}, %b2: tensor<10xf32> {cleave.param = #cleave.param<"4.bias", trainable>}, %x: tensor<8x32xf32> {cleave.input = "x"}) -> (tensor<8x10xf32> {cleave.output = "logits"}) {
    %0 = cleave.matmul %x, %w0 {transpose_b} : (tensor<8x32xf32>, tensor<64x32xf32>) -> tensor<8x64xf32> loc("fc0")
    %1 = cleave.binary add %0, %b0 : (tensor<8x64xf32>, tensor<64xf32>) -> tensor<8x64xf32> loc("fc0")
    %2 = cleave.unary relu %1 : tensor<8x64xf32> loc("relu0")
    %3 = cleave.matmul %2, %w1 {transpose_b} : (tensor<8x64xf32>, tensor<64x64xf32>) -> tensor<8x64xf32> loc("fc1")
    %4 = cleave.binary add %3, %b1 : (tensor<8x64xf32>, tensor<64xf32>) -> tensor<8x64xf32> loc("fc1")
    %5 = cleave.unary relu %4 : tensor<8x64xf32> loc("relu1")
    %6 = cleave.matmul %5, %w2 {transpose_b} : (tensor<8x64xf32>, tensor<10x64xf32>) -> tensor<8x10xf32> loc("fc2")
    %7 = cleave.binary add %6, %b2 : (tensor<8x10xf32>, tensor<10xf32>) -> tensor<8x10xf32> loc("fc2")
    return %7 : tensor<8x10xf32>
  }
}

//--- tagged.mlir
// A cut that does not separate the graph: the backward of the second op
// (chunk 1) reads a gradient the backward of the first (chunk 0) makes,
// which the schedule runs after it. (Hand-tagged: autodiff's backward
// never flows so, but a pass rewriting the train step might.)
func.func @train_step(%x: tensor<4xf32> {cleave.input = "x"}) -> (tensor<4xf32> {cleave.loss}) {
  %a = cleave.unary exp %x {cleave.fwd_id = 0 : i64} : tensor<4xf32> loc("a")
  %b = cleave.unary exp %a {cleave.fwd_id = 1 : i64} : tensor<4xf32> loc("b")
  %ga = cleave.unary neg %a {cleave.bwd_of = 0 : i64} : tensor<4xf32>
  // expected-error @+1 {{the pipeline cuts do not separate the graph: this backward op 'cleave.binary' of chunk 1 reads the result of 'cleave.unary' of chunk 0, which the schedule runs after it; choose cuts that no value crosses forwards in the backward pass}}
  %gb = cleave.binary mul %ga, %b {cleave.bwd_of = 1 : i64} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %gb : tensor<4xf32>
}

// -----

// A cut after the last forward op would leave the last chunk empty.
// expected-error @+1 {{cannot cut the pipeline after ONNX node 'a': it ends the forward, so the last chunk would be empty}}
func.func @train_step(%x: tensor<4xf32> {cleave.input = "x"}) -> (tensor<4xf32> {cleave.loss}) {
  %b = cleave.unary exp %x {cleave.fwd_id = 0 : i64} : tensor<4xf32> loc("b")
  %a = cleave.unary exp %b {cleave.fwd_id = 1 : i64} : tensor<4xf32> loc("a")
  return %a : tensor<4xf32>
}

// -----

// IR printed without locations has no node names to pin.
// expected-error @+1 {{has no forward op of ONNX node 'a' to cut the pipeline after; its ops carry no ONNX node names (the IR was printed without locations)}}
func.func @train_step(%x: tensor<4xf32> {cleave.input = "x"}) -> (tensor<4xf32> {cleave.loss}) {
  %a = cleave.unary exp %x {cleave.fwd_id = 0 : i64} : tensor<4xf32>
  %b = cleave.unary exp %a {cleave.fwd_id = 1 : i64} : tensor<4xf32>
  return %b : tensor<4xf32>
}

// -----

// No train step.
// expected-error @+1 {{cleave-pipeline-split: no @train_step to split; run --cleave-train-pipeline="... phase-tags=true" first}}
module {
  func.func @forward(%x: tensor<4xf32>) -> tensor<4xf32> {
    return %x : tensor<4xf32>
  }
}
