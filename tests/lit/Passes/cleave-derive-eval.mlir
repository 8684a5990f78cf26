// RUN: cleave-opt %s --split-input-file --cleave-derive-eval | FileCheck %s
// RUN: cleave-opt %s --split-input-file --cleave-train-pipeline="labels=y optimizer=sgd eval=true" | FileCheck %s --check-prefix=PIPELINE
// RUN: not cleave-opt %s --split-input-file --cleave-derive-eval="source=model" 2>&1 | FileCheck %s --check-prefix=MISSING

// Dropout disappears and BatchNorm normalises with its running statistics,
// (x - mean) * weight * rsqrt(var + eps) + bias per channel, which it no
// longer updates; @forward itself is left as it was.
// CHECK-LABEL: func.func @forward(
// CHECK:         cleave.dropout
// CHECK:         cleave.batch_norm
// CHECK-LABEL: func.func @forward_eval(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<2x3x4x4xf32> {cleave.input = "x"},
// CHECK-SAME:    %[[G:[^:]*]]: tensor<3xf32> {cleave.param = #cleave.param<"bn.weight", trainable>},
// CHECK-SAME:    %[[B:[^:]*]]: tensor<3xf32> {cleave.param = #cleave.param<"bn.bias", trainable>},
// CHECK-SAME:    %[[M:[^:]*]]: tensor<3xf32> {cleave.param = #cleave.param<"bn.running_mean", buffer>},
// CHECK-SAME:    %[[V:[^:]*]]: tensor<3xf32> {cleave.param = #cleave.param<"bn.running_var", buffer>})
// CHECK-NOT:     cleave.dropout
// CHECK-NOT:     cleave.batch_norm
// CHECK:         %[[EPS:.*]] = cleave.constant dense<9.99999974E-6> : tensor<f32>
// CHECK:         %[[VE:.*]] = cleave.binary add %[[V]], %[[EPS]]
// CHECK:         %[[R:.*]] = cleave.unary rsqrt %[[VE]]
// CHECK:         %[[F:.*]] = cleave.binary mul %[[G]], %[[R]]
// CHECK:         %[[MC:.*]] = cleave.reshape %[[M]] : tensor<3xf32> to tensor<3x1x1xf32>
// CHECK:         %[[C:.*]] = cleave.binary sub %[[X]], %[[MC]]
// CHECK:         %[[FC:.*]] = cleave.reshape %[[F]] : tensor<3xf32> to tensor<3x1x1xf32>
// CHECK:         %[[S:.*]] = cleave.binary mul %[[C]], %[[FC]]
// CHECK:         %[[BC:.*]] = cleave.reshape %[[B]] : tensor<3xf32> to tensor<3x1x1xf32>
// CHECK:         %[[Y:.*]] = cleave.binary add %[[S]], %[[BC]]
// CHECK:         return %[[Y]] : tensor<2x3x4x4xf32>

// The train pipeline with eval=true adds @eval_loss: the same loss on
// @forward_eval, returning no running statistics and drawing no mask.
// PIPELINE-LABEL: func.func @train_step(
// PIPELINE:         cleave.random_mask
// PIPELINE:         cleave.batch_norm
// PIPELINE-LABEL: func.func @eval_loss(
// PIPELINE-SAME:    %{{[^:]*}}: tensor<2x3x4xi64> {cleave.input = "y"}) -> (tensor<f32> {cleave.loss})
// PIPELINE-NOT:     cleave.random_mask
// PIPELINE-NOT:     cleave.batch_norm
// PIPELINE:         cleave.cross_entropy {{.*}} {ignore_index = -100 : i64, sum}
// PIPELINE:         return

// MISSING: error: cleave-derive-eval: the module has no @model function
func.func @forward(%x: tensor<2x3x4x4xf32> {cleave.input = "x"},
                   %g: tensor<3xf32> {cleave.param = #cleave.param<"bn.weight", trainable>},
                   %b: tensor<3xf32> {cleave.param = #cleave.param<"bn.bias", trainable>},
                   %m: tensor<3xf32> {cleave.param = #cleave.param<"bn.running_mean", buffer>},
                   %v: tensor<3xf32> {cleave.param = #cleave.param<"bn.running_var", buffer>}) -> (tensor<2x3x4x4xf32> {cleave.output = "logits"}) {
  %d = cleave.dropout %x {ratio = 1.000000e-01 : f64} : tensor<2x3x4x4xf32>
  %y, %rm, %rv = cleave.batch_norm %d, %g, %b, %m, %v {epsilon = 1.0e-05 : f64, momentum = 1.0e-01 : f64} : (tensor<2x3x4x4xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> (tensor<2x3x4x4xf32>, tensor<3xf32>, tensor<3xf32>)
  return %y : tensor<2x3x4x4xf32>
}

