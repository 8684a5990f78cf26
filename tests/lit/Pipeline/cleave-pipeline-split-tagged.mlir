// cleave-pipeline-split on hand-tagged train steps: what canonicalization
// may leave (untagged ops, a backward op whose forward op was folded away).
// RUN: cleave-opt %s --split-input-file --cleave-pipeline-split="stages=2" | FileCheck %s

// The transpose of v carries no tag: it goes with its user (the forward of
// fc1, chunk 1). The exp carries none and feeds only the results: it goes
// with its producer (a backward op of chunk 1). The neg differentiates
// fwd_id 7, which no op has any more: it goes with the nearest forward op
// before it (fwd_id 3, chunk 1). The boundary is after relu0: v's
// transpose, which reads only arguments, counts with fc1.
// CHECK:       cleave.pipeline = {{{.*}}cuts = ["relu0"], layers = 2 : i64,
// CHECK-LABEL: func.func @train_step(
// CHECK:       cleave.matmul %arg0, %arg1 {cleave.fwd_id = 0 : i64, cleave.phase = "forward", cleave.stage = 0 : i64}
// CHECK:       cleave.unary relu %{{.*}} {cleave.fwd_id = 1 : i64, cleave.phase = "forward", cleave.stage = 0 : i64}
// CHECK:       cleave.transpose %arg2 [1, 0] {cleave.phase = "forward", cleave.stage = 1 : i64}
// CHECK:       cleave.matmul {{.*}} {cleave.fwd_id = 2 : i64, cleave.phase = "forward", cleave.stage = 1 : i64}
// CHECK:       cleave.reduce sum {{.*}}cleave.fwd_id = 3 : i64, cleave.phase = "forward", cleave.stage = 1 : i64}
// CHECK:       cleave.unary neg {{.*}} {cleave.bwd_of = 7 : i64, cleave.phase = "backward", cleave.stage = 1 : i64}
// CHECK:       cleave.unary exp {{.*}} {cleave.phase = "backward", cleave.stage = 1 : i64}
func.func @train_step(%x: tensor<2x4xf32> {cleave.input = "x"}, %w: tensor<4x4xf32> {cleave.param = #cleave.param<"w", trainable>}, %v: tensor<4x4xf32> {cleave.param = #cleave.param<"v", trainable>}) -> (tensor<f32> {cleave.loss}, tensor<2x4xf32>) {
  %0 = cleave.matmul %x, %w {cleave.fwd_id = 0 : i64} : (tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<2x4xf32> loc("fc0")
  %1 = cleave.unary relu %0 {cleave.fwd_id = 1 : i64} : tensor<2x4xf32> loc("relu0")
  %t = cleave.transpose %v [1, 0] : tensor<4x4xf32> -> tensor<4x4xf32> loc("fc1")
  %2 = cleave.matmul %1, %t {cleave.fwd_id = 2 : i64} : (tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<2x4xf32> loc("fc1")
  %3 = cleave.reduce sum %2 {axes = array<i64: 0, 1>, cleave.fwd_id = 3 : i64} : tensor<2x4xf32> -> tensor<f32> loc("loss")
  %4 = cleave.unary neg %2 {cleave.bwd_of = 7 : i64} : tensor<2x4xf32>
  %5 = cleave.unary exp %4 : tensor<2x4xf32>
  return %3, %5 : tensor<f32>, tensor<2x4xf32>
}
