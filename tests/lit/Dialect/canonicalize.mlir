// RUN: cleave-opt %s --split-input-file --canonicalize | FileCheck %s

// The canonicalization patterns of cleave.matmul (absorb a transpose of an
// operand's last two dimensions into its flag) and cleave.transpose (compose
// a transpose of a transpose).

// PyTorch's Linear: y = x @ W^T, exported as Transpose(W) -> MatMul. The
// weight transpose becomes transpose_b.
// CHECK-LABEL: func.func @linear_weight
// CHECK-SAME:    (%[[X:.*]]: tensor<8x32xf32>, %[[W:.*]]: tensor<64x32xf32>)
// CHECK-NOT:     cleave.transpose
// CHECK:         %[[Y:.*]] = cleave.matmul %[[X]], %[[W]] {transpose_b} : (tensor<8x32xf32>, tensor<64x32xf32>) -> tensor<8x64xf32>
// CHECK-NEXT:    return %[[Y]]
func.func @linear_weight(%x: tensor<8x32xf32>, %w: tensor<64x32xf32>) -> tensor<8x64xf32> {
  %wt = cleave.transpose %w [1, 0] : tensor<64x32xf32> -> tensor<32x64xf32>
  %y = cleave.matmul %x, %wt : (tensor<8x32xf32>, tensor<32x64xf32>) -> tensor<8x64xf32>
  return %y : tensor<8x64xf32>
}

// -----

// A transposed lhs becomes transpose_a.
// CHECK-LABEL: func.func @lhs
// CHECK-SAME:    (%[[A:.*]]: tensor<32x8xf32>, %[[B:.*]]: tensor<32x64xf32>)
// CHECK-NOT:     cleave.transpose
// CHECK:         cleave.matmul %[[A]], %[[B]] {transpose_a} : (tensor<32x8xf32>, tensor<32x64xf32>) -> tensor<8x64xf32>
func.func @lhs(%a: tensor<32x8xf32>, %b: tensor<32x64xf32>) -> tensor<8x64xf32> {
  %at = cleave.transpose %a [1, 0] : tensor<32x8xf32> -> tensor<8x32xf32>
  %y = cleave.matmul %at, %b : (tensor<8x32xf32>, tensor<32x64xf32>) -> tensor<8x64xf32>
  return %y : tensor<8x64xf32>
}

// -----

// A transpose of an operand already read transposed cancels the flag.
// CHECK-LABEL: func.func @flag_flips_off
// CHECK-SAME:    (%[[A:.*]]: tensor<8x32xf32>, %[[B:.*]]: tensor<32x64xf32>)
// CHECK-NOT:     cleave.transpose
// CHECK:         cleave.matmul %[[A]], %[[B]] : (tensor<8x32xf32>, tensor<32x64xf32>) -> tensor<8x64xf32>
func.func @flag_flips_off(%a: tensor<8x32xf32>, %b: tensor<32x64xf32>) -> tensor<8x64xf32> {
  %bt = cleave.transpose %b [1, 0] : tensor<32x64xf32> -> tensor<64x32xf32>
  %y = cleave.matmul %a, %bt {transpose_b} : (tensor<8x32xf32>, tensor<64x32xf32>) -> tensor<8x64xf32>
  return %y : tensor<8x64xf32>
}

// -----

// Both operands at once, in a batched product (attention scores q @ k^T with
// k given as [B, H, D, S]).
// CHECK-LABEL: func.func @both_batched
// CHECK-SAME:    (%[[Q:.*]]: tensor<2x4x16x8xf32>, %[[K:.*]]: tensor<2x4x8x16xf32>)
// CHECK-NOT:     cleave.transpose
// CHECK:         cleave.matmul %[[Q]], %[[K]] {transpose_a, transpose_b} : (tensor<2x4x16x8xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x8x8xf32>
func.func @both_batched(%q: tensor<2x4x16x8xf32>, %k: tensor<2x4x8x16xf32>) -> tensor<2x4x8x8xf32> {
  %qt = cleave.transpose %q [0, 1, 3, 2] : tensor<2x4x16x8xf32> -> tensor<2x4x8x16xf32>
  %kt = cleave.transpose %k [0, 1, 3, 2] : tensor<2x4x8x16xf32> -> tensor<2x4x16x8xf32>
  %y = cleave.matmul %qt, %kt : (tensor<2x4x8x16xf32>, tensor<2x4x16x8xf32>) -> tensor<2x4x8x8xf32>
  return %y : tensor<2x4x8x8xf32>
}

