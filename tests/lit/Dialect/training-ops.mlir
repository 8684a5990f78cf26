// RUN: cleave-opt %s --split-input-file | cleave-opt --split-input-file | FileCheck %s
// RUN: cleave-opt %s --split-input-file --mlir-print-op-generic | cleave-opt --split-input-file | FileCheck %s
// RUN: cleave-opt %s --split-input-file --mlir-print-op-generic | FileCheck %s --check-prefix=GENERIC

// Round-trips every training op (CleaveTrainingOps.td: the ops the loss,
// autodiff and optimizer passes add) through the custom assembly format,
// directly and by way of the generic form; the GENERIC lines pin the
// generic form of a few (enums, unit attributes, properties).

// cross_entropy on [N, C] logits and [N] labels; i32 labels are accepted.
// CHECK-LABEL: func.func @cross_entropy(
// CHECK-SAME:    %[[Z:[a-z0-9_]+]]: tensor<32x64xf32>, %[[Y:[a-z0-9_]+]]: tensor<32xi64>, %[[Y32:[a-z0-9_]+]]: tensor<32xi32>)
// CHECK-NEXT:    %[[L:[a-z0-9_]+]] = cleave.cross_entropy %[[Z]], %[[Y]] : (tensor<32x64xf32>, tensor<32xi64>) -> tensor<f32>
// CHECK-NEXT:    %[[L32:[a-z0-9_]+]] = cleave.cross_entropy %[[Z]], %[[Y32]] : (tensor<32x64xf32>, tensor<32xi32>) -> tensor<f32>
// CHECK-NEXT:    return %[[L]], %[[L32]]
// GENERIC-LABEL: sym_name = "cross_entropy"
// GENERIC:         "cleave.cross_entropy"(%{{.*}}, %{{.*}}) <{label_smoothing = 0.000000e+00 : f64}> : (tensor<32x64xf32>, tensor<32xi64>) -> tensor<f32>
func.func @cross_entropy(%z: tensor<32x64xf32>, %y: tensor<32xi64>, %y32: tensor<32xi32>) -> (tensor<f32>, tensor<f32>) {
  %0 = cleave.cross_entropy %z, %y : (tensor<32x64xf32>, tensor<32xi64>) -> tensor<f32>
  %1 = cleave.cross_entropy %z, %y32 : (tensor<32x64xf32>, tensor<32xi32>) -> tensor<f32>
  return %0, %1 : tensor<f32>, tensor<f32>
}

// -----

// PyTorch's ignore_index and label_smoothing, and the sum reduction.
// CHECK-LABEL: func.func @cross_entropy_options(
// CHECK:         cleave.cross_entropy %{{.*}}, %{{.*}} {ignore_index = -100 : i64, label_smoothing = 1.000000e-01 : f64, sum} : (tensor<8x3xf32>, tensor<8xi64>) -> tensor<f32>
// CHECK:         cleave.cross_entropy_grad %{{.*}}, %{{.*}}, %{{.*}} {ignore_index = 0 : i64, label_smoothing = 2.500000e-01 : f64} : (tensor<8x3xf32>, tensor<8xi64>, tensor<f32>) -> tensor<8x3xf32>
func.func @cross_entropy_options(%z: tensor<8x3xf32>, %y: tensor<8xi64>, %d: tensor<f32>) -> (tensor<f32>, tensor<8x3xf32>) {
  %0 = cleave.cross_entropy %z, %y {ignore_index = -100 : i64, label_smoothing = 1.000000e-01 : f64, sum} : (tensor<8x3xf32>, tensor<8xi64>) -> tensor<f32>
  %1 = cleave.cross_entropy_grad %z, %y, %d {ignore_index = 0 : i64, label_smoothing = 2.500000e-01 : f64} : (tensor<8x3xf32>, tensor<8xi64>, tensor<f32>) -> tensor<8x3xf32>
  return %0, %1 : tensor<f32>, tensor<8x3xf32>
}

// -----

