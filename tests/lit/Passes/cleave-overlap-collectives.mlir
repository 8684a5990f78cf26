// RUN: cleave-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(cleave-overlap-collectives))' | FileCheck %s
// RUN: cleave-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(cleave-overlap-collectives))' | cleave-opt --split-input-file --verify-diagnostics > /dev/null

// A gradient bucket (Bucket.cpp's form) starts right after its last
// gradient, before the rest of the backward; its pieces are cut out just
// before the optimizer reads them, and the wait comes right before that.
// CHECK-LABEL: func.func @bucket
// CHECK:         %[[G1:.*]] = cleave.matmul %arg1, %arg0 {transpose_a}
// CHECK:         %[[CAT:.*]] = cleave.concat
// CHECK-NEXT:    %[[BUF:.*]] = cleave.all_reduce_start %[[CAT]] {grid = @grid, grid_axes = array<i16: 0>, reduction = #shard<partial sum>, slot = 0 : i64} : tensor<72xf32> -> tensor<72xf32>
// CHECK-NEXT:    %[[DX:.*]] = cleave.matmul %arg1, %arg2 :
// CHECK-NEXT:    %[[DX2:.*]] = cleave.unary relu %[[DX]]
// CHECK-NEXT:    %[[SUM:.*]] = cleave.collective_wait %[[BUF]], %[[CAT]] {slot = 0 : i64} : tensor<72xf32>, tensor<72xf32>
// CHECK-NEXT:    %[[SW:.*]] = cleave.slice %[[SUM]] {starts = array<i64: 0>
// CHECK-NEXT:    %[[W:.*]] = cleave.reshape %[[SW]] : tensor<64xf32> to tensor<8x8xf32>
// CHECK-NEXT:    cleave.binary sub %arg2, %[[W]]
// CHECK:         %[[SB:.*]] = cleave.slice %[[SUM]] {starts = array<i64: 64>
// CHECK-NEXT:    cleave.binary sub %arg3, %[[SB]]
// CHECK-NOT:     shard.all_reduce
shard.grid @grid(shape = 2) {cleave.axis_names = ["dp"]}
func.func @bucket(%x: tensor<4x8xf32>, %dy: tensor<4x8xf32>, %w: tensor<8x8xf32>, %b: tensor<8xf32>)
    -> (tensor<8x8xf32>, tensor<8xf32>, tensor<4x8xf32>) {
  %gw = cleave.matmul %dy, %x {transpose_a} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<8x8xf32>
  %gb = cleave.reduce sum %dy {axes = array<i64: 0>} : tensor<4x8xf32> -> tensor<8xf32>
  %fw = cleave.reshape %gw : tensor<8x8xf32> to tensor<64xf32>
  %cat = cleave.concat %fw, %gb {axis = 0 : i64} : (tensor<64xf32>, tensor<8xf32>) -> tensor<72xf32>
  %sum = shard.all_reduce %cat on @grid grid_axes = [0] : tensor<72xf32> -> tensor<72xf32>
  %sw = cleave.slice %sum {starts = array<i64: 0>, strides = array<i64: 1>} : tensor<72xf32> -> tensor<64xf32>
  %rw = cleave.reshape %sw : tensor<64xf32> to tensor<8x8xf32>
  %sb = cleave.slice %sum {starts = array<i64: 64>, strides = array<i64: 1>} : tensor<72xf32> -> tensor<8xf32>
  %dx = cleave.matmul %dy, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %dx2 = cleave.unary relu %dx : tensor<4x8xf32>
  %nw = cleave.binary sub %w, %rw : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
  %nb = cleave.binary sub %b, %sb : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  return %nw, %nb, %dx2 : tensor<8x8xf32>, tensor<8xf32>, tensor<4x8xf32>
}

// -----

