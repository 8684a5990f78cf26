// cleave-pipeline-split precision=bf16 counts a mixed-precision run
// (Precision.h): the MLP of cleave-pipeline-split.mlir with AdamW, 2 stages,
// 4 micro-batches. Per stage, parameters are 2 + 4 bytes per element
// (chunk_parameter_bytes and stage_weight_bytes x 1.5), gradients 2 (half),
// AdamW's two moments fp32 (the same), so weights + gradients + state stay
// 16 bytes per parameter: stage 0's 2112 parameters hold 8448 + 8448 +
// 16896 = 33792 bytes in fp32 and 12672 + 4224 + 16896 = 33792 in bf16.
// The activations stashed for the backward (relu0's input and x: 768 per
// micro-batch) and the 512 bytes crossing the cut halve; the last chunk
// also stashes the i64 labels and an f32 scalar, which keep their size
// (1633 -> 825).
// RUN: cleave-opt %s --split-input-file --cleave-train-pipeline="loss=cross_entropy labels=y optimizer=adamw phase-tags=true" --cleave-pipeline-split="stages=2 micro-batches=4" | FileCheck %s --check-prefix=FP32
// RUN: cleave-opt %s --split-input-file --cleave-train-pipeline="loss=cross_entropy labels=y optimizer=adamw phase-tags=true" --cleave-pipeline-split="stages=2 micro-batches=4 precision=bf16" | FileCheck %s --check-prefix=BF16
// RUN: not cleave-opt %s --split-input-file -o /dev/null --cleave-train-pipeline="loss=cross_entropy labels=y optimizer=adamw phase-tags=true" --cleave-pipeline-split="stages=2 precision=f16" 2>&1 | FileCheck %s --check-prefix=BAD

// FP32: cleave.pipeline = {{{.*}}chunk_activation_bytes = [768, 1633], {{.*}}chunk_parameter_bytes = [8448, 19240], cut_bytes = [512], cuts = ["relu0"], layers = 3 : i64, micro_batches = 4 : i64, {{.*}}stage_activation_bytes = [1536, 1633], stage_gradient_bytes = [8448, 19240], stage_in_flight = [2, 1], stage_memory_bytes = [35328, 78593], stage_optimizer_bytes = [16896, 38480], {{.*}}stage_weight_bytes = [8448, 19240], stages = 2 : i64, virtual_stages = 1 : i64}
// FP32-NOT: precision
// BF16: cleave.pipeline = {{{.*}}chunk_activation_bytes = [384, 825], {{.*}}chunk_parameter_bytes = [12672, 28860], cut_bytes = [256], cuts = ["relu0"], layers = 3 : i64, micro_batches = 4 : i64, {{.*}}precision = "bf16", {{.*}}stage_activation_bytes = [768, 825], stage_gradient_bytes = [4224, 9620], stage_in_flight = [2, 1], stage_memory_bytes = [34560, 77785], stage_optimizer_bytes = [16896, 38480], {{.*}}stage_weight_bytes = [12672, 28860], stages = 2 : i64, virtual_stages = 1 : i64}
// BAD: error: cleave-pipeline-split: precision 'f16' is not a training precision: use fp32 or bf16

module {
  func.func @forward(%w0: tensor<64x32xf32> {cleave.param = #cleave.param<"0.weight", trainable>}, %b0: tensor<64xf32> {cleave.param = #cleave.param<"0.bias", trainable>}, %w1: tensor<64x64xf32> {cleave.param = #cleave.param<"2.weight", trainable>}, %b1: tensor<64xf32> {cleave.param = #cleave.param<"2.bias", trainable>}, %w2: tensor<10x64xf32> {cleave.param = #cleave.param<"4.weight", trainable>}, %b2: tensor<10xf32> {cleave.param = #cleave.param<"4.bias", trainable>}, %x: tensor<8x32xf32> {cleave.input = "x"}) -> (tensor<8x10xf32> {cleave.output = "logits"}) {
    %0 = cleave.matmul %x, %w0 {transpose_b} : (tensor<8x32xf32>, tensor<64x32xf32>) -> tensor<8x64xf32> loc("fc0")
    %1 = cleave.binary add %0, %b0 : (tensor<8x64xf32>, tensor<64xf32>) -> tensor<8x64xf32> loc("fc0")
    %2 = cleave.unary relu %1 : tensor<8x64xf32> loc("relu0")
    %3 = cleave.matmul %2, %w1 {transpose_b} : (tensor<8x64xf32>, tensor<64x64xf32>) -> tensor<8x64xf32> loc("fc1")
    %4 = cleave.binary add %3, %b1 : (tensor<8x64xf32>, tensor<64xf32>) -> tensor<8x64xf32> loc("fc1")
    %5 = cleave.unary relu %4 : tensor<8x64xf32> loc("relu1")
    %6 = cleave.matmul %5, %w2 {transpose_b} : (tensor<8x64xf32>, tensor<10x64xf32>) -> tensor<8x10xf32> loc("fc2")
    %7 = cleave.binary add %6, %b2 : (tensor<8x10xf32>, tensor<10xf32>) -> tensor<8x10xf32> loc("fc2")
    return %7 : tensor<8x10xf32>
  }
}

