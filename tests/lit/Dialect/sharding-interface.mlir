// RUN: cleave-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(sharding-propagation,cse))' | FileCheck %s

// The ShardingInterface implementations of the cleave ops (CleaveOpSharding.cpp),
// exercised through upstream's sharding-propagation pass: from one annotated
// value it annotates every operand and result of each op with the sharding
// that op's loops imply. Split axes are listed per tensor dimension; `[[]]`
// is replicated. The grid is 2x2.

// Megatron-style MLP as PyTorch exports it (weights [out, in], read with
// transpose_b). Splitting fc1's output features (dim 0 of w1) along grid
// axis 1 makes fc1 column-parallel: x replicated, the hidden activation and
// b1 split on the features. fc2 then becomes row-parallel: w2 split on its
// input features (dim 1, the contracted K), and its result replicated
// (partial sums over axis 1, to be all-reduced), like b2.
// CHECK-LABEL: func.func @megatron_mlp
// CHECK-SAME:    (%[[X:.*]]: tensor<8x16xf32>, %[[W1:.*]]: tensor<32x16xf32>, %[[B1:.*]]: tensor<32xf32>, %[[W2:.*]]: tensor<16x32xf32>, %[[B2:.*]]: tensor<16xf32>)
// CHECK-DAG:     %[[S_N:.*]] = shard.sharding @grid split_axes = {{\[\[}}1]] : !shard.sharding
// CHECK-DAG:     %[[REPL:.*]] = shard.sharding @grid split_axes = {{\[\[}}]] : !shard.sharding
// CHECK-DAG:     %[[W1S:.*]] = shard.shard %[[W1]] to %[[S_N]] annotate_for_users
// CHECK-DAG:     %[[XS:.*]] = shard.shard %[[X]] to %[[REPL]] annotate_for_users
// CHECK:         %[[FC1:.*]] = cleave.matmul %[[XS]], %[[W1S]] {transpose_b}
// CHECK-NEXT:    %[[S_COLS:.*]] = shard.sharding @grid split_axes = {{\[\[}}], [1]] : !shard.sharding
// CHECK-NEXT:    shard.shard %[[FC1]] to %[[S_COLS]] :
// CHECK:         %[[B1S:.*]] = shard.shard %[[B1]] to %[[S_N]] annotate_for_users
// CHECK-NEXT:    %[[ADD1:.*]] = cleave.binary add %{{.*}}, %[[B1S]]
// CHECK-NEXT:    shard.shard %[[ADD1]] to %[[S_COLS]] :
// CHECK:         %[[RELU:.*]] = cleave.unary relu
// CHECK-NEXT:    shard.shard %[[RELU]] to %[[S_COLS]] :
// CHECK:         %[[W2S:.*]] = shard.shard %[[W2]] to %[[S_COLS]] annotate_for_users
// CHECK-NEXT:    %[[FC2:.*]] = cleave.matmul %{{.*}}, %[[W2S]] {transpose_b}
// CHECK-NEXT:    shard.shard %[[FC2]] to %[[REPL]] :
// CHECK:         %[[B2S:.*]] = shard.shard %[[B2]] to %[[REPL]] annotate_for_users
// CHECK-NEXT:    %[[ADD2:.*]] = cleave.binary add %{{.*}}, %[[B2S]]
// CHECK-NEXT:    shard.shard %[[ADD2]] to %[[REPL]] :
shard.grid @grid(shape = 2x2)
func.func @megatron_mlp(%x: tensor<8x16xf32>, %w1: tensor<32x16xf32>, %b1: tensor<32xf32>, %w2: tensor<16x32xf32>, %b2: tensor<16xf32>) -> tensor<8x16xf32> {
  %s = shard.sharding @grid split_axes = [[1]] : !shard.sharding
  %w1s = shard.shard %w1 to %s annotate_for_users : tensor<32x16xf32>
  %0 = cleave.matmul %x, %w1s {transpose_b} : (tensor<8x16xf32>, tensor<32x16xf32>) -> tensor<8x32xf32>
  %1 = cleave.binary add %0, %b1 : (tensor<8x32xf32>, tensor<32xf32>) -> tensor<8x32xf32>
  %2 = cleave.unary relu %1 : tensor<8x32xf32>
  %3 = cleave.matmul %2, %w2 {transpose_b} : (tensor<8x32xf32>, tensor<16x32xf32>) -> tensor<8x16xf32>
  %4 = cleave.binary add %3, %b2 : (tensor<8x16xf32>, tensor<16xf32>) -> tensor<8x16xf32>
  return %4 : tensor<8x16xf32>
}

