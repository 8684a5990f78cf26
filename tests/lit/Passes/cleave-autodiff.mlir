// RUN: split-file %s %t
// RUN: cleave-opt %t/rules.mlir --split-input-file --cleave-autodiff | FileCheck %t/rules.mlir
// RUN: cleave-opt %t/names.mlir --cleave-autodiff="source=objective result=backward" | FileCheck %t/names.mlir
// RUN: cleave-opt %t/errors.mlir --split-input-file --cleave-autodiff --verify-diagnostics
// RUN: not cleave-opt %t/no-loss.mlir --cleave-autodiff 2>&1 | FileCheck %t/no-loss.mlir

// The values of these numerical rules are checked end to end by
// tests/gradients; these cases pin which ops autodiff builds.

//--- rules.mlir

// C = A B: dA = G B^T and dB = A^T G, both as matmul flags (no transpose
// op). The loss is sum(C), so G is a broadcast of the seed 1.
// CHECK-LABEL: func.func @gradients
// CHECK-SAME:    -> (tensor<f32> {cleave.loss}, tensor<3x4xf32> {cleave.grad_of = 0 : i64}, tensor<4x5xf32> {cleave.grad_of = 1 : i64})
// CHECK:         %[[ONE:.*]] = cleave.constant dense<1.000000e+00> : tensor<f32>
// CHECK:         %[[G:.*]] = cleave.broadcast %{{.*}} : tensor<1x1xf32> to tensor<3x5xf32>
// CHECK-DAG:     %[[DA:.*]] = cleave.matmul %[[G]], %arg1 {transpose_b} : (tensor<3x5xf32>, tensor<4x5xf32>) -> tensor<3x4xf32>
// CHECK-DAG:     %[[DB:.*]] = cleave.matmul %arg0, %[[G]] {transpose_a} : (tensor<3x4xf32>, tensor<3x5xf32>) -> tensor<4x5xf32>
// CHECK-NOT:     cleave.transpose
// CHECK:         return %{{.*}}, %[[DA]], %[[DB]]
func.func @loss(%a: tensor<3x4xf32> {cleave.param = #cleave.param<"a", trainable>},
                %b: tensor<4x5xf32> {cleave.param = #cleave.param<"b", trainable>}) -> (tensor<f32> {cleave.loss}) {
  %c = cleave.matmul %a, %b : (tensor<3x4xf32>, tensor<4x5xf32>) -> tensor<3x5xf32>
  %l = cleave.reduce sum %c {axes = array<i64: 0, 1>} : tensor<3x5xf32> -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// C = A B^T: dA = G B, dB = G^T A.
// CHECK-LABEL: func.func @gradients
// CHECK:         %[[G:.*]] = cleave.broadcast
// CHECK-DAG:     %[[DA:.*]] = cleave.matmul %[[G]], %arg1 : (tensor<3x5xf32>, tensor<5x4xf32>) -> tensor<3x4xf32>
// CHECK-DAG:     %[[DB:.*]] = cleave.matmul %[[G]], %arg0 {transpose_a} : (tensor<3x5xf32>, tensor<3x4xf32>) -> tensor<5x4xf32>
// CHECK:         return %{{.*}}, %[[DA]], %[[DB]]
func.func @loss(%a: tensor<3x4xf32> {cleave.param = #cleave.param<"a", trainable>},
                %b: tensor<5x4xf32> {cleave.param = #cleave.param<"b", trainable>}) -> (tensor<f32> {cleave.loss}) {
  %c = cleave.matmul %a, %b {transpose_b} : (tensor<3x4xf32>, tensor<5x4xf32>) -> tensor<3x5xf32>
  %l = cleave.reduce sum %c {axes = array<i64: 0, 1>} : tensor<3x5xf32> -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// C = A^T B: dA = B G^T, dB = A G.
// CHECK-LABEL: func.func @gradients
// CHECK:         %[[G:.*]] = cleave.broadcast
// CHECK-DAG:     %[[DA:.*]] = cleave.matmul %arg1, %[[G]] {transpose_b} : (tensor<4x5xf32>, tensor<3x5xf32>) -> tensor<4x3xf32>
// CHECK-DAG:     %[[DB:.*]] = cleave.matmul %arg0, %[[G]] : (tensor<4x3xf32>, tensor<3x5xf32>) -> tensor<4x5xf32>
// CHECK:         return %{{.*}}, %[[DA]], %[[DB]]
func.func @loss(%a: tensor<4x3xf32> {cleave.param = #cleave.param<"a", trainable>},
                %b: tensor<4x5xf32> {cleave.param = #cleave.param<"b", trainable>}) -> (tensor<f32> {cleave.loss}) {
  %c = cleave.matmul %a, %b {transpose_a} : (tensor<4x3xf32>, tensor<4x5xf32>) -> tensor<3x5xf32>
  %l = cleave.reduce sum %c {axes = array<i64: 0, 1>} : tensor<3x5xf32> -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// C = A^T B^T: dA = B^T G^T, dB = G^T A^T.
// CHECK-LABEL: func.func @gradients
// CHECK:         %[[G:.*]] = cleave.broadcast
// CHECK-DAG:     %[[DA:.*]] = cleave.matmul %arg1, %[[G]] {transpose_a, transpose_b} : (tensor<5x4xf32>, tensor<3x5xf32>) -> tensor<4x3xf32>
// CHECK-DAG:     %[[DB:.*]] = cleave.matmul %[[G]], %arg0 {transpose_a, transpose_b} : (tensor<3x5xf32>, tensor<4x3xf32>) -> tensor<5x4xf32>
// CHECK:         return %{{.*}}, %[[DA]], %[[DB]]
func.func @loss(%a: tensor<4x3xf32> {cleave.param = #cleave.param<"a", trainable>},
                %b: tensor<5x4xf32> {cleave.param = #cleave.param<"b", trainable>}) -> (tensor<f32> {cleave.loss}) {
  %c = cleave.matmul %a, %b {transpose_a, transpose_b} : (tensor<4x3xf32>, tensor<5x4xf32>) -> tensor<3x5xf32>
  %l = cleave.reduce sum %c {axes = array<i64: 0, 1>} : tensor<3x5xf32> -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// A weight shared by a batched matmul: its gradient has the batch and is
// summed back over it to the weight's shape.
// CHECK-LABEL: func.func @gradients
// CHECK:         %[[DB:.*]] = cleave.matmul %{{.*}}, %{{.*}} {transpose_a} : (tensor<2x3x4xf32>, tensor<2x3x5xf32>) -> tensor<2x4x5xf32>
// CHECK:         %[[SUM:.*]] = cleave.reduce sum %[[DB]] {axes = array<i64: 0>, keep_dims} : tensor<2x4x5xf32> -> tensor<1x4x5xf32>
// CHECK:         %[[GRAD:.*]] = cleave.reshape %[[SUM]] : tensor<1x4x5xf32> to tensor<4x5xf32>
// CHECK:         return %{{.*}}, %{{.*}}, %[[GRAD]]
func.func @loss(%a: tensor<2x3x4xf32> {cleave.param = #cleave.param<"a", trainable>},
                %b: tensor<4x5xf32> {cleave.param = #cleave.param<"b", trainable>}) -> (tensor<f32> {cleave.loss}) {
  %c = cleave.matmul %a, %b : (tensor<2x3x4xf32>, tensor<4x5xf32>) -> tensor<2x3x5xf32>
  %l = cleave.reduce sum %c {axes = array<i64: 0, 1, 2>} : tensor<2x3x5xf32> -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// A tied embedding (gathered, then the output projection): the gradients
// of its two uses are summed with exactly one add.
// CHECK-LABEL: func.func @gradients
// CHECK-SAME:    -> (tensor<f32> {cleave.loss}, tensor<5x3xf32> {cleave.grad_of = 0 : i64})
// CHECK-DAG:     %[[FROM_MATMUL:.*]] = cleave.matmul %{{.*}}, %{{.*}} {transpose_a} : (tensor<2x5xf32>, tensor<2x3xf32>) -> tensor<5x3xf32>
// CHECK-DAG:     %[[FROM_GATHER:.*]] = cleave.scatter_add %{{.*}}[%arg1] {axis = 0 : i64} : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<5x3xf32>
// CHECK:         %[[SUM:.*]] = cleave.binary add %{{.*}}, %{{.*}} : (tensor<5x3xf32>, tensor<5x3xf32>) -> tensor<5x3xf32>
// CHECK-NOT:     cleave.binary add
// CHECK:         return %{{.*}}, %[[SUM]]
func.func @loss(%wte: tensor<5x3xf32> {cleave.param = #cleave.param<"wte", trainable>},
                %ids: tensor<2xi64> {cleave.input = "ids"}) -> (tensor<f32> {cleave.loss}) {
  %h = cleave.gather %wte[%ids] {axis = 0 : i64} : (tensor<5x3xf32>, tensor<2xi64>) -> tensor<2x3xf32>
  %y = cleave.matmul %h, %wte {transpose_b} : (tensor<2x3xf32>, tensor<5x3xf32>) -> tensor<2x5xf32>
  %l = cleave.reduce sum %y {axes = array<i64: 0, 1>} : tensor<2x5xf32> -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// A bias broadcast over the batch: its gradient is reduced over the
// broadcast dimension back to [4].
// CHECK-LABEL: func.func @gradients
// CHECK-SAME:    -> (tensor<f32> {cleave.loss}, tensor<4xf32> {cleave.grad_of = 1 : i64})
// CHECK:         %[[G:.*]] = cleave.broadcast %{{.*}} : tensor<1x1xf32> to tensor<2x4xf32>
// CHECK:         %[[SUM:.*]] = cleave.reduce sum %[[G]] {axes = array<i64: 0>, keep_dims} : tensor<2x4xf32> -> tensor<1x4xf32>
// CHECK:         %[[GRAD:.*]] = cleave.reshape %[[SUM]] : tensor<1x4xf32> to tensor<4xf32>
// CHECK:         return %{{.*}}, %[[GRAD]]
func.func @loss(%x: tensor<2x4xf32> {cleave.input = "x"},
                %b: tensor<4xf32> {cleave.param = #cleave.param<"b", trainable>}) -> (tensor<f32> {cleave.loss}) {
  %y = cleave.binary add %x, %b : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  %l = cleave.reduce sum %y {axes = array<i64: 0, 1>} : tensor<2x4xf32> -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// Only values between a trainable parameter and the loss get gradient
// work: no gradient for the data input x (no G W product) nor for the
// buffer s (no product with the scaled input), and no gradient result for
// `unused`, which the loss does not depend on. grad_of names the argument.
// CHECK-LABEL: func.func @gradients
// CHECK-SAME:    -> (tensor<f32> {cleave.loss}, tensor<3x4xf32> {cleave.grad_of = 1 : i64})
// CHECK:         %[[XW:.*]] = cleave.matmul %arg0, %arg1 : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
// CHECK:         %[[SCALED:.*]] = cleave.binary mul %[[XW]], %arg3
// CHECK:         %[[G:.*]] = cleave.binary mul %{{.*}}, %arg3 : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
// CHECK-NOT:     cleave.binary mul %{{.*}}, %[[XW]]
// CHECK-NOT:     %arg1 {transpose_b}
// CHECK:         %[[DW:.*]] = cleave.matmul %arg0, %[[G]] {transpose_a} : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<3x4xf32>
// CHECK-NOT:     cleave.matmul
// CHECK:         return %{{.*}}, %[[DW]] : tensor<f32>, tensor<3x4xf32>
func.func @loss(%x: tensor<2x3xf32> {cleave.input = "x"},
                %w: tensor<3x4xf32> {cleave.param = #cleave.param<"w", trainable>},
                %unused: tensor<4xf32> {cleave.param = #cleave.param<"unused", trainable>},
                %s: tensor<4xf32> {cleave.param = #cleave.param<"stat", buffer>}) -> (tensor<f32> {cleave.loss}) {
  %y = cleave.matmul %x, %w : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  %z = cleave.binary mul %y, %s : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  %l = cleave.reduce sum %z {axes = array<i64: 0, 1>} : tensor<2x4xf32> -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// A loss no trainable parameter reaches: @gradients returns just the loss.
// CHECK-LABEL: func.func @gradients
// CHECK-SAME:    -> (tensor<f32> {cleave.loss})
// CHECK-NOT:     cleave.constant
// CHECK:         return
func.func @loss(%x: tensor<4xf32> {cleave.input = "x"},
                %w: tensor<4xf32> {cleave.param = #cleave.param<"w", trainable>}) -> (tensor<f32> {cleave.loss}) {
  %l = cleave.reduce sum %x {axes = array<i64: 0>} : tensor<4xf32> -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// State updates (BatchNorm running statistics) pass through after the
// loss; gradients come last, in argument order. The buffers get none.
// CHECK-LABEL: func.func @gradients
// CHECK-SAME:    -> (tensor<f32> {cleave.loss}, tensor<3xf32> {cleave.updates = 3 : i64}, tensor<3xf32> {cleave.updates = 4 : i64},
// CHECK-SAME:        tensor<3xf32> {cleave.grad_of = 1 : i64}, tensor<3xf32> {cleave.grad_of = 2 : i64})
// CHECK:         %[[Y:.*]], %[[MEAN:.*]], %[[VAR:.*]] = cleave.batch_norm
// CHECK:         %{{.*}}, %[[DG:.*]], %[[DB:.*]] = cleave.batch_norm_grad
// CHECK:         return %{{.*}}, %[[MEAN]], %[[VAR]], %[[DG]], %[[DB]]
func.func @loss(%x: tensor<4x3xf32> {cleave.input = "x"},
                %g: tensor<3xf32> {cleave.param = #cleave.param<"bn.weight", trainable>},
                %b: tensor<3xf32> {cleave.param = #cleave.param<"bn.bias", trainable>},
                %m: tensor<3xf32> {cleave.param = #cleave.param<"bn.running_mean", buffer>},
                %v: tensor<3xf32> {cleave.param = #cleave.param<"bn.running_var", buffer>})
    -> (tensor<f32> {cleave.loss}, tensor<3xf32> {cleave.updates = 3 : i64}, tensor<3xf32> {cleave.updates = 4 : i64}) {
  %y, %rm, %rv = cleave.batch_norm %x, %g, %b, %m, %v {epsilon = 1.0e-05 : f64, momentum = 1.0e-01 : f64} : (tensor<4x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> (tensor<4x3xf32>, tensor<3xf32>, tensor<3xf32>)
  %l = cleave.reduce mean %y {axes = array<i64: 0, 1>} : tensor<4x3xf32> -> tensor<f32>
  return %l, %rm, %rv : tensor<f32>, tensor<3xf32>, tensor<3xf32>
}

// -----

// The fused ops get their fused gradient ops: softmax_grad from the
// result, layer_norm_grad for input, scale and bias at once, and
// cross_entropy_grad seeded with the loss gradient.
// CHECK-LABEL: func.func @gradients
// CHECK:         %[[N:.*]] = cleave.layer_norm
// CHECK:         %[[P:.*]] = cleave.softmax %[[N]] {axis = 1 : i64, log}
// CHECK:         %[[L:.*]] = cleave.cross_entropy %[[P]], %arg3
// CHECK:         %[[ONE:.*]] = cleave.constant dense<1.000000e+00> : tensor<f32>
// CHECK:         %[[DP:.*]] = cleave.cross_entropy_grad %[[P]], %arg3, %[[ONE]]
// CHECK:         %[[DN:.*]] = cleave.softmax_grad %[[P]], %[[DP]] {axis = 1 : i64, log}
// CHECK:         %[[DX:.*]], %[[DG:.*]], %[[DB:.*]] = cleave.layer_norm_grad %arg0, %arg1, %[[DN]] {axis = 1 : i64, epsilon = 1.000000e-05 : f64}
// CHECK:         return %[[L]], %[[DX]], %[[DG]], %[[DB]]
func.func @loss(%x: tensor<2x4xf32> {cleave.param = #cleave.param<"x", trainable>},
                %g: tensor<4xf32> {cleave.param = #cleave.param<"ln.weight", trainable>},
                %b: tensor<4xf32> {cleave.param = #cleave.param<"ln.bias", trainable>},
                %y: tensor<2xi64> {cleave.input = "y"}) -> (tensor<f32> {cleave.loss}) {
  %n = cleave.layer_norm %x, %g, %b {axis = 1 : i64, epsilon = 1.0e-05 : f64} : (tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  %p = cleave.softmax %n {axis = 1 : i64, log} : tensor<2x4xf32>
  %l = cleave.cross_entropy %p, %y : (tensor<2x4xf32>, tensor<2xi64>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// Random masks (lowered dropout) need no gradient: the product rule sends
// the gradient through the mask to the input only.
// CHECK-LABEL: func.func @gradients
// CHECK:         %[[M:.*]] = cleave.random_mask
// CHECK:         cleave.binary mul %arg0, %[[M]]
// CHECK:         %[[G:.*]] = cleave.broadcast
// CHECK:         %[[DX:.*]] = cleave.binary mul %[[G]], %[[M]]
// CHECK:         return %{{.*}}, %[[DX]]
func.func @loss(%x: tensor<4xf32> {cleave.param = #cleave.param<"x", trainable>}) -> (tensor<f32> {cleave.loss}) {
  %m = cleave.random_mask {keep_probability = 9.000000e-01 : f64, stream = 0 : i64} : tensor<4xf32>
  %y = cleave.binary mul %x, %m : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %l = cleave.reduce sum %y {axes = array<i64: 0>} : tensor<4xf32> -> tensor<f32>
  return %l : tensor<f32>
}

//--- names.mlir

// `source` and `result` choose the functions.
// CHECK-LABEL: func.func @objective
// CHECK:       func.func @backward(
// CHECK-SAME:    -> (tensor<f32> {cleave.loss}, tensor<4xf32> {cleave.grad_of = 0 : i64})
// CHECK-NOT:   func.func @gradients
func.func @objective(%w: tensor<4xf32> {cleave.param = #cleave.param<"w", trainable>}) -> (tensor<f32> {cleave.loss}) {
  %l = cleave.reduce sum %w {axes = array<i64: 0>} : tensor<4xf32> -> tensor<f32>
  return %l : tensor<f32>
}

//--- errors.mlir

// @loss must mark its loss result.
// expected-error @+1 {{has no result marked cleave.loss}}
func.func @loss(%w: tensor<4xf32> {cleave.param = #cleave.param<"w", trainable>}) -> tensor<f32> {
  %l = cleave.reduce sum %w {axes = array<i64: 0>} : tensor<4xf32> -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// The loss is a scalar.
// expected-error @+1 {{loss result must be a scalar (0-d) tensor}}
func.func @loss(%w: tensor<4xf32> {cleave.param = #cleave.param<"w", trainable>}) -> (tensor<4xf32> {cleave.loss}) {
  return %w : tensor<4xf32>
}

// -----

// An op without a gradient rule on the path from a parameter to the loss
// (dropout must be lowered to a random mask first).
func.func @loss(%w: tensor<4xf32> {cleave.param = #cleave.param<"w", trainable>}) -> (tensor<f32> {cleave.loss}) {
  // expected-error @+1 {{has no gradient rule, but the loss depends on it through a trainable parameter}}
  %d = cleave.dropout %w {ratio = 1.0e-01 : f64} : tensor<4xf32>
  %l = cleave.reduce sum %d {axes = array<i64: 0>} : tensor<4xf32> -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// The same op off the differentiated path is no error.
func.func @loss(%w: tensor<4xf32> {cleave.param = #cleave.param<"w", trainable>},
                %x: tensor<4xf32> {cleave.input = "x"}) -> (tensor<f32> {cleave.loss}) {
  %d = cleave.dropout %x {ratio = 1.0e-01 : f64} : tensor<4xf32>
  %p = cleave.binary mul %d, %w : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %l = cleave.reduce sum %p {axes = array<i64: 0>} : tensor<4xf32> -> tensor<f32>
  return %l : tensor<f32>
}

//--- no-loss.mlir

// Without @loss (cleave-attach-loss not run) the pass says what to do.
// CHECK: error: cleave-autodiff: no function @loss (run cleave-attach-loss first)
func.func @forward(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}
