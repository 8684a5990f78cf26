// Options of cleave-search-configuration that cannot hold fail with one
// message each that names the option and what it accepts.
// RUN: not cleave-opt %s -o /dev/null --mlir-print-op-on-diagnostic=false --cleave-train-pipeline="loss=cross_entropy labels=y optimizer=adamw phase-tags=true" --cleave-search-configuration="devices=4 grid=xp=2" 2>&1 | FileCheck %s --check-prefix=AXIS
// RUN: not cleave-opt %s -o /dev/null --mlir-print-op-on-diagnostic=false --cleave-train-pipeline="loss=cross_entropy labels=y optimizer=adamw phase-tags=true" --cleave-search-configuration="devices=4 zero=5" 2>&1 | FileCheck %s --check-prefix=ZERO
// RUN: not cleave-opt %s -o /dev/null --mlir-print-op-on-diagnostic=false --cleave-train-pipeline="loss=cross_entropy labels=y optimizer=adamw phase-tags=true" --cleave-search-configuration="devices=4 grid=pp=3" 2>&1 | FileCheck %s --check-prefix=DIVIDE
// RUN: not cleave-opt %s -o /dev/null --mlir-print-op-on-diagnostic=false --cleave-train-pipeline="loss=cross_entropy labels=y optimizer=adamw phase-tags=true" --cleave-search-configuration="devices=4 micro-batches=3" 2>&1 | FileCheck %s --check-prefix=MICRO
// RUN: not cleave-opt %s -o /dev/null --mlir-print-op-on-diagnostic=false --cleave-train-pipeline="loss=cross_entropy labels=y optimizer=adamw phase-tags=true" --cleave-search-configuration="devices=4 recompute=some" 2>&1 | FileCheck %s --check-prefix=RECOMPUTE
// RUN: not cleave-opt %s -o /dev/null --mlir-print-op-on-diagnostic=false --cleave-train-pipeline="loss=cross_entropy labels=y optimizer=adamw phase-tags=true" --cleave-search-configuration="devices=4 schedule=pipedream" 2>&1 | FileCheck %s --check-prefix=SCHEDULE
// RUN: not cleave-opt %s -o /dev/null --mlir-print-op-on-diagnostic=false --cleave-train-pipeline="loss=cross_entropy labels=y optimizer=adamw phase-tags=true" --cleave-search-configuration="devices=4 grid=pp=2 virtual-stages=2 schedule=1f1b" 2>&1 | FileCheck %s --check-prefix=VIRTUAL
// RUN: not cleave-opt %s -o /dev/null --mlir-print-op-on-diagnostic=false --cleave-train-pipeline="loss=cross_entropy labels=y optimizer=adamw phase-tags=true" --cleave-search-configuration="devices=4 grid=pp=4" 2>&1 | FileCheck %s --check-prefix=LAYERS
// RUN: not cleave-opt %s -o /dev/null --mlir-print-op-on-diagnostic=false --cleave-train-pipeline="loss=cross_entropy labels=y optimizer=adamw" --cleave-search-configuration="devices=4" 2>&1 | FileCheck %s --check-prefix=UNTAGGED

// AXIS: error: cleave-search-configuration: grid axis 'xp=2': give pp, dp or tp with a positive size (e.g. pp=2)
// ZERO: error: ZeRO level 5: use 0, 1, 2 or 3
// DIVIDE: error: the pinned grid (pp=3, dp=1, tp=1) does not divide the 4 devices: give sizes whose product is 4 (or divides it, leaving the rest to the search)
// MICRO: error: micro-batches 3 do not divide the batch of 8
// RECOMPUTE: error: cleave-search-configuration: recompute 'some': use none, selective or full
// SCHEDULE: error: cleave-search-configuration: schedule 'pipedream': use gpipe, 1f1b or interleaved
// VIRTUAL: error: virtual-stages 2 needs the interleaved schedule, not 1f1b
// The MLP has 3 layers: four stages cannot be cut.
// LAYERS: error: --grid pp=4: cannot be cut into 4 pipeline chunks: the model has 3 layers; at most 3 stages
// UNTAGGED: error: 'func.func' op has no op tagged cleave.fwd_id: cleave-pipeline-split needs the train step built with phase tags


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

