// RUN: cleave-opt %s --split-input-file --verify-diagnostics

// Every error of every training op verifier (CleaveTrainingOps.cpp), and
// the type constraints of their operands.

//===----------------------------------------------------------------------===//
// cross_entropy, cross_entropy_grad
//===----------------------------------------------------------------------===//

// The loss is a scalar.
func.func @cross_entropy_result_rank(%z: tensor<4x5xf32>, %y: tensor<4xi64>) -> tensor<4xf32> {
  // expected-error @+1 {{result must be a scalar of the logits' element type}}
  %0 = cleave.cross_entropy %z, %y : (tensor<4x5xf32>, tensor<4xi64>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// ... of the logits' element type.
func.func @cross_entropy_result_type(%z: tensor<4x5xf32>, %y: tensor<4xi64>) -> tensor<f64> {
  // expected-error @+1 {{result must be a scalar of the logits' element type}}
  %0 = cleave.cross_entropy %z, %y : (tensor<4x5xf32>, tensor<4xi64>) -> tensor<f64>
  return %0 : tensor<f64>
}

// -----

// Label smoothing mixes the one-hot target with the uniform one: [0, 1].
func.func @cross_entropy_smoothing(%z: tensor<4x5xf32>, %y: tensor<4xi64>) -> tensor<f32> {
  // expected-error @+1 {{label_smoothing must lie in [0, 1], got 1.500000e+00}}
  %0 = cleave.cross_entropy %z, %y {label_smoothing = 1.5 : f64} : (tensor<4x5xf32>, tensor<4xi64>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// ... for the gradient too.
func.func @cross_entropy_grad_smoothing(%z: tensor<4x5xf32>, %y: tensor<4xi64>, %d: tensor<f32>) -> tensor<4x5xf32> {
  // expected-error @+1 {{label_smoothing must lie in [0, 1], got -1.000000e-01}}
  %0 = cleave.cross_entropy_grad %z, %y, %d {label_smoothing = -0.1 : f64} : (tensor<4x5xf32>, tensor<4xi64>, tensor<f32>) -> tensor<4x5xf32>
  return %0 : tensor<4x5xf32>
}

// -----

// Logits are [N, C]: the attach-loss pass reshapes [B, T, V] to rows.
func.func @cross_entropy_logits_rank(%z: tensor<2x4x5xf32>, %y: tensor<2x4xi64>) -> tensor<f32> {
  // expected-error @+1 {{needs [N, C] logits and [N] labels, got 'tensor<2x4x5xf32>' and 'tensor<2x4xi64>'}}
  %0 = cleave.cross_entropy %z, %y : (tensor<2x4x5xf32>, tensor<2x4xi64>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// One label per row.
func.func @cross_entropy_rows(%z: tensor<4x5xf32>, %y: tensor<3xi64>) -> tensor<f32> {
  // expected-error @+1 {{needs [N, C] logits and [N] labels, got 'tensor<4x5xf32>' and 'tensor<3xi64>'}}
  %0 = cleave.cross_entropy %z, %y : (tensor<4x5xf32>, tensor<3xi64>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// Labels are integers.
func.func @cross_entropy_float_labels(%z: tensor<4x5xf32>, %y: tensor<4xf32>) -> tensor<f32> {
  // expected-error @+1 {{operand #1 must be statically shaped i32 or i64 tensor}}
  %0 = cleave.cross_entropy %z, %y : (tensor<4x5xf32>, tensor<4xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// Logits are floats.
func.func @cross_entropy_int_logits(%z: tensor<4x5xi32>, %y: tensor<4xi64>) -> tensor<f32> {
  // expected-error @+1 {{operand #0 must be statically shaped float tensor}}
  %0 = cleave.cross_entropy %z, %y : (tensor<4x5xi32>, tensor<4xi64>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// The gradient has the logits' type.
func.func @cross_entropy_grad_result(%z: tensor<4x5xf32>, %y: tensor<4xi64>, %d: tensor<f32>) -> tensor<4x6xf32> {
  // expected-error @+1 {{result must have the logits' type}}
  %0 = cleave.cross_entropy_grad %z, %y, %d : (tensor<4x5xf32>, tensor<4xi64>, tensor<f32>) -> tensor<4x6xf32>
  return %0 : tensor<4x6xf32>
}

// -----

// The incoming gradient is the scalar loss's.
func.func @cross_entropy_grad_seed_rank(%z: tensor<4x5xf32>, %y: tensor<4xi64>, %d: tensor<1xf32>) -> tensor<4x5xf32> {
  // expected-error @+1 {{result_grad must be a scalar of the logits' element type}}
  %0 = cleave.cross_entropy_grad %z, %y, %d : (tensor<4x5xf32>, tensor<4xi64>, tensor<1xf32>) -> tensor<4x5xf32>
  return %0 : tensor<4x5xf32>
}

// -----

// ... of the logits' element type (the kernel reads one float).
func.func @cross_entropy_grad_seed_type(%z: tensor<4x5xf32>, %y: tensor<4xi64>, %d: tensor<f64>) -> tensor<4x5xf32> {
  // expected-error @+1 {{result_grad must be a scalar of the logits' element type}}
  %0 = cleave.cross_entropy_grad %z, %y, %d : (tensor<4x5xf32>, tensor<4xi64>, tensor<f64>) -> tensor<4x5xf32>
  return %0 : tensor<4x5xf32>
}

// -----

// The gradient's labels match its rows too.
func.func @cross_entropy_grad_rows(%z: tensor<4x5xf32>, %y: tensor<5xi64>, %d: tensor<f32>) -> tensor<4x5xf32> {
  // expected-error @+1 {{needs [N, C] logits and [N] labels}}
  %0 = cleave.cross_entropy_grad %z, %y, %d : (tensor<4x5xf32>, tensor<5xi64>, tensor<f32>) -> tensor<4x5xf32>
  return %0 : tensor<4x5xf32>
}

//===----------------------------------------------------------------------===//
// random_mask
//===----------------------------------------------------------------------===//

// -----

// A keep probability of 0 would scale by 1/0.
func.func @random_mask_zero() -> tensor<4xf32> {
  // expected-error @+1 {{keep_probability must lie in (0, 1], got 0}}
  %0 = cleave.random_mask {keep_probability = 0.0 : f64, stream = 0 : i64} : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Nor may it exceed 1.
func.func @random_mask_above_one() -> tensor<4xf32> {
  // expected-error @+1 {{keep_probability must lie in (0, 1], got 1.5}}
  %0 = cleave.random_mask {keep_probability = 1.5 : f64, stream = 0 : i64} : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// A NaN probability is rejected as well.
func.func @random_mask_nan() -> tensor<4xf32> {
  // expected-error @+1 {{keep_probability must lie in (0, 1]}}
  %0 = cleave.random_mask {keep_probability = 0x7FF8000000000000 : f64, stream = 0 : i64} : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// The mask multiplies floats.
func.func @random_mask_int() -> tensor<4xi64> {
  // expected-error @+1 {{result #0 must be statically shaped float tensor}}
  %0 = cleave.random_mask {keep_probability = 0.5 : f64, stream = 0 : i64} : tensor<4xi64>
  return %0 : tensor<4xi64>
}

//===----------------------------------------------------------------------===//
// softmax_grad
//===----------------------------------------------------------------------===//

// -----

// Result, its gradient and the input gradient share one type.
func.func @softmax_grad_types(%y: tensor<2x8xf32>, %dy: tensor<2x4xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{result, result_grad and input_grad must share one type}}
  %0 = cleave.softmax_grad %y, %dy {axis = 1 : i64} : (tensor<2x8xf32>, tensor<2x4xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

func.func @softmax_grad_result_type(%y: tensor<2x8xf32>, %dy: tensor<2x8xf32>) -> tensor<2x8xf64> {
  // expected-error @+1 {{result, result_grad and input_grad must share one type}}
  %0 = cleave.softmax_grad %y, %dy {axis = 1 : i64} : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf64>
  return %0 : tensor<2x8xf64>
}

// -----

// The axis is a dimension of the result.
func.func @softmax_grad_axis(%y: tensor<2x8xf32>, %dy: tensor<2x8xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{axis 2 is out of range}}
  %0 = cleave.softmax_grad %y, %dy {axis = 2 : i64} : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

// A negative axis is reported as itself.
func.func @softmax_grad_negative_axis(%y: tensor<2x8xf32>, %dy: tensor<2x8xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{axis -1 is out of range}}
  %0 = cleave.softmax_grad %y, %dy {axis = -1 : i64} : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

//===----------------------------------------------------------------------===//
// layer_norm_grad, batch_norm_grad
//===----------------------------------------------------------------------===//

// -----

func.func @layer_norm_grad_axis(%x: tensor<2x8xf32>, %g: tensor<8xf32>, %dy: tensor<2x8xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{axis 2 is out of range}}
  %dx, %dg, %db = cleave.layer_norm_grad %x, %g, %dy {axis = 2 : i64, epsilon = 1.0e-05 : f64}
      : (tensor<2x8xf32>, tensor<8xf32>, tensor<2x8xf32>) -> (tensor<2x8xf32>, tensor<8xf32>, tensor<8xf32>)
  return %dx : tensor<2x8xf32>
}

// -----

func.func @layer_norm_grad_negative_axis(%x: tensor<2x8xf32>, %g: tensor<8xf32>, %dy: tensor<2x8xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{axis -1 is out of range}}
  %dx, %dg, %db = cleave.layer_norm_grad %x, %g, %dy {axis = -1 : i64, epsilon = 1.0e-05 : f64}
      : (tensor<2x8xf32>, tensor<8xf32>, tensor<2x8xf32>) -> (tensor<2x8xf32>, tensor<8xf32>, tensor<8xf32>)
  return %dx : tensor<2x8xf32>
}

// -----

// The scale covers the normalised dimensions axis..rank-1.
func.func @layer_norm_grad_scale(%x: tensor<2x3x8xf32>, %g: tensor<8xf32>, %dy: tensor<2x3x8xf32>) -> tensor<2x3x8xf32> {
  // expected-error @+1 {{scale must have the normalised dimensions' shape}}
  %dx, %dg, %db = cleave.layer_norm_grad %x, %g, %dy {axis = 1 : i64, epsilon = 1.0e-05 : f64}
      : (tensor<2x3x8xf32>, tensor<8xf32>, tensor<2x3x8xf32>) -> (tensor<2x3x8xf32>, tensor<8xf32>, tensor<8xf32>)
  return %dx : tensor<2x3x8xf32>
}

// -----

// The result gradient has the input's type.
func.func @layer_norm_grad_result_grad(%x: tensor<2x8xf32>, %g: tensor<8xf32>, %dy: tensor<4x8xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{input, result_grad and input_grad must share one type}}
  %dx, %dg, %db = cleave.layer_norm_grad %x, %g, %dy {axis = 1 : i64, epsilon = 1.0e-05 : f64}
      : (tensor<2x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> (tensor<2x8xf32>, tensor<8xf32>, tensor<8xf32>)
  return %dx : tensor<2x8xf32>
}

// -----

// So does the input gradient.
func.func @layer_norm_grad_input_grad(%x: tensor<2x8xf32>, %g: tensor<8xf32>, %dy: tensor<2x8xf32>) -> tensor<2x8xf64> {
  // expected-error @+1 {{input, result_grad and input_grad must share one type}}
  %dx, %dg, %db = cleave.layer_norm_grad %x, %g, %dy {axis = 1 : i64, epsilon = 1.0e-05 : f64}
      : (tensor<2x8xf32>, tensor<8xf32>, tensor<2x8xf32>) -> (tensor<2x8xf64>, tensor<8xf32>, tensor<8xf32>)
  return %dx : tensor<2x8xf64>
}

// -----

// Scale and bias gradients have the scale's type.
func.func @layer_norm_grad_bias_grad(%x: tensor<2x8xf32>, %g: tensor<8xf32>, %dy: tensor<2x8xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{scale_grad and bias_grad must have the scale's type}}
  %dx, %dg, %db = cleave.layer_norm_grad %x, %g, %dy {axis = 1 : i64, epsilon = 1.0e-05 : f64}
      : (tensor<2x8xf32>, tensor<8xf32>, tensor<2x8xf32>) -> (tensor<2x8xf32>, tensor<8xf32>, tensor<2x8xf32>)
  return %dx : tensor<2x8xf32>
}

// -----

// batch_norm_grad needs [N, C, ...]: rank 1 has no channel dimension.
func.func @batch_norm_grad_rank(%x: tensor<8xf32>, %g: tensor<8xf32>, %dy: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{needs [N, C, ...] input and [C] scale}}
  %dx, %dg, %db = cleave.batch_norm_grad %x, %g, %dy {epsilon = 1.0e-05 : f64}
      : (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>)
  return %dx : tensor<8xf32>
}

// -----

// The scale has one entry per channel (dimension 1).
func.func @batch_norm_grad_scale(%x: tensor<4x3x2x2xf32>, %g: tensor<4xf32>, %dy: tensor<4x3x2x2xf32>) -> tensor<4x3x2x2xf32> {
  // expected-error @+1 {{needs [N, C, ...] input and [C] scale}}
  %dx, %dg, %db = cleave.batch_norm_grad %x, %g, %dy {epsilon = 1.0e-05 : f64}
      : (tensor<4x3x2x2xf32>, tensor<4xf32>, tensor<4x3x2x2xf32>) -> (tensor<4x3x2x2xf32>, tensor<4xf32>, tensor<4xf32>)
  return %dx : tensor<4x3x2x2xf32>
}

// -----

func.func @batch_norm_grad_result_grad(%x: tensor<4x3xf32>, %g: tensor<3xf32>, %dy: tensor<4x3xf64>) -> tensor<4x3xf32> {
  // expected-error @+1 {{input, result_grad and input_grad must share one type}}
  %dx, %dg, %db = cleave.batch_norm_grad %x, %g, %dy {epsilon = 1.0e-05 : f64}
      : (tensor<4x3xf32>, tensor<3xf32>, tensor<4x3xf64>) -> (tensor<4x3xf32>, tensor<3xf32>, tensor<3xf32>)
  return %dx : tensor<4x3xf32>
}

// -----

func.func @batch_norm_grad_scale_grad(%x: tensor<4x3xf32>, %g: tensor<3xf32>, %dy: tensor<4x3xf32>) -> tensor<4x3xf32> {
  // expected-error @+1 {{scale_grad and bias_grad must have the scale's type}}
  %dx, %dg, %db = cleave.batch_norm_grad %x, %g, %dy {epsilon = 1.0e-05 : f64}
      : (tensor<4x3xf32>, tensor<3xf32>, tensor<4x3xf32>) -> (tensor<4x3xf32>, tensor<4xf32>, tensor<3xf32>)
  return %dx : tensor<4x3xf32>
}

//===----------------------------------------------------------------------===//
// scatter_add, slice_scatter
//===----------------------------------------------------------------------===//

// -----

func.func @scatter_add_axis(%u: tensor<2x4xf32>, %i: tensor<2xi64>) -> tensor<8x4xf32> {
  // expected-error @+1 {{axis 2 is out of range}}
  %0 = cleave.scatter_add %u[%i] {axis = 2 : i64} : (tensor<2x4xf32>, tensor<2xi64>) -> tensor<8x4xf32>
  return %0 : tensor<8x4xf32>
}

// -----

// updates must look like a gather from the result: [2, 3] indices into
// [8, 4] along 0 give [2, 3, 4].
func.func @scatter_add_updates_shape(%u: tensor<2x4xf32>, %i: tensor<2x3xi64>) -> tensor<8x4xf32> {
  // expected-error @+1 {{updates must have the shape a gather from the result would have}}
  %0 = cleave.scatter_add %u[%i] {axis = 0 : i64} : (tensor<2x4xf32>, tensor<2x3xi64>) -> tensor<8x4xf32>
  return %0 : tensor<8x4xf32>
}

// -----

func.func @scatter_add_element_type(%u: tensor<2x4xf32>, %i: tensor<2xi64>) -> tensor<8x4xf64> {
  // expected-error @+1 {{updates and result must share one element type}}
  %0 = cleave.scatter_add %u[%i] {axis = 0 : i64} : (tensor<2x4xf32>, tensor<2xi64>) -> tensor<8x4xf64>
  return %0 : tensor<8x4xf64>
}

// -----

// Indices are integers.
func.func @scatter_add_float_indices(%u: tensor<2x4xf32>, %i: tensor<2xf32>) -> tensor<8x4xf32> {
  // expected-error @+1 {{operand #1 must be statically shaped i32 or i64 tensor}}
  %0 = cleave.scatter_add %u[%i] {axis = 0 : i64} : (tensor<2x4xf32>, tensor<2xf32>) -> tensor<8x4xf32>
  return %0 : tensor<8x4xf32>
}

// -----

// One start and one stride per dimension, and equal ranks.
func.func @slice_scatter_counts(%s: tensor<2x3xf32>) -> tensor<4x6xf32> {
  // expected-error @+1 {{source, result, starts and strides need one entry per dimension}}
  %0 = cleave.slice_scatter %s {starts = array<i64: 0>, strides = array<i64: 1, 1>} : tensor<2x3xf32> -> tensor<4x6xf32>
  return %0 : tensor<4x6xf32>
}

// -----

func.func @slice_scatter_rank(%s: tensor<2x3xf32>) -> tensor<2x3x1xf32> {
  // expected-error @+1 {{source, result, starts and strides need one entry per dimension}}
  %0 = cleave.slice_scatter %s {starts = array<i64: 0, 0, 0>, strides = array<i64: 1, 1, 1>} : tensor<2x3xf32> -> tensor<2x3x1xf32>
  return %0 : tensor<2x3x1xf32>
}

// -----

// The window must lie inside the result: 1 + (3 - 1) * 3 = 7 >= 7.
func.func @slice_scatter_outside(%s: tensor<2x3xf32>) -> tensor<5x7xf32> {
  // expected-error @+1 {{dimension 1 writes outside the result}}
  %0 = cleave.slice_scatter %s {starts = array<i64: 1, 1>, strides = array<i64: 2, 3>} : tensor<2x3xf32> -> tensor<5x7xf32>
  return %0 : tensor<5x7xf32>
}

// -----

func.func @slice_scatter_negative_start(%s: tensor<2x3xf32>) -> tensor<4x6xf32> {
  // expected-error @+1 {{dimension 0 writes outside the result}}
  %0 = cleave.slice_scatter %s {starts = array<i64: -1, 0>, strides = array<i64: 1, 1>} : tensor<2x3xf32> -> tensor<4x6xf32>
  return %0 : tensor<4x6xf32>
}

// -----

func.func @slice_scatter_zero_stride(%s: tensor<2x3xf32>) -> tensor<4x6xf32> {
  // expected-error @+1 {{dimension 1 writes outside the result}}
  %0 = cleave.slice_scatter %s {starts = array<i64: 0, 0>, strides = array<i64: 1, 0>} : tensor<2x3xf32> -> tensor<4x6xf32>
  return %0 : tensor<4x6xf32>
}

// -----

func.func @slice_scatter_element_type(%s: tensor<2x3xf32>) -> tensor<4x6xi32> {
  // expected-error @+1 {{source and result must share one element type}}
  %0 = cleave.slice_scatter %s {starts = array<i64: 0, 0>, strides = array<i64: 1, 1>} : tensor<2x3xf32> -> tensor<4x6xi32>
  return %0 : tensor<4x6xi32>
}

//===----------------------------------------------------------------------===//
// conv2d_grad_input, conv2d_grad_filter, pool2d_grad
//===----------------------------------------------------------------------===//

// -----

func.func @conv2d_grad_input_rank(%dy: tensor<1x4x6xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x3x8x8xf32> {
  // expected-error @+1 {{needs rank-4 tensors, 2 strides, 4 paddings, 2 dilations}}
  %0 = cleave.conv2d_grad_input %dy, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64}
      : (tensor<1x4x6xf32>, tensor<4x3x3x3xf32>) -> tensor<1x3x8x8xf32>
  return %0 : tensor<1x3x8x8xf32>
}

// -----

func.func @conv2d_grad_input_padding_count(%dy: tensor<1x4x6x6xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x3x8x8xf32> {
  // expected-error @+1 {{needs rank-4 tensors, 2 strides, 4 paddings, 2 dilations}}
  %0 = cleave.conv2d_grad_input %dy, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64}
      : (tensor<1x4x6x6xf32>, tensor<4x3x3x3xf32>) -> tensor<1x3x8x8xf32>
  return %0 : tensor<1x3x8x8xf32>
}

// -----

// A zero stride (it used to divide by zero in the verifier).
func.func @conv2d_grad_input_zero_stride(%dy: tensor<1x4x6x6xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x3x8x8xf32> {
  // expected-error @+1 {{window sizes, strides and dilations must be positive}}
  %0 = cleave.conv2d_grad_input %dy, %w {strides = array<i64: 0, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64}
      : (tensor<1x4x6x6xf32>, tensor<4x3x3x3xf32>) -> tensor<1x3x8x8xf32>
  return %0 : tensor<1x3x8x8xf32>
}

// -----

func.func @conv2d_grad_filter_zero_dilation(%x: tensor<1x3x8x8xf32>, %dy: tensor<1x4x6x6xf32>) -> tensor<4x3x3x3xf32> {
  // expected-error @+1 {{window sizes, strides and dilations must be positive}}
  %0 = cleave.conv2d_grad_filter %x, %dy {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 0>, groups = 1 : i64}
      : (tensor<1x3x8x8xf32>, tensor<1x4x6x6xf32>) -> tensor<4x3x3x3xf32>
  return %0 : tensor<4x3x3x3xf32>
}

// -----

func.func @conv2d_grad_input_negative_padding(%dy: tensor<1x4x6x6xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x3x8x8xf32> {
  // expected-error @+1 {{padding must not be negative}}
  %0 = cleave.conv2d_grad_input %dy, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, -1, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64}
      : (tensor<1x4x6x6xf32>, tensor<4x3x3x3xf32>) -> tensor<1x3x8x8xf32>
  return %0 : tensor<1x3x8x8xf32>
}

// -----

// Filter channels (per group) times groups are the input channels.
func.func @conv2d_grad_input_channels(%dy: tensor<1x4x6x6xf32>, %w: tensor<4x2x3x3xf32>) -> tensor<1x3x8x8xf32> {
  // expected-error @+1 {{filter channels times groups must equal input channels}}
  %0 = cleave.conv2d_grad_input %dy, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64}
      : (tensor<1x4x6x6xf32>, tensor<4x2x3x3xf32>) -> tensor<1x3x8x8xf32>
  return %0 : tensor<1x3x8x8xf32>
}

// -----

func.func @conv2d_grad_filter_groups(%x: tensor<1x4x8x8xf32>, %dy: tensor<1x4x6x6xf32>) -> tensor<4x4x3x3xf32> {
  // expected-error @+1 {{filter channels times groups must equal input channels}}
  %0 = cleave.conv2d_grad_filter %x, %dy {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 0 : i64}
      : (tensor<1x4x8x8xf32>, tensor<1x4x6x6xf32>) -> tensor<4x4x3x3xf32>
  return %0 : tensor<4x4x3x3xf32>
}

// -----

// Groups split the filters too: 3 filters in 2 groups do not.
func.func @conv2d_grad_filter_filters_per_group(%x: tensor<1x4x8x8xf32>, %dy: tensor<1x3x6x6xf32>) -> tensor<3x2x3x3xf32> {
  // expected-error @+1 {{groups must divide the filter count}}
  %0 = cleave.conv2d_grad_filter %x, %dy {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 2 : i64}
      : (tensor<1x4x8x8xf32>, tensor<1x3x6x6xf32>) -> tensor<3x2x3x3xf32>
  return %0 : tensor<3x2x3x3xf32>
}

// -----

// The result gradient has the forward output's shape: (8 - 3) / 2 + 1 = 3.
func.func @conv2d_grad_input_result_grad(%dy: tensor<1x4x4x4xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x3x8x8xf32> {
  // expected-error @+1 {{result_grad does not have the forward convolution's output shape}}
  %0 = cleave.conv2d_grad_input %dy, %w {strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64}
      : (tensor<1x4x4x4xf32>, tensor<4x3x3x3xf32>) -> tensor<1x3x8x8xf32>
  return %0 : tensor<1x3x8x8xf32>
}

// -----

func.func @conv2d_grad_filter_result_grad(%x: tensor<1x3x8x8xf32>, %dy: tensor<2x4x6x6xf32>) -> tensor<4x3x3x3xf32> {
  // expected-error @+1 {{result_grad does not have the forward convolution's output shape}}
  %0 = cleave.conv2d_grad_filter %x, %dy {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64}
      : (tensor<1x3x8x8xf32>, tensor<2x4x6x6xf32>) -> tensor<4x3x3x3xf32>
  return %0 : tensor<4x3x3x3xf32>
}

// -----

func.func @conv2d_grad_input_element_type(%dy: tensor<1x4x6x6xf64>, %w: tensor<4x3x3x3xf32>) -> tensor<1x3x8x8xf32> {
  // expected-error @+1 {{operands and result must share one element type}}
  %0 = cleave.conv2d_grad_input %dy, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64}
      : (tensor<1x4x6x6xf64>, tensor<4x3x3x3xf32>) -> tensor<1x3x8x8xf32>
  return %0 : tensor<1x3x8x8xf32>
}

// -----

func.func @conv2d_grad_filter_element_type(%x: tensor<1x3x8x8xf32>, %dy: tensor<1x4x6x6xf32>) -> tensor<4x3x3x3xf64> {
  // expected-error @+1 {{operands and result must share one element type}}
  %0 = cleave.conv2d_grad_filter %x, %dy {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64}
      : (tensor<1x3x8x8xf32>, tensor<1x4x6x6xf32>) -> tensor<4x3x3x3xf64>
  return %0 : tensor<4x3x3x3xf64>
}

// -----

func.func @pool2d_grad_rank(%x: tensor<2x8x8xf32>, %dy: tensor<2x4x4xf32>) -> tensor<2x8x8xf32> {
  // expected-error @+1 {{needs a rank-4 input, 2 window sizes, 2 strides and 4 paddings}}
  %0 = cleave.pool2d_grad max %x, %dy {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>}
      : (tensor<2x8x8xf32>, tensor<2x4x4xf32>) -> tensor<2x8x8xf32>
  return %0 : tensor<2x8x8xf32>
}

// -----

func.func @pool2d_grad_kernel_count(%x: tensor<1x2x8x8xf32>, %dy: tensor<1x2x4x4xf32>) -> tensor<1x2x8x8xf32> {
  // expected-error @+1 {{needs a rank-4 input, 2 window sizes, 2 strides and 4 paddings}}
  %0 = cleave.pool2d_grad max %x, %dy {kernel = array<i64: 2>, strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>}
      : (tensor<1x2x8x8xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x8x8xf32>
  return %0 : tensor<1x2x8x8xf32>
}

// -----

// A zero stride (it used to divide by zero in the verifier).
func.func @pool2d_grad_zero_stride(%x: tensor<1x2x8x8xf32>, %dy: tensor<1x2x4x4xf32>) -> tensor<1x2x8x8xf32> {
  // expected-error @+1 {{window sizes, strides and dilations must be positive}}
  %0 = cleave.pool2d_grad max %x, %dy {kernel = array<i64: 2, 2>, strides = array<i64: 2, 0>, padding = array<i64: 0, 0, 0, 0>}
      : (tensor<1x2x8x8xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x8x8xf32>
  return %0 : tensor<1x2x8x8xf32>
}

// -----

func.func @pool2d_grad_zero_kernel(%x: tensor<1x2x8x8xf32>, %dy: tensor<1x2x4x4xf32>) -> tensor<1x2x8x8xf32> {
  // expected-error @+1 {{window sizes, strides and dilations must be positive}}
  %0 = cleave.pool2d_grad avg %x, %dy {kernel = array<i64: 0, 2>, strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>}
      : (tensor<1x2x8x8xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x8x8xf32>
  return %0 : tensor<1x2x8x8xf32>
}

// -----

func.func @pool2d_grad_negative_padding(%x: tensor<1x2x8x8xf32>, %dy: tensor<1x2x4x4xf32>) -> tensor<1x2x8x8xf32> {
  // expected-error @+1 {{padding must not be negative}}
  %0 = cleave.pool2d_grad avg %x, %dy {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, padding = array<i64: 0, 0, -1, 0>}
      : (tensor<1x2x8x8xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x8x8xf32>
  return %0 : tensor<1x2x8x8xf32>
}

// -----

// As for the forward pooling, padding stays smaller than the window.
func.func @pool2d_grad_padding_window(%x: tensor<1x2x8x8xf32>, %dy: tensor<1x2x6x6xf32>) -> tensor<1x2x8x8xf32> {
  // expected-error @+1 {{padding must be smaller than the window}}
  %0 = cleave.pool2d_grad max %x, %dy {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, padding = array<i64: 2, 2, 2, 2>}
      : (tensor<1x2x8x8xf32>, tensor<1x2x6x6xf32>) -> tensor<1x2x8x8xf32>
  return %0 : tensor<1x2x8x8xf32>
}

// -----

// The result gradient has the forward pooling's output shape; ceil_mode
// changes it: (7 - 2) / 2 + 1 = 3, but 4 in ceil mode.
func.func @pool2d_grad_result_grad(%x: tensor<1x2x7x7xf32>, %dy: tensor<1x2x4x4xf32>) -> tensor<1x2x7x7xf32> {
  // expected-error @+1 {{result_grad does not have the forward pooling's output shape}}
  %0 = cleave.pool2d_grad max %x, %dy {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>}
      : (tensor<1x2x7x7xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x7x7xf32>
  return %0 : tensor<1x2x7x7xf32>
}

// -----

func.func @pool2d_grad_input_grad(%x: tensor<1x2x8x8xf32>, %dy: tensor<1x2x4x4xf32>) -> tensor<1x2x8x8xf64> {
  // expected-error @+1 {{input_grad must have the input's type}}
  %0 = cleave.pool2d_grad max %x, %dy {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>}
      : (tensor<1x2x8x8xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x8x8xf64>
  return %0 : tensor<1x2x8x8xf64>
}

// -----

func.func @pool2d_grad_result_grad_type(%x: tensor<1x2x8x8xf32>, %dy: tensor<1x2x4x4xf64>) -> tensor<1x2x8x8xf32> {
  // expected-error @+1 {{result_grad must have the input's element type}}
  %0 = cleave.pool2d_grad max %x, %dy {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>}
      : (tensor<1x2x8x8xf32>, tensor<1x2x4x4xf64>) -> tensor<1x2x8x8xf32>
  return %0 : tensor<1x2x8x8xf32>
}