// -----

// Data and tensor parallelism together: the batch split along grid axis 0
// stays on every activation, the Megatron split along axis 1 as above.
// CHECK-LABEL: func.func @mlp_2d
// CHECK-SAME:    (%[[X:.*]]: tensor<8x16xf32>, %[[W1:.*]]: tensor<32x16xf32>, %[[W2:.*]]: tensor<16x32xf32>)
// CHECK:         %[[S_ROWS:.*]] = shard.sharding @grid split_axes = {{\[\[}}0]] : !shard.sharding
// CHECK:         %[[FC1:.*]] = cleave.matmul
// CHECK-NEXT:    %[[S_BOTH:.*]] = shard.sharding @grid split_axes = {{\[\[}}0], [1]] : !shard.sharding
// CHECK-NEXT:    shard.shard %[[FC1]] to %[[S_BOTH]] :
// CHECK:         %[[RELU:.*]] = cleave.unary relu
// CHECK-NEXT:    shard.shard %[[RELU]] to %[[S_BOTH]] :
// CHECK:         %[[S_K:.*]] = shard.sharding @grid split_axes = {{\[\[}}], [1]] : !shard.sharding
// CHECK-NEXT:    %[[W2S:.*]] = shard.shard %[[W2]] to %[[S_K]] annotate_for_users
// CHECK-NEXT:    %[[FC2:.*]] = cleave.matmul %{{.*}}, %[[W2S]] {transpose_b}
// CHECK-NEXT:    shard.shard %[[FC2]] to %[[S_ROWS]] :
shard.grid @grid(shape = 2x2)
func.func @mlp_2d(%x: tensor<8x16xf32>, %w1: tensor<32x16xf32>, %w2: tensor<16x32xf32>) -> tensor<8x16xf32> {
  %sx = shard.sharding @grid split_axes = [[0]] : !shard.sharding
  %xs = shard.shard %x to %sx annotate_for_users : tensor<8x16xf32>
  %s = shard.sharding @grid split_axes = [[1]] : !shard.sharding
  %w1s = shard.shard %w1 to %s annotate_for_users : tensor<32x16xf32>
  %0 = cleave.matmul %xs, %w1s {transpose_b} : (tensor<8x16xf32>, tensor<32x16xf32>) -> tensor<8x32xf32>
  %1 = cleave.unary relu %0 : tensor<8x32xf32>
  %2 = cleave.matmul %1, %w2 {transpose_b} : (tensor<8x32xf32>, tensor<16x32xf32>) -> tensor<8x16xf32>
  return %2 : tensor<8x16xf32>
}

// -----

