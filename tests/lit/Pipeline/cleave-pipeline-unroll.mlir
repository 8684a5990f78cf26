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

// -----

// ZeRO: the gradient is reduce-scattered, the parameter's block updated and
// all-gathered for the return. All three run once per step, on the
// micro-batch mean (the all-gather only the return reads belongs to the
// update).
// CHECK-LABEL: func.func @train_step
// CHECK:         %[[G0:.*]] = cleave.matmul
// CHECK:         %[[G1:.*]] = cleave.matmul
// CHECK-NEXT:    %[[S:.*]] = cleave.binary add %[[G0]], %[[G1]]
// CHECK-NEXT:    %[[M:.*]] = cleave.binary mul %[[S]]
// CHECK-NEXT:    %[[RS:.*]] = shard.reduce_scatter %[[M]]
// CHECK-NEXT:    %[[WS:.*]] = shard.all_slice %arg0
// CHECK-NEXT:    %[[N:.*]] = cleave.binary sub %[[WS]], %[[RS]]
// CHECK-NEXT:    %[[FULL:.*]] = shard.all_gather %[[N]]
// CHECK-NEXT:    return %[[FULL]]
shard.grid @grid(shape = 2) {cleave.axis_names = ["dp"]}
func.func @train_step(%w: tensor<4x4xf32> {cleave.param = #cleave.param<"w", trainable>},
                      %x: tensor<4x4xf32> {cleave.input = "x"})
    -> (tensor<4x4xf32> {cleave.updates = 0 : i64}) {
  %g = cleave.matmul %x, %x {cleave.bwd_of = 0 : i64, transpose_a} : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %rs = shard.reduce_scatter %g on @grid grid_axes = [0] scatter_axis = 0 : tensor<4x4xf32> -> tensor<2x4xf32>
  %ws = shard.all_slice %w on @grid grid_axes = [0] slice_axis = 0 : tensor<4x4xf32> -> tensor<2x4xf32>
  %n = cleave.binary sub %ws, %rs {cleave.update_of = 0 : i64} : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  %full = shard.all_gather %n on @grid grid_axes = [0] gather_axis = 0 : tensor<2x4xf32> -> tensor<4x4xf32>
  return %full : tensor<4x4xf32>
}

// -----

// Two stages, two micro-batches, 1F1B: one function per stage. Stage 0
// runs F0.0 F0.1 B0.0 B0.1, stage 1 F1.0 B1.0 F1.1 B1.1. The relu output
// goes to stage 1 (transfer 0: tags 0 and 1), its gradient comes back
// (transfer 1: tags 2 and 3); each receive is posted one action before the
// action reading it, each send right after its action and waited for
// before the action after next (its buffer is then free again). The stage's update runs on the micro-batch mean (the gradient
// all-reduce over the stage grid's one dp device is dropped: it would copy
// and change nothing), the other stage's parameter is returned as is,
// the loss is summed over "pp", the first grid axis now.
// CHECK-LABEL: shard.grid @grid(shape = 2x1) {cleave.axis_names = ["pp", "dp"]}
// CHECK-LABEL: func.func @train_step_stage0
// CHECK-SAME:    cleave.input = "x", cleave.sharding = #shard<axisarray{{\[\[}}1], []]>
// CHECK:         %[[X0:.*]] = cleave.slice %arg2 {starts = array<i64: 0, 0>
// CHECK:         %[[A0:.*]] = cleave.unary relu
// CHECK-NEXT:    cleave.send_start %[[A0]] {axis = "pp", peer = 1 : i64, slot = 0 : i64, tag = 0 : i64} : tensor<2x4xf32>
// CHECK-NEXT:    %[[G0BUF:.*]] = cleave.recv_start {axis = "pp", peer = 1 : i64, slot = 1 : i64, tag = 2 : i64} : tensor<2x4xf32>
// CHECK-NEXT:    cleave.slice %arg2 {starts = array<i64: 2, 0>
// CHECK:         %[[A1:.*]] = cleave.unary relu
// CHECK-NEXT:    cleave.send_start %[[A1]] {axis = "pp", peer = 1 : i64, slot = 2 : i64, tag = 1 : i64}
// CHECK-NEXT:    %[[G1BUF:.*]] = cleave.recv_start {axis = "pp", peer = 1 : i64, slot = 3 : i64, tag = 3 : i64}
// CHECK-NEXT:    cleave.send_wait %[[A0]] {slot = 0 : i64}
// CHECK-NEXT:    %[[G0:.*]] = cleave.recv_wait %[[G0BUF]] {slot = 1 : i64}
// CHECK-NEXT:    cleave.binary mul %[[G0]], %[[A0]]
// CHECK-NEXT:    %[[W0:.*]] = cleave.matmul
// CHECK-NEXT:    cleave.send_wait %[[A1]] {slot = 2 : i64}
// CHECK-NEXT:    %[[G1:.*]] = cleave.recv_wait %[[G1BUF]] {slot = 3 : i64}
// CHECK-NEXT:    cleave.binary mul %[[G1]], %[[A1]]
// CHECK-NEXT:    %[[W1:.*]] = cleave.matmul
// CHECK-NEXT:    %[[SUM:.*]] = cleave.binary add %[[W0]], %[[W1]]
// CHECK-NOT:     cleave.send_wait
// CHECK:         %[[MEAN:.*]] = cleave.binary mul %[[SUM]]
// CHECK-NOT:     shard.all_reduce %[[MEAN]]
// CHECK:         %[[NEW:.*]] = cleave.binary sub %arg0
// CHECK-NEXT:    %[[ZERO:.*]] = cleave.constant dense<0.000000e+00> : tensor<f32>
// CHECK-NEXT:    %[[LOSS:.*]] = shard.all_reduce %[[ZERO]] on @grid grid_axes = [0]
// CHECK-NEXT:    return %[[NEW]], %arg1, %[[LOSS]]
// CHECK-LABEL: func.func @train_step_stage1
// CHECK-NEXT:    %[[B0:.*]] = cleave.recv_start {axis = "pp", peer = 0 : i64, slot = 0 : i64, tag = 0 : i64}
// CHECK-NEXT:    %[[IN0:.*]] = cleave.recv_wait %[[B0]] {slot = 0 : i64}
// CHECK-NEXT:    cleave.matmul %[[IN0]], %arg1
// CHECK-NEXT:    %[[L0:.*]] = cleave.reduce sum
// CHECK-NEXT:    %[[B1:.*]] = cleave.recv_start {axis = "pp", peer = 0 : i64, slot = 1 : i64, tag = 1 : i64}
// CHECK-NEXT:    cleave.matmul
// CHECK-NEXT:    %[[GA0:.*]] = cleave.matmul
// CHECK-NEXT:    cleave.send_start %[[GA0]] {axis = "pp", peer = 0 : i64, slot = 2 : i64, tag = 2 : i64}
// CHECK-NEXT:    %[[IN1:.*]] = cleave.recv_wait %[[B1]] {slot = 1 : i64}
// CHECK-NEXT:    cleave.matmul %[[IN1]], %arg1
// CHECK-NEXT:    %[[L1:.*]] = cleave.reduce sum
// CHECK-NEXT:    %[[LS:.*]] = cleave.binary add %[[L0]], %[[L1]]
// CHECK:         cleave.send_start %{{.*}} {axis = "pp", peer = 0 : i64, slot = 3 : i64, tag = 3 : i64}
// CHECK:         %[[LM:.*]] = cleave.binary mul %[[LS]]
// CHECK:         %[[NEW1:.*]] = cleave.binary sub %arg1
// CHECK-NEXT:    %[[LOSS1:.*]] = shard.all_reduce %[[LM]] on @grid grid_axes = [0]
// CHECK-NEXT:    return %arg0, %[[NEW1]], %[[LOSS1]]
module attributes {cleave.pipeline = {stages = 2 : i64, virtual_stages = 1 : i64, micro_batches = 2 : i64, schedule = "1f1b"}} {
  shard.grid @grid(shape = 1) {cleave.axis_names = ["dp"]}
  func.func @train_step(%w0: tensor<4x4xf32> {cleave.param = #cleave.param<"w0", trainable>, cleave.sharding = #shard<axisarray[[], []]>},
                        %w1: tensor<4x4xf32> {cleave.param = #cleave.param<"w1", trainable>, cleave.sharding = #shard<axisarray[[], []]>},
                        %x: tensor<4x4xf32> {cleave.input = "x", cleave.sharding = #shard<axisarray[[0], []]>},
                        %lr: tensor<f32> {cleave.step_scalar = "lr"})
      -> (tensor<4x4xf32> {cleave.updates = 0 : i64}, tensor<4x4xf32> {cleave.updates = 1 : i64}, tensor<f32> {cleave.loss}) {
    %h = cleave.matmul %x, %w0 {transpose_b, cleave.phase = "forward", cleave.stage = 0 : i64} : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
    %a = cleave.unary relu %h {cleave.phase = "forward", cleave.stage = 0 : i64} : tensor<4x4xf32>
    %z = cleave.matmul %a, %w1 {transpose_b, cleave.phase = "forward", cleave.stage = 1 : i64} : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
    %l = cleave.reduce sum %z {axes = array<i64: 0, 1>, cleave.phase = "forward", cleave.stage = 1 : i64} : tensor<4x4xf32> -> tensor<f32>
    %gw1 = cleave.matmul %z, %a {transpose_a, cleave.phase = "backward", cleave.stage = 1 : i64} : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
    %ga = cleave.matmul %z, %w1 {cleave.phase = "backward", cleave.stage = 1 : i64} : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
    %gh = cleave.binary mul %ga, %a {cleave.phase = "backward", cleave.stage = 0 : i64} : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
    %gw0 = cleave.matmul %gh, %x {transpose_a, cleave.phase = "backward", cleave.stage = 0 : i64} : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
    %r0 = shard.all_reduce %gw0 on @grid grid_axes = [0] : tensor<4x4xf32> -> tensor<4x4xf32>
    %s0 = cleave.binary mul %r0, %lr {cleave.phase = "update", cleave.stage = 0 : i64} : (tensor<4x4xf32>, tensor<f32>) -> tensor<4x4xf32>
    %n0 = cleave.binary sub %w0, %s0 {cleave.phase = "update", cleave.stage = 0 : i64} : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
    %s1 = cleave.binary mul %gw1, %lr {cleave.phase = "update", cleave.stage = 1 : i64} : (tensor<4x4xf32>, tensor<f32>) -> tensor<4x4xf32>
    %n1 = cleave.binary sub %w1, %s1 {cleave.phase = "update", cleave.stage = 1 : i64} : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
    return %n0, %n1, %l : tensor<4x4xf32>, tensor<4x4xf32>, tensor<f32>
  }
}

// -----

// GPipe: stage 1 runs both forwards before the backwards, so both
// activations are received before the first gradient is sent.
// CHECK-LABEL: func.func @train_step_stage1
// CHECK:         cleave.recv_start {axis = "pp", peer = 0 : i64, slot = 0 : i64, tag = 0 : i64}
// CHECK:         cleave.recv_start {axis = "pp", peer = 0 : i64, slot = 1 : i64, tag = 1 : i64}
// CHECK:         cleave.send_start %{{.*}} {axis = "pp", peer = 0 : i64, slot = 2 : i64, tag = 2 : i64}
// CHECK:         cleave.send_start %{{.*}} {axis = "pp", peer = 0 : i64, slot = 3 : i64, tag = 3 : i64}
module attributes {cleave.pipeline = {stages = 2 : i64, virtual_stages = 1 : i64, micro_batches = 2 : i64, schedule = "gpipe"}} {
  shard.grid @grid(shape = 1) {cleave.axis_names = ["dp"]}
  func.func @train_step(%w0: tensor<4x4xf32> {cleave.param = #cleave.param<"w0", trainable>, cleave.sharding = #shard<axisarray[[], []]>},
                        %w1: tensor<4x4xf32> {cleave.param = #cleave.param<"w1", trainable>, cleave.sharding = #shard<axisarray[[], []]>},
                        %x: tensor<4x4xf32> {cleave.input = "x", cleave.sharding = #shard<axisarray[[0], []]>},
                        %lr: tensor<f32> {cleave.step_scalar = "lr"})
      -> (tensor<4x4xf32> {cleave.updates = 0 : i64}, tensor<4x4xf32> {cleave.updates = 1 : i64}, tensor<f32> {cleave.loss}) {
    %h = cleave.matmul %x, %w0 {transpose_b, cleave.phase = "forward", cleave.stage = 0 : i64} : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
    %a = cleave.unary relu %h {cleave.phase = "forward", cleave.stage = 0 : i64} : tensor<4x4xf32>
    %z = cleave.matmul %a, %w1 {transpose_b, cleave.phase = "forward", cleave.stage = 1 : i64} : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
    %l = cleave.reduce sum %z {axes = array<i64: 0, 1>, cleave.phase = "forward", cleave.stage = 1 : i64} : tensor<4x4xf32> -> tensor<f32>
    %gw1 = cleave.matmul %z, %a {transpose_a, cleave.phase = "backward", cleave.stage = 1 : i64} : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
    %ga = cleave.matmul %z, %w1 {cleave.phase = "backward", cleave.stage = 1 : i64} : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
    %gh = cleave.binary mul %ga, %a {cleave.phase = "backward", cleave.stage = 0 : i64} : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
    %gw0 = cleave.matmul %gh, %x {transpose_a, cleave.phase = "backward", cleave.stage = 0 : i64} : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
    %r0 = shard.all_reduce %gw0 on @grid grid_axes = [0] : tensor<4x4xf32> -> tensor<4x4xf32>
    %s0 = cleave.binary mul %r0, %lr {cleave.phase = "update", cleave.stage = 0 : i64} : (tensor<4x4xf32>, tensor<f32>) -> tensor<4x4xf32>
    %n0 = cleave.binary sub %w0, %s0 {cleave.phase = "update", cleave.stage = 0 : i64} : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
    %s1 = cleave.binary mul %gw1, %lr {cleave.phase = "update", cleave.stage = 1 : i64} : (tensor<4x4xf32>, tensor<f32>) -> tensor<4x4xf32>
    %n1 = cleave.binary sub %w1, %s1 {cleave.phase = "update", cleave.stage = 1 : i64} : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
    return %n0, %n1, %l : tensor<4x4xf32>, tensor<4x4xf32>, tensor<f32>
  }
}

// -----

// A reshape that regroups the batch with another dimension (the factor
// rule keeps the group whole): the micro-batch's rows are a leading block of
// the elements, so only the first dimension of the group shrinks.
// CHECK-LABEL: func.func @train_step
// CHECK:         cleave.reshape %{{.*}} : tensor<8x6xf32> to tensor<4x12xf32>
// CHECK:         cleave.reduce sum %{{.*}} : tensor<4x12xf32> -> tensor<1x12xf32>
func.func @train_step(%w: tensor<1x12xf32> {cleave.param = #cleave.param<"w", trainable>}, %x: tensor<16x6xf32> {cleave.input = "x"}) -> (tensor<1x12xf32> {cleave.updates = 0 : i64}) {
  %r = cleave.reshape %x {cleave.bwd_of = 6 : i64} : tensor<16x6xf32> to tensor<8x12xf32>
  %g = cleave.reduce sum %r {axes = array<i64: 0>, cleave.bwd_of = 1 : i64, keep_dims} : tensor<8x12xf32> -> tensor<1x12xf32>
  %n = cleave.binary sub %w, %g {cleave.update_of = 0 : i64} : (tensor<1x12xf32>, tensor<1x12xf32>) -> tensor<1x12xf32>
  return %n : tensor<1x12xf32>
}
