// RUN: cleave-opt %s --split-input-file --verify-diagnostics --cleave-pipeline-unroll="micro-batches=3"

// expected-error @below {{--micro-batches 3 does not divide the batch of 8 per data-parallel rank (input 'x')}}
func.func @train_step(%w: tensor<3x4xf32> {cleave.param = #cleave.param<"w", trainable>},
                      %x: tensor<8x4xf32> {cleave.input = "x"})
    -> (tensor<3x4xf32> {cleave.updates = 0 : i64}) {
  %g = cleave.matmul %x, %x {cleave.bwd_of = 0 : i64, transpose_a} : (tensor<8x4xf32>, tensor<8x4xf32>) -> tensor<4x4xf32>
  %g3 = cleave.slice %g {starts = array<i64: 0, 0>, strides = array<i64: 1, 1>, cleave.bwd_of = 0 : i64} : tensor<4x4xf32> -> tensor<3x4xf32>
  %n = cleave.binary sub %w, %g3 {cleave.update_of = 0 : i64} : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  return %n : tensor<3x4xf32>
}

// -----

// A forward op that reads what the update computed cannot run per
// micro-batch before it.
func.func @train_step(%w: tensor<3x4xf32> {cleave.param = #cleave.param<"w", trainable>},
                      %x: tensor<6x4xf32> {cleave.input = "x"})
    -> (tensor<3x4xf32> {cleave.updates = 0 : i64}, tensor<f32> {cleave.loss}) {
  %g = cleave.matmul %x, %x {cleave.bwd_of = 0 : i64, transpose_a} : (tensor<6x4xf32>, tensor<6x4xf32>) -> tensor<4x4xf32>
  %g3 = cleave.slice %g {starts = array<i64: 0, 0>, strides = array<i64: 1, 1>, cleave.bwd_of = 0 : i64} : tensor<4x4xf32> -> tensor<3x4xf32>
  %n = cleave.binary sub %w, %g3 {cleave.update_of = 0 : i64} : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  // expected-error @below {{runs once per micro-batch but reads an update-phase value}}
  %l = cleave.reduce sum %n {axes = array<i64: 0, 1>, cleave.fwd_id = 1 : i64} : tensor<3x4xf32> -> tensor<f32>
  return %n, %l : tensor<3x4xf32>, tensor<f32>
}

// -----

// Clipping by the global norm reads every stage's gradients: not with
// pipeline stages yet.
module attributes {cleave.pipeline = {stages = 2 : i64, virtual_stages = 1 : i64, micro_batches = 3 : i64, schedule = "1f1b"}} {
  shard.grid @grid(shape = 1) {cleave.axis_names = ["dp"]}
  func.func @train_step(%w: tensor<4x4xf32> {cleave.param = #cleave.param<"w", trainable>},
                        %x: tensor<6x4xf32> {cleave.input = "x"})
      -> (tensor<4x4xf32> {cleave.updates = 0 : i64}) {
    %g = cleave.matmul %x, %x {transpose_a, cleave.phase = "backward", cleave.stage = 1 : i64} : (tensor<6x4xf32>, tensor<6x4xf32>) -> tensor<4x4xf32>
    // expected-error @below {{clips gradients by their global norm: --clip-grad-norm is not supported with pipeline stages yet}}
    %n = cleave.reduce sum %g {axes = array<i64: 0, 1>, cleave.phase = "update", cleave.stage = 0 : i64, cleave.update_of = -1 : i64} : tensor<4x4xf32> -> tensor<f32>
    %u = cleave.binary sub %w, %n {cleave.phase = "update", cleave.stage = 0 : i64, cleave.update_of = 0 : i64} : (tensor<4x4xf32>, tensor<f32>) -> tensor<4x4xf32>
    return %u : tensor<4x4xf32>
  }
}

// -----

// Stages need the partitioned program's grid to add "pp" to.
module attributes {cleave.pipeline = {stages = 2 : i64, virtual_stages = 1 : i64, micro_batches = 3 : i64, schedule = "1f1b"}} {
  // expected-error @below {{has no shard.grid: run the shard pipeline's partition before cleave-pipeline-unroll}}
  func.func @train_step(%w: tensor<4x4xf32> {cleave.param = #cleave.param<"w", trainable>},
                        %x: tensor<6x4xf32> {cleave.input = "x"})
      -> (tensor<4x4xf32> {cleave.updates = 0 : i64}) {
    %g = cleave.matmul %x, %x {transpose_a, cleave.phase = "backward", cleave.stage = 1 : i64} : (tensor<6x4xf32>, tensor<6x4xf32>) -> tensor<4x4xf32>
    %u = cleave.binary sub %w, %g {cleave.phase = "update", cleave.stage = 1 : i64} : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
    return %u : tensor<4x4xf32>
  }
}

// -----

// The module's cleave.pipeline and the option disagree.
// expected-error @below {{cleave-pipeline-unroll: micro-batches=3 but the module's cleave.pipeline says 2}}
module attributes {cleave.pipeline = {stages = 1 : i64, virtual_stages = 1 : i64, micro_batches = 2 : i64, schedule = "1f1b"}} {
  func.func @train_step(%w: tensor<4x4xf32> {cleave.param = #cleave.param<"w", trainable>}) -> (tensor<4x4xf32> {cleave.updates = 0 : i64}) {
    return %w : tensor<4x4xf32>
  }
}
