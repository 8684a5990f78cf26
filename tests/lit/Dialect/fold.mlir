// RUN: cleave-opt %s --split-input-file --canonicalize | FileCheck %s

// The cleave folders, as --canonicalize runs them.

// A constant folds to its value: two equal constants become one, and an
// unused one disappears.
// CHECK-LABEL: func.func @constant
// CHECK-NEXT:    %[[C:.*]] = cleave.constant dense<1.250000e-01> : tensor<f32>
// CHECK-NEXT:    return %[[C]], %[[C]] : tensor<f32>, tensor<f32>
func.func @constant() -> (tensor<f32>, tensor<f32>) {
  %0 = cleave.constant dense<0.125> : tensor<f32>
  %1 = cleave.constant dense<0.125> : tensor<f32>
  %2 = cleave.constant dense<2.0> : tensor<f32>
  return %0, %1 : tensor<f32>, tensor<f32>
}

// -----

// A cast to the type the input already has is the input.
// CHECK-LABEL: func.func @cast_same_type
// CHECK-SAME:    (%[[X:.*]]: tensor<4xf32>)
// CHECK-NEXT:    return %[[X]] : tensor<4xf32>
func.func @cast_same_type(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = cleave.cast %x : tensor<4xf32> to tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// A cast that changes the element type stays.
// CHECK-LABEL: func.func @cast_other_type
// CHECK-NEXT:    cleave.cast %{{.*}} : tensor<4xf32> to tensor<4xf16>
func.func @cast_other_type(%x: tensor<4xf32>) -> tensor<4xf16> {
  %0 = cleave.cast %x : tensor<4xf32> to tensor<4xf16>
  return %0 : tensor<4xf16>
}

// -----

// A reshape to the type the input already has is the input.
// CHECK-LABEL: func.func @reshape_same_type
// CHECK-SAME:    (%[[X:.*]]: tensor<2x3xf32>)
// CHECK-NEXT:    return %[[X]] : tensor<2x3xf32>
func.func @reshape_same_type(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = cleave.reshape %x : tensor<2x3xf32> to tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// A chain of reshapes is one reshape of the first input.
// CHECK-LABEL: func.func @reshape_chain
// CHECK-SAME:    (%[[X:.*]]: tensor<2x3x4xf32>)
// CHECK-NEXT:    %[[R:.*]] = cleave.reshape %[[X]] : tensor<2x3x4xf32> to tensor<4x6xf32>
// CHECK-NEXT:    return %[[R]] : tensor<4x6xf32>
func.func @reshape_chain(%x: tensor<2x3x4xf32>) -> tensor<4x6xf32> {
  %0 = cleave.reshape %x : tensor<2x3x4xf32> to tensor<24xf32>
  %1 = cleave.reshape %0 : tensor<24xf32> to tensor<6x4xf32>
  %2 = cleave.reshape %1 : tensor<6x4xf32> to tensor<4x6xf32>
  return %2 : tensor<4x6xf32>
}

// -----

// A chain of reshapes that ends in the input's shape folds away entirely.
// CHECK-LABEL: func.func @reshape_round_trip
// CHECK-SAME:    (%[[X:.*]]: tensor<2x3xf32>)
// CHECK-NEXT:    return %[[X]] : tensor<2x3xf32>
func.func @reshape_round_trip(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = cleave.reshape %x : tensor<2x3xf32> to tensor<6xf32>
  %1 = cleave.reshape %0 : tensor<6xf32> to tensor<2x3xf32>
  return %1 : tensor<2x3xf32>
}

// -----

// A reshape of a constant is a constant of the new shape, with the elements
// in the same row-major order.
// CHECK-LABEL: func.func @reshape_constant
// CHECK-NEXT:    %[[C:.*]] = cleave.constant dense<{{\[\[}}1, 2, 3], [4, 5, 6]]> : tensor<2x3xi64>
// CHECK-NEXT:    return %[[C]] : tensor<2x3xi64>
func.func @reshape_constant() -> tensor<2x3xi64> {
  %0 = cleave.constant dense<[1, 2, 3, 4, 5, 6]> : tensor<6xi64>
  %1 = cleave.reshape %0 : tensor<6xi64> to tensor<2x3xi64>
  return %1 : tensor<2x3xi64>
}

// -----

// A reshape of another value stays.
// CHECK-LABEL: func.func @reshape_kept
// CHECK-NEXT:    cleave.reshape %{{.*}} : tensor<2x3xf32> to tensor<6xf32>
func.func @reshape_kept(%x: tensor<2x3xf32>) -> tensor<6xf32> {
  %0 = cleave.reshape %x : tensor<2x3xf32> to tensor<6xf32>
  return %0 : tensor<6xf32>
}

// -----

// A broadcast to the type the input already has is the input.
// CHECK-LABEL: func.func @broadcast_same_type
// CHECK-SAME:    (%[[X:.*]]: tensor<2x3xf32>)
// CHECK-NEXT:    return %[[X]] : tensor<2x3xf32>
func.func @broadcast_same_type(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = cleave.broadcast %x : tensor<2x3xf32> to tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// A broadcast of a splat constant is a bigger splat.
// CHECK-LABEL: func.func @broadcast_splat
// CHECK-NEXT:    %[[C:.*]] = cleave.constant dense<-1.000000e+09> : tensor<2x16x16xf32>
// CHECK-NEXT:    return %[[C]] : tensor<2x16x16xf32>
func.func @broadcast_splat() -> tensor<2x16x16xf32> {
  %0 = cleave.constant dense<-1.0e9> : tensor<f32>
  %1 = cleave.broadcast %0 : tensor<f32> to tensor<2x16x16xf32>
  return %1 : tensor<2x16x16xf32>
}

// -----

// A broadcast of a constant that is not a splat stays (folding it would
// copy its elements).
// CHECK-LABEL: func.func @broadcast_non_splat
// CHECK-NEXT:    %[[C:.*]] = cleave.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
// CHECK-NEXT:    %[[B:.*]] = cleave.broadcast %[[C]] : tensor<2xf32> to tensor<3x2xf32>
// CHECK-NEXT:    return %[[B]]
func.func @broadcast_non_splat() -> tensor<3x2xf32> {
  %0 = cleave.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %1 = cleave.broadcast %0 : tensor<2xf32> to tensor<3x2xf32>
  return %1 : tensor<3x2xf32>
}

// -----

// An identity permutation is no transpose at all.
// CHECK-LABEL: func.func @transpose_identity
// CHECK-SAME:    (%[[X:.*]]: tensor<2x3x4xf32>)
// CHECK-NEXT:    return %[[X]] : tensor<2x3x4xf32>
func.func @transpose_identity(%x: tensor<2x3x4xf32>) -> tensor<2x3x4xf32> {
  %0 = cleave.transpose %x [0, 1, 2] : tensor<2x3x4xf32> -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// -----

// A permutation that only looks like the identity because the swapped
// dimensions have equal sizes stays.
// CHECK-LABEL: func.func @transpose_square
// CHECK-NEXT:    cleave.transpose %{{.*}} [1, 0] : tensor<3x3xf32> -> tensor<3x3xf32>
func.func @transpose_square(%x: tensor<3x3xf32>) -> tensor<3x3xf32> {
  %0 = cleave.transpose %x [1, 0] : tensor<3x3xf32> -> tensor<3x3xf32>
  return %0 : tensor<3x3xf32>
}
