// RUN: cleave-opt %s --split-input-file --verify-diagnostics

// Every error of every cleave op verifier, of the types the ops accept, and
// of the dialect's checks on argument, result and module attributes.

//===----------------------------------------------------------------------===//
// constant, iota
//===----------------------------------------------------------------------===//

// The constant's value type must be its result type (only the generic form
// can spell them apart).
func.func @constant_type_mismatch() -> tensor<2xf32> {
  // expected-error @+1 {{failed to verify that all of {value, result} have same type}}
  %0 = "cleave.constant"() <{value = dense<1.0> : tensor<3xf32>}> : () -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// A constant has a static shape.
func.func @constant_dynamic() {
  // expected-error @+1 {{result #0 must be statically shaped tensor}}
  %0 = "cleave.constant"() <{value = dense<1.0> : tensor<2xf32>}> : () -> tensor<?xf32>
  return
}

// -----

// An iota is 1-D.
func.func @iota_rank() -> tensor<2x2xi64> {
  // expected-error @+1 {{result must be 1-D, got rank 2}}
  %0 = cleave.iota {start = 0 : i64, step = 1 : i64} : tensor<2x2xi64>
  return %0 : tensor<2x2xi64>
}

// -----

// An iota of booleans makes no sense.
func.func @iota_bool() -> tensor<4xi1> {
  // expected-error @+1 {{result element type must be a number, got 'i1'}}
  %0 = cleave.iota {start = 0 : i64, step = 1 : i64} : tensor<4xi1>
  return %0 : tensor<4xi1>
}

// -----

// An iota must move.
func.func @iota_zero_step() -> tensor<4xi64> {
  // expected-error @+1 {{step must not be zero}}
  %0 = cleave.iota {start = 3 : i64, step = 0 : i64} : tensor<4xi64>
  return %0 : tensor<4xi64>
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

// -----

// Operands must have static shapes.
func.func @unary_dynamic(%x: tensor<?xf32>) -> tensor<?xf32> {
  // expected-error @+1 {{operand #0 must be statically shaped tensor, but got 'tensor<?xf32>'}}
  %0 = cleave.unary exp %x : tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

// logical_not works on i1 only.
func.func @unary_logical_not_float(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{logical_not needs i1 elements, got 'f32'}}
  %0 = cleave.unary logical_not %x : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// neg, abs, sign, relu and identity take any number, but not i1.
func.func @unary_neg_bool(%x: tensor<4xi1>) -> tensor<4xi1> {
  // expected-error @+1 {{neg needs numbers, got i1}}
  %0 = cleave.unary neg %x : tensor<4xi1>
  return %0 : tensor<4xi1>
}

// -----

// The transcendental kinds need floats.
func.func @unary_exp_int(%x: tensor<4xi32>) -> tensor<4xi32> {
  // expected-error @+1 {{exp needs float elements, got 'i32'}}
  %0 = cleave.unary exp %x : tensor<4xi32>
  return %0 : tensor<4xi32>
}

// -----

// Operands and result of a binary op share one element type.
func.func @binary_element_types(%a: tensor<4xf32>, %b: tensor<4xf16>) -> tensor<4xf32> {
  // expected-error @+1 {{operands and result must share one element type}}
  %0 = cleave.binary add %a, %b : (tensor<4xf32>, tensor<4xf16>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// The logical kinds need i1.
func.func @binary_logical_float(%a: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{logical_and needs i1 elements}}
  %0 = cleave.binary logical_and %a, %a : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// The arithmetic kinds reject i1.
func.func @binary_add_bool(%a: tensor<4xi1>) -> tensor<4xi1> {
  // expected-error @+1 {{add needs numbers, not i1}}
  %0 = cleave.binary add %a, %a : (tensor<4xi1>, tensor<4xi1>) -> tensor<4xi1>
  return %0 : tensor<4xi1>
}

// -----

// Operand shapes must broadcast.
func.func @binary_no_broadcast(%a: tensor<2x3xf32>, %b: tensor<4xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{operand shapes do not broadcast: [2, 3] vs [4]}}
  %0 = cleave.binary mul %a, %b : (tensor<2x3xf32>, tensor<4xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// The result has exactly the broadcast shape (no further broadcasting).
func.func @binary_result_shape(%a: tensor<2x3xf32>, %b: tensor<3xf32>) -> tensor<4x2x3xf32> {
  // expected-error @+1 {{result shape [4, 2, 3] is not the broadcast shape [2, 3]}}
  %0 = cleave.binary sub %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<4x2x3xf32>
  return %0 : tensor<4x2x3xf32>
}

// -----

// Compared operands share one element type.
func.func @compare_element_types(%a: tensor<4xf32>, %b: tensor<4xi32>) -> tensor<4xi1> {
  // expected-error @+1 {{operands must share one element type}}
  %0 = cleave.compare lt %a, %b : (tensor<4xf32>, tensor<4xi32>) -> tensor<4xi1>
  return %0 : tensor<4xi1>
}

// -----

// A comparison broadcasts like the binary ops.
func.func @compare_result_shape(%a: tensor<1x4xf32>, %b: tensor<3x1xf32>) -> tensor<4x3xi1> {
  // expected-error @+1 {{result shape [4, 3] is not the broadcast shape [3, 4]}}
  %0 = cleave.compare gt %a, %b : (tensor<1x4xf32>, tensor<3x1xf32>) -> tensor<4x3xi1>
  return %0 : tensor<4x3xi1>
}

// -----

// A comparison gives i1.
func.func @compare_result_type(%a: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{result #0 must be statically shaped i1 tensor, but got 'tensor<4xf32>'}}
  %0 = cleave.compare eq %a, %a : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Both choices of a select have the result's element type.
func.func @select_element_types(%c: tensor<4xi1>, %a: tensor<4xf32>, %b: tensor<4xf16>) -> tensor<4xf32> {
  // expected-error @+1 {{on_true, on_false and result must share one element type}}
  %0 = cleave.select %c, %a, %b : (tensor<4xi1>, tensor<4xf32>, tensor<4xf16>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// The condition broadcasts with the choices.
func.func @select_no_broadcast(%c: tensor<3xi1>, %a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{operand shapes do not broadcast: [3] vs [4]}}
  %0 = cleave.select %c, %a, %b : (tensor<3xi1>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// The condition of a select is i1.
func.func @select_condition(%c: tensor<4xf32>, %a: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{operand #0 must be statically shaped i1 tensor}}
  %0 = cleave.select %c, %a, %a : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// A cast changes the element type only.
func.func @cast_shape(%x: tensor<4xf32>) -> tensor<2x2xf16> {
  // expected-error @+1 {{cast must keep the shape: 'tensor<4xf32>' to 'tensor<2x2xf16>'}}
  %0 = cleave.cast %x : tensor<4xf32> to tensor<2x2xf16>
  return %0 : tensor<2x2xf16>
}

// -----

// A dropout ratio of 1 would divide by zero.
func.func @dropout_ratio(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{ratio must lie in [0, 1), got 1}}
  %0 = cleave.dropout %x {ratio = 1.0 : f64} : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Dropout works on floats.
func.func @dropout_int(%x: tensor<4xi32>) -> tensor<4xi32> {
  // expected-error @+1 {{operand #0 must be statically shaped float tensor}}
  %0 = cleave.dropout %x {ratio = 0.5 : f64} : tensor<4xi32>
  return %0 : tensor<4xi32>
}

//===----------------------------------------------------------------------===//
// matmul
//===----------------------------------------------------------------------===//

// -----

// Matmul operands are matrices or batches of them.
func.func @matmul_rank(%a: tensor<4xf32>, %b: tensor<4x8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{operands need rank >= 2 (the importer reshapes vectors), got 1 and 2}}
  %0 = cleave.matmul %a, %b : (tensor<4xf32>, tensor<4x8xf32>) -> tensor<8xf32>
  return %0 : tensor<8xf32>
}

// -----

// Matmul operands and result share one element type.
func.func @matmul_element_types(%a: tensor<2x4xf16>, %b: tensor<4x8xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{operands and result must share one element type}}
  %0 = cleave.matmul %a, %b : (tensor<2x4xf16>, tensor<4x8xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

// The contracted dimensions agree; with transpose_b the rhs is [N, K].
func.func @matmul_contraction(%a: tensor<2x4xf32>, %b: tensor<4x8xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{contracted dimensions differ: 4 vs 8}}
  %0 = cleave.matmul %a, %b {transpose_b} : (tensor<2x4xf32>, tensor<4x8xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// Batch dimensions broadcast.
func.func @matmul_batch(%a: tensor<2x3x4xf32>, %b: tensor<3x4x8xf32>) -> tensor<2x3x8xf32> {
  // expected-error @+1 {{batch dimensions do not broadcast: [2] vs [3]}}
  %0 = cleave.matmul %a, %b : (tensor<2x3x4xf32>, tensor<3x4x8xf32>) -> tensor<2x3x8xf32>
  return %0 : tensor<2x3x8xf32>
}

// -----

// With transpose_a the lhs is [K, M], so M is 3 here.
func.func @matmul_result(%a: tensor<4x3xf32>, %b: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{result shape [4, 8] should be [3, 8]}}
  %0 = cleave.matmul %a, %b {transpose_a} : (tensor<4x3xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

// Matmul works on floats.
func.func @matmul_int(%a: tensor<2x4xi32>, %b: tensor<4x8xi32>) -> tensor<2x8xi32> {
  // expected-error @+1 {{operand #0 must be statically shaped float tensor}}
  %0 = cleave.matmul %a, %b : (tensor<2x4xi32>, tensor<4x8xi32>) -> tensor<2x8xi32>
  return %0 : tensor<2x8xi32>
}

//===----------------------------------------------------------------------===//
// reduce, softmax, layer_norm, batch_norm
//===----------------------------------------------------------------------===//

// -----

// A reduction reduces something.
func.func @reduce_no_axes(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{needs at least one axis}}
  %0 = cleave.reduce sum %x {axes = array<i64>} : tensor<2x3xf32> -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// Axes are non-negative and below the rank.
func.func @reduce_axis_range(%x: tensor<2x3xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{axis 2 is out of range for rank 2}}
  %0 = cleave.reduce sum %x {axes = array<i64: 2>} : tensor<2x3xf32> -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// Axes are sorted and unique.
func.func @reduce_axes_order(%x: tensor<2x3x4xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{axes must be sorted and unique}}
  %0 = cleave.reduce sum %x {axes = array<i64: 2, 0>} : tensor<2x3x4xf32> -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

// A reduction keeps the element type.
func.func @reduce_element_type(%x: tensor<2x3xf32>) -> tensor<2xf16> {
  // expected-error @+1 {{result must keep the input element type}}
  %0 = cleave.reduce max %x {axes = array<i64: 1>} : tensor<2x3xf32> -> tensor<2xf16>
  return %0 : tensor<2xf16>
}

// -----

// With keep_dims the reduced dimensions stay as 1.
func.func @reduce_keep_dims(%x: tensor<2x3xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{result shape [2] should be [2, 1]}}
  %0 = cleave.reduce mean %x {axes = array<i64: 1>, keep_dims} : tensor<2x3xf32> -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// The softmax axis lies within the rank.
func.func @softmax_axis(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{axis 2 is out of range for rank 2}}
  %0 = cleave.softmax %x {axis = 2 : i64} : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// The layer_norm axis lies within the rank.
func.func @layer_norm_axis(%x: tensor<2x3xf32>, %g: tensor<3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{axis 2 is out of range for rank 2}}
  %0 = cleave.layer_norm %x, %g {axis = 2 : i64, epsilon = 1.0e-05 : f64} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// Scale and bias have the input's element type.
func.func @layer_norm_element_type(%x: tensor<2x3xf32>, %g: tensor<3xf32>, %b: tensor<3xf16>) -> tensor<2x3xf32> {
  // expected-error @+1 {{scale and bias must have the input element type 'f32'}}
  %0 = cleave.layer_norm %x, %g, %b {axis = 1 : i64, epsilon = 1.0e-05 : f64} : (tensor<2x3xf32>, tensor<3xf32>, tensor<3xf16>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// The scale covers all normalised dimensions, from axis on.
func.func @layer_norm_scale(%x: tensor<2x3x4xf32>, %g: tensor<4xf32>) -> tensor<2x3x4xf32> {
  // expected-error @+1 {{scale shape [4] must equal the normalised dimensions [3, 4]}}
  %0 = cleave.layer_norm %x, %g {axis = 1 : i64, epsilon = 1.0e-05 : f64} : (tensor<2x3x4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// -----

// So does the bias.
func.func @layer_norm_bias(%x: tensor<2x3xf32>, %g: tensor<3xf32>, %b: tensor<2xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{bias shape must equal the normalised dimensions [3]}}
  %0 = cleave.layer_norm %x, %g, %b {axis = 1 : i64, epsilon = 1.0e-05 : f64} : (tensor<2x3xf32>, tensor<3xf32>, tensor<2xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// Layer norm keeps the input type.
func.func @layer_norm_result(%x: tensor<2x3xf32>, %g: tensor<3xf32>) -> tensor<3x2xf32> {
  // expected-error @+1 {{result type must equal the input type}}
  %0 = cleave.layer_norm %x, %g {axis = 1 : i64, epsilon = 1.0e-05 : f64} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

// A negative epsilon could make the variance term negative.
func.func @layer_norm_epsilon(%x: tensor<2x3xf32>, %g: tensor<3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{epsilon must not be negative}}
  %0 = cleave.layer_norm %x, %g {axis = 1 : i64, epsilon = -1.0e-05 : f64} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// Batch norm needs a channel dimension.
func.func @batch_norm_rank(%x: tensor<8xf32>, %s: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{input needs rank >= 2 ([N, C, ...]), got 1}}
  %y, %m, %v = cleave.batch_norm %x, %s, %s, %s, %s {epsilon = 1.0e-05 : f64, momentum = 0.1 : f64} : (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>)
  return %y : tensor<8xf32>
}

// -----

// Scale, bias and statistics hold one value per channel.
func.func @batch_norm_channels(%x: tensor<8x16x4x4xf32>, %s: tensor<16xf32>, %m: tensor<8xf32>) -> tensor<8x16x4x4xf32> {
  // expected-error @+1 {{scale, bias and running statistics must have shape [16], got 'tensor<8xf32>'}}
  %y, %rm, %rv = cleave.batch_norm %x, %s, %s, %m, %s {epsilon = 1.0e-05 : f64, momentum = 0.1 : f64} : (tensor<8x16x4x4xf32>, tensor<16xf32>, tensor<16xf32>, tensor<8xf32>, tensor<16xf32>) -> (tensor<8x16x4x4xf32>, tensor<8xf32>, tensor<16xf32>)
  return %y : tensor<8x16x4x4xf32>
}

// -----

// Batch norm keeps the input type.
func.func @batch_norm_result(%x: tensor<8x16x4x4xf32>, %s: tensor<16xf32>) -> tensor<8x16x4x4xf16> {
  // expected-error @+1 {{result type must equal the input type}}
  %y, %rm, %rv = cleave.batch_norm %x, %s, %s, %s, %s {epsilon = 1.0e-05 : f64, momentum = 0.1 : f64} : (tensor<8x16x4x4xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>) -> (tensor<8x16x4x4xf16>, tensor<16xf32>, tensor<16xf32>)
  return %y : tensor<8x16x4x4xf16>
}

// -----

// The updated statistics have the types of the old ones.
func.func @batch_norm_statistics(%x: tensor<8x16x4x4xf32>, %s: tensor<16xf32>) -> tensor<16xf16> {
  // expected-error @+1 {{updated statistics must keep their types}}
  %y, %rm, %rv = cleave.batch_norm %x, %s, %s, %s, %s {epsilon = 1.0e-05 : f64, momentum = 0.1 : f64} : (tensor<8x16x4x4xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>) -> (tensor<8x16x4x4xf32>, tensor<16xf16>, tensor<16xf32>)
  return %rm : tensor<16xf16>
}

// -----

// Momentum is a mixing weight.
func.func @batch_norm_momentum(%x: tensor<8x16x4x4xf32>, %s: tensor<16xf32>) -> tensor<8x16x4x4xf32> {
  // expected-error @+1 {{momentum must lie in [0, 1], got 1.5}}
  %y, %rm, %rv = cleave.batch_norm %x, %s, %s, %s, %s {epsilon = 1.0e-05 : f64, momentum = 1.5 : f64} : (tensor<8x16x4x4xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>) -> (tensor<8x16x4x4xf32>, tensor<16xf32>, tensor<16xf32>)
  return %y : tensor<8x16x4x4xf32>
}

// -----

// Batch norm's epsilon is not negative either.
func.func @batch_norm_epsilon(%x: tensor<8x16x4x4xf32>, %s: tensor<16xf32>) -> tensor<8x16x4x4xf32> {
  // expected-error @+1 {{epsilon must not be negative}}
  %y, %rm, %rv = cleave.batch_norm %x, %s, %s, %s, %s {epsilon = -1.0 : f64, momentum = 0.1 : f64} : (tensor<8x16x4x4xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>) -> (tensor<8x16x4x4xf32>, tensor<16xf32>, tensor<16xf32>)
  return %y : tensor<8x16x4x4xf32>
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

// -----

// The gather axis lies within the input's rank.
func.func @gather_axis(%x: tensor<4x8xf32>, %i: tensor<2xi64>) -> tensor<4x2xf32> {
  // expected-error @+1 {{axis 2 is out of range for rank 2}}
  %0 = cleave.gather %x[%i] {axis = 2 : i64} : (tensor<4x8xf32>, tensor<2xi64>) -> tensor<4x2xf32>
  return %0 : tensor<4x2xf32>
}

// -----

// The indices' shape replaces the gathered dimension.
func.func @gather_result(%x: tensor<4x8xf32>, %i: tensor<2x3xi64>) -> tensor<2x3x4xf32> {
  // expected-error @+1 {{result shape [2, 3, 4] should be [4, 2, 3]}}
  %0 = cleave.gather %x[%i] {axis = 1 : i64} : (tensor<4x8xf32>, tensor<2x3xi64>) -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// -----

// A gather keeps the element type.
func.func @gather_element_type(%x: tensor<4x8xf32>, %i: tensor<2xi64>) -> tensor<2x8xf16> {
  // expected-error @+1 {{result must keep the input element type}}
  %0 = cleave.gather %x[%i] {axis = 0 : i64} : (tensor<4x8xf32>, tensor<2xi64>) -> tensor<2x8xf16>
  return %0 : tensor<2x8xf16>
}

// -----

// Gather indices are i32 or i64.
func.func @gather_index_type(%x: tensor<4x8xf32>, %i: tensor<2xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{operand #1 must be statically shaped i32 or i64 tensor}}
  %0 = cleave.gather %x[%i] {axis = 0 : i64} : (tensor<4x8xf32>, tensor<2xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

// A reshape keeps the element count.
func.func @reshape_count(%x: tensor<2x3xf32>) -> tensor<7xf32> {
  // expected-error @+1 {{element count changes: 'tensor<2x3xf32>' to 'tensor<7xf32>'}}
  %0 = cleave.reshape %x : tensor<2x3xf32> to tensor<7xf32>
  return %0 : tensor<7xf32>
}

// -----

// A reshape keeps the element type.
func.func @reshape_element_type(%x: tensor<2x3xf32>) -> tensor<6xi32> {
  // expected-error @+1 {{result must keep the input element type}}
  %0 = cleave.reshape %x : tensor<2x3xf32> to tensor<6xi32>
  return %0 : tensor<6xi32>
}

// -----

// A broadcast never drops dimensions.
func.func @broadcast_rank(%x: tensor<1x2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{cannot broadcast rank 3 to rank 2}}
  %0 = cleave.broadcast %x : tensor<1x2x3xf32> to tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// Only size-1 dimensions stretch.
func.func @broadcast_shape(%x: tensor<2x3xf32>) -> tensor<4x3xf32> {
  // expected-error @+1 {{input [2, 3] does not broadcast to [4, 3]}}
  %0 = cleave.broadcast %x : tensor<2x3xf32> to tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

// A broadcast keeps the element type.
func.func @broadcast_element_type(%x: tensor<3xf32>) -> tensor<2x3xf16> {
  // expected-error @+1 {{result must keep the input element type}}
  %0 = cleave.broadcast %x : tensor<3xf32> to tensor<2x3xf16>
  return %0 : tensor<2x3xf16>
}

// -----

// A permutation names every dimension.
func.func @transpose_length(%x: tensor<2x3x4xf32>) -> tensor<3x2x4xf32> {
  // expected-error @+1 {{permutation has 2 entries for rank 3}}
  %0 = cleave.transpose %x [1, 0] : tensor<2x3x4xf32> -> tensor<3x2x4xf32>
  return %0 : tensor<3x2x4xf32>
}

// -----

// ... each exactly once.
func.func @transpose_repeat(%x: tensor<2x3x4xf32>) -> tensor<2x2x3xf32> {
  // expected-error @+1 {{permutation [0, 0, 1] is not a permutation of 0..2}}
  %0 = cleave.transpose %x [0, 0, 1] : tensor<2x3x4xf32> -> tensor<2x2x3xf32>
  return %0 : tensor<2x2x3xf32>
}

// -----

// ... and only dimensions that exist.
func.func @transpose_range(%x: tensor<2x3xf32>) -> tensor<3x2xf32> {
  // expected-error @+1 {{permutation [1, 2] is not a permutation of 0..1}}
  %0 = cleave.transpose %x [1, 2] : tensor<2x3xf32> -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

// Result dim i is input dim permutation[i].
func.func @transpose_result(%x: tensor<2x3x4xf32>) -> tensor<3x2x4xf32> {
  // expected-error @+1 {{result shape [3, 2, 4] should be [4, 2, 3]}}
  %0 = cleave.transpose %x [2, 0, 1] : tensor<2x3x4xf32> -> tensor<3x2x4xf32>
  return %0 : tensor<3x2x4xf32>
}

// -----

// A transpose keeps the element type.
func.func @transpose_element_type(%x: tensor<2x3xf32>) -> tensor<3x2xf16> {
  // expected-error @+1 {{result must keep the input element type}}
  %0 = cleave.transpose %x [1, 0] : tensor<2x3xf32> -> tensor<3x2xf16>
  return %0 : tensor<3x2xf16>
}

// -----

// Slices give one start and one stride per dimension.
func.func @slice_counts(%x: tensor<4x8xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{starts, strides and result need one entry per input dimension (2)}}
  %0 = cleave.slice %x {starts = array<i64: 0>, strides = array<i64: 1, 1>} : tensor<4x8xf32> -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

// Strides are positive.
func.func @slice_stride(%x: tensor<4x8xf32>) -> tensor<4x1xf32> {
  // expected-error @+1 {{stride of dimension 1 must be positive, got 0}}
  %0 = cleave.slice %x {starts = array<i64: 0, 0>, strides = array<i64: 1, 0>} : tensor<4x8xf32> -> tensor<4x1xf32>
  return %0 : tensor<4x1xf32>
}

// -----

// The last element taken, 1 + 3 * 3 = 10, lies past the end of 8.
func.func @slice_past_end(%x: tensor<4x8xf32>) -> tensor<4x4xf32> {
  // expected-error @+1 {{dimension 1 reads past the input: start 1, 4 elements, stride 3, size 8}}
  %0 = cleave.slice %x {starts = array<i64: 0, 1>, strides = array<i64: 1, 3>} : tensor<4x8xf32> -> tensor<4x4xf32>
  return %0 : tensor<4x4xf32>
}

// -----

// Starts are not negative.
func.func @slice_negative_start(%x: tensor<4x8xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{dimension 0 reads past the input: start -1, 2 elements, stride 1, size 4}}
  %0 = cleave.slice %x {starts = array<i64: -1, 0>, strides = array<i64: 1, 1>} : tensor<4x8xf32> -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

// A slice keeps the element type.
func.func @slice_element_type(%x: tensor<4x8xf32>) -> tensor<2x8xf16> {
  // expected-error @+1 {{result must keep the input element type}}
  %0 = cleave.slice %x {starts = array<i64: 0, 0>, strides = array<i64: 1, 1>} : tensor<4x8xf32> -> tensor<2x8xf16>
  return %0 : tensor<2x8xf16>
}

// -----

// A concatenation joins at least one tensor.
func.func @concat_empty() -> tensor<0xf32> {
  // expected-error @+1 {{needs at least one input}}
  %0 = cleave.concat {axis = 0 : i64} : () -> tensor<0xf32>
  return %0 : tensor<0xf32>
}

// -----

// The concat axis lies within the rank.
func.func @concat_axis(%a: tensor<2x3xf32>) -> tensor<2x6xf32> {
  // expected-error @+1 {{axis 2 is out of range for rank 2}}
  %0 = cleave.concat %a, %a {axis = 2 : i64} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x6xf32>
  return %0 : tensor<2x6xf32>
}

// -----

// Inputs share the result's rank and element type.
func.func @concat_input_type(%a: tensor<2x3xf32>, %b: tensor<2x3xf16>) -> tensor<2x6xf32> {
  // expected-error @+1 {{inputs must share the result's rank and element type, got 'tensor<2x3xf16>'}}
  %0 = cleave.concat %a, %b {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x3xf16>) -> tensor<2x6xf32>
  return %0 : tensor<2x6xf32>
}

// -----

// Inputs agree with the result outside the axis.
func.func @concat_other_dims(%a: tensor<2x3xf32>, %b: tensor<4x3xf32>) -> tensor<2x6xf32> {
  // expected-error @+1 {{input 'tensor<4x3xf32>' differs from the result outside axis 1}}
  %0 = cleave.concat %a, %b {axis = 1 : i64} : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x6xf32>
  return %0 : tensor<2x6xf32>
}

// -----

// Along the axis the result is as long as the inputs together.
func.func @concat_axis_size(%a: tensor<2x3xf32>, %b: tensor<2x5xf32>) -> tensor<2x9xf32> {
  // expected-error @+1 {{result axis size 9 should be the sum of the inputs' sizes 8}}
  %0 = cleave.concat %a, %b {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x5xf32>) -> tensor<2x9xf32>
  return %0 : tensor<2x9xf32>
}

//===----------------------------------------------------------------------===//
// conv2d, pool2d
//===----------------------------------------------------------------------===//

// -----

// conv2d is NCHW with an FCHW filter.
func.func @conv2d_rank(%x: tensor<1x3x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{input and filter must have rank 4 (NCHW, FCHW)}}
  %0 = cleave.conv2d %x, %w {dilations = array<i64: 1, 1>, groups = 1 : i64, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x3x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

// Filter, bias and result have the input's element type.
func.func @conv2d_element_type(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf16>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{filter, bias and result must have the input element type 'f32'}}
  %0 = cleave.conv2d %x, %w {dilations = array<i64: 1, 1>, groups = 1 : i64, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf16>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

// Two strides, one per spatial dimension.
func.func @conv2d_stride_count(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{strides needs 2 entries, got 1}}
  %0 = cleave.conv2d %x, %w {dilations = array<i64: 1, 1>, groups = 1 : i64, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

// Two dilations.
func.func @conv2d_dilation_count(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{dilations needs 2 entries, got 3}}
  %0 = cleave.conv2d %x, %w {dilations = array<i64: 1, 1, 1>, groups = 1 : i64, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

// Four paddings: top, left, bottom, right.
func.func @conv2d_padding_count(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{padding ([top, left, bottom, right]) needs 4 entries, got 2}}
  %0 = cleave.conv2d %x, %w {dilations = array<i64: 1, 1>, groups = 1 : i64, padding = array<i64: 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

// Strides are positive.
func.func @conv2d_stride(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{strides must be positive, got [0, 1]}}
  %0 = cleave.conv2d %x, %w {dilations = array<i64: 1, 1>, groups = 1 : i64, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 0, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

// Dilations are positive.
func.func @conv2d_dilation(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{dilations must be positive, got [1, 0]}}
  %0 = cleave.conv2d %x, %w {dilations = array<i64: 1, 0>, groups = 1 : i64, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

// The filter window is not empty.
func.func @conv2d_empty_filter(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x0x3xf32>) -> tensor<1x4x9x6xf32> {
  // expected-error @+1 {{filter window sizes must be positive, got [0, 3]}}
  %0 = cleave.conv2d %x, %w {dilations = array<i64: 1, 1>, groups = 1 : i64, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x0x3xf32>) -> tensor<1x4x9x6xf32>
  return %0 : tensor<1x4x9x6xf32>
}

// -----

// Padding is not negative.
func.func @conv2d_padding(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{padding must not be negative, got [0, -1, 0, 1]}}
  %0 = cleave.conv2d %x, %w {dilations = array<i64: 1, 1>, groups = 1 : i64, padding = array<i64: 0, -1, 0, 1>, strides = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

// A 3x3 filter with dilation 4 spans 4 * (3 - 1) + 1 = 9 rows, more than the
// 8 input rows: there is no output at all.
func.func @conv2d_window_too_large(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x0x6xf32> {
  // expected-error @+1 {{window of 9 elements along spatial dimension 0 is larger than the padded input (8)}}
  %0 = cleave.conv2d %x, %w {dilations = array<i64: 4, 1>, groups = 1 : i64, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x0x6xf32>
  return %0 : tensor<1x4x0x6xf32>
}

// -----

// There is at least one group.
func.func @conv2d_groups_zero(%x: tensor<1x4x8x8xf32>, %w: tensor<4x2x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{groups must be positive, got 0}}
  %0 = cleave.conv2d %x, %w {dilations = array<i64: 1, 1>, groups = 0 : i64, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x4x8x8xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

// Groups divide the input channels and the filters.
func.func @conv2d_groups_divide(%x: tensor<1x3x8x8xf32>, %w: tensor<4x1x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{groups 2 must divide input channels 3 and filters 4}}
  %0 = cleave.conv2d %x, %w {dilations = array<i64: 1, 1>, groups = 2 : i64, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x1x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

// The filter sees C / groups channels.
func.func @conv2d_filter_channels(%x: tensor<1x4x8x8xf32>, %w: tensor<4x2x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{filter has 2 channels per group; input has 4 channels in 1 groups}}
  %0 = cleave.conv2d %x, %w {dilations = array<i64: 1, 1>, groups = 1 : i64, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x4x8x8xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

// One bias per filter.
func.func @conv2d_bias(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{bias must have shape [4]}}
  %0 = cleave.conv2d %x, %w, %b {dilations = array<i64: 1, 1>, groups = 1 : i64, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

// (8 + 1 + 1 - 3) / 2 + 1 = 4 outputs per spatial dimension.
func.func @conv2d_result(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{result shape [1, 4, 8, 8] should be [1, 4, 4, 4]}}
  %0 = cleave.conv2d %x, %w {dilations = array<i64: 1, 1>, groups = 1 : i64, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32>
  return %0 : tensor<1x4x8x8xf32>
}

// -----

// pool2d is NCHW.
func.func @pool2d_rank(%x: tensor<3x8x8xf32>) -> tensor<3x4x4xf32> {
  // expected-error @+1 {{input must have rank 4 (NCHW)}}
  %0 = cleave.pool2d max %x {kernel = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : tensor<3x8x8xf32> -> tensor<3x4x4xf32>
  return %0 : tensor<3x4x4xf32>
}

// -----

// Pooling keeps the element type.
func.func @pool2d_element_type(%x: tensor<1x3x8x8xf32>) -> tensor<1x3x4x4xf16> {
  // expected-error @+1 {{result must keep the input element type}}
  %0 = cleave.pool2d max %x {kernel = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : tensor<1x3x8x8xf32> -> tensor<1x3x4x4xf16>
  return %0 : tensor<1x3x4x4xf16>
}

// -----

// The kernel is 2-D.
func.func @pool2d_kernel_count(%x: tensor<1x3x8x8xf32>) -> tensor<1x3x4x4xf32> {
  // expected-error @+1 {{kernel needs 2 entries, got 3}}
  %0 = cleave.pool2d max %x {kernel = array<i64: 2, 2, 2>, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : tensor<1x3x8x8xf32> -> tensor<1x3x4x4xf32>
  return %0 : tensor<1x3x4x4xf32>
}

// -----

// Kernel sizes are positive.
func.func @pool2d_kernel(%x: tensor<1x3x8x8xf32>) -> tensor<1x3x4x4xf32> {
  // expected-error @+1 {{kernel sizes must be positive, got [0, 2]}}
  %0 = cleave.pool2d avg %x {kernel = array<i64: 0, 2>, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : tensor<1x3x8x8xf32> -> tensor<1x3x4x4xf32>
  return %0 : tensor<1x3x4x4xf32>
}

// -----

// Padding of a whole window or more would pool padding only.
func.func @pool2d_padding(%x: tensor<1x3x8x8xf32>) -> tensor<1x3x5x4xf32> {
  // expected-error @+1 {{padding must be smaller than the window}}
  %0 = cleave.pool2d max %x {kernel = array<i64: 2, 2>, padding = array<i64: 2, 0, 0, 0>, strides = array<i64: 2, 2>} : tensor<1x3x8x8xf32> -> tensor<1x3x5x4xf32>
  return %0 : tensor<1x3x5x4xf32>
}

// -----

// A 5-wide kernel does not fit into 3 + 0 + 1 = 4 padded columns.
func.func @pool2d_window_too_large(%x: tensor<1x3x8x3xf32>) -> tensor<1x3x4x0xf32> {
  // expected-error @+1 {{window of 5 elements along spatial dimension 1 is larger than the padded input (4)}}
  %0 = cleave.pool2d max %x {kernel = array<i64: 2, 5>, padding = array<i64: 0, 0, 0, 1>, strides = array<i64: 2, 2>} : tensor<1x3x8x3xf32> -> tensor<1x3x4x0xf32>
  return %0 : tensor<1x3x4x0xf32>
}

// -----

// Floor mode: (8 + 1 + 1 - 3) / 2 + 1 = 4 windows, not the 5 of ceil_mode.
func.func @pool2d_result(%x: tensor<1x3x8x8xf32>) -> tensor<1x3x5x5xf32> {
  // expected-error @+1 {{result shape [1, 3, 5, 5] should be [1, 3, 4, 4]}}
  %0 = cleave.pool2d avg %x {count_include_pad, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : tensor<1x3x8x8xf32> -> tensor<1x3x5x5xf32>
  return %0 : tensor<1x3x5x5xf32>
}

//===----------------------------------------------------------------------===//
// Argument, result and module attributes
//===----------------------------------------------------------------------===//

// -----

// cleave.param holds a #cleave.param.
// expected-error @+1 {{'cleave.param' on argument #0 must be a #cleave.param attribute}}
func.func @param_not_param(%w: tensor<4xf32> {cleave.param = "fc.weight"}) {
  return
}

// -----

// A parameter has a name.
// expected-error @+1 {{'cleave.param' on argument #0 must name the parameter}}
func.func @param_no_name(%w: tensor<4xf32> {cleave.param = #cleave.param<"", trainable>}) {
  return
}

// -----

// A parameter's kind is trainable or buffer.
// expected-error @+2 {{expected one of [trainable, buffer] for how training treats a parameter, got: frozen}}
// expected-error @+1 {{failed to parse Cleave_ParamAttr parameter 'kind'}}
func.func @param_bad_kind(%w: tensor<4xf32> {cleave.param = #cleave.param<"w", frozen>}) {
  return
}

// -----

// A parameter has a static shape.
// expected-error @+1 {{parameter argument #1 must be a statically shaped tensor, got 'tensor<?x4xf32>'}}
func.func @param_dynamic(%x: tensor<2xf32>, %w: tensor<?x4xf32> {cleave.param = #cleave.param<"w", trainable>}) {
  return
}

// -----

// Declarations are checked too.
// expected-error @+1 {{parameter argument #0 must be a statically shaped tensor, got 'f32'}}
func.func private @param_scalar_declaration(f32 {cleave.param = #cleave.param<"w", buffer>})

// -----

// An argument is a parameter or a data input, not both.
// expected-error @+1 {{argument #0 cannot be both a parameter ('cleave.param') and a data input ('cleave.input')}}
func.func @param_and_input(%w: tensor<4xf32> {cleave.param = #cleave.param<"w", trainable>, cleave.input = "x"}) {
  return
}

// -----

// A data input is named.
// expected-error @+1 {{'cleave.input' on argument #0 must be a non-empty string}}
func.func @input_empty(%x: tensor<4xf32> {cleave.input = ""}) {
  return
}

// -----

// The name is a string.
// expected-error @+1 {{'cleave.input' on argument #0 must be a non-empty string}}
func.func @input_not_string(%x: tensor<4xf32> {cleave.input = 3 : i64}) {
  return
}

// -----

// A data input has a static shape.
// expected-error @+1 {{input argument #0 must be a statically shaped tensor, got 'tensor<*xf32>'}}
func.func @input_unranked(%x: tensor<*xf32> {cleave.input = "x"}) {
  return
}

// -----

// Only cleave.param and cleave.input go on arguments.
// expected-error @+1 {{unknown cleave argument attribute 'cleave.output'}}
func.func @unknown_argument_attr(%x: tensor<4xf32> {cleave.output = "x"}) {
  return
}

// -----

// Only cleave.output goes on results.
// expected-error @+1 {{unknown cleave result attribute 'cleave.input'}}
func.func @unknown_result_attr(%x: tensor<4xf32>) -> (tensor<4xf32> {cleave.input = "y"}) {
  return %x : tensor<4xf32>
}

// -----

// An output is named.
// expected-error @+1 {{'cleave.output' on result #0 must be a non-empty string}}
func.func @output_empty(%x: tensor<4xf32>) -> (tensor<4xf32> {cleave.output = ""}) {
  return %x : tensor<4xf32>
}

// -----

// An output has a static shape.
// expected-error @+1 {{output result #1 must be a statically shaped tensor, got 'tensor<?xf32>'}}
func.func private @output_dynamic() -> (tensor<4xf32>, tensor<?xf32> {cleave.output = "y"})

// -----

// An optimizer state argument names its parameter and slot.
// expected-error @+1 {{'cleave.opt_state' on argument #0 must be a non-empty string}}
func.func @opt_state_empty(%m: tensor<4xf32> {cleave.opt_state = ""}) {
  return
}

// -----

// A per-step scalar is a static tensor like every other argument.
// expected-error @+1 {{train step argument #0 must be a statically shaped tensor, got 'tensor<?xf32>'}}
func.func @step_scalar_dynamic(%lr: tensor<?xf32> {cleave.step_scalar = "lr"}) {
  return
}

// -----

// The loss marker is a unit attribute.
// expected-error @+1 {{'cleave.loss' on result #0 must be a unit attribute}}
func.func private @loss_not_unit() -> (tensor<f32> {cleave.loss = 1 : i64})

// -----

// cleave.updates names an argument that exists.
// expected-error @+1 {{'cleave.updates' on result #0 must be the index of an argument}}
func.func private @updates_out_of_range(tensor<4xf32>) -> (tensor<4xf32> {cleave.updates = 1 : i64})

// -----

// A gradient has the type of the argument it belongs to.
// expected-error @+1 {{result #0 ('cleave.grad_of') must have the type of argument #0}}
func.func private @grad_of_type(tensor<4xf32>) -> (tensor<2xf32> {cleave.grad_of = 0 : i64})

// -----

// The source is a path.
// expected-error @+1 {{'cleave.source' must be a string (a file path)}}
module attributes {cleave.source = 42 : i64} {
}

// -----

// The opset is a number.
// expected-error @+1 {{'cleave.opset' must be an integer}}
module attributes {cleave.opset = "17"} {
}

// -----

// Source and opset describe the whole module.
// expected-error @+1 {{'cleave.opset' belongs on the module, not on 'func.func'}}
func.func @opset_on_function() attributes {cleave.opset = 17 : i64} {
  return
}

// -----

// Cost annotations are integers.
// expected-error @+1 {{'cleave.total_flops' must be an integer}}
func.func @flops_not_integer() attributes {cleave.total_flops = 1.5 : f64} {
  return
}

// -----

// The dialect knows its attribute names.
// expected-error @+1 {{unknown cleave attribute 'cleave.params'}}
module attributes {cleave.params = 3 : i64} {
}

// -----

// ZeRO-1's mark is a unit attribute on an op.
// expected-error @+1 {{'cleave.reduce_whole' must be a unit attribute on an op}}
module attributes {cleave.reduce_whole} {
}

// -----

// Overlapping collectives (cleave-overlap-collectives): a start's buffer is
// the wait's alone.
shard.grid @grid(shape = 2) {cleave.axis_names = ["dp"]}
func.func @start_without_wait(%x: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{buffer must be read by exactly one cleave.collective_wait}}
  %b = cleave.all_reduce_start %x {grid = @grid, grid_axes = array<i16: 0>, reduction = #shard<partial sum>, slot = 0 : i64} : tensor<8xf32> -> tensor<8xf32>
  return %b : tensor<8xf32>
}

// -----

shard.grid @grid(shape = 2) {cleave.axis_names = ["dp"]}
func.func @start_negative_slot(%x: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{slot -1 must be >= 0}}
  %b = cleave.all_reduce_start %x {grid = @grid, grid_axes = array<i16: 0>, reduction = #shard<partial sum>, slot = -1 : i64} : tensor<8xf32> -> tensor<8xf32>
  %r = cleave.collective_wait %b, %x {slot = -1 : i64} : tensor<8xf32>, tensor<8xf32>
  return %r : tensor<8xf32>
}

// -----

shard.grid @grid(shape = 2) {cleave.axis_names = ["dp"]}
func.func @start_no_axes(%x: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{needs the grid axes it communicates over}}
  %b = cleave.all_reduce_start %x {grid = @grid, grid_axes = array<i16>, reduction = #shard<partial sum>, slot = 0 : i64} : tensor<8xf32> -> tensor<8xf32>
  %r = cleave.collective_wait %b, %x {slot = 0 : i64} : tensor<8xf32>, tensor<8xf32>
  return %r : tensor<8xf32>
}

// -----

shard.grid @grid(shape = 2) {cleave.axis_names = ["dp"]}
func.func @all_reduce_start_shape(%x: tensor<8xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{result type 'tensor<4xf32>' must equal the input type 'tensor<8xf32>'}}
  %b = cleave.all_reduce_start %x {grid = @grid, grid_axes = array<i16: 0>, reduction = #shard<partial sum>, slot = 0 : i64} : tensor<8xf32> -> tensor<4xf32>
  %r = cleave.collective_wait %b, %x {slot = 0 : i64} : tensor<4xf32>, tensor<8xf32>
  return %r : tensor<4xf32>
}

// -----

shard.grid @grid(shape = 2) {cleave.axis_names = ["dp"]}
func.func @reduce_scatter_start_blocks(%x: tensor<6x4xf32>) -> tensor<4x4xf32> {
  // expected-error @+1 {{dimension 0 of the input (6) is not a whole number of the result's blocks (4)}}
  %b = cleave.reduce_scatter_start %x {grid = @grid, grid_axes = array<i16: 0>, reduction = #shard<partial sum>, scatter_axis = 0 : index, slot = 0 : i64} : tensor<6x4xf32> -> tensor<4x4xf32>
  %r = cleave.collective_wait %b, %x {slot = 0 : i64} : tensor<4x4xf32>, tensor<6x4xf32>
  return %r : tensor<4x4xf32>
}

// -----

shard.grid @grid(shape = 2) {cleave.axis_names = ["dp"]}
func.func @all_gather_start_other_dim(%x: tensor<2x4xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{dimension 1 changes (4 to 8) but only axis 0 may}}
  %b = cleave.all_gather_start %x {grid = @grid, grid_axes = array<i16: 0>, gather_axis = 0 : index, slot = 0 : i64} : tensor<2x4xf32> -> tensor<4x8xf32>
  %r = cleave.collective_wait %b, %x {slot = 0 : i64} : tensor<4x8xf32>, tensor<2x4xf32>
  return %r : tensor<4x8xf32>
}

// -----

shard.grid @grid(shape = 2) {cleave.axis_names = ["dp"]}
func.func @all_gather_start_axis(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{axis 2 is outside the tensor's 2 dimensions}}
  %b = cleave.all_gather_start %x {grid = @grid, grid_axes = array<i16: 0>, gather_axis = 2 : index, slot = 0 : i64} : tensor<2x4xf32> -> tensor<2x4xf32>
  %r = cleave.collective_wait %b, %x {slot = 0 : i64} : tensor<2x4xf32>, tensor<2x4xf32>
  return %r : tensor<2x4xf32>
}

// -----

func.func @wait_not_on_start(%x: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{must wait on the result of a cleave.all_reduce_start, reduce_scatter_start or all_gather_start}}
  %r = cleave.collective_wait %x, %x {slot = 0 : i64} : tensor<8xf32>, tensor<8xf32>
  return %r : tensor<8xf32>
}

// -----

shard.grid @grid(shape = 2) {cleave.axis_names = ["dp"]}
func.func @wait_other_input(%x: tensor<8xf32>, %y: tensor<8xf32>) -> tensor<8xf32> {
  %b = cleave.all_reduce_start %x {grid = @grid, grid_axes = array<i16: 0>, reduction = #shard<partial sum>, slot = 0 : i64} : tensor<8xf32> -> tensor<8xf32>
  // expected-error @+1 {{must also take its start's input}}
  %r = cleave.collective_wait %b, %y {slot = 0 : i64} : tensor<8xf32>, tensor<8xf32>
  return %r : tensor<8xf32>
}

// -----

shard.grid @grid(shape = 2) {cleave.axis_names = ["dp"]}
func.func @wait_other_slot(%x: tensor<8xf32>) -> tensor<8xf32> {
  %b = cleave.all_reduce_start %x {grid = @grid, grid_axes = array<i16: 0>, reduction = #shard<partial sum>, slot = 0 : i64} : tensor<8xf32> -> tensor<8xf32>
  // expected-error @+1 {{waits on slot 1 but its start uses slot 0}}
  %r = cleave.collective_wait %b, %x {slot = 1 : i64} : tensor<8xf32>, tensor<8xf32>
  return %r : tensor<8xf32>
}
