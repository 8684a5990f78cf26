// cleave-recompute on phase-tagged train steps: a one-head attention block
// with dropout on its probabilities (x -> q, k, v -> softmax(q k^T * s) ->
// dropout -> p v -> o -> residual -> head) and an MLP without attention.
// RUN: cleave-opt %s --split-input-file --cleave-train-pipeline="loss=cross_entropy labels=y optimizer=sgd phase-tags=true" --cleave-recompute=mode=selective 2>/dev/null | FileCheck %s --check-prefix=SEL
// RUN: cleave-opt %s --split-input-file --cleave-train-pipeline="loss=cross_entropy labels=y optimizer=sgd phase-tags=true" --cleave-recompute=mode=full 2>/dev/null | FileCheck %s --check-prefix=FULL
// RUN: cleave-opt %s --split-input-file --cleave-train-pipeline="loss=cross_entropy labels=y optimizer=sgd phase-tags=true" --cleave-recompute=mode=none 2>/dev/null | FileCheck %s --check-prefix=NONE
// RUN: cleave-opt %s --split-input-file --cleave-train-pipeline="loss=cross_entropy labels=y optimizer=sgd phase-tags=true" --cleave-recompute=mode=selective -o /dev/null 2>&1 | FileCheck %s --check-prefix=SEL-REMARK
// RUN: cleave-opt %s --split-input-file --cleave-train-pipeline="loss=cross_entropy labels=y optimizer=sgd phase-tags=true" --cleave-recompute=mode=full -o /dev/null 2>&1 | FileCheck %s --check-prefix=FULL-REMARK
// Canonicalization and CSE after the pass keep the clones apart from the
// originals (their attributes differ), and the split puts them in the
// backward phase of the chunk of the op they serve.
// RUN: cleave-opt %s --split-input-file --cleave-train-pipeline="loss=cross_entropy labels=y optimizer=sgd phase-tags=true" --cleave-recompute=mode=selective --canonicalize --cse 2>/dev/null | FileCheck %s --check-prefix=SEL
// RUN: cleave-opt %s --split-input-file --cleave-train-pipeline="loss=cross_entropy labels=y optimizer=sgd phase-tags=true" --cleave-recompute=mode=full --canonicalize --cse 2>/dev/null | FileCheck %s --check-prefix=FULL
// RUN: cleave-opt %s --split-input-file --cleave-train-pipeline="loss=cross_entropy labels=y optimizer=sgd phase-tags=true" --cleave-recompute=mode=selective --cleave-pipeline-split=stages=2 2>/dev/null | FileCheck %s --check-prefix=SPLIT
// The shard pipeline runs it first when asked to.
// RUN: cleave-opt %s --split-input-file --cleave-train-pipeline="loss=cross_entropy labels=y optimizer=sgd phase-tags=true" --cleave-shard-pipeline="recompute=selective grid=dp=1" 2>/dev/null | FileCheck %s --check-prefix=SHARD

// selective: the attention core (scores product, scaling, softmax, the
// dropout mask and product) is cloned before the first backward op that
// reads one of its results, the backward of p v; q, k and v stay stashed.
// The clone of the mask draws the same stream (0) as the original.
// SEL-LABEL: func.func @train_step(
// SEL:       %[[Q:[0-9]+]] = cleave.matmul %arg5, %arg0 {cleave.fwd_id = 1 : i64, transpose_b}
// SEL:       %[[K:[0-9]+]] = cleave.matmul %arg5, %arg1 {cleave.fwd_id = 2 : i64, transpose_b}
// SEL:       %[[V:[0-9]+]] = cleave.matmul %arg5, %arg2 {cleave.fwd_id = 3 : i64, transpose_b}
// SEL:       cleave.matmul %[[Q]], %[[K]] {cleave.fwd_id = 5 : i64, transpose_b}
// SEL:       %[[P:[0-9]+]] = cleave.softmax %{{[0-9]+}} {axis = 2 : i64, cleave.fwd_id = 7 : i64}
// SEL:       cleave.random_mask {cleave.fwd_id = 8 : i64, keep_probability = 9.000000e-01 : f64, stream = 0 : i64}
// SEL:       %[[PD:[0-9]+]] = cleave.binary mul %[[P]], %{{[0-9]+}} {cleave.fwd_id = 9 : i64}
// SEL:       cleave.matmul %[[PD]], %[[V]] {cleave.fwd_id = 10 : i64}
// SEL:       %[[DPD:[0-9]+]] = cleave.matmul %{{[0-9]+}}, %[[V]] {cleave.bwd_of = 10 : i64, transpose_b}
// SEL-NEXT:  %[[S2:[0-9]+]] = cleave.matmul %[[Q]], %[[K]] {cleave.bwd_of = 10 : i64, cleave.recomputed, transpose_b}
// SEL-NEXT:  %[[SS2:[0-9]+]] = cleave.binary mul %[[S2]], %{{[0-9]+}} {cleave.bwd_of = 10 : i64, cleave.recomputed}
// SEL-NEXT:  %[[P2:[0-9]+]] = cleave.softmax %[[SS2]] {axis = 2 : i64, cleave.bwd_of = 10 : i64, cleave.recomputed}
// SEL-NEXT:  %[[M2:[0-9]+]] = cleave.random_mask {cleave.bwd_of = 10 : i64, cleave.recomputed, keep_probability = 9.000000e-01 : f64, stream = 0 : i64}
// SEL-NEXT:  %[[PD2:[0-9]+]] = cleave.binary mul %[[P2]], %[[M2]] {cleave.bwd_of = 10 : i64, cleave.recomputed}
// SEL-NEXT:  cleave.matmul %[[PD2]], %{{[0-9]+}} {cleave.bwd_of = 10 : i64, transpose_a}
// SEL-NEXT:  cleave.binary mul %[[DPD]], %[[M2]] {cleave.bwd_of = 9 : i64}
// SEL-NEXT:  cleave.softmax_grad %[[P2]], %{{[0-9]+}} {axis = 2 : i64, cleave.bwd_of = 7 : i64}
// SEL-NOT:   cleave.recomputed
// SEL:       return

