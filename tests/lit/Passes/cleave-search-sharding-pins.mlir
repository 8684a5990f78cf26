// Pins (--shard, --grid with --devices) are constraints of the search: the
// pinned layouts and grid are kept, everything else is still chosen by cost.
// RUN: cleave-opt %s --split-input-file --cleave-search-sharding="devices=4 cluster=h100-sxm-8x1 pins=w=dp,-" | FileCheck %s --check-prefix=ROWS
// RUN: cleave-opt %s --split-input-file --cleave-search-sharding="devices=4 cluster=h100-sxm-8x1 grid=dp=2,tp=2 pins=w=-,tp" | FileCheck %s --check-prefix=GRID
// RUN: not cleave-opt %s --split-input-file --cleave-search-sharding="devices=4 cluster=h100-sxm-8x1 pins=v=dp,-" 2>&1 | FileCheck %s --check-prefix=NAME
// RUN: not cleave-opt %s --split-input-file --cleave-search-sharding="devices=4 cluster=h100-sxm-8x1 grid=dp=2,tp=3" 2>&1 | FileCheck %s --check-prefix=SIZE
// RUN: not cleave-opt %s --split-input-file --cleave-search-sharding="devices=4 cluster=h100-sxm-8x1 grid=dp=4 pins=w=tp,-" 2>&1 | FileCheck %s --check-prefix=AXIS

// Left alone the search splits w's columns (cleave-search-sharding.mlir);
// pinned by rows it keeps the rows split and plans the products around it.
// ROWS:       shard.grid @grid(shape = 4)
// ROWS:       %arg0: tensor<4096x4096xf32> {cleave.param = #cleave.param<"w", trainable>, cleave.sharding = #shard<axisarray{{\[}}[0], []]>}
// ROWS-SAME:  -> (tensor<4096x4096xf32> {cleave.sharding = #shard<axisarray{{\[}}[0], []]>, cleave.updates = 0 : i64}
// ROWS:       cleave.matmul %arg1, %arg0 {cleave.factor_axes
// GRID:       shard.grid @grid(shape = 2x2) {cleave.axis_names = ["dp", "tp"]}
// GRID:       %arg0: tensor<4096x4096xf32> {cleave.param = #cleave.param<"w", trainable>, cleave.sharding = #shard<axisarray{{\[}}[], [1]]>}
// NAME:       --shard v: no parameter has that name
// SIZE:       the grid dp=2,tp=3 has 6 devices, not 4
// AXIS:       no plan for 4 devices
// AXIS:       'tp' is not a grid axis (dp)
func.func @train_step(%w: tensor<4096x4096xf32> {cleave.param = #cleave.param<"w", trainable>},
                      %x: tensor<8x4096xf32> {cleave.input = "x"})
    -> (tensor<4096x4096xf32> {cleave.updates = 0 : i64}, tensor<f32> {cleave.loss}) {
  %h = cleave.matmul %x, %w : (tensor<8x4096xf32>, tensor<4096x4096xf32>) -> tensor<8x4096xf32>
  %l = cleave.reduce mean %h {axes = array<i64: 0, 1>} : tensor<8x4096xf32> -> tensor<f32>
  %g = cleave.matmul %x, %h {transpose_a} : (tensor<8x4096xf32>, tensor<8x4096xf32>) -> tensor<4096x4096xf32>
  %u = cleave.binary sub %w, %g : (tensor<4096x4096xf32>, tensor<4096x4096xf32>) -> tensor<4096x4096xf32>
  return %u, %l : tensor<4096x4096xf32>, tensor<f32>
}
