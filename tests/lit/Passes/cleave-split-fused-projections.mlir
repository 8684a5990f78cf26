// RUN: cleave-opt %s --split-input-file --cleave-split-fused-projections | FileCheck %s

// GPT-2's c_attn: one product with [Wq; Wk] (rows) plus a bias, sliced
// apart. Each slice becomes its own product with its rows of W and its
// entries of b; the fused product is gone.
// CHECK-LABEL: func.func @fused_rows
// CHECK-SAME:    (%[[X:.*]]: tensor<8x4xf32>, %[[W:.*]]: tensor<6x4xf32>, %[[B:.*]]: tensor<6xf32>)
// CHECK:         %[[WQ:.*]] = cleave.slice %[[W]] {starts = array<i64: 0, 0>, strides = array<i64: 1, 1>} : tensor<6x4xf32> -> tensor<2x4xf32>
// CHECK-NEXT:    %[[MQ:.*]] = cleave.matmul %[[X]], %[[WQ]] {transpose_b} : (tensor<8x4xf32>, tensor<2x4xf32>) -> tensor<8x2xf32>
// CHECK-NEXT:    %[[BQ:.*]] = cleave.slice %[[B]] {starts = array<i64: 0>, strides = array<i64: 1>} : tensor<6xf32> -> tensor<2xf32>
// CHECK-NEXT:    %[[Q:.*]] = cleave.binary add %[[BQ]], %[[MQ]]
// CHECK:         %[[WK:.*]] = cleave.slice %[[W]] {starts = array<i64: 2, 0>, strides = array<i64: 1, 1>} : tensor<6x4xf32> -> tensor<4x4xf32>
// CHECK-NEXT:    %[[MK:.*]] = cleave.matmul %[[X]], %[[WK]] {transpose_b} : (tensor<8x4xf32>, tensor<4x4xf32>) -> tensor<8x4xf32>
// CHECK-NEXT:    %[[BK:.*]] = cleave.slice %[[B]] {starts = array<i64: 2>, strides = array<i64: 1>} : tensor<6xf32> -> tensor<4xf32>
// CHECK-NEXT:    %[[K:.*]] = cleave.binary add %[[BK]], %[[MK]]
// CHECK-NOT:     tensor<8x6xf32>
// CHECK:         return %[[Q]], %[[K]]
func.func @fused_rows(%x: tensor<8x4xf32>, %w: tensor<6x4xf32>, %b: tensor<6xf32>) -> (tensor<8x2xf32>, tensor<8x4xf32>) {
  %m = cleave.matmul %x, %w {transpose_b} : (tensor<8x4xf32>, tensor<6x4xf32>) -> tensor<8x6xf32>
  %a = cleave.binary add %b, %m : (tensor<6xf32>, tensor<8x6xf32>) -> tensor<8x6xf32>
  %q = cleave.slice %a {starts = array<i64: 0, 0>, strides = array<i64: 1, 1>} : tensor<8x6xf32> -> tensor<8x2xf32>
  %k = cleave.slice %a {starts = array<i64: 0, 2>, strides = array<i64: 1, 1>} : tensor<8x6xf32> -> tensor<8x4xf32>
  return %q, %k : tensor<8x2xf32>, tensor<8x4xf32>
}

// -----

// A [k, columns] weight (as the ONNX importer gives Gemm's transposed B),
// a batched activation, no bias: the weight's columns are sliced.
// CHECK-LABEL: func.func @fused_columns
// CHECK:         %[[WQ:.*]] = cleave.slice %arg1 {starts = array<i64: 0, 0>, strides = array<i64: 1, 1>} : tensor<4x6xf32> -> tensor<4x3xf32>
// CHECK-NEXT:    cleave.matmul %arg0, %[[WQ]] : (tensor<2x8x4xf32>, tensor<4x3xf32>) -> tensor<2x8x3xf32>
// CHECK:         %[[WV:.*]] = cleave.slice %arg1 {starts = array<i64: 0, 3>, strides = array<i64: 1, 1>} : tensor<4x6xf32> -> tensor<4x3xf32>
// CHECK-NEXT:    cleave.matmul %arg0, %[[WV]] : (tensor<2x8x4xf32>, tensor<4x3xf32>) -> tensor<2x8x3xf32>
func.func @fused_columns(%x: tensor<2x8x4xf32>, %w: tensor<4x6xf32>) -> (tensor<2x8x3xf32>, tensor<2x8x3xf32>) {
  %m = cleave.matmul %x, %w : (tensor<2x8x4xf32>, tensor<4x6xf32>) -> tensor<2x8x6xf32>
  %q = cleave.slice %m {starts = array<i64: 0, 0, 0>, strides = array<i64: 1, 1, 1>} : tensor<2x8x6xf32> -> tensor<2x8x3xf32>
  %v = cleave.slice %m {starts = array<i64: 0, 0, 3>, strides = array<i64: 1, 1, 1>} : tensor<2x8x6xf32> -> tensor<2x8x3xf32>
  return %q, %v : tensor<2x8x3xf32>, tensor<2x8x3xf32>
}

// -----

