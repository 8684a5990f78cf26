// When no plan fits the devices' memory on any grid, the search keeps the
// plan that needs the least memory (so that cleave-plan and cleavec can say
// by how much it misses) rather than failing. The same step on a roomy
// profile keeps its parameters whole; on 50 kB devices
// (Inputs/tiny-memory-cluster.json) every parameter and the batch are split
// four ways, the least any layout needs, and the one-axis grid stays: the
// 2x2 grid needs no less.
// RUN: cleave-opt %s --cleave-search-sharding="devices=4 cluster=%inputs/tiny-memory-cluster.json" | FileCheck %s --check-prefix=LEAST
// RUN: cleave-opt %s --cleave-search-sharding="devices=4 cluster=h100-sxm-8x1" | FileCheck %s --check-prefix=ROOMY

// LEAST:       shard.grid @grid(shape = 4) {cleave.axis_names = ["dp"]}
// LEAST-LABEL: func.func @train_step
// LEAST-SAME:    %arg0: tensor<256x256xf32> {cleave.param = #cleave.param<"w1", trainable>, cleave.sharding = #shard<axisarray{{\[\[}}0], []]>}
// LEAST-SAME:    %arg1: tensor<256x256xf32> {cleave.param = #cleave.param<"w2", trainable>, cleave.sharding = #shard<axisarray{{\[\[}}0], []]>}
// LEAST-SAME:    %arg2: tensor<64x256xf32> {cleave.input = "x", cleave.sharding = #shard<axisarray{{\[\[}}0], []]>}
// LEAST-SAME:    -> (tensor<256x256xf32> {cleave.sharding = #shard<axisarray{{\[\[}}0], []]>, cleave.updates = 0 : i64}
// LEAST-SAME:    attributes {cleave.predicted_step_seconds =
// LEAST:         cleave.matmul %arg2, %arg0 {cleave.factor_axes = #shard<axisarray{{\[}}[0], [], []]>}
// ROOMY:       shard.grid @grid(shape = 4) {cleave.axis_names = ["dp"]}
// ROOMY-LABEL: func.func @train_step
// ROOMY-SAME:    %arg0: tensor<256x256xf32> {cleave.param = #cleave.param<"w1", trainable>, cleave.sharding = #shard<axisarray{{\[\[}}], []]>}
// ROOMY-SAME:    %arg1: tensor<256x256xf32> {cleave.param = #cleave.param<"w2", trainable>, cleave.sharding = #shard<axisarray{{\[\[}}], []]>}
func.func @train_step(%w1: tensor<256x256xf32> {cleave.param = #cleave.param<"w1", trainable>},
                      %w2: tensor<256x256xf32> {cleave.param = #cleave.param<"w2", trainable>},
                      %x: tensor<64x256xf32> {cleave.input = "x"})
    -> (tensor<256x256xf32> {cleave.updates = 0 : i64}, tensor<256x256xf32> {cleave.updates = 1 : i64}, tensor<f32> {cleave.loss}) {
  %h = cleave.matmul %x, %w1 : (tensor<64x256xf32>, tensor<256x256xf32>) -> tensor<64x256xf32>
  %a = cleave.unary relu %h : tensor<64x256xf32>
  %y = cleave.matmul %a, %w2 : (tensor<64x256xf32>, tensor<256x256xf32>) -> tensor<64x256xf32>
  %l = cleave.reduce mean %y {axes = array<i64: 0, 1>} : tensor<64x256xf32> -> tensor<f32>
  %g2 = cleave.matmul %a, %y {transpose_a} : (tensor<64x256xf32>, tensor<64x256xf32>) -> tensor<256x256xf32>
  %g1 = cleave.matmul %x, %a {transpose_a} : (tensor<64x256xf32>, tensor<64x256xf32>) -> tensor<256x256xf32>
  %u1 = cleave.binary sub %w1, %g1 : (tensor<256x256xf32>, tensor<256x256xf32>) -> tensor<256x256xf32>
  %u2 = cleave.binary sub %w2, %g2 : (tensor<256x256xf32>, tensor<256x256xf32>) -> tensor<256x256xf32>
  return %u1, %u2, %l : tensor<256x256xf32>, tensor<256x256xf32>, tensor<f32>
}
