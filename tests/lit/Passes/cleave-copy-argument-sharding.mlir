// RUN: cleave-opt %s --split-input-file --verify-diagnostics --cleave-copy-argument-sharding | FileCheck %s

// The evaluation function's parameter and input get the train step's
// layouts by name, whatever their position; optimizer state and step
// scalars have no twin there.
// CHECK-LABEL: func.func @eval_loss(
// CHECK-SAME:    %arg0: tensor<8x4xf32> {cleave.input = "x", cleave.sharding = #shard<axisarray{{\[}}[0], []]>}
// CHECK-SAME:    %arg1: tensor<4x3xf32> {cleave.param = #cleave.param<"w", trainable>, cleave.sharding = #shard<axisarray{{\[}}[], [0]]>}
// CHECK-SAME:    %arg2: tensor<4xf32> {cleave.param = #cleave.param<"b", trainable>})
shard.grid @grid(shape = 2) {cleave.axis_names = ["dp"]}
func.func @train_step(%w: tensor<4x3xf32> {cleave.param = #cleave.param<"w", trainable>, cleave.sharding = #shard<axisarray[[], [0]]>},
                      %b: tensor<4xf32> {cleave.param = #cleave.param<"b", trainable>},
                      %m: tensor<4x3xf32> {cleave.opt_state = "w.exp_avg", cleave.sharding = #shard<axisarray[[0], []]>},
                      %x: tensor<8x4xf32> {cleave.input = "x", cleave.sharding = #shard<axisarray[[0], []]>}) {
  return
}
func.func @eval_loss(%x: tensor<8x4xf32> {cleave.input = "x"},
                     %w: tensor<4x3xf32> {cleave.param = #cleave.param<"w", trainable>},
                     %b: tensor<4xf32> {cleave.param = #cleave.param<"b", trainable>}) {
  return
}

// -----

// Without an evaluation function there is nothing to do.
// CHECK-LABEL: func.func @train_step(
// CHECK-NOT:   func.func @eval_loss
func.func @train_step(%x: tensor<8x4xf32> {cleave.input = "x", cleave.sharding = #shard<axisarray[[0], []]>}) {
  return
}

// -----

// An argument that is neither a parameter nor an input cannot be matched.
func.func @train_step(%x: tensor<8x4xf32> {cleave.input = "x", cleave.sharding = #shard<axisarray[[0], []]>}) {
  return
}
// expected-error @below {{argument #1 is neither a parameter nor an input}}
func.func @eval_loss(%x: tensor<8x4xf32> {cleave.input = "x"}, %s: tensor<f32>) {
  return
}
