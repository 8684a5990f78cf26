// RUN: cleave-opt %s --split-input-file --cleave-search-sharding="devices=4 cluster=h100-sxm-8x1" | FileCheck %s
// RUN: not cleave-opt %s --split-input-file --cleave-search-sharding="devices=4 cluster=no-such-profile" 2>&1 | FileCheck %s --check-prefix=CLUSTER

// Two small layers and a large batch: splitting the rows (data
// parallelism) costs two 256 KiB gradient all-reduces; splitting the
// weights instead would all-reduce 256 MiB of activations between the
// layers. The search splits the batch, and with it every product's rows,
// on the one-axis grid: a second axis would gain nothing, and a grid with
// more axes must gain 0.1% to be taken. The weight gradients contract over
// the split rows (partial sums), and the weights stay whole.
// CHECK:       shard.grid @grid(shape = 4)
// CHECK-LABEL: func.func @train_step
// CHECK-SAME:    %arg0: tensor<256x256xf32> {cleave.param = #cleave.param<"w1", trainable>, cleave.sharding = #shard<axisarray{{\[\[}}], []]>}
// CHECK-SAME:    %arg1: tensor<256x256xf32> {cleave.param = #cleave.param<"w2", trainable>, cleave.sharding = #shard<axisarray{{\[\[}}], []]>}
// CHECK-SAME:    %arg2: tensor<262144x256xf32> {cleave.input = "x", cleave.sharding = #shard<axisarray{{\[\[}}0], []]>}
// CHECK-SAME:    attributes {cleave.predicted_step_seconds = {{.*}} : f64}
// CHECK:         cleave.matmul %arg2, %arg0 {cleave.factor_axes = #shard<axisarray{{\[}}[0], [], []]>}
// CHECK:         cleave.matmul %{{.*}}, %arg1 {cleave.factor_axes = #shard<axisarray{{\[}}[0], [], []]>}
// CHECK:         cleave.matmul %{{.*}}, %{{.*}} {cleave.factor_axes = #shard<axisarray{{\[}}[], [], [0]]>, transpose_a}
// CHECK:         cleave.matmul %arg2, %{{.*}} {cleave.factor_axes = #shard<axisarray{{\[}}[], [], [0]]>, transpose_a}
// CLUSTER: no-such-profile
func.func @train_step(%w1: tensor<256x256xf32> {cleave.param = #cleave.param<"w1", trainable>},
                      %w2: tensor<256x256xf32> {cleave.param = #cleave.param<"w2", trainable>},
                      %x: tensor<262144x256xf32> {cleave.input = "x"})
    -> (tensor<256x256xf32> {cleave.updates = 0 : i64}, tensor<256x256xf32> {cleave.updates = 1 : i64}, tensor<f32> {cleave.loss}) {
  %h = cleave.matmul %x, %w1 : (tensor<262144x256xf32>, tensor<256x256xf32>) -> tensor<262144x256xf32>
  %a = cleave.unary relu %h : tensor<262144x256xf32>
  %y = cleave.matmul %a, %w2 : (tensor<262144x256xf32>, tensor<256x256xf32>) -> tensor<262144x256xf32>
  %l = cleave.reduce mean %y {axes = array<i64: 0, 1>} : tensor<262144x256xf32> -> tensor<f32>
  %g2 = cleave.matmul %a, %y {transpose_a} : (tensor<262144x256xf32>, tensor<262144x256xf32>) -> tensor<256x256xf32>
  %g1 = cleave.matmul %x, %a {transpose_a} : (tensor<262144x256xf32>, tensor<262144x256xf32>) -> tensor<256x256xf32>
  %u1 = cleave.binary sub %w1, %g1 : (tensor<256x256xf32>, tensor<256x256xf32>) -> tensor<256x256xf32>
  %u2 = cleave.binary sub %w2, %g2 : (tensor<256x256xf32>, tensor<256x256xf32>) -> tensor<256x256xf32>
  return %u1, %u2, %l : tensor<256x256xf32>, tensor<256x256xf32>, tensor<f32>
}

// -----

// One big weight, a handful of rows: moving the 64 MiB weight gradient
// costs far more than the activations, so the search splits the weight
// (tensor parallelism) instead of the batch: the weight is stored split
// over all four devices and no all-reduce of its gradient remains. NCCL
// runs the same ring inside a node whether the four devices are one axis
// or 2x2, so the one-axis grid it tries first stays.
// CHECK:       shard.grid @grid(shape = 4)
// CHECK-LABEL: func.func @train_step
// CHECK-SAME:    %arg0: tensor<4096x4096xf32> {cleave.param = #cleave.param<"w", trainable>, cleave.sharding = #shard<axisarray{{\[\[}}], [0]]>}
// CHECK-SAME:    %arg1: tensor<8x4096xf32> {cleave.input = "x", cleave.sharding = #shard<axisarray{{\[\[}}], []]>}
// CHECK:         cleave.matmul %arg1, %arg0 {cleave.factor_axes = #shard<axisarray{{\[}}[], [0], []]>}
// CHECK:         cleave.matmul %arg1, %{{.*}} {cleave.factor_axes = #shard<axisarray{{\[}}[], [0], []]>, transpose_a}
func.func @train_step(%w: tensor<4096x4096xf32> {cleave.param = #cleave.param<"w", trainable>},
                      %x: tensor<8x4096xf32> {cleave.input = "x"})
    -> (tensor<4096x4096xf32> {cleave.updates = 0 : i64}, tensor<f32> {cleave.loss}) {
  %h = cleave.matmul %x, %w : (tensor<8x4096xf32>, tensor<4096x4096xf32>) -> tensor<8x4096xf32>
  %l = cleave.reduce mean %h {axes = array<i64: 0, 1>} : tensor<8x4096xf32> -> tensor<f32>
  %g = cleave.matmul %x, %h {transpose_a} : (tensor<8x4096xf32>, tensor<8x4096xf32>) -> tensor<4096x4096xf32>
  %u = cleave.binary sub %w, %g : (tensor<4096x4096xf32>, tensor<4096x4096xf32>) -> tensor<4096x4096xf32>
  return %u, %l : tensor<4096x4096xf32>, tensor<f32>
}
