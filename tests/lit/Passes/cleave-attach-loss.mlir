// Each part below runs with its own pass options (split-file), each case in
// a part is one --split-input-file chunk.
// RUN: split-file %s %t
// RUN: cleave-opt %t/cross-entropy.mlir --split-input-file --cleave-attach-loss="labels=y" | FileCheck %t/cross-entropy.mlir
// RUN: cleave-opt %t/mse.mlir --split-input-file --cleave-attach-loss="loss=mse labels=target" | FileCheck %t/mse.mlir
// RUN: cleave-opt %t/model.mlir --split-input-file --cleave-attach-loss="loss=model" | FileCheck %t/model.mlir
// RUN: cleave-opt %t/select-output.mlir --cleave-attach-loss="labels=y output=logits" | FileCheck %t/select-output.mlir
// RUN: cleave-opt %t/unknown-output.mlir --cleave-attach-loss="labels=y output=probs" --verify-diagnostics
// RUN: cleave-opt %t/labels-clash.mlir --cleave-attach-loss="labels=x" --verify-diagnostics
// RUN: cleave-opt %t/missing-labels.mlir --cleave-attach-loss --verify-diagnostics
// RUN: cleave-opt %t/model-not-scalar.mlir --cleave-attach-loss="loss=model" --verify-diagnostics
// RUN: cleave-opt %t/unknown-loss.mlir --cleave-attach-loss="loss=hinge labels=y" --verify-diagnostics
// RUN: cleave-opt %t/cross-entropy-rank1.mlir --cleave-attach-loss="labels=y" --verify-diagnostics
// RUN: cleave-opt %t/options.mlir --cleave-attach-loss="labels=y ignore-index=0 label-smoothing=0.1 source=net result=objective" | FileCheck %t/options.mlir
// RUN: cleave-opt %t/bad-smoothing.mlir --cleave-attach-loss="labels=y label-smoothing=1.5" --verify-diagnostics
// RUN: not cleave-opt %t/no-forward.mlir --cleave-attach-loss="labels=y" 2>&1 | FileCheck %t/no-forward.mlir

//--- cross-entropy.mlir