// Broadcasting: the size-1 dimension of %b that the add stretches is never
// split (its split axes stay empty), its other dimension follows the loop;
// a 0-d operand is replicated.
// CHECK-LABEL: func.func @elementwise_broadcast
// CHECK-SAME:    (%[[X:.*]]: tensor<8x16xf32>, %[[B:.*]]: tensor<1x16xf32>, %[[S:.*]]: tensor<f32>)
// CHECK:         %[[S_BOTH:.*]] = shard.sharding @grid split_axes = {{\[\[}}0], [1]] : !shard.sharding
// CHECK:         %[[S_COLS:.*]] = shard.sharding @grid split_axes = {{\[\[}}], [1]] : !shard.sharding
// CHECK-NEXT:    %[[BS:.*]] = shard.shard %[[B]] to %[[S_COLS]] annotate_for_users : tensor<1x16xf32>
// CHECK-NEXT:    %[[ADD:.*]] = cleave.binary add %{{.*}}, %[[BS]]
// CHECK-NEXT:    shard.shard %[[ADD]] to %[[S_BOTH]] :
// CHECK:         %[[S_SCALAR:.*]] = shard.sharding @grid split_axes = [] : !shard.sharding
// CHECK-NEXT:    %[[SS:.*]] = shard.shard %[[S]] to %[[S_SCALAR]] annotate_for_users : tensor<f32>
// CHECK-NEXT:    %[[MUL:.*]] = cleave.binary mul %{{.*}}, %[[SS]]
// CHECK-NEXT:    shard.shard %[[MUL]] to %[[S_BOTH]] :
shard.grid @grid(shape = 2x2)
func.func @elementwise_broadcast(%x: tensor<8x16xf32>, %b: tensor<1x16xf32>, %s0: tensor<f32>) -> tensor<8x16xf32> {
  %s = shard.sharding @grid split_axes = [[0], [1]] : !shard.sharding
  %xs = shard.shard %x to %s annotate_for_users : tensor<8x16xf32>
  %y = cleave.binary add %xs, %b : (tensor<8x16xf32>, tensor<1x16xf32>) -> tensor<8x16xf32>
  %z = cleave.binary mul %y, %s0 : (tensor<8x16xf32>, tensor<f32>) -> tensor<8x16xf32>
  return %z : tensor<8x16xf32>
}

// -----

// Negative: a split of a size-1 dimension that broadcasting stretches has
// no consistent sharding option, so the op is left unannotated.
// CHECK-LABEL: func.func @split_broadcast_dim
// CHECK:         %[[ADD:.*]] = cleave.binary add
// CHECK-NOT:     shard.shard %[[ADD]]
// CHECK:         return %[[ADD]]
shard.grid @grid(shape = 2x2)
func.func @split_broadcast_dim(%x: tensor<8x16xf32>, %b: tensor<1x16xf32>) -> tensor<8x16xf32> {
  %s = shard.sharding @grid split_axes = [[0]] : !shard.sharding
  %bs = shard.shard %b to %s annotate_for_users : tensor<1x16xf32>
  %y = cleave.binary add %x, %bs : (tensor<8x16xf32>, tensor<1x16xf32>) -> tensor<8x16xf32>
  return %y : tensor<8x16xf32>
}

// -----

// Reductions: the reduced loop's split disappears from the result (partial
// results), with keep_dims the kept size-1 dimension is not split, and the
// other dimensions keep their splits.
// CHECK-LABEL: func.func @reduce
// CHECK:         %[[KEEP:.*]] = cleave.reduce sum {{.*}} keep_dims
// CHECK-NEXT:    %[[S_ROWS:.*]] = shard.sharding @grid split_axes = {{\[\[}}0]] : !shard.sharding
// CHECK-NEXT:    shard.shard %[[KEEP]] to %[[S_ROWS]] : tensor<8x1xf32>
// CHECK-NEXT:    %[[DROP:.*]] = cleave.reduce max
// CHECK-NEXT:    shard.shard %[[DROP]] to %[[S_ROWS]] : tensor<8xf32>
// CHECK-NEXT:    %[[COLS:.*]] = cleave.reduce mean
// CHECK-NEXT:    %[[S_AXIS1:.*]] = shard.sharding @grid split_axes = {{\[\[}}1]] : !shard.sharding
// CHECK-NEXT:    shard.shard %[[COLS]] to %[[S_AXIS1]] : tensor<16xf32>
shard.grid @grid(shape = 2x2)
func.func @reduce(%x: tensor<8x16xf32>) -> (tensor<8x1xf32>, tensor<8xf32>, tensor<16xf32>) {
  %s = shard.sharding @grid split_axes = [[0], [1]] : !shard.sharding
  %xs = shard.shard %x to %s annotate_for_users : tensor<8x16xf32>
  %a = cleave.reduce sum %xs {axes = array<i64: 1>, keep_dims} : tensor<8x16xf32> -> tensor<8x1xf32>
  %b = cleave.reduce max %xs {axes = array<i64: 1>} : tensor<8x16xf32> -> tensor<8xf32>
  %c = cleave.reduce mean %xs {axes = array<i64: 0>} : tensor<8x16xf32> -> tensor<16xf32>
  return %a, %b, %c : tensor<8x1xf32>, tensor<8xf32>, tensor<16xf32>
}

