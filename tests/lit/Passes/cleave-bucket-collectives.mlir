// RUN: cleave-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(cleave-bucket-collectives))' | FileCheck %s
// RUN: cleave-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(cleave-bucket-collectives{bucket-bytes=64}))' | FileCheck %s --check-prefix=SMALL
// RUN: cleave-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(cleave-bucket-collectives{bucket-bytes=0}))' | FileCheck %s --check-prefix=OFF
// RUN: cleave-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(cleave-bucket-collectives{bucket-bytes=80}))' | FileCheck %s --check-prefix=LAYERS
// RUN: not cleave-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(cleave-bucket-collectives{bucket-bytes=-1}))' 2>&1 | FileCheck %s --check-prefix=NEGATIVE

// NEGATIVE: bucket-bytes must be 0 (off) or positive, got -1

// Three gradients of different shapes (32 + 12 + 4 bytes) share one
// message: flattened, joined, reduced once, cut apart and reshaped back.
// The merged op goes right after the last gradient's definition.
// CHECK-LABEL: func.func @merge
// CHECK:         %[[A:.*]] = cleave.unary neg %arg0 : tensor<4x2xf32>
// CHECK:         %[[B:.*]] = cleave.unary neg %arg1 : tensor<3xf32>
// CHECK:         %[[C:.*]] = cleave.unary neg %arg2 : tensor<f32>
// CHECK-NEXT:    %[[FA:.*]] = cleave.reshape %[[A]] : tensor<4x2xf32> to tensor<8xf32>
// CHECK-NEXT:    %[[FC:.*]] = cleave.reshape %[[C]] : tensor<f32> to tensor<1xf32>
// CHECK-NEXT:    %[[CAT:.*]] = cleave.concat %[[FA]], %[[B]], %[[FC]] {axis = 0 : i64} : (tensor<8xf32>, tensor<3xf32>, tensor<1xf32>) -> tensor<12xf32>
// CHECK-NEXT:    %[[SUM:.*]] = shard.all_reduce %[[CAT]] on @grid grid_axes = [0] : tensor<12xf32> -> tensor<12xf32>
// CHECK-NEXT:    %[[SA:.*]] = cleave.slice %[[SUM]] {starts = array<i64: 0>, strides = array<i64: 1>} : tensor<12xf32> -> tensor<8xf32>
// CHECK-NEXT:    %[[RA:.*]] = cleave.reshape %[[SA]] : tensor<8xf32> to tensor<4x2xf32>
// CHECK-NEXT:    %[[RB:.*]] = cleave.slice %[[SUM]] {starts = array<i64: 8>, strides = array<i64: 1>} : tensor<12xf32> -> tensor<3xf32>
// CHECK-NEXT:    %[[SC:.*]] = cleave.slice %[[SUM]] {starts = array<i64: 11>, strides = array<i64: 1>} : tensor<12xf32> -> tensor<1xf32>
// CHECK-NEXT:    %[[RC:.*]] = cleave.reshape %[[SC]] : tensor<1xf32> to tensor<f32>
// CHECK-NOT:     shard.all_reduce
// CHECK:         return %[[RA]], %[[RB]], %[[RC]]
// With a 64-byte limit all three (48 bytes) still fit.
// SMALL-LABEL: func.func @merge
// SMALL-COUNT-1: shard.all_reduce
// SMALL-NOT:     shard.all_reduce
// Off: nothing changes.
// OFF-LABEL: func.func @merge
// OFF-COUNT-3: shard.all_reduce
// OFF-NOT:     cleave.concat
shard.grid @grid(shape = 4) {cleave.axis_names = ["dp"]}
func.func @merge(%x: tensor<4x2xf32>, %y: tensor<3xf32>, %z: tensor<f32>)
    -> (tensor<4x2xf32>, tensor<3xf32>, tensor<f32>) {
  %ga = cleave.unary neg %x : tensor<4x2xf32>
  %a = shard.all_reduce %ga on @grid grid_axes = [0] : tensor<4x2xf32> -> tensor<4x2xf32>
  %gb = cleave.unary neg %y : tensor<3xf32>
  %b = shard.all_reduce %gb on @grid grid_axes = [0] : tensor<3xf32> -> tensor<3xf32>
  %gc = cleave.unary neg %z : tensor<f32>
  %c = shard.all_reduce %gc on @grid grid_axes = [0] : tensor<f32> -> tensor<f32>
  return %a, %b, %c : tensor<4x2xf32>, tensor<3xf32>, tensor<f32>
}

