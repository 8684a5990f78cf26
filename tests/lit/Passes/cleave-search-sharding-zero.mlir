// RUN: cleave-opt %s --split-input-file --cleave-search-sharding="devices=4 cluster=h100-sxm-8x1 zero=1" | FileCheck %s --check-prefix=ZERO1
// RUN: cleave-opt %s --split-input-file --cleave-search-sharding="devices=4 cluster=h100-sxm-8x1 zero=2" | FileCheck %s --check-prefix=ZERO2
// RUN: cleave-opt %s --split-input-file --cleave-search-sharding="devices=4 cluster=h100-sxm-8x1 zero=3" | FileCheck %s --check-prefix=ZERO3
// RUN: not cleave-opt %s --split-input-file --cleave-search-sharding="devices=4 cluster=h100-sxm-8x1 zero=4" 2>&1 | FileCheck %s --check-prefix=LEVEL

// A --zero pin on top of the search: the search still plans (data
// parallelism for this small weight and large batch, as in
// cleave-search-sharding.mlir), then ZeRO shards over its dp axis what the
// plan keeps whole. ZeRO-1 and 2 split the momentum (not the weight) and
// run the update on shards: the moment update follows the split state
// forward, the weight's update follows it too; ZeRO-1 marks them so that
// cleave-partition all-reduces the gradient whole before slicing it.
// ZeRO-3 splits the weight as well.
// ZERO1:       shard.grid @grid(shape = 4)
// ZERO1-LABEL: func.func @train_step
// ZERO1-SAME:    %arg0: tensor<256x256xf32> {cleave.param = #cleave.param<"w", trainable>, cleave.sharding = #shard<axisarray{{\[\[}}], []]>}
// ZERO1-SAME:    %arg1: tensor<256x256xf32> {cleave.opt_state = "w.momentum_buffer", cleave.sharding = #shard<axisarray{{\[\[}}0], []]>}
// ZERO1-SAME:    -> (tensor<256x256xf32> {cleave.sharding = #shard<axisarray{{\[\[}}], []]>, cleave.updates = 0 : i64}, tensor<256x256xf32> {cleave.sharding = #shard<axisarray{{\[\[}}0], []]>, cleave.updates = 1 : i64}
// ZERO1:         cleave.matmul %arg3, %arg0 {cleave.factor_axes = #shard<axisarray{{\[}}[0], [], []]>}
// ZERO1-NOT:     cleave.reduce_whole
// ZERO1:         cleave.matmul %arg3, %{{.*}} {cleave.factor_axes = #shard<axisarray{{\[}}[], [], [0]]>, transpose_a}
// ZERO1-NEXT:    cleave.binary add %arg1, %{{.*}} {cleave.factor_axes = #shard<axisarray{{\[}}[0], []]>, cleave.reduce_whole}
// ZERO1-NEXT:    cleave.binary sub %arg0, %{{.*}} {cleave.factor_axes = #shard<axisarray{{\[}}[0], []]>, cleave.reduce_whole}
// ZERO2-LABEL: func.func @train_step
// ZERO2-SAME:    %arg0: tensor<256x256xf32> {cleave.param = #cleave.param<"w", trainable>, cleave.sharding = #shard<axisarray{{\[\[}}], []]>}
// ZERO2-SAME:    %arg1: tensor<256x256xf32> {cleave.opt_state = "w.momentum_buffer", cleave.sharding = #shard<axisarray{{\[\[}}0], []]>}
// ZERO2-NOT:     cleave.reduce_whole
// ZERO2:         cleave.binary add %arg1, %{{.*}} {cleave.factor_axes = #shard<axisarray{{\[}}[0], []]>}
// ZERO2-NEXT:    cleave.binary sub %arg0, %{{.*}} {cleave.factor_axes = #shard<axisarray{{\[}}[0], []]>}
// ZERO3-LABEL: func.func @train_step
// ZERO3-SAME:    %arg0: tensor<256x256xf32> {cleave.param = #cleave.param<"w", trainable>, cleave.sharding = #shard<axisarray{{\[\[}}0], []]>}
// ZERO3-SAME:    %arg1: tensor<256x256xf32> {cleave.opt_state = "w.momentum_buffer", cleave.sharding = #shard<axisarray{{\[\[}}0], []]>}
// ZERO3-SAME:    -> (tensor<256x256xf32> {cleave.sharding = #shard<axisarray{{\[\[}}0], []]>, cleave.updates = 0 : i64}
// ZERO3:         cleave.binary add %arg1, %{{.*}} {cleave.factor_axes = #shard<axisarray{{\[}}[0], []]>}
// ZERO3-NEXT:    cleave.binary sub %arg0, %{{.*}} {cleave.factor_axes = #shard<axisarray{{\[}}[0], []]>}
// LEVEL: ZeRO level 4 is not one of 0, 1, 2, 3
func.func @train_step(%w: tensor<256x256xf32> {cleave.param = #cleave.param<"w", trainable>},
                      %m: tensor<256x256xf32> {cleave.opt_state = "w.momentum_buffer"},
                      %w2: tensor<256x256xf32> {cleave.param = #cleave.param<"w2", trainable>},
                      %x: tensor<262144x256xf32> {cleave.input = "x"})
    -> (tensor<256x256xf32> {cleave.updates = 0 : i64}, tensor<256x256xf32> {cleave.updates = 1 : i64}, tensor<256x256xf32> {cleave.updates = 2 : i64}, tensor<f32> {cleave.loss}) {
  %h = cleave.matmul %x, %w : (tensor<262144x256xf32>, tensor<256x256xf32>) -> tensor<262144x256xf32>
  %a = cleave.unary relu %h : tensor<262144x256xf32>
  %y = cleave.matmul %a, %w2 : (tensor<262144x256xf32>, tensor<256x256xf32>) -> tensor<262144x256xf32>
  %l = cleave.reduce mean %y {axes = array<i64: 0, 1>} : tensor<262144x256xf32> -> tensor<f32>
  %g2 = cleave.matmul %a, %y {transpose_a} : (tensor<262144x256xf32>, tensor<262144x256xf32>) -> tensor<256x256xf32>
  %g = cleave.matmul %x, %a {transpose_a} : (tensor<262144x256xf32>, tensor<262144x256xf32>) -> tensor<256x256xf32>
  %m2 = cleave.binary add %m, %g : (tensor<256x256xf32>, tensor<256x256xf32>) -> tensor<256x256xf32>
  %u = cleave.binary sub %w, %m2 : (tensor<256x256xf32>, tensor<256x256xf32>) -> tensor<256x256xf32>
  %u2 = cleave.binary sub %w2, %g2 : (tensor<256x256xf32>, tensor<256x256xf32>) -> tensor<256x256xf32>
  return %u, %m2, %u2, %l : tensor<256x256xf32>, tensor<256x256xf32>, tensor<256x256xf32>, tensor<f32>
}