// cross_entropy_grad: logits, labels and the scalar loss gradient.
// CHECK-LABEL: func.func @cross_entropy_grad(
// CHECK-SAME:    %[[Z:[a-z0-9_]+]]: tensor<32x64xf32>, %[[Y:[a-z0-9_]+]]: tensor<32xi64>, %[[D:[a-z0-9_]+]]: tensor<f32>)
// CHECK-NEXT:    %[[G:[a-z0-9_]+]] = cleave.cross_entropy_grad %[[Z]], %[[Y]], %[[D]] : (tensor<32x64xf32>, tensor<32xi64>, tensor<f32>) -> tensor<32x64xf32>
// CHECK-NEXT:    return %[[G]]
func.func @cross_entropy_grad(%z: tensor<32x64xf32>, %y: tensor<32xi64>, %d: tensor<f32>) -> tensor<32x64xf32> {
  %0 = cleave.cross_entropy_grad %z, %y, %d : (tensor<32x64xf32>, tensor<32xi64>, tensor<f32>) -> tensor<32x64xf32>
  return %0 : tensor<32x64xf32>
}

// -----

// random_mask: keep probability in (0, 1] (1 included) and a stream.
// CHECK-LABEL: func.func @random_mask(
// CHECK-NEXT:    %[[M0:[a-z0-9_]+]] = cleave.random_mask {keep_probability = 9.000000e-01 : f64, stream = 3 : i64} : tensor<2x16x32xf32>
// CHECK-NEXT:    %[[M1:[a-z0-9_]+]] = cleave.random_mask {keep_probability = 1.000000e+00 : f64, stream = 0 : i64} : tensor<4xf32>
// CHECK-NEXT:    return %[[M0]], %[[M1]]
// GENERIC-LABEL: sym_name = "random_mask"
// GENERIC:         "cleave.random_mask"() <{keep_probability = 9.000000e-01 : f64, stream = 3 : i64}> : () -> tensor<2x16x32xf32>
func.func @random_mask() -> (tensor<2x16x32xf32>, tensor<4xf32>) {
  %0 = cleave.random_mask {keep_probability = 9.000000e-01 : f64, stream = 3 : i64} : tensor<2x16x32xf32>
  %1 = cleave.random_mask {keep_probability = 1.0 : f64, stream = 0 : i64} : tensor<4xf32>
  return %0, %1 : tensor<2x16x32xf32>, tensor<4xf32>
}

// -----

// softmax_grad, plain and for log-softmax.
// CHECK-LABEL: func.func @softmax_grad(
// CHECK-SAME:    %[[Y:[a-z0-9_]+]]: tensor<2x2x16x16xf32>, %[[DY:[a-z0-9_]+]]: tensor<2x2x16x16xf32>)
// CHECK-NEXT:    %[[G0:[a-z0-9_]+]] = cleave.softmax_grad %[[Y]], %[[DY]] {axis = 3 : i64} : (tensor<2x2x16x16xf32>, tensor<2x2x16x16xf32>) -> tensor<2x2x16x16xf32>
// CHECK-NEXT:    %[[G1:[a-z0-9_]+]] = cleave.softmax_grad %[[Y]], %[[DY]] {axis = 1 : i64, log} : (tensor<2x2x16x16xf32>, tensor<2x2x16x16xf32>) -> tensor<2x2x16x16xf32>
// CHECK-NEXT:    return %[[G0]], %[[G1]]
// GENERIC-LABEL: sym_name = "softmax_grad"
// GENERIC:         "cleave.softmax_grad"(%{{.*}}, %{{.*}}) <{axis = 3 : i64}>
// GENERIC:         "cleave.softmax_grad"(%{{.*}}, %{{.*}}) <{axis = 1 : i64, log}>
func.func @softmax_grad(%y: tensor<2x2x16x16xf32>, %dy: tensor<2x2x16x16xf32>) -> (tensor<2x2x16x16xf32>, tensor<2x2x16x16xf32>) {
  %0 = cleave.softmax_grad %y, %dy {axis = 3 : i64} : (tensor<2x2x16x16xf32>, tensor<2x2x16x16xf32>) -> tensor<2x2x16x16xf32>
  %1 = cleave.softmax_grad %y, %dy {axis = 1 : i64, log} : (tensor<2x2x16x16xf32>, tensor<2x2x16x16xf32>) -> tensor<2x2x16x16xf32>
  return %0, %1 : tensor<2x2x16x16xf32>, tensor<2x2x16x16xf32>
}

// -----