// A gradient all-reduce the partitioner left at its user (the optimizer)
// starts right after the gradient's definition; reduce-scatters (ZeRO-2)
// likewise.
// CHECK-LABEL: func.func @hoisted
// CHECK:         %[[GW:.*]] = cleave.matmul %arg1, %arg0 {transpose_a}
// CHECK-NEXT:    %[[BUF:.*]] = cleave.reduce_scatter_start %[[GW]] {grid = @grid, grid_axes = array<i16: 0>, reduction = #shard<partial sum>, scatter_axis = 0 : index, slot = 0 : i64} : tensor<8x8xf32> -> tensor<4x8xf32>
// CHECK-NEXT:    cleave.matmul %arg1, %arg2
// CHECK-NEXT:    %[[SUM:.*]] = cleave.collective_wait %[[BUF]], %[[GW]] {slot = 0 : i64}
// CHECK-NEXT:    cleave.binary sub %arg3, %[[SUM]]
shard.grid @grid(shape = 2) {cleave.axis_names = ["dp"]}
func.func @hoisted(%x: tensor<4x8xf32>, %dy: tensor<4x8xf32>, %w: tensor<8x8xf32>, %shard: tensor<4x8xf32>)
    -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %gw = cleave.matmul %dy, %x {transpose_a} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<8x8xf32>
  %dx = cleave.matmul %dy, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %mine = shard.reduce_scatter %gw on @grid grid_axes = [0] scatter_axis = 0 : tensor<8x8xf32> -> tensor<4x8xf32>
  %new = cleave.binary sub %shard, %mine : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return %new, %dx : tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

// Starts keep the program's order: %gb's all-reduce could start right
// after %gb, but %c's (of %a) comes first in the program, so it starts
// after that one. Starts move up past compute, never past each other.
// Two collectives in flight take two slots; a slot is free again after
// its wait.
// CHECK-LABEL: func.func @order
// CHECK:         %[[GA:.*]] = cleave.unary neg %arg0
// CHECK-NEXT:    %[[SA:.*]] = cleave.all_reduce_start %[[GA]] {{.*}}slot = 0 : i64}
// CHECK-NEXT:    %[[GB:.*]] = cleave.unary exp %arg0
// CHECK-NEXT:    %[[A:.*]] = cleave.collective_wait %[[SA]], %[[GA]] {slot = 0 : i64}
// CHECK-NEXT:    %[[SC:.*]] = cleave.all_reduce_start %[[A]] {{.*}}slot = 0 : i64}
// CHECK-NEXT:    %[[SB:.*]] = cleave.all_reduce_start %[[GB]] {{.*}}slot = 1 : i64}
// CHECK-NEXT:    cleave.matmul %[[A]], %arg0
// CHECK-NEXT:    cleave.collective_wait %[[SB]], %[[GB]] {slot = 1 : i64}
// CHECK-NEXT:    cleave.binary add
// CHECK-NEXT:    cleave.collective_wait %[[SC]], %[[A]] {slot = 0 : i64}
// CHECK-NEXT:    %[[S2:.*]] = cleave.binary add
// CHECK-NEXT:    %[[SD:.*]] = cleave.all_reduce_start %[[S2]] {{.*}}slot = 0 : i64}
// CHECK-NEXT:    cleave.matmul %[[S2]], %arg0
// CHECK-NEXT:    cleave.collective_wait %[[SD]], %[[S2]] {slot = 0 : i64}
shard.grid @grid(shape = 2) {cleave.axis_names = ["dp"]}
func.func @order(%x: tensor<8x8xf32>) -> (tensor<8x8xf32>, tensor<8x8xf32>, tensor<8x8xf32>) {
  %ga = cleave.unary neg %x : tensor<8x8xf32>
  %gb = cleave.unary exp %x : tensor<8x8xf32>
  %a = shard.all_reduce %ga on @grid grid_axes = [0] : tensor<8x8xf32> -> tensor<8x8xf32>
  %c = shard.all_reduce %a on @grid grid_axes = [0] : tensor<8x8xf32> -> tensor<8x8xf32>
  %b = shard.all_reduce %gb on @grid grid_axes = [0] : tensor<8x8xf32> -> tensor<8x8xf32>
  %m = cleave.matmul %a, %x : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
  %s1 = cleave.binary add %m, %b : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
  %s2 = cleave.binary add %s1, %c : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
  %d = shard.all_reduce %s2 on @grid grid_axes = [0] : tensor<8x8xf32> -> tensor<8x8xf32>
  %m2 = cleave.matmul %s2, %x : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
  %e = cleave.binary add %m2, %d : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
  return %s2, %e, %m2 : tensor<8x8xf32>, tensor<8x8xf32>, tensor<8x8xf32>
}

