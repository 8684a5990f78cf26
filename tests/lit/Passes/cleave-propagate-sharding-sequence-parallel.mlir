// RUN: cleave-opt %s --split-input-file --cleave-propagate-sharding="sequence-parallel=true" | FileCheck %s
// RUN: cleave-opt %s --split-input-file --cleave-propagate-sharding="sequence-parallel=true" --cleave-partition | FileCheck %s --check-prefix=PART
// RUN: cleave-opt %s --split-input-file --cleave-propagate-sharding --cleave-partition | FileCheck %s --check-prefix=OFF

// Megatron-SP on a pinned tensor-parallel block (column-parallel w1,
// row-parallel w2, column-parallel w3): the row-parallel product's partial
// sum enters the residual add, which takes the sequence dimension over tp,
// so the partitioner reduce-scatters it instead of all-reducing; the next
// norm runs on 1/4 of the rows, and its output is gathered for the next
// column-parallel product, whose pinned weight keeps the axis.
// CHECK-LABEL: func.func @train_step
// CHECK:         cleave.layer_norm %arg0, {{.*}}axis = 2 : i64, epsilon
// CHECK:         cleave.matmul %{{.*}}, %arg3 {cleave.factor_axes = #shard<axisarray{{\[}}[], [], [0], []]>, transpose_b}
// CHECK:         cleave.matmul %{{.*}}, %arg4 {cleave.factor_axes = #shard<axisarray{{\[}}[], [], [], [0]]>, transpose_b}
// CHECK:         cleave.binary add %arg0, %{{.*}} {cleave.factor_axes = #shard<axisarray{{\[}}[], [0], []]>}
// CHECK:         cleave.layer_norm %{{.*}} {axis = 2 : i64, cleave.factor_axes = #shard<axisarray{{\[}}[], [0], []]>
// CHECK:         cleave.matmul %{{.*}}, %arg5 {cleave.factor_axes = #shard<axisarray{{\[}}[], [], [0], []]>, transpose_b}

// PART-LABEL: func.func @train_step
// PART-NOT:     shard.all_reduce
// PART:         shard.reduce_scatter %{{.*}} on @grid grid_axes = [0] scatter_axis = 1 : tensor<2x8x16xf32> -> tensor<2x2x16xf32>
// PART:         cleave.binary add %{{.*}} : (tensor<2x2x16xf32>, tensor<2x2x16xf32>) -> tensor<2x2x16xf32>
// PART:         cleave.layer_norm %{{.*}} -> tensor<2x2x16xf32>
// PART:         shard.all_gather %{{.*}} on @grid grid_axes = [0] gather_axis = 1 : tensor<2x2x16xf32> -> tensor<2x8x16xf32>
// PART:         cleave.matmul
// PART-NOT:     shard.all_reduce

// Without sequence parallelism the partial sum is all-reduced and the add
// and the norm run on every row on every device.
// OFF-LABEL: func.func @train_step
// OFF:         shard.all_reduce %{{.*}} on @grid grid_axes = [0] : tensor<2x8x16xf32> -> tensor<2x8x16xf32>
// OFF:         cleave.layer_norm %{{.*}} -> tensor<2x8x16xf32>
// OFF-NOT:     shard.reduce_scatter
shard.grid @grid(shape = 4) {cleave.axis_names = ["tp"]}
func.func @train_step(%x: tensor<2x8x16xf32>, %s: tensor<16xf32>, %b: tensor<16xf32>,
             %w1: tensor<64x16xf32> {cleave.sharding = #shard<axisarray[[0], []]>},
             %w2: tensor<16x64xf32> {cleave.sharding = #shard<axisarray[[], [0]]>},
             %w3: tensor<64x16xf32> {cleave.sharding = #shard<axisarray[[0], []]>}) -> tensor<2x8x64xf32> {
  %n = cleave.layer_norm %x, %s, %b {axis = 2 : i64, epsilon = 1.000000e-05 : f64} : (tensor<2x8x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<2x8x16xf32>
  %h = cleave.matmul %n, %w1 {transpose_b} : (tensor<2x8x16xf32>, tensor<64x16xf32>) -> tensor<2x8x64xf32>
  %a = cleave.unary relu %h : tensor<2x8x64xf32>
  %o = cleave.matmul %a, %w2 {transpose_b} : (tensor<2x8x64xf32>, tensor<16x64xf32>) -> tensor<2x8x16xf32>
  %r = cleave.binary add %x, %o : (tensor<2x8x16xf32>, tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  %n2 = cleave.layer_norm %r, %s, %b {axis = 2 : i64, epsilon = 1.000000e-05 : f64} : (tensor<2x8x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<2x8x16xf32>
  %h2 = cleave.matmul %n2, %w3 {transpose_b} : (tensor<2x8x16xf32>, tensor<64x16xf32>) -> tensor<2x8x64xf32>
  return %h2 : tensor<2x8x64xf32>
}

// -----

// Only a partial sum over tp: over dp (a batch split's weight gradient,
// say) it is all-reduced as before.
// CHECK-LABEL: func.func @train_step
// CHECK:         cleave.binary add %arg0, %{{[0-9]+}} : (tensor<8x16xf32>
// PART-LABEL:  func.func @train_step
// PART:          shard.all_reduce
// OFF-LABEL:   func.func @train_step
shard.grid @grid(shape = 4) {cleave.axis_names = ["dp"]}
func.func @train_step(%x: tensor<8x16xf32>, %w: tensor<16x64xf32> {cleave.sharding = #shard<axisarray[[], [0]]>},
             %a: tensor<8x64xf32> {cleave.sharding = #shard<axisarray[[], [0]]>}) -> tensor<8x16xf32> {
  %o = cleave.matmul %a, %w {transpose_b} : (tensor<8x64xf32>, tensor<16x64xf32>) -> tensor<8x16xf32>
  %r = cleave.binary add %x, %o : (tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<8x16xf32>
  return %r : tensor<8x16xf32>
}