// -----

// Backward propagation through a keep_dims reduction and a broadcasting add:
// the result's row split reaches x, while %b (one broadcast row) stays
// replicated.
// CHECK-LABEL: func.func @backward
// CHECK-SAME:    (%[[X:.*]]: tensor<8x16xf32>, %[[B:.*]]: tensor<1x16xf32>)
// CHECK-DAG:     %[[S_ROWS:.*]] = shard.sharding @grid split_axes = {{\[\[}}0]] : !shard.sharding
// CHECK-DAG:     %[[REPL:.*]] = shard.sharding @grid split_axes = {{\[\[}}]] : !shard.sharding
// CHECK-DAG:     shard.shard %[[X]] to %[[S_ROWS]] annotate_for_users : tensor<8x16xf32>
// CHECK-DAG:     shard.shard %[[B]] to %[[REPL]] annotate_for_users : tensor<1x16xf32>
// CHECK:         %[[ADD:.*]] = cleave.binary add
// CHECK-NEXT:    shard.shard %[[ADD]] to %[[S_ROWS]] :
shard.grid @grid(shape = 2x2)
func.func @backward(%x: tensor<8x16xf32>, %b: tensor<1x16xf32>) -> tensor<8x1xf32> {
  %y = cleave.binary add %x, %b : (tensor<8x16xf32>, tensor<1x16xf32>) -> tensor<8x16xf32>
  %r = cleave.reduce sum %y {axes = array<i64: 1>, keep_dims} : tensor<8x16xf32> -> tensor<8x1xf32>
  %s = shard.sharding @grid split_axes = [[0]] : !shard.sharding
  %rs = shard.shard %r to %s : tensor<8x1xf32>
  return %rs : tensor<8x1xf32>
}

// -----

// Softmax: batch and head splits pass through unchanged.
// CHECK-LABEL: func.func @softmax
// CHECK:         %[[S:.*]] = shard.sharding @grid split_axes = {{\[\[}}0], [1]] : !shard.sharding
// CHECK:         %[[P:.*]] = cleave.softmax
// CHECK-NEXT:    shard.shard %[[P]] to %[[S]] : tensor<2x4x16x16xf32>
shard.grid @grid(shape = 2x2)
func.func @softmax(%x: tensor<2x4x16x16xf32>) -> tensor<2x4x16x16xf32> {
  %s = shard.sharding @grid split_axes = [[0], [1]] : !shard.sharding
  %xs = shard.shard %x to %s annotate_for_users : tensor<2x4x16x16xf32>
  %y = cleave.softmax %xs {axis = 3 : i64} : tensor<2x4x16x16xf32>
  return %y : tensor<2x4x16x16xf32>
}

// -----

// Layer norm with the hidden dimension split: scale and bias split the same
// way as the normalised dimension, the result like the input.
// CHECK-LABEL: func.func @layer_norm
// CHECK-SAME:    (%[[X:.*]]: tensor<2x16x32xf32>, %[[G:.*]]: tensor<32xf32>, %[[B:.*]]: tensor<32xf32>)
// CHECK:         %[[S_X:.*]] = shard.sharding @grid split_axes = {{\[\[}}0], [], [1]] : !shard.sharding
// CHECK:         %[[S_H:.*]] = shard.sharding @grid split_axes = {{\[\[}}1]] : !shard.sharding
// CHECK-NEXT:    %[[GS:.*]] = shard.shard %[[G]] to %[[S_H]] annotate_for_users : tensor<32xf32>
// CHECK-NEXT:    %[[BS:.*]] = shard.shard %[[B]] to %[[S_H]] annotate_for_users : tensor<32xf32>
// CHECK-NEXT:    %[[Y:.*]] = cleave.layer_norm %{{.*}}, %[[GS]], %[[BS]]
// CHECK-NEXT:    shard.shard %[[Y]] to %[[S_X]] :
shard.grid @grid(shape = 2x2)
func.func @layer_norm(%x: tensor<2x16x32xf32>, %g: tensor<32xf32>, %b: tensor<32xf32>) -> tensor<2x16x32xf32> {
  %s = shard.sharding @grid split_axes = [[0], [], [1]] : !shard.sharding
  %xs = shard.shard %x to %s annotate_for_users : tensor<2x16x32xf32>
  %y = cleave.layer_norm %xs, %g, %b {axis = 2 : i64, epsilon = 1.0e-05 : f64} : (tensor<2x16x32xf32>, tensor<32xf32>, tensor<32xf32>) -> tensor<2x16x32xf32>
  return %y : tensor<2x16x32xf32>
}