// full: the first layer (q, k, v .. p v) is recomputed from its input x
// and the parameters; the second (o, the residual) needs nothing of its
// own (its backward reads p v's result, its input); the last (the head
// and the loss) is not recomputed.
// FULL-LABEL: func.func @train_step(
// FULL:       cleave.matmul %{{[0-9]+}}, %arg3 {cleave.bwd_of = 11 : i64}
// FULL:       %[[Q:[0-9]+]] = cleave.matmul %arg5, %arg0 {cleave.bwd_of = 10 : i64, cleave.recomputed, transpose_b}
// FULL-NEXT:  %[[K:[0-9]+]] = cleave.matmul %arg5, %arg1 {cleave.bwd_of = 10 : i64, cleave.recomputed, transpose_b}
// FULL-NEXT:  %[[V:[0-9]+]] = cleave.matmul %arg5, %arg2 {cleave.bwd_of = 10 : i64, cleave.recomputed, transpose_b}
// FULL-NEXT:  cleave.matmul %[[Q]], %[[K]] {cleave.bwd_of = 10 : i64, cleave.recomputed, transpose_b}
// FULL-NEXT:  cleave.binary mul {{.*}}cleave.recomputed
// FULL-NEXT:  cleave.softmax {{.*}}cleave.recomputed
// FULL-NEXT:  cleave.random_mask {cleave.bwd_of = 10 : i64, cleave.recomputed, keep_probability = 9.000000e-01 : f64, stream = 0 : i64}
// FULL-NEXT:  cleave.binary mul {{.*}}cleave.recomputed
// FULL-NEXT:  cleave.matmul %{{[0-9]+}}, %[[V]] {cleave.bwd_of = 10 : i64, transpose_b}
// FULL-NOT:   cleave.recomputed
// FULL:       return

// NONE-LABEL: func.func @train_step(
// NONE-NOT:   cleave.recomputed

// SEL-REMARK: remark: cleave-recompute mode=selective: 3 stashed values (384 bytes) recomputed by 5 cloned ops in 1 attention cores
// FULL-REMARK: remark: cleave-recompute mode=full: 6 stashed values (1152 bytes) recomputed by 8 cloned ops in 1 layers

// SPLIT-LABEL: func.func @train_step(
// SPLIT:       cleave.softmax {{.*}}cleave.bwd_of = 10 : i64, cleave.phase = "backward", cleave.recomputed, cleave.stage = 0 : i64

// SHARD-LABEL: func.func @train_step(
// SHARD:       cleave.softmax {{.*}}cleave.recomputed

