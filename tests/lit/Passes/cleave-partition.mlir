// RUN: cleave-opt %s --split-input-file --cleave-partition="function=f" | FileCheck %s

// Data parallelism: the batch rows split over axis 0; the weight gradient
// contracts over the rows, so each device holds a partial sum that one
// all-reduce completes.
// CHECK-LABEL: func.func @f
// CHECK-SAME:    (%[[X:.*]]: tensor<4x4xf32> {cleave.sharding = {{.*}}}, %[[DY:.*]]: tensor<4x3xf32> {{.*}}) -> tensor<4x3xf32>
// CHECK:         %[[G:.*]] = cleave.matmul %[[X]], %[[DY]] {transpose_a} : (tensor<4x4xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>
// CHECK-NEXT:    %[[R:.*]] = shard.all_reduce %[[G]] on @grid grid_axes = [0] : tensor<4x3xf32> -> tensor<4x3xf32>
// CHECK-NEXT:    return %[[R]]
shard.grid @grid(shape = 2) {cleave.axis_names = ["dp"]}
func.func @f(%x: tensor<8x4xf32> {cleave.sharding = #shard<axisarray[[0], []]>},
             %dy: tensor<8x3xf32> {cleave.sharding = #shard<axisarray[[0], []]>}) -> tensor<4x3xf32> {
  %g = cleave.matmul %x, %dy {transpose_a, cleave.factor_axes = #shard<axisarray[[], [], [0]]>} : (tensor<8x4xf32>, tensor<8x3xf32>) -> tensor<4x3xf32>
  return %g : tensor<4x3xf32>
}

// -----

// ZeRO: the result is wanted split like its (sharded) parameter, so the
// partial sum is reduce-scattered instead of all-reduced.
// CHECK-LABEL: func.func @f
// CHECK:         %[[G:.*]] = cleave.matmul {{.*}} -> tensor<4x3xf32>
// CHECK-NEXT:    %[[RS:.*]] = shard.reduce_scatter %[[G]] on @grid grid_axes = [0] scatter_axis = 0 : tensor<4x3xf32> -> tensor<2x3xf32>
// CHECK-NEXT:    return %[[RS]] : tensor<2x3xf32>
shard.grid @grid(shape = 2) {cleave.axis_names = ["dp"]}
func.func @f(%x: tensor<8x4xf32> {cleave.sharding = #shard<axisarray[[0], []]>},
             %dy: tensor<8x3xf32> {cleave.sharding = #shard<axisarray[[0], []]>})
    -> (tensor<4x3xf32> {cleave.sharding = #shard<axisarray[[0], []]>}) {
  %g = cleave.matmul %x, %dy {transpose_a, cleave.factor_axes = #shard<axisarray[[], [], [0]]>} : (tensor<8x4xf32>, tensor<8x3xf32>) -> tensor<4x3xf32>
  return %g : tensor<4x3xf32>
}

// -----

// ZeRO-1 (a user marked cleave.reduce_whole): the same gradient is
// all-reduced whole, as DeepSpeed's stage 1 keeps it, and each device
// slices its shard locally; the whole sum is made once for both users.
// CHECK-LABEL: func.func @f
// CHECK:         %[[G:.*]] = cleave.matmul {{.*}} -> tensor<4x3xf32>
// CHECK-NEXT:    %[[AR:.*]] = shard.all_reduce %[[G]] on @grid grid_axes = [0] : tensor<4x3xf32> -> tensor<4x3xf32>
// CHECK-NEXT:    %[[S:.*]] = shard.all_slice %[[AR]] on @grid grid_axes = [0] slice_axis = 0 : tensor<4x3xf32> -> tensor<2x3xf32>
// CHECK-NOT:     shard.reduce_scatter
// CHECK-NOT:     shard.all_reduce
// CHECK:         %[[U:.*]] = cleave.unary neg %[[S]] : tensor<2x3xf32>
// CHECK-NOT:     cleave.reduce_whole
// CHECK:         return %[[U]], %[[AR]] : tensor<2x3xf32>, tensor<4x3xf32>
shard.grid @grid(shape = 2) {cleave.axis_names = ["dp"]}
func.func @f(%x: tensor<8x4xf32> {cleave.sharding = #shard<axisarray[[0], []]>},
             %dy: tensor<8x3xf32> {cleave.sharding = #shard<axisarray[[0], []]>})
    -> (tensor<4x3xf32> {cleave.sharding = #shard<axisarray[[0], []]>}, tensor<4x3xf32>) {
  %g = cleave.matmul %x, %dy {transpose_a, cleave.factor_axes = #shard<axisarray[[], [], [0]]>} : (tensor<8x4xf32>, tensor<8x3xf32>) -> tensor<4x3xf32>
  %u = cleave.unary neg %g {cleave.reduce_whole, cleave.factor_axes = #shard<axisarray[[0], []]>} : tensor<4x3xf32>
  return %u, %g : tensor<4x3xf32>, tensor<4x3xf32>
}

// -----

// ZeRO-3 parameters: a sharded weight is gathered whole before a product
// that needs all of it; the gathered copy is made once for both users.
// CHECK-LABEL: func.func @f
// CHECK-SAME:    (%[[W:.*]]: tensor<2x4xf32> {{.*}}, %[[X:.*]]: tensor<4x4xf32> {{.*}})
// CHECK:         %[[FULL:.*]] = shard.all_gather %[[W]] on @grid grid_axes = [0] gather_axis = 0 : tensor<2x4xf32> -> tensor<4x4xf32>
// CHECK-NEXT:    cleave.matmul %[[X]], %[[FULL]]
// CHECK-NOT:     shard.all_gather
// CHECK:         cleave.matmul %{{.*}}, %[[FULL]]
shard.grid @grid(shape = 2) {cleave.axis_names = ["dp"]}
func.func @f(%w: tensor<4x4xf32> {cleave.sharding = #shard<axisarray[[0], []]>},
             %x: tensor<8x4xf32> {cleave.sharding = #shard<axisarray[[0], []]>})
    -> (tensor<8x4xf32> {cleave.sharding = #shard<axisarray[[0], []]>}) {
  %a = cleave.matmul %x, %w {cleave.factor_axes = #shard<axisarray[[0], [], []]>} : (tensor<8x4xf32>, tensor<4x4xf32>) -> tensor<8x4xf32>
  %b = cleave.matmul %a, %w {cleave.factor_axes = #shard<axisarray[[0], [], []]>} : (tensor<8x4xf32>, tensor<4x4xf32>) -> tensor<8x4xf32>
  return %b : tensor<8x4xf32>
}

// -----

// A mean over split rows: each device divides by its own row count, so its
// partial result is scaled by 1/2 before the sum over devices.
// CHECK-LABEL: func.func @f
// CHECK:         %[[LOSS:.*]] = cleave.cross_entropy {{.*}} : (tensor<4x10xf32>, tensor<4xi64>) -> tensor<f32>
// CHECK-NEXT:    %[[HALF:.*]] = cleave.constant dense<5.000000e-01> : tensor<f32>
// CHECK-NEXT:    %[[SCALED:.*]] = cleave.binary mul %[[LOSS]], %[[HALF]]
// CHECK-NEXT:    %[[SUM:.*]] = shard.all_reduce %[[SCALED]] on @grid grid_axes = [0] : tensor<f32> -> tensor<f32>
// CHECK-NEXT:    return %[[SUM]]
shard.grid @grid(shape = 2) {cleave.axis_names = ["dp"]}
func.func @f(%logits: tensor<8x10xf32> {cleave.sharding = #shard<axisarray[[0], []]>},
             %labels: tensor<8xi64> {cleave.sharding = #shard<axisarray[[0]]>}) -> tensor<f32> {
  %l = cleave.cross_entropy %logits, %labels {cleave.factor_axes = #shard<axisarray[[0], []]>} : (tensor<8x10xf32>, tensor<8xi64>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// Megatron MLP on a 2x2 grid (dp, tp): fc1 is column-parallel, fc2
// row-parallel; exactly one all-reduce over tp joins fc2's partial sums,
// and no collective touches the batch (dp) axis.
// CHECK-LABEL: func.func @f
// CHECK-SAME:    (%[[X:.*]]: tensor<4x16xf32> {{.*}}, %[[W1:.*]]: tensor<16x16xf32> {{.*}}, %[[W2:.*]]: tensor<16x16xf32> {{.*}})
// CHECK:         %[[H:.*]] = cleave.matmul %[[X]], %[[W1]] {transpose_b} : (tensor<4x16xf32>, tensor<16x16xf32>) -> tensor<4x16xf32>
// CHECK-NEXT:    %[[A:.*]] = cleave.unary relu %[[H]] : tensor<4x16xf32>
// CHECK-NEXT:    %[[Y:.*]] = cleave.matmul %[[A]], %[[W2]] {transpose_b} : (tensor<4x16xf32>, tensor<16x16xf32>) -> tensor<4x16xf32>
// CHECK-NEXT:    %[[SUM:.*]] = shard.all_reduce %[[Y]] on @grid grid_axes = [1] : tensor<4x16xf32> -> tensor<4x16xf32>
// CHECK-NEXT:    return %[[SUM]]
shard.grid @grid(shape = 2x2) {cleave.axis_names = ["dp", "tp"]}
func.func @f(%x: tensor<8x16xf32> {cleave.sharding = #shard<axisarray[[0], []]>},
             %w1: tensor<32x16xf32> {cleave.sharding = #shard<axisarray[[1], []]>},
             %w2: tensor<16x32xf32> {cleave.sharding = #shard<axisarray[[], [1]]>})
    -> (tensor<8x16xf32> {cleave.sharding = #shard<axisarray[[0], []]>}) {
  %h = cleave.matmul %x, %w1 {transpose_b, cleave.factor_axes = #shard<axisarray[[0], [1], []]>} : (tensor<8x16xf32>, tensor<32x16xf32>) -> tensor<8x32xf32>
  %a = cleave.unary relu %h {cleave.factor_axes = #shard<axisarray[[0], [1]]>} : tensor<8x32xf32>
  %y = cleave.matmul %a, %w2 {transpose_b, cleave.factor_axes = #shard<axisarray[[0], [], [1]]>} : (tensor<8x32xf32>, tensor<16x32xf32>) -> tensor<8x16xf32>
  return %y : tensor<8x16xf32>
}

// -----

// Layout changes without a partial value: dropping an axis gathers,
// adding one slices locally.
// CHECK-LABEL: func.func @f
// CHECK:         %[[G:.*]] = shard.all_gather %{{.*}} on @grid grid_axes = [0] gather_axis = 0 : tensor<4x8xf32> -> tensor<8x8xf32>
// CHECK-NEXT:    %[[S:.*]] = shard.all_slice %[[G]] on @grid grid_axes = [1] slice_axis = 1 : tensor<8x8xf32> -> tensor<8x4xf32>
// CHECK-NEXT:    cleave.softmax %[[S]] {axis = 0 : i64} : tensor<8x4xf32>
shard.grid @grid(shape = 2x2) {cleave.axis_names = ["dp", "tp"]}
func.func @f(%x: tensor<8x8xf32> {cleave.sharding = #shard<axisarray[[0], []]>}) -> tensor<8x8xf32> {
  %s = cleave.softmax %x {axis = 0 : i64, cleave.factor_axes = #shard<axisarray[[], [1]]>} : tensor<8x8xf32>
  return %s : tensor<8x8xf32>
}

// -----

// An axis that only moves between dimensions: the argument is split by
// rows, the op wants it split by columns. One all_to_all (each rank sends
// each other rank a quarter of its block) instead of gathering the whole
// tensor and slicing it again.
// CHECK-LABEL: func.func @f
// CHECK-SAME:    (%[[X:.*]]: tensor<2x8xf32> {{.*}})
// CHECK-NEXT:    %[[T:.*]] = shard.all_to_all %[[X]] on @grid grid_axes = [0] split_axis = 1 concat_axis = 0 : tensor<2x8xf32> -> tensor<8x2xf32>
// CHECK-NEXT:    %[[Y:.*]] = cleave.unary relu %[[T]] : tensor<8x2xf32>
// CHECK-NOT:     shard.all_gather
shard.grid @grid(shape = 4) {cleave.axis_names = ["tp"]}
func.func @f(%x: tensor<8x8xf32> {cleave.sharding = #shard<axisarray[[0], []]>})
    -> (tensor<8x8xf32> {cleave.sharding = #shard<axisarray[[], [0]]>}) {
  %y = cleave.unary relu %x {cleave.factor_axes = #shard<axisarray[[], [0]]>} : tensor<8x8xf32>
  return %y : tensor<8x8xf32>
}

// -----

// A maximum over a split axis: each device holds the maximum of its columns,
// and an all-reduce that takes the maximum (not the sum) completes it.
// CHECK-LABEL: func.func @f
// CHECK-SAME:    (%[[X:.*]]: tensor<4x4xf32> {{.*}}) -> tensor<4xf32>
// CHECK:         %[[M:.*]] = cleave.reduce max %[[X]] {axes = array<i64: 1>} : tensor<4x4xf32> -> tensor<4xf32>
// CHECK-NEXT:    %[[R:.*]] = shard.all_reduce %[[M]] on @grid grid_axes = [0] reduction = max : tensor<4xf32> -> tensor<4xf32>
// CHECK-NEXT:    return %[[R]]
shard.grid @grid(shape = 2) {cleave.axis_names = ["tp"]}
func.func @f(%x: tensor<4x8xf32> {cleave.sharding = #shard<axisarray[[], [0]]>}) -> tensor<4xf32> {
  %m = cleave.reduce max %x {axes = array<i64: 1>, cleave.factor_axes = #shard<axisarray[[], [0]]>} : tensor<4x8xf32> -> tensor<4xf32>
  return %m : tensor<4xf32>
}

// -----

// The partial maxima wanted split over the same axis: a reduce-scatter that
// takes the maximum, as a sum's would, instead of an all-reduce and a slice.
// CHECK-LABEL: func.func @f
// CHECK:         %[[M:.*]] = cleave.reduce max {{.*}} -> tensor<4xf32>
// CHECK-NEXT:    %[[RS:.*]] = shard.reduce_scatter %[[M]] on @grid grid_axes = [0] reduction = max scatter_axis = 0 : tensor<4xf32> -> tensor<2xf32>
// CHECK-NEXT:    return %[[RS]] : tensor<2xf32>
shard.grid @grid(shape = 2) {cleave.axis_names = ["tp"]}
func.func @f(%x: tensor<4x8xf32> {cleave.sharding = #shard<axisarray[[], [0]]>})
    -> (tensor<4xf32> {cleave.sharding = #shard<axisarray[[0]]>}) {
  %m = cleave.reduce max %x {axes = array<i64: 1>, cleave.factor_axes = #shard<axisarray[[], [0]]>} : tensor<4x8xf32> -> tensor<4xf32>
  return %m : tensor<4xf32>
}

// -----

// ArgMax's last step: the minimum of i64 positions over a split axis.
// CHECK-LABEL: func.func @f
// CHECK:         %[[M:.*]] = cleave.reduce min {{.*}} : tensor<4x4xi64> -> tensor<4x1xi64>
// CHECK-NEXT:    %[[R:.*]] = shard.all_reduce %[[M]] on @grid grid_axes = [0] reduction = min : tensor<4x1xi64> -> tensor<4x1xi64>
// CHECK-NEXT:    return %[[R]]
shard.grid @grid(shape = 2) {cleave.axis_names = ["tp"]}
func.func @f(%x: tensor<4x8xi64> {cleave.sharding = #shard<axisarray[[], [0]]>}) -> tensor<4x1xi64> {
  %m = cleave.reduce min %x {axes = array<i64: 1>, keep_dims, cleave.factor_axes = #shard<axisarray[[], [0]]>} : tensor<4x8xi64> -> tensor<4x1xi64>
  return %m : tensor<4x1xi64>
}

// -----

// One value as both operands (a Gram matrix x @ x^T): the rows split as
// the product's left operand, whole as its right. Each use gets its own
// layout; the gathered copy must not replace the left operand too.
// CHECK-LABEL: func.func @f
// CHECK-SAME:    (%[[X:.*]]: tensor<4x4xf32> {{.*}}) -> (tensor<4x8xf32>
// CHECK:         %[[FULL:.*]] = shard.all_gather %[[X]] on @grid grid_axes = [0] gather_axis = 0 : tensor<4x4xf32> -> tensor<8x4xf32>
// CHECK-NEXT:    %[[G:.*]] = cleave.matmul %[[X]], %[[FULL]] {transpose_b} : (tensor<4x4xf32>, tensor<8x4xf32>) -> tensor<4x8xf32>
// CHECK-NEXT:    return %[[G]]
shard.grid @grid(shape = 2) {cleave.axis_names = ["dp"]}
func.func @f(%x: tensor<8x4xf32> {cleave.sharding = #shard<axisarray[[0], []]>})
    -> (tensor<8x8xf32> {cleave.sharding = #shard<axisarray[[0], []]>}) {
  %g = cleave.matmul %x, %x {transpose_b, cleave.factor_axes = #shard<axisarray[[0], [], []]>} : (tensor<8x4xf32>, tensor<8x4xf32>) -> tensor<8x8xf32>
  return %g : tensor<8x8xf32>
}