// -----

// Transpose: splits move with their dimensions ([B, S, H, D] -> [B, H, S, D]).
// CHECK-LABEL: func.func @transpose
// CHECK:         %[[T:.*]] = cleave.transpose
// CHECK-NEXT:    %[[S:.*]] = shard.sharding @grid split_axes = {{\[\[}}0], [], [1]] : !shard.sharding
// CHECK-NEXT:    shard.shard %[[T]] to %[[S]] : tensor<2x4x16x8xf32>
shard.grid @grid(shape = 2x2)
func.func @transpose(%x: tensor<2x16x4x8xf32>) -> tensor<2x4x16x8xf32> {
  %s = shard.sharding @grid split_axes = [[0], [1]] : !shard.sharding
  %xs = shard.shard %x to %s annotate_for_users : tensor<2x16x4x8xf32>
  %y = cleave.transpose %xs [0, 2, 1, 3] : tensor<2x16x4x8xf32> -> tensor<2x4x16x8xf32>
  return %y : tensor<2x4x16x8xf32>
}

// -----

// Batched matmul whose rhs broadcasts its batch dimension (size 1) or has
// none: the batch split reaches neither rhs, the K split reaches both, and
// the results keep only the batch split.
// CHECK-LABEL: func.func @matmul_broadcast_batch
// CHECK-SAME:    (%[[A:.*]]: tensor<4x8x32xf32>, %[[B:.*]]: tensor<1x32x64xf32>, %[[C:.*]]: tensor<32x64xf32>)
// CHECK:         %[[S_BK:.*]] = shard.sharding @grid split_axes = {{\[\[}}], [1]] : !shard.sharding
// CHECK-NEXT:    %[[BS:.*]] = shard.shard %[[B]] to %[[S_BK]] annotate_for_users : tensor<1x32x64xf32>
// CHECK-NEXT:    %[[Y:.*]] = cleave.matmul %{{.*}}, %[[BS]]
// CHECK-NEXT:    %[[S_BATCH:.*]] = shard.sharding @grid split_axes = {{\[\[}}0]] : !shard.sharding
// CHECK-NEXT:    shard.shard %[[Y]] to %[[S_BATCH]] :
// CHECK-NEXT:    %[[S_CK:.*]] = shard.sharding @grid split_axes = {{\[\[}}1]] : !shard.sharding
// CHECK-NEXT:    %[[CS:.*]] = shard.shard %[[C]] to %[[S_CK]] annotate_for_users : tensor<32x64xf32>
// CHECK-NEXT:    %[[Z:.*]] = cleave.matmul %{{.*}}, %[[CS]]
// CHECK-NEXT:    shard.shard %[[Z]] to %[[S_BATCH]] :
shard.grid @grid(shape = 2x2)
func.func @matmul_broadcast_batch(%a: tensor<4x8x32xf32>, %b: tensor<1x32x64xf32>, %c: tensor<32x64xf32>) -> (tensor<4x8x64xf32>, tensor<4x8x64xf32>) {
  %s = shard.sharding @grid split_axes = [[0], [], [1]] : !shard.sharding
  %as = shard.shard %a to %s annotate_for_users : tensor<4x8x32xf32>
  %y = cleave.matmul %as, %b : (tensor<4x8x32xf32>, tensor<1x32x64xf32>) -> tensor<4x8x64xf32>
  %z = cleave.matmul %as, %c : (tensor<4x8x32xf32>, tensor<32x64xf32>) -> tensor<4x8x64xf32>
  return %y, %z : tensor<4x8x64xf32>, tensor<4x8x64xf32>
}
