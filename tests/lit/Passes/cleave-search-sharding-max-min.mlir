// RUN: cleave-opt %s --split-input-file --cleave-search-sharding="devices=4 cluster=h100-sxm-8x1" | FileCheck %s
// RUN: cleave-opt %s --split-input-file --cleave-search-sharding="devices=4 cluster=h100-sxm-8x1" \
// RUN:   --cleave-partition="function=train_step" | FileCheck %s --check-prefix=PART

// The search prices a partial maximum or minimum like a partial sum: the
// same step with reduce sum, max and min over a 16 MiB row gets the same
// plan (the row split over the 4 devices, one 4-byte all-reduce) and the
// same predicted step time to the last digit; the partitioner then
// all-reduces with the op's own reduction (sum, the default, unprinted).

// CHECK:       shard.grid @grid(shape = 4)
// CHECK-LABEL: func.func @train_step
// CHECK-SAME:    %arg0: tensor<1x4194304xf32> {cleave.param = #cleave.param<"w", trainable>, cleave.sharding = #shard<axisarray{{\[\[}}], [0]]>}
// CHECK-SAME:    attributes {cleave.predicted_step_seconds = [[SECONDS:.*]] : f64}
// CHECK:         cleave.reduce sum %{{.*}} {axes = array<i64: 1>, cleave.factor_axes = #shard<axisarray{{\[\[}}0]]>}
// PART-LABEL:  func.func @train_step
// PART:          %[[M:.*]] = cleave.reduce sum %{{.*}} {axes = array<i64: 1>} : tensor<1x1048576xf32> -> tensor<1xf32>
// PART-NEXT:     shard.all_reduce %[[M]] on @grid grid_axes = [0] : tensor<1xf32> -> tensor<1xf32>
func.func @train_step(%w: tensor<1x4194304xf32> {cleave.param = #cleave.param<"w", trainable>},
                      %x: tensor<1x4194304xf32> {cleave.input = "x"})
    -> (tensor<1x4194304xf32> {cleave.updates = 0 : i64}, tensor<f32> {cleave.loss}) {
  %p = cleave.binary mul %x, %w : (tensor<1x4194304xf32>, tensor<1x4194304xf32>) -> tensor<1x4194304xf32>
  %m = cleave.reduce sum %p {axes = array<i64: 1>} : tensor<1x4194304xf32> -> tensor<1xf32>
  %l = cleave.reduce sum %m {axes = array<i64: 0>} : tensor<1xf32> -> tensor<f32>
  %u = cleave.binary sub %w, %p : (tensor<1x4194304xf32>, tensor<1x4194304xf32>) -> tensor<1x4194304xf32>
  return %u, %l : tensor<1x4194304xf32>, tensor<f32>
}

// -----

// CHECK:       shard.grid @grid(shape = 4)
// CHECK-LABEL: func.func @train_step
// CHECK-SAME:    %arg0: tensor<1x4194304xf32> {cleave.param = #cleave.param<"w", trainable>, cleave.sharding = #shard<axisarray{{\[\[}}], [0]]>}
// CHECK-SAME:    attributes {cleave.predicted_step_seconds = [[SECONDS]] : f64}
// CHECK:         cleave.reduce max %{{.*}} {axes = array<i64: 1>, cleave.factor_axes = #shard<axisarray{{\[\[}}0]]>}
// PART-LABEL:  func.func @train_step
// PART:          %[[M:.*]] = cleave.reduce max %{{.*}} {axes = array<i64: 1>} : tensor<1x1048576xf32> -> tensor<1xf32>
// PART-NEXT:     shard.all_reduce %[[M]] on @grid grid_axes = [0] reduction = max : tensor<1xf32> -> tensor<1xf32>
func.func @train_step(%w: tensor<1x4194304xf32> {cleave.param = #cleave.param<"w", trainable>},
                      %x: tensor<1x4194304xf32> {cleave.input = "x"})
    -> (tensor<1x4194304xf32> {cleave.updates = 0 : i64}, tensor<f32> {cleave.loss}) {
  %p = cleave.binary mul %x, %w : (tensor<1x4194304xf32>, tensor<1x4194304xf32>) -> tensor<1x4194304xf32>
  %m = cleave.reduce max %p {axes = array<i64: 1>} : tensor<1x4194304xf32> -> tensor<1xf32>
  %l = cleave.reduce sum %m {axes = array<i64: 0>} : tensor<1xf32> -> tensor<f32>
  %u = cleave.binary sub %w, %p : (tensor<1x4194304xf32>, tensor<1x4194304xf32>) -> tensor<1x4194304xf32>
  return %u, %l : tensor<1x4194304xf32>, tensor<f32>
}

// -----

// CHECK:       shard.grid @grid(shape = 4)
// CHECK-LABEL: func.func @train_step
// CHECK-SAME:    %arg0: tensor<1x4194304xf32> {cleave.param = #cleave.param<"w", trainable>, cleave.sharding = #shard<axisarray{{\[\[}}], [0]]>}
// CHECK-SAME:    attributes {cleave.predicted_step_seconds = [[SECONDS]] : f64}
// CHECK:         cleave.reduce min %{{.*}} {axes = array<i64: 1>, cleave.factor_axes = #shard<axisarray{{\[\[}}0]]>}
// PART-LABEL:  func.func @train_step
// PART:          %[[M:.*]] = cleave.reduce min %{{.*}} {axes = array<i64: 1>} : tensor<1x1048576xf32> -> tensor<1xf32>
// PART-NEXT:     shard.all_reduce %[[M]] on @grid grid_axes = [0] reduction = min : tensor<1xf32> -> tensor<1xf32>
func.func @train_step(%w: tensor<1x4194304xf32> {cleave.param = #cleave.param<"w", trainable>},
                      %x: tensor<1x4194304xf32> {cleave.input = "x"})
    -> (tensor<1x4194304xf32> {cleave.updates = 0 : i64}, tensor<f32> {cleave.loss}) {
  %p = cleave.binary mul %x, %w : (tensor<1x4194304xf32>, tensor<1x4194304xf32>) -> tensor<1x4194304xf32>
  %m = cleave.reduce min %p {axes = array<i64: 1>} : tensor<1x4194304xf32> -> tensor<1xf32>
  %l = cleave.reduce sum %m {axes = array<i64: 0>} : tensor<1xf32> -> tensor<f32>
  %u = cleave.binary sub %w, %p : (tensor<1x4194304xf32>, tensor<1x4194304xf32>) -> tensor<1x4194304xf32>
  return %u, %l : tensor<1x4194304xf32>, tensor<f32>
}
