// Past `max-ops` distinct ops the search plans nothing: it records the
// fallback (data parallelism over every device, ZeRO-3 when parameters and
// optimizer state exceed half a device's memory) on the module, and
// cleave-seed-sharding and cleave-propagate-sharding with from-search=true,
// which the shard pipeline runs after the search, carry it out. When the
// search planned, those two do nothing.
// RUN: cleave-opt %s --split-input-file --cleave-search-sharding="devices=4 cluster=h100-sxm-8x1 max-ops=1" | FileCheck %s --check-prefix=RECORD
// RUN: cleave-opt %s --split-input-file --cleave-search-sharding="devices=4 cluster=h100-sxm-8x1 max-ops=1" \
// RUN:   --cleave-seed-sharding="from-search=true" --cleave-propagate-sharding="from-search=true" | FileCheck %s --check-prefix=FALLBACK
// RUN: cleave-opt %s --split-input-file --cleave-search-sharding="devices=4 cluster=%inputs/tiny-memory-cluster.json max-ops=1" | FileCheck %s --check-prefix=ZERO
// RUN: cleave-opt %s --split-input-file --cleave-search-sharding="devices=4 cluster=%inputs/tiny-memory-cluster.json" -o %t.search
// RUN: cleave-opt %s --split-input-file --cleave-search-sharding="devices=4 cluster=%inputs/tiny-memory-cluster.json" \
// RUN:   --cleave-seed-sharding="from-search=true" --cleave-propagate-sharding="from-search=true" -o %t.after
// RUN: diff %t.search %t.after
// RUN: FileCheck %s --check-prefix=PLANNED --input-file=%t.after
// RUN: cleave-opt %s --split-input-file --cleave-seed-sharding="from-search=true" --cleave-propagate-sharding="from-search=true" | FileCheck %s --check-prefix=NOTHING

// 64 rows: dp takes all four devices. The grid and layouts come from the
// seeding (the batch split over dp, parameters whole) and propagation.
// RECORD:      module attributes {cleave.shard_fallback = {grid = "dp=4", shard = "", zero = 0 : i64}}
// RECORD-NOT:  shard.grid
// RECORD-NOT:  cleave.factor_axes
// FALLBACK:     module {
// FALLBACK-NEXT:  shard.grid @grid(shape = 4) {cleave.axis_names = ["dp"]}
// FALLBACK:       %arg2: tensor<64x256xf32> {cleave.input = "x", cleave.sharding = #shard<axisarray{{\[\[}}0], []]>}
// FALLBACK-NOT:   cleave.predicted_step_seconds
// FALLBACK:       cleave.matmul %arg2, %arg0 {cleave.factor_axes = #shard<axisarray{{\[}}[0], [], []]>}
// FALLBACK:       cleave.unary relu %{{.*}} {cleave.factor_axes = #shard<axisarray{{\[}}[0], []]>}
// FALLBACK:       cleave.matmul %arg2, %{{.*}} {cleave.factor_axes = #shard<axisarray{{\[}}[], [], [0]]>, transpose_a}
// The 1 MiB of parameters exceed half of 50 kB: ZeRO-3.
// ZERO:        module attributes {cleave.shard_fallback = {grid = "dp=4", shard = "", zero = 3 : i64}}
// The search itself, small enough, plans (here the least-memory plan,
// cleave-search-sharding-least-memory.mlir): the two passes leave its plan
// as it is. Propagation would have split the loss's reduction.
// PLANNED-NOT: cleave.shard_fallback
// PLANNED:     shard.grid @grid(shape = 4)
// PLANNED:     attributes {cleave.predicted_step_seconds =
// PLANNED:     cleave.reduce mean %{{.*}} {axes = array<i64: 0, 1>} :
// Without the search's record they do nothing at all.
// NOTHING-NOT: shard.grid
// NOTHING-NOT: cleave.sharding
// NOTHING-NOT: cleave.factor_axes
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

// -----

// 2 rows: dp takes what divides the batch, the rest of the devices form a
// tp axis that propagation leaves to pins.
// RECORD:      module attributes {cleave.shard_fallback = {grid = "dp=2,tp=2", shard = "", zero = 0 : i64}}
// FALLBACK:     module {
// FALLBACK-NEXT:  shard.grid @grid(shape = 2x2) {cleave.axis_names = ["dp", "tp"]}
// FALLBACK:       %arg1: tensor<2x256xf32> {cleave.input = "x", cleave.sharding = #shard<axisarray{{\[\[}}0], []]>}
// FALLBACK:       cleave.matmul %arg1, %arg0 {cleave.factor_axes = #shard<axisarray{{\[}}[0], [], []]>}
// ZERO:        module attributes {cleave.shard_fallback = {grid = "dp=2,tp=2", shard = "", zero = 3 : i64}}
// PLANNED:     shard.grid @grid
// PLANNED:     attributes {cleave.predicted_step_seconds =
func.func @train_step(%w: tensor<256x256xf32> {cleave.param = #cleave.param<"w", trainable>},
                      %x: tensor<2x256xf32> {cleave.input = "x"})
    -> (tensor<256x256xf32> {cleave.updates = 0 : i64}, tensor<f32> {cleave.loss}) {
  %h = cleave.matmul %x, %w : (tensor<2x256xf32>, tensor<256x256xf32>) -> tensor<2x256xf32>
  %l = cleave.reduce mean %h {axes = array<i64: 0, 1>} : tensor<2x256xf32> -> tensor<f32>
  %g = cleave.matmul %x, %h {transpose_a} : (tensor<2x256xf32>, tensor<2x256xf32>) -> tensor<256x256xf32>
  %u = cleave.binary sub %w, %g : (tensor<256x256xf32>, tensor<256x256xf32>) -> tensor<256x256xf32>
  return %u, %l : tensor<256x256xf32>, tensor<f32>
}
