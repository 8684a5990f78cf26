// precision=bf16 prices the plan as a mixed-precision run (Precision.h):
// activations 2 bytes per element, parameters 2 + 4 and their gradients 2
// (SGD: 8 bytes per parameter either way). On 4 devices of 3.6 MB
// (Inputs/four-mb-cluster.json, 0.95 x 3.6 MB = 3.42 MB usable), plain data
// parallelism needs per device: w1 and w2 whole, 2 x 64K x 8 B = 1 MiB; x's
// quarter, 1 MiB; the activations the backward keeps (relu's output and
// the second product, 2 x 4096x256, a quarter each) 2 MiB in fp32, 1 MiB in
// bf16. fp32: 4 MiB does not fit, so the search splits the weights over the
// devices (w1 by rows, w2 by columns) and pays their collectives; bf16:
// 3 MiB fits and the weights stay whole (no collective but the gradients').
// RUN: cleave-opt %s --split-input-file --cleave-search-sharding="devices=4 cluster=%inputs/four-mb-cluster.json" | FileCheck %s --check-prefix=FP32
// RUN: cleave-opt %s --split-input-file --cleave-search-sharding="devices=4 cluster=%inputs/four-mb-cluster.json precision=bf16" | FileCheck %s --check-prefix=BF16
// RUN: not cleave-opt %s --split-input-file --cleave-search-sharding="devices=4 precision=fp16" -o /dev/null 2>&1 | FileCheck %s --check-prefix=BAD
// cleave-shard-pipeline hands its precision to the search: the partitioned
// step keeps a quarter of each weight per device in fp32, all of it in bf16.
// RUN: cleave-opt %s --split-input-file --cleave-shard-pipeline="devices=4 cluster=%inputs/four-mb-cluster.json" | FileCheck %s --check-prefix=PIPE32
// RUN: cleave-opt %s --split-input-file --cleave-shard-pipeline="devices=4 cluster=%inputs/four-mb-cluster.json precision=bf16" | FileCheck %s --check-prefix=PIPE16
// PIPE32: func.func @train_step(%arg0: tensor<64x256xf32> {cleave.param = #cleave.param<"w1", trainable>{{.*}}, %arg1: tensor<256x64xf32> {cleave.param = #cleave.param<"w2", trainable>
// PIPE16: func.func @train_step(%arg0: tensor<256x256xf32> {cleave.param = #cleave.param<"w1", trainable>{{.*}}, %arg1: tensor<256x256xf32> {cleave.param = #cleave.param<"w2", trainable>

// FP32:       shard.grid @grid(shape = 4) {cleave.axis_names = ["dp"]}
// FP32-LABEL: func.func @train_step
// FP32-SAME:    %arg0: tensor<256x256xf32> {cleave.param = #cleave.param<"w1", trainable>, cleave.sharding = #shard<axisarray{{\[\[}}0], []]>}
// FP32-SAME:    %arg1: tensor<256x256xf32> {cleave.param = #cleave.param<"w2", trainable>, cleave.sharding = #shard<axisarray{{\[\[}}], [0]]>}
// FP32-SAME:    %arg2: tensor<4096x256xf32> {cleave.input = "x", cleave.sharding = #shard<axisarray{{\[\[}}0], []]>}

// BF16:       shard.grid @grid(shape = 4) {cleave.axis_names = ["dp"]}
// BF16-LABEL: func.func @train_step
// BF16-SAME:    %arg0: tensor<256x256xf32> {cleave.param = #cleave.param<"w1", trainable>, cleave.sharding = #shard<axisarray{{\[\[}}], []]>}
// BF16-SAME:    %arg1: tensor<256x256xf32> {cleave.param = #cleave.param<"w2", trainable>, cleave.sharding = #shard<axisarray{{\[\[}}], []]>}
// BF16-SAME:    %arg2: tensor<4096x256xf32> {cleave.input = "x", cleave.sharding = #shard<axisarray{{\[\[}}0], []]>}
// BF16:         cleave.matmul %arg2, %arg0 {cleave.factor_axes = #shard<axisarray{{\[}}[0], [], []]>}

// BAD: error: precision 'fp16' is not a training precision: use fp32 or bf16
func.func @train_step(%w1: tensor<256x256xf32> {cleave.param = #cleave.param<"w1", trainable>},
                      %w2: tensor<256x256xf32> {cleave.param = #cleave.param<"w2", trainable>},
                      %x: tensor<4096x256xf32> {cleave.input = "x"})
    -> (tensor<256x256xf32> {cleave.updates = 0 : i64}, tensor<256x256xf32> {cleave.updates = 1 : i64}, tensor<f32> {cleave.loss}) {
  %h = cleave.matmul %x, %w1 : (tensor<4096x256xf32>, tensor<256x256xf32>) -> tensor<4096x256xf32>
  %a = cleave.unary relu %h : tensor<4096x256xf32>
  %y = cleave.matmul %a, %w2 : (tensor<4096x256xf32>, tensor<256x256xf32>) -> tensor<4096x256xf32>
  %l = cleave.reduce mean %y {axes = array<i64: 0, 1>} : tensor<4096x256xf32> -> tensor<f32>
  %g2 = cleave.matmul %a, %y {transpose_a} : (tensor<4096x256xf32>, tensor<4096x256xf32>) -> tensor<256x256xf32>
  %g1 = cleave.matmul %x, %a {transpose_a} : (tensor<4096x256xf32>, tensor<4096x256xf32>) -> tensor<256x256xf32>
  %u1 = cleave.binary sub %w1, %g1 : (tensor<256x256xf32>, tensor<256x256xf32>) -> tensor<256x256xf32>
  %u2 = cleave.binary sub %w2, %g2 : (tensor<256x256xf32>, tensor<256x256xf32>) -> tensor<256x256xf32>
  return %u1, %u2, %l : tensor<256x256xf32>, tensor<256x256xf32>, tensor<f32>
}