// layer_norm_grad: three results, scale over the trailing dimensions.
// CHECK-LABEL: func.func @layer_norm_grad(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<2x16x32xf32>, %[[G:[a-z0-9_]+]]: tensor<32xf32>, %[[DY:[a-z0-9_]+]]: tensor<2x16x32xf32>)
// CHECK-NEXT:    %[[DX:[a-z0-9_]+]], %[[DG:[a-z0-9_]+]], %[[DB:[a-z0-9_]+]] = cleave.layer_norm_grad %[[X]], %[[G]], %[[DY]] {axis = 2 : i64, epsilon = 1.000000e-05 : f64} : (tensor<2x16x32xf32>, tensor<32xf32>, tensor<2x16x32xf32>) -> (tensor<2x16x32xf32>, tensor<32xf32>, tensor<32xf32>)
// CHECK-NEXT:    return %[[DX]], %[[DG]], %[[DB]]
func.func @layer_norm_grad(%x: tensor<2x16x32xf32>, %g: tensor<32xf32>, %dy: tensor<2x16x32xf32>) -> (tensor<2x16x32xf32>, tensor<32xf32>, tensor<32xf32>) {
  %dx, %dg, %db = cleave.layer_norm_grad %x, %g, %dy {axis = 2 : i64, epsilon = 1.0e-05 : f64}
      : (tensor<2x16x32xf32>, tensor<32xf32>, tensor<2x16x32xf32>) -> (tensor<2x16x32xf32>, tensor<32xf32>, tensor<32xf32>)
  return %dx, %dg, %db : tensor<2x16x32xf32>, tensor<32xf32>, tensor<32xf32>
}

// -----

// layer_norm_grad over the last two dimensions.
// CHECK-LABEL: func.func @layer_norm_grad_two_dims(
// CHECK-NEXT:    cleave.layer_norm_grad %{{.*}}, %{{.*}}, %{{.*}} {axis = 1 : i64, epsilon = 1.000000e-03 : f64} : (tensor<2x3x4xf32>, tensor<3x4xf32>, tensor<2x3x4xf32>) -> (tensor<2x3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>)
func.func @layer_norm_grad_two_dims(%x: tensor<2x3x4xf32>, %g: tensor<3x4xf32>, %dy: tensor<2x3x4xf32>) -> tensor<2x3x4xf32> {
  %dx, %dg, %db = cleave.layer_norm_grad %x, %g, %dy {axis = 1 : i64, epsilon = 1.0e-03 : f64}
      : (tensor<2x3x4xf32>, tensor<3x4xf32>, tensor<2x3x4xf32>) -> (tensor<2x3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>)
  return %dx : tensor<2x3x4xf32>
}

// -----

// batch_norm_grad on NCHW and on [N, C].
// CHECK-LABEL: func.func @batch_norm_grad(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<8x16x4x4xf32>, %[[G:[a-z0-9_]+]]: tensor<16xf32>, %[[DY:[a-z0-9_]+]]: tensor<8x16x4x4xf32>
// CHECK-NEXT:    %[[DX:[a-z0-9_]+]], %[[DG:[a-z0-9_]+]], %[[DB:[a-z0-9_]+]] = cleave.batch_norm_grad %[[X]], %[[G]], %[[DY]] {epsilon = 1.000000e-05 : f64} : (tensor<8x16x4x4xf32>, tensor<16xf32>, tensor<8x16x4x4xf32>) -> (tensor<8x16x4x4xf32>, tensor<16xf32>, tensor<16xf32>)
// CHECK-NEXT:    cleave.batch_norm_grad %{{.*}}, %{{.*}}, %{{.*}} {epsilon = 1.000000e-03 : f64} : (tensor<6x3xf32>, tensor<3xf32>, tensor<6x3xf32>) -> (tensor<6x3xf32>, tensor<3xf32>, tensor<3xf32>)
func.func @batch_norm_grad(%x: tensor<8x16x4x4xf32>, %g: tensor<16xf32>, %dy: tensor<8x16x4x4xf32>,
                           %x2: tensor<6x3xf32>, %g2: tensor<3xf32>, %dy2: tensor<6x3xf32>) -> (tensor<8x16x4x4xf32>, tensor<3xf32>) {
  %dx, %dg, %db = cleave.batch_norm_grad %x, %g, %dy {epsilon = 1.0e-05 : f64}
      : (tensor<8x16x4x4xf32>, tensor<16xf32>, tensor<8x16x4x4xf32>) -> (tensor<8x16x4x4xf32>, tensor<16xf32>, tensor<16xf32>)
  %dx2, %dg2, %db2 = cleave.batch_norm_grad %x2, %g2, %dy2 {epsilon = 1.0e-03 : f64}
      : (tensor<6x3xf32>, tensor<3xf32>, tensor<6x3xf32>) -> (tensor<6x3xf32>, tensor<3xf32>, tensor<3xf32>)
  return %dx, %dg2 : tensor<8x16x4x4xf32>, tensor<3xf32>
}