// [B, C] logits: @forward stays, @loss gets the labels argument [B] (i64,
// named by `labels`) and returns the mean cross-entropy as `cleave.loss`:
// the sum over rows whose label is not -100 (PyTorch's default
// ignore_index) over the count of those rows.
// CHECK-LABEL: func.func @forward
// CHECK-SAME:    -> (tensor<2x4xf32> {cleave.output = "logits"})
// CHECK:       func.func @loss(
// CHECK-SAME:    %[[W:.*]]: tensor<4x3xf32> {cleave.param = #cleave.param<"w", trainable>},
// CHECK-SAME:    %[[X:.*]]: tensor<2x3xf32> {cleave.input = "x"},
// CHECK-SAME:    %[[Y:.*]]: tensor<2xi64> {cleave.input = "y"})
// CHECK-SAME:    -> (tensor<f32> {cleave.loss})
// CHECK:         %[[LOGITS:.*]] = cleave.matmul %[[X]], %[[W]] {transpose_b}
// CHECK-NOT:     cleave.reshape
// CHECK:         %[[S:.*]] = cleave.cross_entropy %[[LOGITS]], %[[Y]] {ignore_index = -100 : i64, sum} : (tensor<2x4xf32>, tensor<2xi64>) -> tensor<f32>
// CHECK:         %[[IGNORE:.*]] = cleave.constant dense<-100> : tensor<i64>
// CHECK:         %[[KEPT:.*]] = cleave.compare ne %[[Y]], %[[IGNORE]] : (tensor<2xi64>, tensor<i64>) -> tensor<2xi1>
// CHECK:         %[[KEPTF:.*]] = cleave.cast %[[KEPT]] : tensor<2xi1> to tensor<2xf32>
// CHECK:         %[[COUNT:.*]] = cleave.reduce sum %[[KEPTF]] {axes = array<i64: 0>} : tensor<2xf32> -> tensor<f32>
// CHECK:         %[[L:.*]] = cleave.binary div %[[S]], %[[COUNT]] : (tensor<f32>, tensor<f32>) -> tensor<f32>
// CHECK:         return %[[L]] : tensor<f32>
func.func @forward(%w: tensor<4x3xf32> {cleave.param = #cleave.param<"w", trainable>},
                   %x: tensor<2x3xf32> {cleave.input = "x"}) -> (tensor<2x4xf32> {cleave.output = "logits"}) {
  %y = cleave.matmul %x, %w {transpose_b} : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

// [B, T, V] logits (a language model): labels are [B, T]; logits and labels
// are reshaped to [B*T, V] rows and [B*T] before the cross-entropy.
// CHECK-LABEL: func.func @forward
// CHECK:       func.func @loss(
// CHECK-SAME:    %[[Y:[^:]*]]: tensor<2x5xi64> {cleave.input = "y"})
// CHECK:         %[[LOGITS:.*]] = cleave.matmul
// CHECK:         %[[ROWS:.*]] = cleave.reshape %[[LOGITS]] : tensor<2x5x8xf32> to tensor<10x8xf32>
// CHECK:         %[[LABELS:.*]] = cleave.reshape %[[Y]] : tensor<2x5xi64> to tensor<10xi64>
// CHECK:         %[[S:.*]] = cleave.cross_entropy %[[ROWS]], %[[LABELS]] {ignore_index = -100 : i64, sum} : (tensor<10x8xf32>, tensor<10xi64>) -> tensor<f32>
// CHECK:         cleave.compare ne %[[LABELS]]
// CHECK:         %[[L:.*]] = cleave.binary div %[[S]]
// CHECK:         return %[[L]]
func.func @forward(%w: tensor<8x6xf32> {cleave.param = #cleave.param<"wte", trainable>},
                   %x: tensor<2x5x6xf32> {cleave.input = "x"}) -> (tensor<2x5x8xf32> {cleave.output = "logits"}) {
  %y = cleave.matmul %x, %w {transpose_b} : (tensor<2x5x6xf32>, tensor<8x6xf32>) -> tensor<2x5x8xf32>
  return %y : tensor<2x5x8xf32>
}

// -----

// BatchNorm running statistics held in buffer parameters come back from
// @loss after the loss, each marked with the argument it replaces.
// CHECK-LABEL: func.func @forward
// CHECK:       func.func @loss(
// CHECK-SAME:    -> (tensor<f32> {cleave.loss}, tensor<3xf32> {cleave.updates = 3 : i64}, tensor<3xf32> {cleave.updates = 4 : i64})
// CHECK:         %[[Y:.*]], %[[MEAN:.*]], %[[VAR:.*]] = cleave.batch_norm
// CHECK:         cleave.cross_entropy
// CHECK:         %[[L:.*]] = cleave.binary div
// CHECK:         return %[[L]], %[[MEAN]], %[[VAR]] : tensor<f32>, tensor<3xf32>, tensor<3xf32>
func.func @forward(%x: tensor<4x3xf32> {cleave.input = "x"},
                   %g: tensor<3xf32> {cleave.param = #cleave.param<"bn.weight", trainable>},
                   %b: tensor<3xf32> {cleave.param = #cleave.param<"bn.bias", trainable>},
                   %m: tensor<3xf32> {cleave.param = #cleave.param<"bn.running_mean", buffer>},
                   %v: tensor<3xf32> {cleave.param = #cleave.param<"bn.running_var", buffer>}) -> (tensor<4x3xf32> {cleave.output = "logits"}) {
  %y, %rm, %rv = cleave.batch_norm %x, %g, %b, %m, %v {epsilon = 1.0e-05 : f64, momentum = 1.0e-01 : f64} : (tensor<4x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> (tensor<4x3xf32>, tensor<3xf32>, tensor<3xf32>)
  return %y : tensor<4x3xf32>
}

// -----

// Running statistics that are not buffer parameters (here: data inputs)
// are not state: no `cleave.updates` result.
// CHECK-LABEL: func.func @forward
// CHECK:       func.func @loss(
// CHECK-SAME:    -> (tensor<f32> {cleave.loss})
// CHECK-NOT:     cleave.updates
func.func @forward(%x: tensor<4x3xf32> {cleave.input = "x"},
                   %g: tensor<3xf32> {cleave.param = #cleave.param<"bn.weight", trainable>},
                   %b: tensor<3xf32> {cleave.param = #cleave.param<"bn.bias", trainable>},
                   %m: tensor<3xf32> {cleave.input = "mean"},
                   %v: tensor<3xf32> {cleave.input = "var"}) -> (tensor<4x3xf32> {cleave.output = "logits"}) {
  %y, %rm, %rv = cleave.batch_norm %x, %g, %b, %m, %v {epsilon = 1.0e-05 : f64, momentum = 1.0e-01 : f64} : (tensor<4x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> (tensor<4x3xf32>, tensor<3xf32>, tensor<3xf32>)
  return %y : tensor<4x3xf32>
}

//--- mse.mlir

// mse: the labels argument has the prediction's type, and the loss is the
// mean over every element of (prediction - target)^2.
// CHECK-LABEL: func.func @forward
// CHECK:       func.func @loss(
// CHECK-SAME:    %[[T:[^:]*]]: tensor<2x4xf32> {cleave.input = "target"})
// CHECK-SAME:    -> (tensor<f32> {cleave.loss})
// CHECK:         %[[P:.*]] = cleave.matmul
// CHECK:         %[[D:.*]] = cleave.binary sub %[[P]], %[[T]] : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
// CHECK:         %[[S:.*]] = cleave.binary mul %[[D]], %[[D]]
// CHECK:         %[[L:.*]] = cleave.reduce mean %[[S]] {axes = array<i64: 0, 1>} : tensor<2x4xf32> -> tensor<f32>
// CHECK:         return %[[L]]
func.func @forward(%w: tensor<4x3xf32> {cleave.param = #cleave.param<"w", trainable>},
                   %x: tensor<2x3xf32> {cleave.input = "x"}) -> (tensor<2x4xf32> {cleave.output = "prediction"}) {
  %y = cleave.matmul %x, %w {transpose_b} : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

//--- model.mlir

// loss=model: the model's scalar output is the loss; no labels argument.
// CHECK-LABEL: func.func @forward
// CHECK:       func.func @loss(
// CHECK-SAME:    %{{[^:]*}}: tensor<2x3xf32> {cleave.input = "x"})
// CHECK-SAME:    -> (tensor<f32> {cleave.loss})
// CHECK:         %[[L:.*]] = cleave.reduce sum
// CHECK-NEXT:    return %[[L]] : tensor<f32>
func.func @forward(%w: tensor<3xf32> {cleave.param = #cleave.param<"w", trainable>},
                   %x: tensor<2x3xf32> {cleave.input = "x"}) -> (tensor<f32> {cleave.output = "loss"}) {
  %p = cleave.binary mul %x, %w : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %l = cleave.reduce sum %p {axes = array<i64: 0, 1>} : tensor<2x3xf32> -> tensor<f32>
  return %l : tensor<f32>
}

//--- select-output.mlir

// `output` picks the model output the loss reads; the other outputs are
// not returned by @loss.
// CHECK-LABEL: func.func @forward
// CHECK:       func.func @loss(
// CHECK-SAME:    -> (tensor<f32> {cleave.loss})
// CHECK:         %[[LOGITS:.*]] = cleave.matmul
// CHECK:         cleave.cross_entropy %[[LOGITS]]
func.func @forward(%w: tensor<4x3xf32> {cleave.param = #cleave.param<"w", trainable>},
                   %x: tensor<2x3xf32> {cleave.input = "x"})
    -> (tensor<2x3xf32> {cleave.output = "features"}, tensor<2x4xf32> {cleave.output = "logits"}) {
  %f = cleave.unary tanh %x : tensor<2x3xf32>
  %y = cleave.matmul %f, %w {transpose_b} : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x4xf32>
  return %f, %y : tensor<2x3xf32>, tensor<2x4xf32>
}

//--- unknown-output.mlir

// An `output` the model does not have is an error that lists the outputs.
// expected-error @+1 {{has no output named 'probs' (outputs: logits)}}
func.func @forward(%w: tensor<4x3xf32> {cleave.param = #cleave.param<"w", trainable>},
                   %x: tensor<2x3xf32> {cleave.input = "x"}) -> (tensor<2x4xf32> {cleave.output = "logits"}) {
  %y = cleave.matmul %x, %w {transpose_b} : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

//--- labels-clash.mlir

// The labels input may not take the name of an existing input.
// expected-error @+1 {{--labels 'x' is already an input of the model; choose another name}}
func.func @forward(%w: tensor<4x3xf32> {cleave.param = #cleave.param<"w", trainable>},
                   %x: tensor<2x3xf32> {cleave.input = "x"}) -> (tensor<2x4xf32> {cleave.output = "logits"}) {
  %y = cleave.matmul %x, %w {transpose_b} : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

//--- missing-labels.mlir

// cross_entropy (the default loss) needs a labels name.
// expected-error @+1 {{--loss cross_entropy needs --labels NAME for the labels input}}
func.func @forward(%w: tensor<4x3xf32> {cleave.param = #cleave.param<"w", trainable>},
                   %x: tensor<2x3xf32> {cleave.input = "x"}) -> (tensor<2x4xf32> {cleave.output = "logits"}) {
  %y = cleave.matmul %x, %w {transpose_b} : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

//--- model-not-scalar.mlir

// loss=model needs a scalar output.
// expected-error @+1 {{--loss model needs a scalar float output, but the output is 'tensor<2x4xf32>'}}
func.func @forward(%w: tensor<4x3xf32> {cleave.param = #cleave.param<"w", trainable>},
                   %x: tensor<2x3xf32> {cleave.input = "x"}) -> (tensor<2x4xf32> {cleave.output = "logits"}) {
  %y = cleave.matmul %x, %w {transpose_b} : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

//--- unknown-loss.mlir

// Only cross_entropy, mse and model are losses.
// expected-error @+1 {{unknown loss 'hinge'; choose cross_entropy, mse or model}}
func.func @forward(%w: tensor<4x3xf32> {cleave.param = #cleave.param<"w", trainable>},
                   %x: tensor<2x3xf32> {cleave.input = "x"}) -> (tensor<2x4xf32> {cleave.output = "logits"}) {
  %y = cleave.matmul %x, %w {transpose_b} : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

//--- cross-entropy-rank1.mlir

// Cross-entropy logits need a class dimension (rank >= 2).
// expected-error @+1 {{cross_entropy needs float logits with the class dimension last, got 'tensor<4xf32>'}}
func.func @forward(%x: tensor<4xf32> {cleave.param = #cleave.param<"x", trainable>}) -> (tensor<4xf32> {cleave.output = "logits"}) {
  return %x : tensor<4xf32>
}

//--- no-forward.mlir

// The pass starts from @forward.
// CHECK: error: cleave-attach-loss: the module has no @forward function
func.func @model(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}

//--- options.mlir

// ignore-index and label-smoothing reach the op (and the count of kept
// rows compares with the ignore index); source/result name the functions.
// CHECK-LABEL: func.func @net
// CHECK:       func.func @objective(
// CHECK:         %[[S:.*]] = cleave.cross_entropy %{{.*}}, %[[Y:.*]] {ignore_index = 0 : i64, label_smoothing = 1.000000e-01 : f64, sum}
// CHECK:         %[[ZERO:.*]] = cleave.constant dense<0> : tensor<i64>
// CHECK:         cleave.compare ne %[[Y]], %[[ZERO]]
func.func @net(%x: tensor<2x4xf32> {cleave.input = "x"}) -> (tensor<2x4xf32> {cleave.output = "logits"}) {
  return %x : tensor<2x4xf32>
}

//--- bad-smoothing.mlir

// expected-error @+1 {{--label-smoothing must lie in [0, 1], got 1.5}}
func.func @forward(%x: tensor<2x4xf32> {cleave.input = "x"}) -> (tensor<2x4xf32> {cleave.output = "logits"}) {
  return %x : tensor<2x4xf32>
}
