// RUN: cleave-opt %s --split-input-file --cleave-propagate-sharding="function=f" | FileCheck %s

// Forward: the batch split of %x flows into every op that carries the rows;
// the weight gradient contracts over them (factor k).
// CHECK-LABEL: func.func @f
// CHECK:         cleave.matmul %arg0, %arg1 {cleave.factor_axes = #shard<axisarray{{\[}}[0], [], []]>}
// CHECK:         cleave.unary relu %{{.*}} {cleave.factor_axes = #shard<axisarray{{\[}}[0], []]>}
// CHECK:         cleave.matmul %arg0, %{{.*}} {cleave.factor_axes = #shard<axisarray{{\[}}[], [], [0]]>, transpose_a}
shard.grid @grid(shape = 2) {cleave.axis_names = ["dp"]}
func.func @f(%x: tensor<8x4xf32> {cleave.sharding = #shard<axisarray[[0], []]>}, %w: tensor<4x3xf32>) -> tensor<4x3xf32> {
  %h = cleave.matmul %x, %w : (tensor<8x4xf32>, tensor<4x3xf32>) -> tensor<8x3xf32>
  %a = cleave.unary relu %h : tensor<8x3xf32>
  %g = cleave.matmul %x, %a {transpose_a} : (tensor<8x4xf32>, tensor<8x3xf32>) -> tensor<4x3xf32>
  return %g : tensor<4x3xf32>
}

// -----

// Backward: an update nothing reached takes its result's (ZeRO) layout.
// CHECK-LABEL: func.func @f
// CHECK:         cleave.binary mul %arg1, %arg1 {cleave.factor_axes = #shard<axisarray{{\[}}[0], []]>}
// CHECK:         cleave.binary sub %arg0, %{{.*}} {cleave.factor_axes = #shard<axisarray{{\[}}[0], []]>}
shard.grid @grid(shape = 2) {cleave.axis_names = ["dp"]}
func.func @f(%w: tensor<4x3xf32> {cleave.sharding = #shard<axisarray[[0], []]>}, %g: tensor<4x3xf32>)
    -> (tensor<4x3xf32> {cleave.sharding = #shard<axisarray[[0], []]>}) {
  %s = cleave.binary mul %g, %g : (tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>
  %u = cleave.binary sub %w, %s : (tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>
  return %u : tensor<4x3xf32>
}

// -----

// A softmax axis stays whole; an axis that does not divide a factor is
// not used for it.
// CHECK-LABEL: func.func @f
// CHECK:         cleave.softmax %arg0 {axis = 1 : i64} : tensor<3x8xf32>
shard.grid @grid(shape = 2) {cleave.axis_names = ["dp"]}
func.func @f(%x: tensor<3x8xf32> {cleave.sharding = #shard<axisarray[[], [0]]>}) -> tensor<3x8xf32> {
  %s = cleave.softmax %x {axis = 1 : i64} : tensor<3x8xf32>
  return %s : tensor<3x8xf32>
}