// -----

// scatter_add along the first axis (embedding gradient, 2-D indices) and
// along a middle axis with i32 indices.
// CHECK-LABEL: func.func @scatter_add(
// CHECK-SAME:    %[[DY:[a-z0-9_]+]]: tensor<2x16x32xf32>, %[[IDX:[a-z0-9_]+]]: tensor<2x16xi64>
// CHECK-NEXT:    %[[DW:[a-z0-9_]+]] = cleave.scatter_add %[[DY]][%[[IDX]]] {axis = 0 : i64} : (tensor<2x16x32xf32>, tensor<2x16xi64>) -> tensor<64x32xf32>
// CHECK-NEXT:    cleave.scatter_add %{{.*}}[%{{.*}}] {axis = 1 : i64} : (tensor<3x4x5xf32>, tensor<4xi32>) -> tensor<3x7x5xf32>
func.func @scatter_add(%dy: tensor<2x16x32xf32>, %idx: tensor<2x16xi64>, %u: tensor<3x4x5xf32>, %i: tensor<4xi32>) -> (tensor<64x32xf32>, tensor<3x7x5xf32>) {
  %0 = cleave.scatter_add %dy[%idx] {axis = 0 : i64} : (tensor<2x16x32xf32>, tensor<2x16xi64>) -> tensor<64x32xf32>
  %1 = cleave.scatter_add %u[%i] {axis = 1 : i64} : (tensor<3x4x5xf32>, tensor<4xi32>) -> tensor<3x7x5xf32>
  return %0, %1 : tensor<64x32xf32>, tensor<3x7x5xf32>
}

// -----

// slice_scatter of a strided window, also of integers (any element type).
// CHECK-LABEL: func.func @slice_scatter(
// CHECK-NEXT:    cleave.slice_scatter %{{.*}} {starts = array<i64: 0, 0, 32>, strides = array<i64: 1, 1, 1>} : tensor<2x16x32xf32> -> tensor<2x16x96xf32>
// CHECK-NEXT:    cleave.slice_scatter %{{.*}} {starts = array<i64: 1, 0>, strides = array<i64: 2, 3>} : tensor<2x3xi64> -> tensor<5x7xi64>
// GENERIC-LABEL: sym_name = "slice_scatter"
// GENERIC:         "cleave.slice_scatter"(%{{.*}}) <{starts = array<i64: 0, 0, 32>, strides = array<i64: 1, 1, 1>}> : (tensor<2x16x32xf32>) -> tensor<2x16x96xf32>
func.func @slice_scatter(%dq: tensor<2x16x32xf32>, %i: tensor<2x3xi64>) -> (tensor<2x16x96xf32>, tensor<5x7xi64>) {
  %0 = cleave.slice_scatter %dq {starts = array<i64: 0, 0, 32>, strides = array<i64: 1, 1, 1>} : tensor<2x16x32xf32> -> tensor<2x16x96xf32>
  %1 = cleave.slice_scatter %i {starts = array<i64: 1, 0>, strides = array<i64: 2, 3>} : tensor<2x3xi64> -> tensor<5x7xi64>
  return %0, %1 : tensor<2x16x96xf32>, tensor<5x7xi64>
}

// -----