// -----

// The size limit: three 32-byte gradients under a 64-byte limit make one
// bucket of two and a lone all-reduce that stays as it was.
// CHECK-LABEL: func.func @limit
// CHECK-COUNT-1: shard.all_reduce
// CHECK-NOT:     shard.all_reduce
// SMALL-LABEL: func.func @limit
// SMALL:         %[[CAT:.*]] = cleave.concat %{{.*}}, %{{.*}} {axis = 0 : i64} : (tensor<8xf32>, tensor<8xf32>) -> tensor<16xf32>
// SMALL-NEXT:    shard.all_reduce %[[CAT]] on @grid grid_axes = [0] : tensor<16xf32> -> tensor<16xf32>
// SMALL:         %[[GC:.*]] = cleave.unary neg %arg2
// SMALL-NEXT:    shard.all_reduce %[[GC]] on @grid grid_axes = [0] : tensor<8xf32> -> tensor<8xf32>
// SMALL-NOT:     shard.all_reduce
// OFF-LABEL: func.func @limit
// OFF-COUNT-3: shard.all_reduce
shard.grid @grid(shape = 4) {cleave.axis_names = ["dp"]}
func.func @limit(%x: tensor<8xf32>, %y: tensor<8xf32>, %z: tensor<8xf32>)
    -> (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) {
  %ga = cleave.unary neg %x : tensor<8xf32>
  %a = shard.all_reduce %ga on @grid grid_axes = [0] : tensor<8xf32> -> tensor<8xf32>
  %gb = cleave.unary neg %y : tensor<8xf32>
  %b = shard.all_reduce %gb on @grid grid_axes = [0] : tensor<8xf32> -> tensor<8xf32>
  %gc = cleave.unary neg %z : tensor<8xf32>
  %c = shard.all_reduce %gc on @grid grid_axes = [0] : tensor<8xf32> -> tensor<8xf32>
  return %a, %b, %c : tensor<8xf32>, tensor<8xf32>, tensor<8xf32>
}

// -----

