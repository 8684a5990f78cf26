// RUN: split-file %s %t
// RUN: cleave-opt %t/mlp-adamw.mlir --cleave-train-pipeline="loss=cross_entropy labels=y optimizer=adamw" | FileCheck %t/mlp-adamw.mlir
// RUN: cleave-opt %t/dropout-sgd.mlir --cleave-train-pipeline="loss=mse labels=target optimizer=sgd momentum=0.9" | FileCheck %t/dropout-sgd.mlir
// RUN: not cleave-opt %t/mlp-adamw.mlir --cleave-train-pipeline="loss=cross_entropy" 2>&1 | FileCheck %t/missing-labels.mlir

// The whole train pipeline (cleave-lower-dropout, cleave-attach-loss,
// cleave-autodiff, cleave-optimizer, canonicalize, CSE), as cleavec runs it.

//--- mlp-adamw.mlir

// A two-layer MLP with a bias and ReLU, cross-entropy and AdamW: every
// stage leaves its function; the train step holds the forward pass, the
// backward pass and the updates, with CSE sharing the per-step scalars.
// CHECK-LABEL: func.func @forward(
// CHECK:       func.func @loss(
// CHECK-SAME:    %arg4: tensor<2xi64> {cleave.input = "y"}) -> (tensor<f32> {cleave.loss})
// CHECK:       func.func @gradients(
// CHECK-SAME:    -> (tensor<f32> {cleave.loss}, tensor<4x3xf32> {cleave.grad_of = 0 : i64}, tensor<4xf32> {cleave.grad_of = 1 : i64}, tensor<5x4xf32> {cleave.grad_of = 2 : i64})
// CHECK:       func.func @train_step(
// CHECK-SAME:    %arg0: tensor<4x3xf32> {cleave.param = #cleave.param<"fc1.weight", trainable>},
// CHECK-SAME:    %arg1: tensor<4xf32> {cleave.param = #cleave.param<"fc1.bias", trainable>},
// CHECK-SAME:    %arg2: tensor<5x4xf32> {cleave.param = #cleave.param<"fc2.weight", trainable>},
// CHECK-SAME:    %arg3: tensor<4x3xf32> {cleave.opt_state = "fc1.weight.exp_avg"},
// CHECK-SAME:    %arg4: tensor<4x3xf32> {cleave.opt_state = "fc1.weight.exp_avg_sq"},
// CHECK-SAME:    %arg5: tensor<4xf32> {cleave.opt_state = "fc1.bias.exp_avg"},
// CHECK-SAME:    %arg6: tensor<4xf32> {cleave.opt_state = "fc1.bias.exp_avg_sq"},
// CHECK-SAME:    %arg7: tensor<5x4xf32> {cleave.opt_state = "fc2.weight.exp_avg"},
// CHECK-SAME:    %arg8: tensor<5x4xf32> {cleave.opt_state = "fc2.weight.exp_avg_sq"},
// CHECK-SAME:    %arg9: tensor<2x3xf32> {cleave.input = "x"},
// CHECK-SAME:    %arg10: tensor<2xi64> {cleave.input = "y"},
// CHECK-SAME:    %arg11: tensor<f32> {cleave.step_scalar = "lr"},
// CHECK-SAME:    %arg12: tensor<f32> {cleave.step_scalar = "step_size"},
// CHECK-SAME:    %arg13: tensor<f32> {cleave.step_scalar = "bias_correction2_sqrt"})
// CHECK-SAME:    -> (tensor<4x3xf32> {cleave.updates = 0 : i64}, tensor<4x3xf32> {cleave.updates = 3 : i64}, tensor<4x3xf32> {cleave.updates = 4 : i64},
// CHECK-SAME:        tensor<4xf32> {cleave.updates = 1 : i64}, tensor<4xf32> {cleave.updates = 5 : i64}, tensor<4xf32> {cleave.updates = 6 : i64},
// CHECK-SAME:        tensor<5x4xf32> {cleave.updates = 2 : i64}, tensor<5x4xf32> {cleave.updates = 7 : i64}, tensor<5x4xf32> {cleave.updates = 8 : i64},
// CHECK-SAME:        tensor<f32> {cleave.loss})
// Forward:
// CHECK:         %[[H:.*]] = cleave.matmul %arg9, %arg0 {transpose_b}
// CHECK:         %[[HB:.*]] = cleave.binary add %[[H]], %arg1
// CHECK:         %[[R:.*]] = cleave.unary relu %[[HB]]
// CHECK:         %[[LOGITS:.*]] = cleave.matmul %[[R]], %arg2 {transpose_b}
// CHECK:         %[[SUM:.*]] = cleave.cross_entropy %[[LOGITS]], %arg10 {ignore_index = -100 : i64, sum}
// CHECK:         %[[COUNT:.*]] = cleave.reduce sum
// CHECK:         %[[LOSS:.*]] = cleave.binary div %[[SUM]], %[[COUNT]]
// Backward:
// CHECK:         %[[DLOGITS:.*]] = cleave.cross_entropy_grad %[[LOGITS]], %arg10, %{{.*}} {ignore_index = -100 : i64, sum}
// CHECK-DAG:     %[[DR:.*]] = cleave.matmul %[[DLOGITS]], %arg2 :
// CHECK-DAG:     %[[DW2:.*]] = cleave.matmul %[[DLOGITS]], %[[R]] {transpose_a}
// CHECK:         %[[ACTIVE:.*]] = cleave.compare gt %[[HB]], %{{.*}}
// CHECK:         %[[DHB:.*]] = cleave.select %[[ACTIVE]], %[[DR]], %{{.*}}
// CHECK:         %[[DB1:.*]] = cleave.reduce sum %[[DHB]] {axes = array<i64: 0>, keep_dims}
// CHECK:         %[[DW1:.*]] = cleave.matmul %[[DHB]], %arg9 {transpose_a}
// Updates: the host's scalars are used as they come (no sqrt or division
// of a step scalar), one step per parameter:
// CHECK-NOT:     cleave.unary sqrt %arg13
// CHECK-COUNT-3: cleave.binary mul %arg12,
// CHECK:         return {{.*}}, %[[LOSS]] :
func.func @forward(%w1: tensor<4x3xf32> {cleave.param = #cleave.param<"fc1.weight", trainable>},
                   %b1: tensor<4xf32> {cleave.param = #cleave.param<"fc1.bias", trainable>},
                   %w2: tensor<5x4xf32> {cleave.param = #cleave.param<"fc2.weight", trainable>},
                   %x: tensor<2x3xf32> {cleave.input = "x"}) -> (tensor<2x5xf32> {cleave.output = "logits"}) {
  %h = cleave.matmul %x, %w1 {transpose_b} : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x4xf32>
  %hb = cleave.binary add %h, %b1 : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  %r = cleave.unary relu %hb : tensor<2x4xf32>
  %y = cleave.matmul %r, %w2 {transpose_b} : (tensor<2x4xf32>, tensor<5x4xf32>) -> tensor<2x5xf32>
  return %y : tensor<2x5xf32>
}

//--- dropout-sgd.mlir

// Dropout, mse and SGD with momentum: the mask is drawn once and used by
// both passes; the momentum buffer is the only state.
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME:    %arg1: tensor<4x3xf32> {cleave.opt_state = "fc1.weight.momentum_buffer"},
// CHECK-SAME:    %arg3: tensor<2x4xf32> {cleave.input = "target"},
// CHECK-SAME:    %arg4: tensor<f32> {cleave.step_scalar = "lr"})
// CHECK:         %[[MASK:.*]] = cleave.random_mask {keep_probability = 8.000000e-01 : f64, stream = 0 : i64}
// CHECK:         cleave.binary mul %{{.*}}, %[[MASK]]
// CHECK:         cleave.reduce mean
// CHECK:         cleave.binary mul %{{.*}}, %[[MASK]]
// CHECK-NOT:     cleave.random_mask
// CHECK:         %[[DW:.*]] = cleave.matmul %{{.*}}, %arg2 {transpose_a}
// CHECK:         %[[OLD:.*]] = cleave.binary mul %arg1, %{{.*}}
// CHECK:         %[[BUF:.*]] = cleave.binary add %[[OLD]], %[[DW]]
// CHECK:         %[[STEP:.*]] = cleave.binary mul %arg4, %[[BUF]]
// CHECK:         %[[NEW:.*]] = cleave.binary sub %arg0, %[[STEP]]
// CHECK:         return %[[NEW]], %[[BUF]], %{{.*}}
func.func @forward(%w1: tensor<4x3xf32> {cleave.param = #cleave.param<"fc1.weight", trainable>},
                   %x: tensor<2x3xf32> {cleave.input = "x"}) -> (tensor<2x4xf32> {cleave.output = "y"}) {
  %h = cleave.matmul %x, %w1 {transpose_b} : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x4xf32>
  %d = cleave.dropout %h {ratio = 2.0e-01 : f64} : tensor<2x4xf32>
  return %d : tensor<2x4xf32>
}

//--- missing-labels.mlir

// A failing stage stops the pipeline with its diagnostic.
// CHECK: error: 'func.func' op --loss cross_entropy needs --labels NAME for the labels input
// CHECK-NOT: func.func @train_step