// conv2d_grad_input and conv2d_grad_filter with the forward's attributes:
// padded, and strided + grouped + dilated.
// CHECK-LABEL: func.func @conv2d_grads(
// CHECK-NEXT:    cleave.conv2d_grad_input %{{.*}}, %{{.*}} {dilations = array<i64: 1, 1>, groups = 1 : i64, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<8x16x32x32xf32>, tensor<16x3x3x3xf32>) -> tensor<8x3x32x32xf32>
// CHECK-NEXT:    cleave.conv2d_grad_filter %{{.*}}, %{{.*}} {dilations = array<i64: 1, 1>, groups = 1 : i64, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<8x3x32x32xf32>, tensor<8x16x32x32xf32>) -> tensor<16x3x3x3xf32>
// CHECK-NEXT:    cleave.conv2d_grad_input %{{.*}}, %{{.*}} {dilations = array<i64: 2, 2>, groups = 2 : i64, padding = array<i64: 0, 1, 0, 1>, strides = array<i64: 2, 2>} : (tensor<1x6x3x4xf32>, tensor<6x2x2x2xf32>) -> tensor<1x4x8x8xf32>
// CHECK-NEXT:    cleave.conv2d_grad_filter %{{.*}}, %{{.*}} {dilations = array<i64: 2, 2>, groups = 2 : i64, padding = array<i64: 0, 1, 0, 1>, strides = array<i64: 2, 2>} : (tensor<1x4x8x8xf32>, tensor<1x6x3x4xf32>) -> tensor<6x2x2x2xf32>
func.func @conv2d_grads(%dy: tensor<8x16x32x32xf32>, %w: tensor<16x3x3x3xf32>, %x: tensor<8x3x32x32xf32>,
                        %dy2: tensor<1x6x3x4xf32>, %w2: tensor<6x2x2x2xf32>, %x2: tensor<1x4x8x8xf32>)
    -> (tensor<8x3x32x32xf32>, tensor<16x3x3x3xf32>, tensor<1x4x8x8xf32>, tensor<6x2x2x2xf32>) {
  %0 = cleave.conv2d_grad_input %dy, %w {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64}
      : (tensor<8x16x32x32xf32>, tensor<16x3x3x3xf32>) -> tensor<8x3x32x32xf32>
  %1 = cleave.conv2d_grad_filter %x, %dy {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64}
      : (tensor<8x3x32x32xf32>, tensor<8x16x32x32xf32>) -> tensor<16x3x3x3xf32>
  %2 = cleave.conv2d_grad_input %dy2, %w2 {strides = array<i64: 2, 2>, padding = array<i64: 0, 1, 0, 1>, dilations = array<i64: 2, 2>, groups = 2 : i64}
      : (tensor<1x6x3x4xf32>, tensor<6x2x2x2xf32>) -> tensor<1x4x8x8xf32>
  %3 = cleave.conv2d_grad_filter %x2, %dy2 {strides = array<i64: 2, 2>, padding = array<i64: 0, 1, 0, 1>, dilations = array<i64: 2, 2>, groups = 2 : i64}
      : (tensor<1x4x8x8xf32>, tensor<1x6x3x4xf32>) -> tensor<6x2x2x2xf32>
  return %0, %1, %2, %3 : tensor<8x3x32x32xf32>, tensor<16x3x3x3xf32>, tensor<1x4x8x8xf32>, tensor<6x2x2x2xf32>
}

// -----

// pool2d_grad, max and avg, with count_include_pad and ceil_mode.
// CHECK-LABEL: func.func @pool2d_grad(
// CHECK-NEXT:    cleave.pool2d_grad max %{{.*}}, %{{.*}} {kernel = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<8x16x32x32xf32>, tensor<8x16x16x16xf32>) -> tensor<8x16x32x32xf32>
// CHECK-NEXT:    cleave.pool2d_grad avg %{{.*}}, %{{.*}} {ceil_mode, count_include_pad, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x2x6x6xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x6x6xf32>
// GENERIC-LABEL: sym_name = "pool2d_grad"
// GENERIC:         "cleave.pool2d_grad"(%{{.*}}, %{{.*}}) <{kernel = array<i64: 2, 2>, kind = #cleave<pool_kind max>, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>}>
// GENERIC:         "cleave.pool2d_grad"(%{{.*}}, %{{.*}}) <{ceil_mode, count_include_pad, kernel = array<i64: 3, 3>, kind = #cleave<pool_kind avg>, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>}>
func.func @pool2d_grad(%x: tensor<8x16x32x32xf32>, %dy: tensor<8x16x16x16xf32>, %x2: tensor<1x2x6x6xf32>, %dy2: tensor<1x2x4x4xf32>) -> (tensor<8x16x32x32xf32>, tensor<1x2x6x6xf32>) {
  %0 = cleave.pool2d_grad max %x, %dy {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>}
      : (tensor<8x16x32x32xf32>, tensor<8x16x16x16xf32>) -> tensor<8x16x32x32xf32>
  %1 = cleave.pool2d_grad avg %x2, %dy2 {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, count_include_pad, ceil_mode}
      : (tensor<1x2x6x6xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x6x6xf32>
  return %0, %1 : tensor<8x16x32x32xf32>, tensor<1x2x6x6xf32>
}