// Left alone: the product is also used whole.
// CHECK-LABEL: func.func @used_whole
// CHECK:         cleave.matmul %arg0, %arg1 {transpose_b} : (tensor<8x4xf32>, tensor<6x4xf32>) -> tensor<8x6xf32>
func.func @used_whole(%x: tensor<8x4xf32>, %w: tensor<6x4xf32>) -> (tensor<8x3xf32>, tensor<8x3xf32>, tensor<8x6xf32>) {
  %m = cleave.matmul %x, %w {transpose_b} : (tensor<8x4xf32>, tensor<6x4xf32>) -> tensor<8x6xf32>
  %q = cleave.slice %m {starts = array<i64: 0, 0>, strides = array<i64: 1, 1>} : tensor<8x6xf32> -> tensor<8x3xf32>
  %k = cleave.slice %m {starts = array<i64: 0, 3>, strides = array<i64: 1, 1>} : tensor<8x6xf32> -> tensor<8x3xf32>
  return %q, %k, %m : tensor<8x3xf32>, tensor<8x3xf32>, tensor<8x6xf32>
}

// -----

// Left alone: the slices cut the rows, not the product's columns.
// CHECK-LABEL: func.func @rows_sliced
// CHECK:         cleave.matmul %arg0, %arg1 {transpose_b} : (tensor<8x4xf32>, tensor<6x4xf32>) -> tensor<8x6xf32>
func.func @rows_sliced(%x: tensor<8x4xf32>, %w: tensor<6x4xf32>) -> (tensor<4x6xf32>, tensor<4x6xf32>) {
  %m = cleave.matmul %x, %w {transpose_b} : (tensor<8x4xf32>, tensor<6x4xf32>) -> tensor<8x6xf32>
  %a = cleave.slice %m {starts = array<i64: 0, 0>, strides = array<i64: 1, 1>} : tensor<8x6xf32> -> tensor<4x6xf32>
  %b = cleave.slice %m {starts = array<i64: 4, 0>, strides = array<i64: 1, 1>} : tensor<8x6xf32> -> tensor<4x6xf32>
  return %a, %b : tensor<4x6xf32>, tensor<4x6xf32>
}

// -----

// onnx.helper's idiom: an [in, out] weight, the bias added after the
// product, and a Split into three (imported as three slices). The bias
// keeps its side of the add.
// CHECK-LABEL: func.func @fused_columns_bias_after
// CHECK:         %[[WQ:.*]] = cleave.slice %arg1 {starts = array<i64: 0, 0>, strides = array<i64: 1, 1>} : tensor<4x6xf32> -> tensor<4x2xf32>
// CHECK-NEXT:    %[[MQ:.*]] = cleave.matmul %arg0, %[[WQ]] : (tensor<2x8x4xf32>, tensor<4x2xf32>) -> tensor<2x8x2xf32>
// CHECK-NEXT:    %[[BQ:.*]] = cleave.slice %arg2 {starts = array<i64: 0>, strides = array<i64: 1>} : tensor<6xf32> -> tensor<2xf32>
// CHECK-NEXT:    %[[Q:.*]] = cleave.binary add %[[MQ]], %[[BQ]]
// CHECK:         cleave.slice %arg1 {starts = array<i64: 0, 2>
// CHECK:         cleave.slice %arg2 {starts = array<i64: 2>
// CHECK:         %[[WV:.*]] = cleave.slice %arg1 {starts = array<i64: 0, 4>, strides = array<i64: 1, 1>} : tensor<4x6xf32> -> tensor<4x2xf32>
// CHECK-NEXT:    %[[MV:.*]] = cleave.matmul %arg0, %[[WV]]
// CHECK-NEXT:    %[[BV:.*]] = cleave.slice %arg2 {starts = array<i64: 4>, strides = array<i64: 1>} : tensor<6xf32> -> tensor<2xf32>
// CHECK-NEXT:    %[[V:.*]] = cleave.binary add %[[MV]], %[[BV]]
// CHECK-NOT:     tensor<2x8x6xf32>
// CHECK:         return %[[Q]], %{{.*}}, %[[V]]
func.func @fused_columns_bias_after(%x: tensor<2x8x4xf32>, %w: tensor<4x6xf32>, %b: tensor<6xf32>) -> (tensor<2x8x2xf32>, tensor<2x8x2xf32>, tensor<2x8x2xf32>) {
  %m = cleave.matmul %x, %w : (tensor<2x8x4xf32>, tensor<4x6xf32>) -> tensor<2x8x6xf32>
  %a = cleave.binary add %m, %b : (tensor<2x8x6xf32>, tensor<6xf32>) -> tensor<2x8x6xf32>
  %q = cleave.slice %a {starts = array<i64: 0, 0, 0>, strides = array<i64: 1, 1, 1>} : tensor<2x8x6xf32> -> tensor<2x8x2xf32>
  %k = cleave.slice %a {starts = array<i64: 0, 0, 2>, strides = array<i64: 1, 1, 1>} : tensor<2x8x6xf32> -> tensor<2x8x2xf32>
  %v = cleave.slice %a {starts = array<i64: 0, 0, 4>, strides = array<i64: 1, 1, 1>} : tensor<2x8x6xf32> -> tensor<2x8x2xf32>
  return %q, %k, %v : tensor<2x8x2xf32>, tensor<2x8x2xf32>, tensor<2x8x2xf32>
}
