// RUN: cleave-opt %s --split-input-file --cleave-partition="function=f" | FileCheck %s

// A convolution split over its input channels leaves each device a partial
// sum; the bias it adds after that sum must enter the reduction once, so it
// is zeroed on every device but the first of the partial axis (a mask
// sliced from a constant, no communication). Adding it on both devices
// counted it twice: convnext_tiny's downsampling convolutions under the
// auto plan (issue 9).
// CHECK-LABEL: func.func @f
// CHECK-SAME:    (%[[X:.*]]: tensor<4x4x2x2xf32> {{.*}}, %[[W:.*]]: tensor<8x4x2x2xf32> {{.*}}, %[[B:.*]]: tensor<8xf32>)
// CHECK:         %[[MASKS:.*]] = cleave.constant dense<[1.000000e+00, 0.000000e+00]> : tensor<2xf32>
// CHECK-NEXT:    %[[MINE:.*]] = shard.all_slice %[[MASKS]] on @grid grid_axes = [0] slice_axis = 0 : tensor<2xf32> -> tensor<1xf32>
// CHECK-NEXT:    %[[SCALE:.*]] = cleave.reshape %[[MINE]] : tensor<1xf32> to tensor<f32>
// CHECK-NEXT:    %[[ONCE:.*]] = cleave.binary mul %[[B]], %[[SCALE]]
// CHECK-NEXT:    %[[Y:.*]] = cleave.conv2d %[[X]], %[[W]], %[[ONCE]]
// CHECK-NEXT:    %[[SUM:.*]] = shard.all_reduce %[[Y]] on @grid grid_axes = [0] : tensor<4x8x1x1xf32> -> tensor<4x8x1x1xf32>
// CHECK-NEXT:    return %[[SUM]]
shard.grid @grid(shape = 2) {cleave.axis_names = ["tp"]}
func.func @f(%x: tensor<4x8x2x2xf32> {cleave.sharding = #shard<axisarray[[], [0], [], []]>},
             %w: tensor<8x8x2x2xf32> {cleave.sharding = #shard<axisarray[[], [0], [], []]>},
             %b: tensor<8xf32>) -> tensor<4x8x1x1xf32> {
  %y = cleave.conv2d %x, %w, %b {dilations = array<i64: 1, 1>, groups = 1 : i64, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>, cleave.factor_axes = #shard<axisarray[[], [0], [], [], [], [], [], [], []]>} : (tensor<4x8x2x2xf32>, tensor<8x8x2x2xf32>, tensor<8xf32>) -> tensor<4x8x1x1xf32>
  return %y : tensor<4x8x1x1xf32>
}

// -----

// Batch and output channels split: nothing is partial and the bias, split
// with the output channels, is added on every device.
// CHECK-LABEL: func.func @f
// CHECK-SAME:    (%[[X:.*]]: tensor<2x8x2x2xf32> {{.*}}, %[[W:.*]]: tensor<4x8x2x2xf32> {{.*}}, %[[B:.*]]: tensor<4xf32> {{.*}})
// CHECK-NOT:     cleave.binary
// CHECK:         %[[Y:.*]] = cleave.conv2d %[[X]], %{{.*}}, %[[B]]
// CHECK-NOT:     shard.
// CHECK:         return
shard.grid @grid(shape = 2x2) {cleave.axis_names = ["dp", "tp"]}
func.func @f(%x: tensor<4x8x2x2xf32> {cleave.sharding = #shard<axisarray[[0], [], [], []]>},
             %w: tensor<8x8x2x2xf32> {cleave.sharding = #shard<axisarray[[1], [], [], []]>},
             %b: tensor<8xf32> {cleave.sharding = #shard<axisarray[[1]]>})
    -> (tensor<4x8x1x1xf32> {cleave.sharding = #shard<axisarray[[0], [1], [], []]>}) {
  %y = cleave.conv2d %x, %w, %b {dilations = array<i64: 1, 1>, groups = 1 : i64, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>, cleave.factor_axes = #shard<axisarray[[0], [], [1], [], [], [], [], [], []]>} : (tensor<4x8x2x2xf32>, tensor<8x8x2x2xf32>, tensor<8xf32>) -> tensor<4x8x1x1xf32>
  return %y : tensor<4x8x1x1xf32>
}

// -----

// On a 2x2 grid with the batch over dp and input channels over tp, the
// result is partial over tp only: the bias is kept on tp coordinate 0 of
// every dp row, and the partial sums are reduce-scattered into the output
// channels as the result wants.
// CHECK-LABEL: func.func @f
// CHECK:         %[[MASKS:.*]] = cleave.constant dense<[1.000000e+00, 0.000000e+00]> : tensor<2xf32>
// CHECK-NEXT:    %[[MINE:.*]] = shard.all_slice %[[MASKS]] on @grid grid_axes = [1] slice_axis = 0 : tensor<2xf32> -> tensor<1xf32>
// CHECK-NEXT:    %[[SCALE:.*]] = cleave.reshape %[[MINE]] : tensor<1xf32> to tensor<f32>
// CHECK-NEXT:    %[[ONCE:.*]] = cleave.binary mul %{{.*}}, %[[SCALE]] : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
// CHECK-NEXT:    %[[Y:.*]] = cleave.conv2d %{{.*}}, %{{.*}}, %[[ONCE]] {{.*}} -> tensor<2x8x1x1xf32>
// CHECK-NEXT:    %[[RS:.*]] = shard.reduce_scatter %[[Y]] on @grid grid_axes = [1] scatter_axis = 1 : tensor<2x8x1x1xf32> -> tensor<2x4x1x1xf32>
// CHECK-NEXT:    return %[[RS]]
shard.grid @grid(shape = 2x2) {cleave.axis_names = ["dp", "tp"]}
func.func @f(%x: tensor<4x8x2x2xf32> {cleave.sharding = #shard<axisarray[[0], [1], [], []]>},
             %w: tensor<8x8x2x2xf32> {cleave.sharding = #shard<axisarray[[], [1], [], []]>},
             %b: tensor<8xf32>)
    -> (tensor<4x8x1x1xf32> {cleave.sharding = #shard<axisarray[[0], [1], [], []]>}) {
  %y = cleave.conv2d %x, %w, %b {dilations = array<i64: 1, 1>, groups = 1 : i64, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>, cleave.factor_axes = #shard<axisarray[[0], [1], [], [], [], [], [], [], []]>} : (tensor<4x8x2x2xf32>, tensor<8x8x2x2xf32>, tensor<8xf32>) -> tensor<4x8x1x1xf32>
  return %y : tensor<4x8x1x1xf32>
}