module {
  func.func @forward(%wq: tensor<8x8xf32> {cleave.param = #cleave.param<"q.weight", trainable>}, %wk: tensor<8x8xf32> {cleave.param = #cleave.param<"k.weight", trainable>}, %wv: tensor<8x8xf32> {cleave.param = #cleave.param<"v.weight", trainable>}, %wo: tensor<8x8xf32> {cleave.param = #cleave.param<"o.weight", trainable>}, %wh: tensor<10x8xf32> {cleave.param = #cleave.param<"head.weight", trainable>}, %x: tensor<2x4x8xf32> {cleave.input = "x"}) -> (tensor<8x10xf32> {cleave.output = "logits"}) {
    %scale = cleave.constant dense<0.353553385> : tensor<f32>
    %q = cleave.matmul %x, %wq {transpose_b} : (tensor<2x4x8xf32>, tensor<8x8xf32>) -> tensor<2x4x8xf32> loc("q")
    %k = cleave.matmul %x, %wk {transpose_b} : (tensor<2x4x8xf32>, tensor<8x8xf32>) -> tensor<2x4x8xf32> loc("k")
    %v = cleave.matmul %x, %wv {transpose_b} : (tensor<2x4x8xf32>, tensor<8x8xf32>) -> tensor<2x4x8xf32> loc("v")
    %kt = cleave.transpose %k [0, 2, 1] : tensor<2x4x8xf32> -> tensor<2x8x4xf32> loc("kt")
    %s = cleave.matmul %q, %kt : (tensor<2x4x8xf32>, tensor<2x8x4xf32>) -> tensor<2x4x4xf32> loc("scores")
    %ss = cleave.binary mul %s, %scale : (tensor<2x4x4xf32>, tensor<f32>) -> tensor<2x4x4xf32> loc("scale")
    %p = cleave.softmax %ss {axis = 2 : i64} : tensor<2x4x4xf32> loc("softmax")
    %pd = cleave.dropout %p {ratio = 1.000000e-01 : f64} : tensor<2x4x4xf32> loc("attn_dropout")
    %o = cleave.matmul %pd, %v : (tensor<2x4x4xf32>, tensor<2x4x8xf32>) -> tensor<2x4x8xf32> loc("pv")
    %y = cleave.matmul %o, %wo {transpose_b} : (tensor<2x4x8xf32>, tensor<8x8xf32>) -> tensor<2x4x8xf32> loc("o")
    %r = cleave.binary add %x, %y : (tensor<2x4x8xf32>, tensor<2x4x8xf32>) -> tensor<2x4x8xf32> loc("residual")
    %flat = cleave.reshape %r : tensor<2x4x8xf32> to tensor<8x8xf32> loc("flatten")
    %logits = cleave.matmul %flat, %wh {transpose_b} : (tensor<8x8xf32>, tensor<10x8xf32>) -> tensor<8x10xf32> loc("head")
    return %logits : tensor<8x10xf32>
  }
}

// -----

// No attention: selective recomputes nothing and says so; full recomputes
// the middle layer (fc1, tanh1 and the dropout mask) from tanh0's result.
// SEL-LABEL: func.func @train_step(
// SEL-NOT:   cleave.recomputed
// SEL:       return
// SEL-REMARK: remark: cleave-recompute mode=selective: nothing recomputed: no attention core (a softmax over the last axis between two batched matmuls)

// FULL-LABEL: func.func @train_step(
// FULL:       %[[T0:[0-9]+]] = cleave.unary tanh %{{[0-9]+}} {cleave.fwd_id = 1 : i64}
// FULL:       cleave.matmul %{{[0-9]+}}, %{{[0-9]+}} {cleave.bwd_of = 6 : i64, transpose_a}
// FULL-NEXT:  %[[FC1:[0-9]+]] = cleave.matmul %[[T0]], %arg1 {cleave.bwd_of = 5 : i64, cleave.recomputed, transpose_b}
// FULL-NEXT:  %[[T1:[0-9]+]] = cleave.unary tanh %[[FC1]] {cleave.bwd_of = 5 : i64, cleave.recomputed}
// FULL-NEXT:  %[[M:[0-9]+]] = cleave.random_mask {cleave.bwd_of = 5 : i64, cleave.recomputed, keep_probability = 9.000000e-01 : f64, stream = 0 : i64}
// FULL-NEXT:  cleave.binary mul %{{[0-9]+}}, %[[M]] {cleave.bwd_of = 5 : i64}
// FULL-NEXT:  cleave.binary mul %[[T1]], %[[T1]] {cleave.bwd_of = 3 : i64}
// FULL-NOT:   cleave.recomputed
// FULL:       return
// FULL-REMARK: remark: cleave-recompute mode=full: 2 stashed values (512 bytes) recomputed by 3 cloned ops in 1 layers

module {
  func.func @forward(%w0: tensor<16x8xf32> {cleave.param = #cleave.param<"fc0.weight", trainable>}, %w1: tensor<16x16xf32> {cleave.param = #cleave.param<"fc1.weight", trainable>}, %w2: tensor<10x16xf32> {cleave.param = #cleave.param<"fc2.weight", trainable>}, %x: tensor<4x8xf32> {cleave.input = "x"}) -> (tensor<4x10xf32> {cleave.output = "logits"}) {
    %0 = cleave.matmul %x, %w0 {transpose_b} : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32> loc("fc0")
    %1 = cleave.unary tanh %0 : tensor<4x16xf32> loc("tanh0")
    %2 = cleave.matmul %1, %w1 {transpose_b} : (tensor<4x16xf32>, tensor<16x16xf32>) -> tensor<4x16xf32> loc("fc1")
    %3 = cleave.unary tanh %2 : tensor<4x16xf32> loc("tanh1")
    %4 = cleave.dropout %3 {ratio = 1.000000e-01 : f64} : tensor<4x16xf32> loc("drop1")
    %5 = cleave.matmul %4, %w2 {transpose_b} : (tensor<4x16xf32>, tensor<10x16xf32>) -> tensor<4x10xf32> loc("fc2")
    return %5 : tensor<4x10xf32>
  }
}