// -----

// ZeRO-3: parameter gathers are prefetched one layer ahead: each starts
// right after the previous one's wait, before the previous layer
// computes, never all at the step's start (the first has nothing before
// it to overlap and stays blocking).
// CHECK-LABEL: func.func @prefetch
// CHECK-NEXT:    %[[G0:.*]] = shard.all_gather %arg0
// CHECK-NEXT:    %[[S1:.*]] = cleave.all_gather_start %arg1 {gather_axis = 0 : index, grid = @grid, grid_axes = array<i16: 0>, slot = 0 : i64} : tensor<4x8xf32> -> tensor<8x8xf32>
// CHECK-NEXT:    %[[H0:.*]] = cleave.matmul %arg3, %[[G0]]
// CHECK-NEXT:    %[[W1:.*]] = cleave.collective_wait %[[S1]], %arg1 {slot = 0 : i64} : tensor<8x8xf32>, tensor<4x8xf32>
// CHECK-NEXT:    %[[S2:.*]] = cleave.all_gather_start %arg2 {{.*}}slot = 0 : i64}
// CHECK-NEXT:    %[[H1:.*]] = cleave.matmul %[[H0]], %[[W1]]
// CHECK-NEXT:    %[[W2:.*]] = cleave.collective_wait %[[S2]], %arg2 {slot = 0 : i64}
// CHECK-NEXT:    cleave.matmul %[[H1]], %[[W2]]
shard.grid @grid(shape = 2) {cleave.axis_names = ["dp"]}
func.func @prefetch(%w0: tensor<4x8xf32>, %w1: tensor<4x8xf32>, %w2: tensor<4x8xf32>, %x: tensor<4x8xf32>)
    -> tensor<4x8xf32> {
  %g0 = shard.all_gather %w0 on @grid grid_axes = [0] gather_axis = 0 : tensor<4x8xf32> -> tensor<8x8xf32>
  %h0 = cleave.matmul %x, %g0 : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %g1 = shard.all_gather %w1 on @grid grid_axes = [0] gather_axis = 0 : tensor<4x8xf32> -> tensor<8x8xf32>
  %h1 = cleave.matmul %h0, %g1 : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %g2 = shard.all_gather %w2 on @grid grid_axes = [0] gather_axis = 0 : tensor<4x8xf32> -> tensor<8x8xf32>
  %h2 = cleave.matmul %h1, %g2 : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  return %h2 : tensor<4x8xf32>
}

// -----

// Nothing to overlap: the loss's all-reduce is read right away, and one
// over the pipeline axis stays blocking (the stages' transfers are
// ordered against it).
// CHECK-LABEL: func.func @blocking
// CHECK:         shard.all_reduce %{{.*}} grid_axes = [1]
// CHECK:         shard.all_reduce %{{.*}} grid_axes = [0]
// CHECK-NOT:     cleave.all_reduce_start
// CHECK-NOT:     cleave.collective_wait
shard.grid @grid(shape = 2x2) {cleave.axis_names = ["pp", "dp"]}
func.func @blocking(%x: tensor<8xf32>, %w: tensor<8x8xf32>) -> (tensor<8xf32>, tensor<8x8xf32>) {
  %l = cleave.unary neg %x : tensor<8xf32>
  %sum = shard.all_reduce %l on @grid grid_axes = [1] : tensor<8xf32> -> tensor<8xf32>
  %div = cleave.unary exp %sum : tensor<8xf32>
  %tied = shard.all_reduce %w on @grid grid_axes = [0] : tensor<8x8xf32> -> tensor<8x8xf32>
  %m = cleave.matmul %w, %w : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
  %r = cleave.binary add %m, %tied : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
  return %div, %r : tensor<8xf32>, tensor<8x8xf32>
}
