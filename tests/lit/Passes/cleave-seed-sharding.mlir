// RUN: cleave-opt %s --cleave-seed-sharding="function=f grid=dp=2,tp=2 zero=3 shard=w=tp,-" | FileCheck %s
// RUN: cleave-opt %s --cleave-seed-sharding="function=f grid=dp=2,tp=2 zero=1 shard=w=tp,-" | FileCheck %s --check-prefix=ZERO1
// RUN: not cleave-opt %s --cleave-seed-sharding="function=f grid=dp=2 zero=4" 2>&1 | FileCheck %s --check-prefix=LEVEL
// RUN: not cleave-opt %s --cleave-seed-sharding="function=f grid=dp=4" 2>&1 | FileCheck %s --check-prefix=BATCH
// RUN: not cleave-opt %s --cleave-seed-sharding="function=f grid=dp=2 shard=nothere=-,-" 2>&1 | FileCheck %s --check-prefix=PIN

// CHECK:       shard.grid @grid(shape = 2x2) {cleave.axis_names = ["dp", "tp"]}
// CHECK-LABEL: func.func @f
// A pinned weight keeps its tp split and, under ZeRO-3, adds dp to the first
// dimension that can still be divided (here within tp's blocks of dim 0); its optimizer state follows; the batch splits
// over dp; the updated weight keeps its argument's layout.
// CHECK-SAME:    cleave.param = #cleave.param<"w", trainable>, cleave.sharding = #shard<axisarray{{\[}}[1, 0], []]>
// CHECK-SAME:    cleave.opt_state = "w.exp_avg", cleave.sharding = #shard<axisarray{{\[}}[1, 0], []]>
// CHECK-SAME:    cleave.input = "x", cleave.sharding = #shard<axisarray{{\[}}[0], []]>
// CHECK-SAME:    -> (tensor<4x6xf32> {cleave.sharding = #shard<axisarray{{\[}}[1, 0], []]>, cleave.updates = 0 : i64}
// ZeRO-1 (and 2) leave the weight as pinned and split its state over dp.
// ZERO1-LABEL: func.func @f
// ZERO1-SAME:    cleave.param = #cleave.param<"w", trainable>, cleave.sharding = #shard<axisarray{{\[}}[1], []]>
// ZERO1-SAME:    cleave.opt_state = "w.exp_avg", cleave.sharding = #shard<axisarray{{\[}}[1, 0], []]>
// ZERO1-SAME:    -> (tensor<4x6xf32> {cleave.sharding = #shard<axisarray{{\[}}[1], []]>, cleave.updates = 0 : i64}, tensor<4x6xf32> {cleave.sharding = #shard<axisarray{{\[}}[1, 0], []]>, cleave.updates = 1 : i64})
// LEVEL: ZeRO level 4 is not one of 0, 1, 2, 3
// BATCH: the batch (6 rows of input 'x') cannot be split 4 ways over dp: choose a batch size that dp divides
// PIN: --shard nothere: no parameter has that name
func.func @f(%w: tensor<4x6xf32> {cleave.param = #cleave.param<"w", trainable>},
             %m: tensor<4x6xf32> {cleave.opt_state = "w.exp_avg"},
             %x: tensor<6x6xf32> {cleave.input = "x"})
    -> (tensor<4x6xf32> {cleave.updates = 0 : i64}, tensor<4x6xf32> {cleave.updates = 1 : i64}) {
  return %w, %m : tensor<4x6xf32>, tensor<4x6xf32>
}