// -----

// A transpose with other users stays for them; the matmul still reads the
// untransposed value.
// CHECK-LABEL: func.func @shared_transpose
// CHECK-SAME:    (%[[X:.*]]: tensor<8x32xf32>, %[[W:.*]]: tensor<64x32xf32>)
// CHECK:         %[[WT:.*]] = cleave.transpose %[[W]] [1, 0]
// CHECK:         %[[Y:.*]] = cleave.matmul %[[X]], %[[W]] {transpose_b}
// CHECK:         return %[[Y]], %[[WT]]
func.func @shared_transpose(%x: tensor<8x32xf32>, %w: tensor<64x32xf32>) -> (tensor<8x64xf32>, tensor<32x64xf32>) {
  %wt = cleave.transpose %w [1, 0] : tensor<64x32xf32> -> tensor<32x64xf32>
  %y = cleave.matmul %x, %wt : (tensor<8x32xf32>, tensor<32x64xf32>) -> tensor<8x64xf32>
  return %y, %wt : tensor<8x64xf32>, tensor<32x64xf32>
}

// -----

// Negative: a transpose that moves a batch dimension is not a matrix
// transpose, so it stays and the flags stay off.
// CHECK-LABEL: func.func @batch_transpose_stays
// CHECK:         %[[T:.*]] = cleave.transpose %{{.*}} [1, 0, 2, 3] : tensor<4x2x8x16xf32> -> tensor<2x4x8x16xf32>
// CHECK-NEXT:    cleave.matmul %{{.*}}, %[[T]] : (tensor<2x4x16x8xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x16x16xf32>
func.func @batch_transpose_stays(%q: tensor<2x4x16x8xf32>, %k: tensor<4x2x8x16xf32>) -> tensor<2x4x16x16xf32> {
  %kt = cleave.transpose %k [1, 0, 2, 3] : tensor<4x2x8x16xf32> -> tensor<2x4x8x16xf32>
  %y = cleave.matmul %q, %kt : (tensor<2x4x16x8xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x16x16xf32>
  return %y : tensor<2x4x16x16xf32>
}

// -----

// Negative: a permutation that swaps the last two dimensions and also moves
// batch dimensions stays.
// CHECK-LABEL: func.func @mixed_permutation_stays
// CHECK:         %[[T:.*]] = cleave.transpose %{{.*}} [1, 0, 3, 2] : tensor<4x2x16x8xf32> -> tensor<2x4x8x16xf32>
// CHECK-NEXT:    cleave.matmul %{{.*}}, %[[T]] : (tensor<2x4x16x8xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x16x16xf32>
func.func @mixed_permutation_stays(%q: tensor<2x4x16x8xf32>, %k: tensor<4x2x16x8xf32>) -> tensor<2x4x16x16xf32> {
  %kt = cleave.transpose %k [1, 0, 3, 2] : tensor<4x2x16x8xf32> -> tensor<2x4x8x16xf32>
  %y = cleave.matmul %q, %kt : (tensor<2x4x16x8xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x16x16xf32>
  return %y : tensor<2x4x16x16xf32>
}

// -----

// Two transposes compose into one: [0, 2, 1, 3] then [0, 1, 3, 2] is
// r[i] = p[q[i]] = [0, 2, 3, 1].
// CHECK-LABEL: func.func @compose
// CHECK-SAME:    (%[[X:.*]]: tensor<2x16x4x8xf32>)
// CHECK-NEXT:    %[[T:.*]] = cleave.transpose %[[X]] [0, 2, 3, 1] : tensor<2x16x4x8xf32> -> tensor<2x4x8x16xf32>
// CHECK-NEXT:    return %[[T]]
func.func @compose(%x: tensor<2x16x4x8xf32>) -> tensor<2x4x8x16xf32> {
  %0 = cleave.transpose %x [0, 2, 1, 3] : tensor<2x16x4x8xf32> -> tensor<2x4x16x8xf32>
  %1 = cleave.transpose %0 [0, 1, 3, 2] : tensor<2x4x16x8xf32> -> tensor<2x4x8x16xf32>
  return %1 : tensor<2x4x8x16xf32>
}

// -----

// A transpose and its inverse cancel: [1, 2, 0] then [2, 0, 1] is the
// identity, which folds away.
// CHECK-LABEL: func.func @compose_to_identity
// CHECK-SAME:    (%[[X:.*]]: tensor<2x3x4xf32>)
// CHECK-NEXT:    return %[[X]] : tensor<2x3x4xf32>
func.func @compose_to_identity(%x: tensor<2x3x4xf32>) -> tensor<2x3x4xf32> {
  %0 = cleave.transpose %x [1, 2, 0] : tensor<2x3x4xf32> -> tensor<3x4x2xf32>
  %1 = cleave.transpose %0 [2, 0, 1] : tensor<3x4x2xf32> -> tensor<2x3x4xf32>
  return %1 : tensor<2x3x4xf32>
}

// -----

// The outer transpose reads x directly even when the inner one stays for
// another user: [1, 0, 2] then [2, 1, 0] is [2, 0, 1].
// CHECK-LABEL: func.func @compose_chain
// CHECK-SAME:    (%[[X:.*]]: tensor<2x3x4xf32>)
// CHECK-DAG:     %[[A:.*]] = cleave.transpose %[[X]] [1, 0, 2] : tensor<2x3x4xf32> -> tensor<3x2x4xf32>
// CHECK-DAG:     %[[B:.*]] = cleave.transpose %[[X]] [2, 0, 1] : tensor<2x3x4xf32> -> tensor<4x2x3xf32>
// CHECK:         return %[[A]], %[[B]]
func.func @compose_chain(%x: tensor<2x3x4xf32>) -> (tensor<3x2x4xf32>, tensor<4x2x3xf32>) {
  %0 = cleave.transpose %x [1, 0, 2] : tensor<2x3x4xf32> -> tensor<3x2x4xf32>
  %1 = cleave.transpose %0 [2, 1, 0] : tensor<3x2x4xf32> -> tensor<4x2x3xf32>
  return %0, %1 : tensor<3x2x4xf32>, tensor<4x2x3xf32>
}

// -----

// Linear after a transpose pair that cancels: the matmul reads the original.
// CHECK-LABEL: func.func @cancel_then_absorb
// CHECK-SAME:    (%[[X:.*]]: tensor<8x32xf32>, %[[W:.*]]: tensor<64x32xf32>)
// CHECK-NOT:     cleave.transpose
// CHECK:         cleave.matmul %[[X]], %[[W]] {transpose_b}
func.func @cancel_then_absorb(%x: tensor<8x32xf32>, %w: tensor<64x32xf32>) -> tensor<8x64xf32> {
  %0 = cleave.transpose %w [1, 0] : tensor<64x32xf32> -> tensor<32x64xf32>
  %1 = cleave.transpose %0 [1, 0] : tensor<32x64xf32> -> tensor<64x32xf32>
  %2 = cleave.transpose %1 [1, 0] : tensor<64x32xf32> -> tensor<32x64xf32>
  %y = cleave.matmul %x, %2 : (tensor<8x32xf32>, tensor<32x64xf32>) -> tensor<8x64xf32>
  return %y : tensor<8x64xf32>
}
