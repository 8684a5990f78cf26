// cleave-search-configuration on a phase-tagged train step: a 3-layer MLP
// (fc0 relu0 | fc1 relu1 | fc2, batch 8). On a roomy profile the plan the
// sharding search alone makes wins (one stage, one micro-batch); pins
// restrict the space (a partial grid, everything pinned: one configuration
// priced; pinned cuts fix the chunks). The search writes
// cleave.configuration on the module and changes no op.
// RUN: cleave-opt %s --split-input-file --cleave-train-pipeline="loss=cross_entropy labels=y optimizer=adamw phase-tags=true" --cleave-search-configuration="devices=4 cluster=h100-sxm-8x1" | FileCheck %s --check-prefix=PLAIN
// RUN: cleave-opt %s --split-input-file --cleave-train-pipeline="loss=cross_entropy labels=y optimizer=adamw phase-tags=true" --cleave-search-configuration="devices=4 cluster=h100-sxm-8x1 grid=pp=2" | FileCheck %s --check-prefix=STAGES
// RUN: cleave-opt %s --split-input-file --cleave-train-pipeline="loss=cross_entropy labels=y optimizer=adamw phase-tags=true" --cleave-search-configuration="devices=4 grid=pp=2,dp=2 micro-batches=2 zero=1" | FileCheck %s --check-prefix=PINNED
// RUN: cleave-opt %s --split-input-file --cleave-train-pipeline="loss=cross_entropy labels=y optimizer=adamw phase-tags=true" --cleave-search-configuration="devices=2 cuts=relu0 print=true" -o /dev/null | FileCheck %s --check-prefix=CUTS

// PLAIN: module attributes {cleave.configuration = {configurations_priced = {{[0-9]+}} : i64, dp = 4 : i64, fits = true, {{.*}}micro_batches = 1 : i64, pp = 1 : i64, precision = "fp32", {{.*}}recompute = "none", schedule = "1f1b", {{.*}}spec = "dp=4", tp = 1 : i64, virtual_stages = 1 : i64, zero = 0 : i64}
// PLAIN-NOT: cleave.stage
// STAGES: cleave.configuration = {{{.*}}pp = 2 : i64, {{.*}}spec = "pp=2,tp=2 micro-batches=2"
// PINNED: cleave.configuration = {configurations_priced = {{[0-9]+}} : i64, dp = 2 : i64, {{.*}}micro_batches = 2 : i64, pp = 2 : i64, {{.*}}spec = "pp=2,dp=2 micro-batches=2 zero=1", tp = 1 : i64, virtual_stages = 1 : i64, zero = 1 : i64}
// CUTS: Configuration: pp=2 micro-batches={{[248]}} (fits; predicted step
// CUTS-NEXT: searched {{[0-9]+}} configurations in
// CUTS: alternatives (step, memory per device, fits):
// CUTS-NEXT: pp=2 micro-batches=

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

// -----

// A batch of four: a micro-batch must still split over the stage's
// dp x tp (its plan may split the batch over either axis), so a pipeline
// on two devices per stage has two micro-batches.
// PLAIN: spec = "dp=4"
// STAGES: spec = "pp=2,tp=2 micro-batches=2"
// PINNED: spec = "pp=2,dp=2 micro-batches=2 zero=1"
// CUTS: Configuration: pp=2 micro-batches=4 (fits; predicted step

module {
  func.func @forward(%w0: tensor<64x32xf32> {cleave.param = #cleave.param<"0.weight", trainable>}, %b0: tensor<64xf32> {cleave.param = #cleave.param<"0.bias", trainable>}, %w1: tensor<64x64xf32> {cleave.param = #cleave.param<"2.weight", trainable>}, %b1: tensor<64xf32> {cleave.param = #cleave.param<"2.bias", trainable>}, %w2: tensor<10x64xf32> {cleave.param = #cleave.param<"4.weight", trainable>}, %b2: tensor<10xf32> {cleave.param = #cleave.param<"4.bias", trainable>}, %x: tensor<4x32xf32> {cleave.input = "x"}) -> (tensor<4x10xf32> {cleave.output = "logits"}) {
    %0 = cleave.matmul %x, %w0 {transpose_b} : (tensor<4x32xf32>, tensor<64x32xf32>) -> tensor<4x64xf32> loc("fc0")
    %1 = cleave.binary add %0, %b0 : (tensor<4x64xf32>, tensor<64xf32>) -> tensor<4x64xf32> loc("fc0")
    %2 = cleave.unary relu %1 : tensor<4x64xf32> loc("relu0")
    %3 = cleave.matmul %2, %w1 {transpose_b} : (tensor<4x64xf32>, tensor<64x64xf32>) -> tensor<4x64xf32> loc("fc1")
    %4 = cleave.binary add %3, %b1 : (tensor<4x64xf32>, tensor<64xf32>) -> tensor<4x64xf32> loc("fc1")
    %5 = cleave.unary relu %4 : tensor<4x64xf32> loc("relu1")
    %6 = cleave.matmul %5, %w2 {transpose_b} : (tensor<4x64xf32>, tensor<10x64xf32>) -> tensor<4x10xf32> loc("fc2")
    %7 = cleave.binary add %6, %b2 : (tensor<4x10xf32>, tensor<10xf32>) -> tensor<4x10xf32> loc("fc2")
    return %7 : tensor<4x10xf32>
  }
}
