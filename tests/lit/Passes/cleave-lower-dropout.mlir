// RUN: cleave-opt %s --split-input-file --cleave-lower-dropout | FileCheck %s

// A dropout becomes a random mask of keep probability 1 - ratio times the
// input, so that autodiff sees a multiplication whose gradient reuses the
// forward's mask.
// CHECK-LABEL: func.func @single
// CHECK-SAME:    (%[[X:.*]]: tensor<2x16xf32>)
// CHECK-NEXT:    %[[M:.*]] = cleave.random_mask {keep_probability = 9.000000e-01 : f64, stream = 0 : i64} : tensor<2x16xf32>
// CHECK-NEXT:    %[[Y:.*]] = cleave.binary mul %[[X]], %[[M]] : (tensor<2x16xf32>, tensor<2x16xf32>) -> tensor<2x16xf32>
// CHECK-NEXT:    return %[[Y]]
// CHECK-NOT:     cleave.dropout
func.func @single(%x: tensor<2x16xf32>) -> tensor<2x16xf32> {
  %y = cleave.dropout %x {ratio = 1.0e-01 : f64} : tensor<2x16xf32>
  return %y : tensor<2x16xf32>
}

// -----

// Every dropout of the module gets a stream of its own, also across
// functions, so that no two masks share random bits; a chain of dropouts
// multiplies by each mask in turn.
// CHECK-LABEL: func.func @chain
// CHECK-SAME:    (%[[X:.*]]: tensor<2x16xf32>)
// CHECK:         %[[M0:.*]] = cleave.random_mask {keep_probability = 9.000000e-01 : f64, stream = 0 : i64}
// CHECK:         %[[Y0:.*]] = cleave.binary mul %[[X]], %[[M0]]
// CHECK:         %[[M1:.*]] = cleave.random_mask {keep_probability = 7.500000e-01 : f64, stream = 1 : i64}
// CHECK:         %[[Y1:.*]] = cleave.binary mul %[[Y0]], %[[M1]]
// CHECK:         return %[[Y1]]
// CHECK-LABEL: func.func @other_function
// CHECK:         cleave.random_mask {keep_probability = 5.000000e-01 : f64, stream = 2 : i64} : tensor<3xf32>
// CHECK:         cleave.binary mul
// CHECK-NOT:     cleave.dropout
func.func @chain(%x: tensor<2x16xf32>) -> tensor<2x16xf32> {
  %y = cleave.dropout %x {ratio = 1.0e-01 : f64} : tensor<2x16xf32>
  %z = cleave.dropout %y {ratio = 2.5e-01 : f64} : tensor<2x16xf32>
  return %z : tensor<2x16xf32>
}
func.func @other_function(%x: tensor<3xf32>) -> tensor<3xf32> {
  %y = cleave.dropout %x {ratio = 5.0e-01 : f64} : tensor<3xf32>
  return %y : tensor<3xf32>
}

// -----

// Two dropouts of the same value (no chain) still draw different masks.
// CHECK-LABEL: func.func @same_input
// CHECK-DAG:     cleave.random_mask {keep_probability = 8.000000e-01 : f64, stream = 0 : i64} : tensor<4xf32>
// CHECK-DAG:     cleave.random_mask {keep_probability = 8.000000e-01 : f64, stream = 1 : i64} : tensor<4xf32>
func.func @same_input(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %a = cleave.dropout %x {ratio = 2.0e-01 : f64} : tensor<4xf32>
  %b = cleave.dropout %x {ratio = 2.0e-01 : f64} : tensor<4xf32>
  return %a, %b : tensor<4xf32>, tensor<4xf32>
}

// -----

// Without dropouts the pass changes nothing.
// CHECK-LABEL: func.func @no_dropout
// CHECK-NOT:     cleave.random_mask
// CHECK:         cleave.unary relu
// CHECK-NOT:     cleave.random_mask
func.func @no_dropout(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = cleave.unary relu %x : tensor<4xf32>
  return %y : tensor<4xf32>
}
