// RUN: cleave-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(cleave-legalize-for-codegen))' | FileCheck %s

// A weight gradient summed over the batch: one product over all B * R = 6
// rows, no reduce.
// CHECK-LABEL: func.func @fold
// CHECK:         %[[X:.*]] = cleave.reshape %arg0 : tensor<2x3x4xf32> to tensor<6x4xf32>
// CHECK:         %[[G:.*]] = cleave.reshape %arg1 : tensor<2x3x5xf32> to tensor<6x5xf32>
// CHECK:         %[[P:.*]] = cleave.matmul %[[X]], %[[G]] {transpose_a} : (tensor<6x4xf32>, tensor<6x5xf32>) -> tensor<4x5xf32>
// CHECK-NOT:     cleave.reduce
// CHECK:         return %[[P]]
func.func @fold(%x: tensor<2x3x4xf32>, %g: tensor<2x3x5xf32>) -> tensor<4x5xf32> {
  %p = cleave.matmul %x, %g {transpose_a} : (tensor<2x3x4xf32>, tensor<2x3x5xf32>) -> tensor<2x4x5xf32>
  %s = cleave.reduce sum %p {axes = array<i64: 0>} : tensor<2x4x5xf32> -> tensor<4x5xf32>
  return %s : tensor<4x5xf32>
}

// -----

// Transposed to a Gemm-style weight's layout: the swapped product.
// CHECK-LABEL: func.func @fold_transposed
// CHECK:         %[[X:.*]] = cleave.reshape %arg0 : tensor<2x3x4xf32> to tensor<6x4xf32>
// CHECK:         %[[G:.*]] = cleave.reshape %arg1 : tensor<2x3x5xf32> to tensor<6x5xf32>
// CHECK:         %[[P:.*]] = cleave.matmul %[[G]], %[[X]] {transpose_a} : (tensor<6x5xf32>, tensor<6x4xf32>) -> tensor<5x4xf32>
// CHECK-NOT:     cleave.transpose
// CHECK:         return %[[P]]
func.func @fold_transposed(%x: tensor<2x3x4xf32>, %g: tensor<2x3x5xf32>) -> tensor<5x4xf32> {
  %p = cleave.matmul %x, %g {transpose_a} : (tensor<2x3x4xf32>, tensor<2x3x5xf32>) -> tensor<2x4x5xf32>
  %s = cleave.reduce sum %p {axes = array<i64: 0>} : tensor<2x4x5xf32> -> tensor<4x5xf32>
  %t = cleave.transpose %s [1, 0] : tensor<4x5xf32> -> tensor<5x4xf32>
  return %t : tensor<5x4xf32>
}

// -----

// Not a batch sum (the product is read twice; a max): left alone.
// CHECK-LABEL: func.func @no_fold
// CHECK:         %[[P:.*]] = cleave.matmul %arg0, %arg1 {transpose_a} : (tensor<2x3x4xf32>, tensor<2x3x5xf32>) -> tensor<2x4x5xf32>
// CHECK:         cleave.reduce sum %[[P]]
// CHECK:         cleave.reduce max %[[P]]
func.func @no_fold(%x: tensor<2x3x4xf32>, %g: tensor<2x3x5xf32>) -> (tensor<4x5xf32>, tensor<4x5xf32>) {
  %p = cleave.matmul %x, %g {transpose_a} : (tensor<2x3x4xf32>, tensor<2x3x5xf32>) -> tensor<2x4x5xf32>
  %s = cleave.reduce sum %p {axes = array<i64: 0>} : tensor<2x4x5xf32> -> tensor<4x5xf32>
  %m = cleave.reduce max %p {axes = array<i64: 0>} : tensor<2x4x5xf32> -> tensor<4x5xf32>
  return %s, %m : tensor<4x5xf32>, tensor<4x5xf32>
}

// -----

// A batch that broadcasts only partly ([2, 1] against [2, 3]) is broadcast
// to the whole batch; a batch of ones (stride 0) is not.
// CHECK-LABEL: func.func @broadcast
// CHECK:         %[[A:.*]] = cleave.broadcast %arg0 : tensor<2x1x8x4xf32> to tensor<2x3x8x4xf32>
// CHECK:         cleave.matmul %[[A]], %arg1 : (tensor<2x3x8x4xf32>, tensor<2x3x4x5xf32>) -> tensor<2x3x8x5xf32>
// CHECK-NOT:     cleave.broadcast
// CHECK:         cleave.matmul %arg2, %arg1 : (tensor<1x1x8x4xf32>, tensor<2x3x4x5xf32>) -> tensor<2x3x8x5xf32>
func.func @broadcast(%a: tensor<2x1x8x4xf32>, %b: tensor<2x3x4x5xf32>, %c: tensor<1x1x8x4xf32>) -> (tensor<2x3x8x5xf32>, tensor<2x3x8x5xf32>) {
  %0 = cleave.matmul %a, %b : (tensor<2x1x8x4xf32>, tensor<2x3x4x5xf32>) -> tensor<2x3x8x5xf32>
  %1 = cleave.matmul %c, %b : (tensor<1x1x8x4xf32>, tensor<2x3x4x5xf32>) -> tensor<2x3x8x5xf32>
  return %0, %1 : tensor<2x3x8x5xf32>, tensor<2x3x8x5xf32>
}
