// RUN: cleave-opt %s --split-input-file --cleave-pipeline-unroll="micro-batches=2" | FileCheck %s

// Two micro-batches of a linear layer with an SGD update: the batch is
// sliced in halves, forward and backward run once per half, the weight
// gradients and the losses are summed in micro-batch order and halved,
// and the update runs once.
// CHECK-LABEL: func.func @train_step
// CHECK-SAME:    (%[[W:.*]]: tensor<3x4xf32> {{.*}}, %[[X:.*]]: tensor<8x4xf32> {{.*}}, %[[Y:.*]]: tensor<8x3xf32> {{.*}})
// CHECK:         %[[HALF:.*]] = cleave.constant dense<5.000000e-01> : tensor<f32>
// CHECK:         %[[X0:.*]] = cleave.slice %[[X]] {starts = array<i64: 0, 0>, strides = array<i64: 1, 1>} : tensor<8x4xf32> -> tensor<4x4xf32>
// CHECK-NEXT:    %[[Y0:.*]] = cleave.slice %[[Y]] {starts = array<i64: 0, 0>, strides = array<i64: 1, 1>} : tensor<8x3xf32> -> tensor<4x3xf32>
// CHECK-NEXT:    %[[P0:.*]] = cleave.matmul %[[X0]], %[[W]] {cleave.fwd_id = 0 : i64, transpose_b}
// CHECK-NEXT:    %[[D0:.*]] = cleave.binary sub %[[P0]], %[[Y0]] {cleave.fwd_id = 1 : i64}
// CHECK-NEXT:    %[[L0:.*]] = cleave.reduce sum
// CHECK-NEXT:    %[[G0:.*]] = cleave.matmul %[[D0]], %[[X0]] {cleave.bwd_of = 0 : i64, transpose_a}
// CHECK-NEXT:    %[[X1:.*]] = cleave.slice %[[X]] {starts = array<i64: 4, 0>, strides = array<i64: 1, 1>} : tensor<8x4xf32> -> tensor<4x4xf32>
// CHECK-NEXT:    %[[Y1:.*]] = cleave.slice %[[Y]] {starts = array<i64: 4, 0>, strides = array<i64: 1, 1>} : tensor<8x3xf32> -> tensor<4x3xf32>
// CHECK-NEXT:    %[[P1:.*]] = cleave.matmul %[[X1]], %[[W]] {cleave.fwd_id = 0 : i64, transpose_b}
// CHECK-NEXT:    %[[D1:.*]] = cleave.binary sub %[[P1]], %[[Y1]] {cleave.fwd_id = 1 : i64}
// CHECK-NEXT:    %[[L1:.*]] = cleave.reduce sum
// CHECK-NEXT:    %[[G1:.*]] = cleave.matmul %[[D1]], %[[X1]] {cleave.bwd_of = 0 : i64, transpose_a}
// CHECK-NEXT:    %[[LS:.*]] = cleave.binary add %[[L0]], %[[L1]]
// CHECK-NEXT:    %[[GS:.*]] = cleave.binary add %[[G0]], %[[G1]]
// CHECK-NEXT:    %[[LOSS:.*]] = cleave.binary mul %[[LS]], %[[HALF]]
// CHECK-NEXT:    %[[G:.*]] = cleave.binary mul %[[GS]], %[[HALF]]
// CHECK-NEXT:    %[[STEP:.*]] = cleave.binary mul %[[G]], %{{.*}} {cleave.update_of = 0 : i64}
// CHECK-NEXT:    %[[NEW:.*]] = cleave.binary sub %[[W]], %[[STEP]] {cleave.update_of = 0 : i64}
// CHECK-NEXT:    return %[[NEW]], %[[LOSS]]
func.func @train_step(%w: tensor<3x4xf32> {cleave.param = #cleave.param<"w", trainable>},
                      %x: tensor<8x4xf32> {cleave.input = "x"},
                      %y: tensor<8x3xf32> {cleave.input = "y"})
    -> (tensor<3x4xf32> {cleave.updates = 0 : i64}, tensor<f32> {cleave.loss}) {
  %lr = cleave.constant dense<0.1> : tensor<f32>
  %p = cleave.matmul %x, %w {cleave.fwd_id = 0 : i64, transpose_b} : (tensor<8x4xf32>, tensor<3x4xf32>) -> tensor<8x3xf32>
  %d = cleave.binary sub %p, %y {cleave.fwd_id = 1 : i64} : (tensor<8x3xf32>, tensor<8x3xf32>) -> tensor<8x3xf32>
  %l = cleave.reduce sum %d {axes = array<i64: 0, 1>, cleave.fwd_id = 2 : i64} : tensor<8x3xf32> -> tensor<f32>
  %g = cleave.matmul %d, %x {cleave.bwd_of = 0 : i64, transpose_a} : (tensor<8x3xf32>, tensor<8x4xf32>) -> tensor<3x4xf32>
  %s = cleave.binary mul %g, %lr {cleave.update_of = 0 : i64} : (tensor<3x4xf32>, tensor<f32>) -> tensor<3x4xf32>
  %n = cleave.binary sub %w, %s {cleave.update_of = 0 : i64} : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  return %n, %l : tensor<3x4xf32>, tensor<f32>
}

// -----

// Data parallelism: the gradient's all-reduce has only update users, so it
// moves behind the micro-batch sum and runs once per step (with the slice
// before it, which commutes with the sum); a buffer the
// forward updates (a running statistic) passes from micro-batch 0 to 1;
// the dropout mask of micro-batch m draws stream 3 * 2 + m.
// CHECK-LABEL: func.func @train_step
// CHECK-SAME:    (%[[W:.*]]: tensor<3x4xf32> {{.*}}, %[[R:.*]]: tensor<4xf32> {{.*}}, %[[X:.*]]: tensor<4x4xf32> {{.*}})
// CHECK:         %[[X0:.*]] = cleave.slice %[[X]] {{.*}} : tensor<4x4xf32> -> tensor<2x4xf32>
// CHECK-NEXT:    cleave.random_mask {{.*}}stream = 6 : i64} : tensor<2x4xf32>
// CHECK:         %[[R0:.*]] = cleave.binary add %[[R]], %{{.*}} {cleave.fwd_id = 2 : i64}
// CHECK:         %[[G0:.*]] = cleave.matmul {{.*}} {cleave.bwd_of = 0 : i64, transpose_a}
// CHECK-NOT:     shard.all_reduce
// CHECK:         cleave.slice %[[X]] {starts = array<i64: 2, 0>
// CHECK-NEXT:    cleave.random_mask {{.*}}stream = 7 : i64} : tensor<2x4xf32>
// CHECK:         %[[R1:.*]] = cleave.binary add %[[R0]], %{{.*}} {cleave.fwd_id = 2 : i64}
// CHECK:         %[[G1:.*]] = cleave.matmul {{.*}} {cleave.bwd_of = 0 : i64, transpose_a}
// CHECK-NEXT:    %[[GS:.*]] = cleave.binary add %[[G0]], %[[G1]]
// CHECK-NEXT:    %[[G:.*]] = cleave.binary mul %[[GS]]
// CHECK-NEXT:    %[[G3:.*]] = cleave.slice %[[G]]
// CHECK-NEXT:    %[[RED:.*]] = shard.all_reduce %[[G3]] on @grid grid_axes = [0]
// CHECK-NEXT:    %[[NEW:.*]] = cleave.binary sub %[[W]], %[[RED]] {cleave.update_of = 0 : i64}
// CHECK-NEXT:    return %[[NEW]], %[[R1]]
shard.grid @grid(shape = 2) {cleave.axis_names = ["dp"]}
func.func @train_step(%w: tensor<3x4xf32> {cleave.param = #cleave.param<"w", trainable>},
                      %r: tensor<4xf32> {cleave.param = #cleave.param<"r", buffer>},
                      %x: tensor<4x4xf32> {cleave.input = "x"})
    -> (tensor<3x4xf32> {cleave.updates = 0 : i64}, tensor<4xf32> {cleave.updates = 1 : i64}) {
  %mask = cleave.random_mask {keep_probability = 5.000000e-01 : f64, stream = 3 : i64, cleave.fwd_id = 0 : i64} : tensor<4x4xf32>
  %xd = cleave.binary mul %x, %mask {cleave.fwd_id = 1 : i64} : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %m = cleave.reduce sum %xd {axes = array<i64: 0>, cleave.fwd_id = 3 : i64} : tensor<4x4xf32> -> tensor<4xf32>
  %r1 = cleave.binary add %r, %m {cleave.fwd_id = 2 : i64} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %g = cleave.matmul %xd, %xd {cleave.bwd_of = 0 : i64, transpose_a} : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %g3 = cleave.slice %g {starts = array<i64: 0, 0>, strides = array<i64: 1, 1>, cleave.bwd_of = 0 : i64} : tensor<4x4xf32> -> tensor<3x4xf32>
  %a = shard.all_reduce %g3 on @grid grid_axes = [0] : tensor<3x4xf32> -> tensor<3x4xf32>
  %n = cleave.binary sub %w, %a {cleave.update_of = 0 : i64} : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  return %n, %r1 : tensor<3x4xf32>, tensor<4xf32>
}