// Different grid axes are different groups: never merged. The [1] reduce
// between the two [0] ones also keeps them apart, as collectives never
// cross each other; the two [1] reduces at the end do merge.
// SMALL-LABEL: func.func @axes
// OFF-LABEL: func.func @axes
// CHECK-LABEL: func.func @axes
// CHECK:         shard.all_reduce %{{.*}} grid_axes = [0] : tensor<4xf32>
// CHECK-NEXT:    cleave.unary
// CHECK-NEXT:    shard.all_reduce %{{.*}} grid_axes = [1] : tensor<4xf32>
// CHECK-NEXT:    cleave.unary
// CHECK-NEXT:    shard.all_reduce %{{.*}} grid_axes = [0] : tensor<4xf32>
// CHECK:         cleave.concat
// CHECK-NEXT:    shard.all_reduce %{{.*}} grid_axes = [1] : tensor<8xf32>
// CHECK-NOT:     shard.all_reduce
shard.grid @grid(shape = 2x2) {cleave.axis_names = ["dp", "tp"]}
func.func @axes(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %g0 = cleave.unary neg %x : tensor<4xf32>
  %a = shard.all_reduce %g0 on @grid grid_axes = [0] : tensor<4xf32> -> tensor<4xf32>
  %g1 = cleave.unary exp %x : tensor<4xf32>
  %b = shard.all_reduce %g1 on @grid grid_axes = [1] : tensor<4xf32> -> tensor<4xf32>
  %g2 = cleave.unary abs %x : tensor<4xf32>
  %c = shard.all_reduce %g2 on @grid grid_axes = [0] : tensor<4xf32> -> tensor<4xf32>
  %g3 = cleave.unary sqrt %x : tensor<4xf32>
  %d = shard.all_reduce %g3 on @grid grid_axes = [1] : tensor<4xf32> -> tensor<4xf32>
  %g4 = cleave.unary tanh %x : tensor<4xf32>
  %e = shard.all_reduce %g4 on @grid grid_axes = [1] : tensor<4xf32> -> tensor<4xf32>
  return %a, %b, %c, %d, %e : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// A result read before the next gradient exists: the pure reader moves down
// behind the merged op, which goes after the last gradient's definition.
// CHECK-LABEL: func.func @early_use
// CHECK:         %[[GA:.*]] = cleave.unary neg %arg0
// CHECK-NEXT:    %[[GB:.*]] = cleave.unary exp %arg1
// CHECK-NEXT:    %[[CAT:.*]] = cleave.concat %[[GA]], %[[GB]]
// CHECK-NEXT:    %[[SUM:.*]] = shard.all_reduce %[[CAT]]
// CHECK-NEXT:    %[[A:.*]] = cleave.slice %[[SUM]] {starts = array<i64: 0>
// CHECK-NEXT:    %[[B:.*]] = cleave.slice %[[SUM]] {starts = array<i64: 4>
// CHECK-NEXT:    %[[T:.*]] = cleave.reshape %[[A]] : tensor<4xf32> to tensor<2x2xf32>
// CHECK-NEXT:    %[[U:.*]] = cleave.transpose %[[T]] [1, 0]
// CHECK-NEXT:    return %[[U]], %[[B]]
shard.grid @grid(shape = 4) {cleave.axis_names = ["dp"]}
func.func @early_use(%x: tensor<4xf32>, %y: tensor<4xf32>) -> (tensor<2x2xf32>, tensor<4xf32>) {
  %ga = cleave.unary neg %x : tensor<4xf32>
  %a = shard.all_reduce %ga on @grid grid_axes = [0] : tensor<4xf32> -> tensor<4xf32>
  %t = cleave.reshape %a : tensor<4xf32> to tensor<2x2xf32>
  %u = cleave.transpose %t [1, 0] : tensor<2x2xf32> -> tensor<2x2xf32>
  %gb = cleave.unary exp %y : tensor<4xf32>
  %b = shard.all_reduce %gb on @grid grid_axes = [0] : tensor<4xf32> -> tensor<4xf32>
  return %u, %b : tensor<2x2xf32>, tensor<4xf32>
}

// -----

// The second gradient is computed from the first one's reduced value: no
// single place serves both, so the two all-reduces stay as they are.
// CHECK-LABEL: func.func @dependent
// CHECK:         %[[A:.*]] = shard.all_reduce %{{.*}} : tensor<4xf32> -> tensor<4xf32>
// CHECK-NEXT:    %[[U:.*]] = cleave.unary neg %[[A]]
// CHECK-NEXT:    %[[GB:.*]] = cleave.binary add %[[U]], %arg1
// CHECK-NEXT:    %[[B:.*]] = shard.all_reduce %[[GB]]
// CHECK-NOT:     cleave.concat
shard.grid @grid(shape = 4) {cleave.axis_names = ["dp"]}
func.func @dependent(%x: tensor<4xf32>, %y: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %ga = cleave.unary exp %x : tensor<4xf32>
  %a = shard.all_reduce %ga on @grid grid_axes = [0] : tensor<4xf32> -> tensor<4xf32>
  %u = cleave.unary neg %a : tensor<4xf32>
  %gb = cleave.binary add %u, %y : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %b = shard.all_reduce %gb on @grid grid_axes = [0] : tensor<4xf32> -> tensor<4xf32>
  return %a, %b : tensor<4xf32>, tensor<4xf32>
}

// -----

// Another collective in between is a barrier: an all-gather between two
// all-reduces keeps them apart (and nothing moves across it). The first
// all-reduce moves up to its gradient; the second cannot cross the gather.
// CHECK-LABEL: func.func @barrier
// CHECK:         %[[GA:.*]] = cleave.unary neg
// CHECK-NEXT:    shard.all_reduce %[[GA]]
// CHECK-NEXT:    cleave.unary exp
// CHECK-NEXT:    shard.all_gather
// CHECK-NEXT:    cleave.unary abs
// CHECK-NEXT:    shard.all_reduce
// CHECK-NOT:     cleave.concat
shard.grid @grid(shape = 4) {cleave.axis_names = ["dp"]}
func.func @barrier(%x: tensor<4xf32>, %y: tensor<4xf32>, %w: tensor<2xf32>)
    -> (tensor<4xf32>, tensor<8xf32>, tensor<4xf32>) {
  %ga = cleave.unary neg %x : tensor<4xf32>
  %gb = cleave.unary exp %y : tensor<4xf32>
  %a = shard.all_reduce %ga on @grid grid_axes = [0] : tensor<4xf32> -> tensor<4xf32>
  %w8 = shard.all_gather %w on @grid grid_axes = [0] gather_axis = 0 : tensor<2xf32> -> tensor<8xf32>
  %gc = cleave.unary abs %gb : tensor<4xf32>
  %c = shard.all_reduce %gc on @grid grid_axes = [0] : tensor<4xf32> -> tensor<4xf32>
  return %a, %w8, %c : tensor<4xf32>, tensor<8xf32>, tensor<4xf32>
}

// -----

// ZeRO gradients: reduce-scatters of the leading dimension merge too. Each
// input is seen as [ranks, block], joined along the blocks, so that rank
// p's part of every gradient lies in row p of one scattered message.
// CHECK-LABEL: func.func @scatter
// CHECK:         %[[FA:.*]] = cleave.reshape %{{.*}} : tensor<4x2xf32> to tensor<2x4xf32>
// CHECK-NEXT:    %[[FB:.*]] = cleave.reshape %{{.*}} : tensor<1x6xf32> to tensor<2x3xf32>
// CHECK-NEXT:    %[[CAT:.*]] = cleave.concat %[[FA]], %[[FB]] {axis = 1 : i64} : (tensor<2x4xf32>, tensor<2x3xf32>) -> tensor<2x7xf32>
// CHECK-NEXT:    %[[RS:.*]] = shard.reduce_scatter %[[CAT]] on @grid grid_axes = [0] scatter_axis = 0 : tensor<2x7xf32> -> tensor<1x7xf32>
// CHECK-NEXT:    %[[SA:.*]] = cleave.slice %[[RS]] {starts = array<i64: 0, 0>, strides = array<i64: 1, 1>} : tensor<1x7xf32> -> tensor<1x4xf32>
// CHECK-NEXT:    %[[A:.*]] = cleave.reshape %[[SA]] : tensor<1x4xf32> to tensor<2x2xf32>
// CHECK-NEXT:    %[[B:.*]] = cleave.slice %[[RS]] {starts = array<i64: 0, 4>, strides = array<i64: 1, 1>} : tensor<1x7xf32> -> tensor<1x3xf32>
// CHECK-NOT:     shard.reduce_scatter
// CHECK:         return %[[A]], %[[B]]
shard.grid @grid(shape = 2) {cleave.axis_names = ["dp"]}
func.func @scatter(%x: tensor<4x2xf32>, %y: tensor<1x6xf32>) -> (tensor<2x2xf32>, tensor<1x3xf32>) {
  %ga = cleave.unary neg %x : tensor<4x2xf32>
  %a = shard.reduce_scatter %ga on @grid grid_axes = [0] scatter_axis = 0 : tensor<4x2xf32> -> tensor<2x2xf32>
  %gb = cleave.unary neg %y : tensor<1x6xf32>
  %b = shard.reduce_scatter %gb on @grid grid_axes = [0] scatter_axis = 1 : tensor<1x6xf32> -> tensor<1x3xf32>
  return %a, %b : tensor<2x2xf32>, tensor<1x3xf32>
}

// -----

// A reduce-scatter of an inner dimension: rank p's part of [outer, ranks,
// block] is [:, p, :], so the input is transposed to [ranks, outer, block]
// before it joins; the result's rows come back in its own layout. An
// all-slice sends no message and does not close the bucket.
// CHECK-LABEL: func.func @scatter_inner
// CHECK:         %[[V:.*]] = cleave.reshape %{{.*}} : tensor<3x4x5xf32> to tensor<3x2x10xf32>
// CHECK-NEXT:    %[[T:.*]] = cleave.transpose %[[V]] [1, 0, 2] : tensor<3x2x10xf32> -> tensor<2x3x10xf32>
// CHECK-NEXT:    %[[FA:.*]] = cleave.reshape %[[T]] : tensor<2x3x10xf32> to tensor<2x30xf32>
// CHECK-NEXT:    %[[FB:.*]] = cleave.reshape %{{.*}} : tensor<6xf32> to tensor<2x3xf32>
// CHECK-NEXT:    %[[CAT:.*]] = cleave.concat %[[FA]], %[[FB]] {axis = 1 : i64} : (tensor<2x30xf32>, tensor<2x3xf32>) -> tensor<2x33xf32>
// CHECK-NEXT:    %[[RS:.*]] = shard.reduce_scatter %[[CAT]] on @grid grid_axes = [0] scatter_axis = 0 : tensor<2x33xf32> -> tensor<1x33xf32>
// CHECK-NEXT:    %[[SA:.*]] = cleave.slice %[[RS]] {starts = array<i64: 0, 0>, strides = array<i64: 1, 1>} : tensor<1x33xf32> -> tensor<1x30xf32>
// CHECK-NEXT:    %[[A:.*]] = cleave.reshape %[[SA]] : tensor<1x30xf32> to tensor<3x2x5xf32>
// CHECK-NOT:     shard.reduce_scatter
// CHECK:         return %[[A]]
shard.grid @grid(shape = 2) {cleave.axis_names = ["dp"]}
func.func @scatter_inner(%x: tensor<3x4x5xf32>, %y: tensor<6xf32>, %w: tensor<8xf32>)
    -> (tensor<3x2x5xf32>, tensor<4xf32>, tensor<3xf32>) {
  %ga = cleave.unary neg %x : tensor<3x4x5xf32>
  %a = shard.reduce_scatter %ga on @grid grid_axes = [0] scatter_axis = 1 : tensor<3x4x5xf32> -> tensor<3x2x5xf32>
  %ws = shard.all_slice %w on @grid grid_axes = [0] slice_axis = 0 : tensor<8xf32> -> tensor<4xf32>
  %gb = cleave.unary neg %y : tensor<6xf32>
  %b = shard.reduce_scatter %gb on @grid grid_axes = [0] scatter_axis = 0 : tensor<6xf32> -> tensor<3xf32>
  return %a, %ws, %b : tensor<3x2x5xf32>, tensor<4xf32>, tensor<3xf32>
}

// -----

// Three layers' backward: gradients come in reverse parameter order (layer
// 3 first), while the partitioner left their all-reduces after the
// backward in parameter order. Buckets are formed in readiness order, each
// right after its last gradient: with one layer per bucket (80 bytes) the
// first starts before layer 2's backward and the second before layer 1's.
// LAYERS-LABEL: func.func @layers
// LAYERS:         %[[GW3:.*]] = cleave.matmul %arg7, %arg6 {transpose_a}
// LAYERS-NEXT:    %[[GB3:.*]] = cleave.reduce sum %arg7
// LAYERS-NEXT:    %[[FW3:.*]] = cleave.reshape %[[GW3]] : tensor<4x4xf32> to tensor<16xf32>
// LAYERS-NEXT:    %[[CAT3:.*]] = cleave.concat %[[FW3]], %[[GB3]] {axis = 0 : i64} : (tensor<16xf32>, tensor<4xf32>) -> tensor<20xf32>
// LAYERS-NEXT:    %[[SUM3:.*]] = shard.all_reduce %[[CAT3]] on @grid grid_axes = [0] : tensor<20xf32> -> tensor<20xf32>
// LAYERS:         %[[DX3:.*]] = cleave.matmul %arg7, %arg4
// LAYERS-NEXT:    %[[GW2:.*]] = cleave.matmul %[[DX3]], %arg6 {transpose_a}
// LAYERS-NEXT:    %[[GB2:.*]] = cleave.reduce sum %[[DX3]]
// LAYERS-NEXT:    %[[FW2:.*]] = cleave.reshape %[[GW2]]
// LAYERS-NEXT:    %[[CAT2:.*]] = cleave.concat %[[FW2]], %[[GB2]]
// LAYERS-NEXT:    %[[SUM2:.*]] = shard.all_reduce %[[CAT2]] {{.*}} : tensor<20xf32> -> tensor<20xf32>
// LAYERS:         %[[DX2:.*]] = cleave.matmul %[[DX3]], %arg2
// LAYERS-NEXT:    %[[GW1:.*]] = cleave.matmul %[[DX2]], %arg6 {transpose_a}
// LAYERS-NEXT:    %[[GB1:.*]] = cleave.reduce sum %[[DX2]]
// LAYERS-NEXT:    %[[FW1:.*]] = cleave.reshape %[[GW1]]
// LAYERS-NEXT:    %[[CAT1:.*]] = cleave.concat %[[FW1]], %[[GB1]]
// LAYERS-NEXT:    %[[SUM1:.*]] = shard.all_reduce %[[CAT1]] {{.*}} : tensor<20xf32> -> tensor<20xf32>
// LAYERS-NOT:     shard.all_reduce
// LAYERS:         cleave.binary sub %arg0
// With the default limit all six gradients make one bucket, right after the
// last one (layer 1's bias), in readiness order.
// CHECK-LABEL: func.func @layers
// CHECK-COUNT-3: cleave.matmul %{{.*}}, %arg6 {transpose_a}
// CHECK-NEXT:    %[[GB1:.*]] = cleave.reduce sum
// CHECK-NEXT:    cleave.reshape
// CHECK-NEXT:    cleave.reshape
// CHECK-NEXT:    cleave.reshape
// CHECK-NEXT:    %[[CAT:.*]] = cleave.concat %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[GB1]] {axis = 0 : i64} : (tensor<16xf32>, tensor<4xf32>, tensor<16xf32>, tensor<4xf32>, tensor<16xf32>, tensor<4xf32>) -> tensor<60xf32>
// CHECK-NEXT:    shard.all_reduce %[[CAT]]
// CHECK-NOT:     shard.all_reduce
// Off: the all-reduces stay after the backward, in parameter order.
// OFF-LABEL: func.func @layers
// OFF-COUNT-3:  cleave.matmul %{{.*}}, %arg6 {transpose_a}
// OFF-NEXT:     cleave.reduce sum
// OFF-NEXT:    shard.all_reduce %{{.*}} : tensor<4x4xf32>
// OFF-COUNT-5: shard.all_reduce
shard.grid @grid(shape = 2) {cleave.axis_names = ["dp"]}
func.func @layers(%w1: tensor<4x4xf32>, %b1: tensor<4xf32>, %w2: tensor<4x4xf32>, %b2: tensor<4xf32>,
                  %w3: tensor<4x4xf32>, %b3: tensor<4xf32>, %x: tensor<4x4xf32>, %dy: tensor<4x4xf32>)
    -> (tensor<4x4xf32>, tensor<4xf32>, tensor<4x4xf32>, tensor<4xf32>, tensor<4x4xf32>, tensor<4xf32>) {
  %gw3 = cleave.matmul %dy, %x {transpose_a} : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %gb3 = cleave.reduce sum %dy {axes = array<i64: 0>} : tensor<4x4xf32> -> tensor<4xf32>
  %dx3 = cleave.matmul %dy, %w3 : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %gw2 = cleave.matmul %dx3, %x {transpose_a} : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %gb2 = cleave.reduce sum %dx3 {axes = array<i64: 0>} : tensor<4x4xf32> -> tensor<4xf32>
  %dx2 = cleave.matmul %dx3, %w2 : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %gw1 = cleave.matmul %dx2, %x {transpose_a} : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %gb1 = cleave.reduce sum %dx2 {axes = array<i64: 0>} : tensor<4x4xf32> -> tensor<4xf32>
  %rw1 = shard.all_reduce %gw1 on @grid grid_axes = [0] : tensor<4x4xf32> -> tensor<4x4xf32>
  %rb1 = shard.all_reduce %gb1 on @grid grid_axes = [0] : tensor<4xf32> -> tensor<4xf32>
  %rw2 = shard.all_reduce %gw2 on @grid grid_axes = [0] : tensor<4x4xf32> -> tensor<4x4xf32>
  %rb2 = shard.all_reduce %gb2 on @grid grid_axes = [0] : tensor<4xf32> -> tensor<4xf32>
  %rw3 = shard.all_reduce %gw3 on @grid grid_axes = [0] : tensor<4x4xf32> -> tensor<4x4xf32>
  %rb3 = shard.all_reduce %gb3 on @grid grid_axes = [0] : tensor<4xf32> -> tensor<4xf32>
  %n1 = cleave.binary sub %w1, %rw1 : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %m1 = cleave.binary sub %b1, %rb1 : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %n2 = cleave.binary sub %w2, %rw2 : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %m2 = cleave.binary sub %b2, %rb2 : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %n3 = cleave.binary sub %w3, %rw3 : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %m3 = cleave.binary sub %b3, %rb3 : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %n1, %m1, %n2, %m2, %n3, %m3 : tensor<4x4xf32>, tensor<4xf32>, tensor<4x4xf32>, tensor<4xf32>, tensor<4x4xf32>, tensor<4xf32>
}

// -----

// Only gradient collectives move: %s feeds a product (a tensor-parallel
// sum of the backward), so it stays where it is (not up to %p) and fences the gradient
// all-reduce %b, which moves up to right behind it, not up to its gradient.
// CHECK-LABEL: func.func @fence
// CHECK:         %[[GB:.*]] = cleave.unary neg %arg1
// CHECK-NEXT:    %[[P:.*]] = cleave.unary exp %arg0
// CHECK-NEXT:    cleave.unary abs %arg1
// CHECK-NEXT:    %[[S:.*]] = shard.all_reduce %[[P]]
// CHECK-NEXT:    shard.all_reduce %[[GB]]
// CHECK-NEXT:    cleave.matmul %[[S]], %arg0
// OFF-LABEL: func.func @fence
// SMALL-LABEL: func.func @fence
// LAYERS-LABEL: func.func @fence
shard.grid @grid(shape = 2x2) {cleave.axis_names = ["dp", "tp"]}
func.func @fence(%x: tensor<4x4xf32>, %y: tensor<4xf32>) -> (tensor<4x4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %gb = cleave.unary neg %y : tensor<4xf32>
  %p = cleave.unary exp %x : tensor<4x4xf32>
  %q = cleave.unary abs %y : tensor<4xf32>
  %s = shard.all_reduce %p on @grid grid_axes = [1] : tensor<4x4xf32> -> tensor<4x4xf32>
  %m = cleave.matmul %s, %x : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %b = shard.all_reduce %gb on @grid grid_axes = [0] : tensor<4xf32> -> tensor<4xf32>
  return %m, %b, %q : tensor<4x4xf32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// A sum over the pipeline axis (a tied weight's gradient across stages) is
// ordered against the stages' transfers: it keeps its place and fences the
// dp gradient all-reduce behind it.
// CHECK-LABEL: func.func @pipeline_axis
// CHECK:         %[[GP:.*]] = cleave.unary neg %arg0
// CHECK-NEXT:    %[[GD:.*]] = cleave.unary exp %arg0
// CHECK-NEXT:    cleave.unary abs %arg0
// CHECK-NEXT:    shard.all_reduce %[[GP]] on @grid grid_axes = [0]
// CHECK-NEXT:    shard.all_reduce %[[GD]] on @grid grid_axes = [1]
// OFF-LABEL: func.func @pipeline_axis
// SMALL-LABEL: func.func @pipeline_axis
// LAYERS-LABEL: func.func @pipeline_axis
shard.grid @grid(shape = 2x2) {cleave.axis_names = ["pp", "dp"]}
func.func @pipeline_axis(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %gp = cleave.unary neg %x : tensor<4xf32>
  %gd = cleave.unary exp %x : tensor<4xf32>
  %q = cleave.unary abs %x : tensor<4xf32>
  %p = shard.all_reduce %gp on @grid grid_axes = [0] : tensor<4xf32> -> tensor<4xf32>
  %d = shard.all_reduce %gd on @grid grid_axes = [1] : tensor<4xf32> -> tensor<4xf32>
  return %p, %d, %q : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}
