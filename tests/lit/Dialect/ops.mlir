// RUN: cleave-opt %s --split-input-file | cleave-opt --split-input-file | FileCheck %s
// RUN: cleave-opt %s --split-input-file --mlir-print-op-generic | cleave-opt --split-input-file | FileCheck %s
// RUN: cleave-opt %s --split-input-file --mlir-print-op-generic | FileCheck %s --check-prefix=GENERIC

// Round-trips every cleave op, the cleave argument/result attributes and the
// cleave module attributes through the custom assembly format. The second RUN
// line goes through the generic form first, so the generic printer and parser
// must agree with the custom ones; the third pins the generic form of a few
// ops (enums, unit attributes and properties).

// A constant: scalar and shaped, float and integer.
// CHECK-LABEL: func.func @constant(
// CHECK-NEXT: %[[V0:[a-z0-9_]+]] = cleave.constant dense<1.250000e-01> : tensor<f32>
// CHECK-NEXT: %[[V1:[a-z0-9_]+]] = cleave.constant dense<{{\[\[}}1, 2], [3, 4]]> : tensor<2x2xi64>
// CHECK-NEXT: return %[[V0]], %[[V1]] : tensor<f32>, tensor<2x2xi64>
func.func @constant() -> (tensor<f32>, tensor<2x2xi64>) {
  %0 = cleave.constant dense<0.125> : tensor<f32>
  %1 = cleave.constant dense<[[1, 2], [3, 4]]> : tensor<2x2xi64>
  return %0, %1 : tensor<f32>, tensor<2x2xi64>
}

// -----

// An iota with a negative step and a float element type.
// CHECK-LABEL: func.func @iota(
// CHECK-NEXT: %[[V0:[a-z0-9_]+]] = cleave.iota {start = 0 : i64, step = 1 : i64} : tensor<16xi64>
// CHECK-NEXT: %[[V1:[a-z0-9_]+]] = cleave.iota {start = 10 : i64, step = -2 : i64} : tensor<4xf32>
// CHECK-NEXT: return %[[V0]], %[[V1]] : tensor<16xi64>, tensor<4xf32>
func.func @iota() -> (tensor<16xi64>, tensor<4xf32>) {
  %0 = cleave.iota {start = 0 : i64, step = 1 : i64} : tensor<16xi64>
  %1 = cleave.iota {start = 10 : i64, step = -2 : i64} : tensor<4xf32>
  return %0, %1 : tensor<16xi64>, tensor<4xf32>
}

// -----

// Unary kinds on floats, on integers, and logical_not on i1.
// GENERIC-LABEL: sym_name = "unary"
// GENERIC: "cleave.unary"(%{{.*}}) <{kind = #cleave<unary_kind erf>}> : (tensor<2x3xf32>) -> tensor<2x3xf32>
// GENERIC: "cleave.unary"(%{{.*}}) <{kind = #cleave<unary_kind logical_not>}> : (tensor<2x3xi1>) -> tensor<2x3xi1>
// CHECK-LABEL: func.func @unary(
// CHECK-SAME: %[[X:[a-z0-9_]+]]: tensor<2x3xf32>, %[[I:[a-z0-9_]+]]: tensor<4xi32>, %[[B:[a-z0-9_]+]]: tensor<2x3xi1>) -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<4xi32>, tensor<2x3xi1>)
// CHECK-NEXT: %[[V0:[a-z0-9_]+]] = cleave.unary erf %[[X]] : tensor<2x3xf32>
// CHECK-NEXT: %[[V1:[a-z0-9_]+]] = cleave.unary rsqrt %[[X]] : tensor<2x3xf32>
// CHECK-NEXT: %[[V2:[a-z0-9_]+]] = cleave.unary relu %[[X]] : tensor<2x3xf32>
// CHECK-NEXT: %[[V3:[a-z0-9_]+]] = cleave.unary neg %[[I]] : tensor<4xi32>
// CHECK-NEXT: %[[V4:[a-z0-9_]+]] = cleave.unary logical_not %[[B]] : tensor<2x3xi1>
// CHECK-NEXT: return %[[V0]], %[[V1]], %[[V2]], %[[V3]], %[[V4]] : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<4xi32>, tensor<2x3xi1>
func.func @unary(%x: tensor<2x3xf32>, %i: tensor<4xi32>, %b: tensor<2x3xi1>) -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<4xi32>, tensor<2x3xi1>) {
  %0 = cleave.unary erf %x : tensor<2x3xf32>
  %1 = cleave.unary rsqrt %x : tensor<2x3xf32>
  %2 = cleave.unary relu %x : tensor<2x3xf32>
  %3 = cleave.unary neg %i : tensor<4xi32>
  %4 = cleave.unary logical_not %b : tensor<2x3xi1>
  return %0, %1, %2, %3, %4 : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<4xi32>, tensor<2x3xi1>
}

// -----

// Binary ops: same shapes, NumPy broadcasting on both sides, a scalar
// operand, and the logical kinds on i1.
// CHECK-LABEL: func.func @binary(
// CHECK-SAME: %[[A:[a-z0-9_]+]]: tensor<2x4xf32>, %[[V:[a-z0-9_]+]]: tensor<4xf32>, %[[C:[a-z0-9_]+]]: tensor<3x1xf32>, %[[S:[a-z0-9_]+]]: tensor<f32>, %[[P:[a-z0-9_]+]]: tensor<2x4xi1>, %[[Q:[a-z0-9_]+]]: tensor<4xi1>) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<3x4xf32>, tensor<2x4xf32>, tensor<2x4xi1>, tensor<2x4xi1>, tensor<2x4xi1>)
// CHECK-NEXT: %[[V0:[a-z0-9_]+]] = cleave.binary add %[[A]], %[[A]] : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
// CHECK-NEXT: %[[V1:[a-z0-9_]+]] = cleave.binary mul %[[A]], %[[V]] : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
// CHECK-NEXT: %[[V2:[a-z0-9_]+]] = cleave.binary sub %[[C]], %[[V]] : (tensor<3x1xf32>, tensor<4xf32>) -> tensor<3x4xf32>
// CHECK-NEXT: %[[V3:[a-z0-9_]+]] = cleave.binary pow %[[S]], %[[A]] : (tensor<f32>, tensor<2x4xf32>) -> tensor<2x4xf32>
// CHECK-NEXT: %[[V4:[a-z0-9_]+]] = cleave.binary logical_and %[[P]], %[[Q]] : (tensor<2x4xi1>, tensor<4xi1>) -> tensor<2x4xi1>
// CHECK-NEXT: %[[V5:[a-z0-9_]+]] = cleave.binary logical_or %[[P]], %[[P]] : (tensor<2x4xi1>, tensor<2x4xi1>) -> tensor<2x4xi1>
// CHECK-NEXT: %[[V6:[a-z0-9_]+]] = cleave.binary logical_xor %[[Q]], %[[P]] : (tensor<4xi1>, tensor<2x4xi1>) -> tensor<2x4xi1>
// CHECK-NEXT: return %[[V0]], %[[V1]], %[[V2]], %[[V3]], %[[V4]], %[[V5]], %[[V6]] : tensor<2x4xf32>, tensor<2x4xf32>, tensor<3x4xf32>, tensor<2x4xf32>, tensor<2x4xi1>, tensor<2x4xi1>, tensor<2x4xi1>
func.func @binary(%a: tensor<2x4xf32>, %v: tensor<4xf32>, %c: tensor<3x1xf32>, %s: tensor<f32>, %p: tensor<2x4xi1>, %q: tensor<4xi1>) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<3x4xf32>, tensor<2x4xf32>, tensor<2x4xi1>, tensor<2x4xi1>, tensor<2x4xi1>) {
  %0 = cleave.binary add %a, %a : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  %1 = cleave.binary mul %a, %v : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  %2 = cleave.binary sub %c, %v : (tensor<3x1xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  %3 = cleave.binary pow %s, %a : (tensor<f32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  %4 = cleave.binary logical_and %p, %q : (tensor<2x4xi1>, tensor<4xi1>) -> tensor<2x4xi1>
  %5 = cleave.binary logical_or %p, %p : (tensor<2x4xi1>, tensor<2x4xi1>) -> tensor<2x4xi1>
  %6 = cleave.binary logical_xor %q, %p : (tensor<4xi1>, tensor<2x4xi1>) -> tensor<2x4xi1>
  return %0, %1, %2, %3, %4, %5, %6 : tensor<2x4xf32>, tensor<2x4xf32>, tensor<3x4xf32>, tensor<2x4xf32>, tensor<2x4xi1>, tensor<2x4xi1>, tensor<2x4xi1>
}

// -----

// A comparison that broadcasts a row against a column (a causal mask).
// CHECK-LABEL: func.func @compare(
// CHECK-SAME: %[[COL:[a-z0-9_]+]]: tensor<1x16xi64>, %[[ROW:[a-z0-9_]+]]: tensor<16x1xi64>, %[[X:[a-z0-9_]+]]: tensor<4xf32>) -> (tensor<16x16xi1>, tensor<4xi1>)
// CHECK-NEXT: %[[V0:[a-z0-9_]+]] = cleave.compare gt %[[COL]], %[[ROW]] : (tensor<1x16xi64>, tensor<16x1xi64>) -> tensor<16x16xi1>
// CHECK-NEXT: %[[V1:[a-z0-9_]+]] = cleave.compare eq %[[X]], %[[X]] : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xi1>
// CHECK-NEXT: return %[[V0]], %[[V1]] : tensor<16x16xi1>, tensor<4xi1>
func.func @compare(%col: tensor<1x16xi64>, %row: tensor<16x1xi64>, %x: tensor<4xf32>) -> (tensor<16x16xi1>, tensor<4xi1>) {
  %0 = cleave.compare gt %col, %row : (tensor<1x16xi64>, tensor<16x1xi64>) -> tensor<16x16xi1>
  %1 = cleave.compare eq %x, %x : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xi1>
  return %0, %1 : tensor<16x16xi1>, tensor<4xi1>
}

// -----

// A select whose three operands broadcast together.
// CHECK-LABEL: func.func @select(
// CHECK-SAME: %[[MASK:[a-z0-9_]+]]: tensor<16x16xi1>, %[[NINF:[a-z0-9_]+]]: tensor<f32>, %[[SCORES:[a-z0-9_]+]]: tensor<2x2x16x16xf32>) -> tensor<2x2x16x16xf32>
// CHECK-NEXT: %[[V0:[a-z0-9_]+]] = cleave.select %[[MASK]], %[[NINF]], %[[SCORES]] : (tensor<16x16xi1>, tensor<f32>, tensor<2x2x16x16xf32>) -> tensor<2x2x16x16xf32>
// CHECK-NEXT: return %[[V0]] : tensor<2x2x16x16xf32>
func.func @select(%mask: tensor<16x16xi1>, %ninf: tensor<f32>, %scores: tensor<2x2x16x16xf32>) -> tensor<2x2x16x16xf32> {
  %0 = cleave.select %mask, %ninf, %scores : (tensor<16x16xi1>, tensor<f32>, tensor<2x2x16x16xf32>) -> tensor<2x2x16x16xf32>
  return %0 : tensor<2x2x16x16xf32>
}

// -----

// Casts between float widths, float to integer and integer to i1.
// CHECK-LABEL: func.func @cast(
// CHECK-SAME: %[[X:[a-z0-9_]+]]: tensor<4xf32>, %[[I:[a-z0-9_]+]]: tensor<4xi64>) -> (tensor<4xbf16>, tensor<4xi32>, tensor<4xi1>)
// CHECK-NEXT: %[[V0:[a-z0-9_]+]] = cleave.cast %[[X]] : tensor<4xf32> to tensor<4xbf16>
// CHECK-NEXT: %[[V1:[a-z0-9_]+]] = cleave.cast %[[X]] : tensor<4xf32> to tensor<4xi32>
// CHECK-NEXT: %[[V2:[a-z0-9_]+]] = cleave.cast %[[I]] : tensor<4xi64> to tensor<4xi1>
// CHECK-NEXT: return %[[V0]], %[[V1]], %[[V2]] : tensor<4xbf16>, tensor<4xi32>, tensor<4xi1>
func.func @cast(%x: tensor<4xf32>, %i: tensor<4xi64>) -> (tensor<4xbf16>, tensor<4xi32>, tensor<4xi1>) {
  %0 = cleave.cast %x : tensor<4xf32> to tensor<4xbf16>
  %1 = cleave.cast %x : tensor<4xf32> to tensor<4xi32>
  %2 = cleave.cast %i : tensor<4xi64> to tensor<4xi1>
  return %0, %1, %2 : tensor<4xbf16>, tensor<4xi32>, tensor<4xi1>
}

// -----

// Training-mode dropout.
// CHECK-LABEL: func.func @dropout(
// CHECK-SAME: %[[X:[a-z0-9_]+]]: tensor<2x16x32xf32>) -> tensor<2x16x32xf32>
// CHECK-NEXT: %[[V0:[a-z0-9_]+]] = cleave.dropout %[[X]] {ratio = 1.000000e-01 : f64} : tensor<2x16x32xf32>
// CHECK-NEXT: return %[[V0]] : tensor<2x16x32xf32>
func.func @dropout(%x: tensor<2x16x32xf32>) -> tensor<2x16x32xf32> {
  %0 = cleave.dropout %x {ratio = 1.000000e-01 : f64} : tensor<2x16x32xf32>
  return %0 : tensor<2x16x32xf32>
}

// -----

// Matmuls: plain 2-D, batched with broadcast batch dimensions, and each of
// the operand transposes.
// GENERIC-LABEL: sym_name = "matmul"
// GENERIC: "cleave.matmul"(%{{.*}}, %{{.*}}) : (tensor<8x32xf32>, tensor<32x64xf32>) -> tensor<8x64xf32>
// GENERIC: "cleave.matmul"(%{{.*}}, %{{.*}}) <{transpose_a, transpose_b}> : (tensor<32x8xf32>, tensor<64x32xf32>) -> tensor<8x64xf32>
// CHECK-LABEL: func.func @matmul(
// CHECK-SAME: %[[A:[a-z0-9_]+]]: tensor<8x32xf32>, %[[B:[a-z0-9_]+]]: tensor<32x64xf32>, %[[BA:[a-z0-9_]+]]: tensor<2x1x8x32xf32>, %[[BB:[a-z0-9_]+]]: tensor<3x32x64xf32>, %[[AT:[a-z0-9_]+]]: tensor<32x8xf32>, %[[BT:[a-z0-9_]+]]: tensor<64x32xf32>) -> (tensor<8x64xf32>, tensor<2x3x8x64xf32>, tensor<8x64xf32>, tensor<8x64xf32>, tensor<8x64xf32>)
// CHECK-NEXT: %[[V0:[a-z0-9_]+]] = cleave.matmul %[[A]], %[[B]] : (tensor<8x32xf32>, tensor<32x64xf32>) -> tensor<8x64xf32>
// CHECK-NEXT: %[[V1:[a-z0-9_]+]] = cleave.matmul %[[BA]], %[[BB]] : (tensor<2x1x8x32xf32>, tensor<3x32x64xf32>) -> tensor<2x3x8x64xf32>
// CHECK-NEXT: %[[V2:[a-z0-9_]+]] = cleave.matmul %[[AT]], %[[B]] {transpose_a} : (tensor<32x8xf32>, tensor<32x64xf32>) -> tensor<8x64xf32>
// CHECK-NEXT: %[[V3:[a-z0-9_]+]] = cleave.matmul %[[A]], %[[BT]] {transpose_b} : (tensor<8x32xf32>, tensor<64x32xf32>) -> tensor<8x64xf32>
// CHECK-NEXT: %[[V4:[a-z0-9_]+]] = cleave.matmul %[[AT]], %[[BT]] {transpose_a, transpose_b} : (tensor<32x8xf32>, tensor<64x32xf32>) -> tensor<8x64xf32>
// CHECK-NEXT: return %[[V0]], %[[V1]], %[[V2]], %[[V3]], %[[V4]] : tensor<8x64xf32>, tensor<2x3x8x64xf32>, tensor<8x64xf32>, tensor<8x64xf32>, tensor<8x64xf32>
func.func @matmul(%a: tensor<8x32xf32>, %b: tensor<32x64xf32>, %ba: tensor<2x1x8x32xf32>, %bb: tensor<3x32x64xf32>, %at: tensor<32x8xf32>, %bt: tensor<64x32xf32>) -> (tensor<8x64xf32>, tensor<2x3x8x64xf32>, tensor<8x64xf32>, tensor<8x64xf32>, tensor<8x64xf32>) {
  %0 = cleave.matmul %a, %b : (tensor<8x32xf32>, tensor<32x64xf32>) -> tensor<8x64xf32>
  %1 = cleave.matmul %ba, %bb : (tensor<2x1x8x32xf32>, tensor<3x32x64xf32>) -> tensor<2x3x8x64xf32>
  %2 = cleave.matmul %at, %b {transpose_a} : (tensor<32x8xf32>, tensor<32x64xf32>) -> tensor<8x64xf32>
  %3 = cleave.matmul %a, %bt {transpose_b} : (tensor<8x32xf32>, tensor<64x32xf32>) -> tensor<8x64xf32>
  %4 = cleave.matmul %at, %bt {transpose_a, transpose_b} : (tensor<32x8xf32>, tensor<64x32xf32>) -> tensor<8x64xf32>
  return %0, %1, %2, %3, %4 : tensor<8x64xf32>, tensor<2x3x8x64xf32>, tensor<8x64xf32>, tensor<8x64xf32>, tensor<8x64xf32>
}

// -----

// Reductions with and without keep_dims, over one and several axes.
// CHECK-LABEL: func.func @reduce(
// CHECK-SAME: %[[X:[a-z0-9_]+]]: tensor<2x16x32xf32>) -> (tensor<2x16x1xf32>, tensor<16xf32>, tensor<2x16xf32>)
// CHECK-NEXT: %[[V0:[a-z0-9_]+]] = cleave.reduce mean %[[X]] {axes = array<i64: 2>, keep_dims} : tensor<2x16x32xf32> -> tensor<2x16x1xf32>
// CHECK-NEXT: %[[V1:[a-z0-9_]+]] = cleave.reduce sum %[[X]] {axes = array<i64: 0, 2>} : tensor<2x16x32xf32> -> tensor<16xf32>
// CHECK-NEXT: %[[V2:[a-z0-9_]+]] = cleave.reduce max %[[X]] {axes = array<i64: 2>} : tensor<2x16x32xf32> -> tensor<2x16xf32>
// CHECK-NEXT: return %[[V0]], %[[V1]], %[[V2]] : tensor<2x16x1xf32>, tensor<16xf32>, tensor<2x16xf32>
func.func @reduce(%x: tensor<2x16x32xf32>) -> (tensor<2x16x1xf32>, tensor<16xf32>, tensor<2x16xf32>) {
  %0 = cleave.reduce mean %x {axes = array<i64: 2>, keep_dims} : tensor<2x16x32xf32> -> tensor<2x16x1xf32>
  %1 = cleave.reduce sum %x {axes = array<i64: 0, 2>} : tensor<2x16x32xf32> -> tensor<16xf32>
  %2 = cleave.reduce max %x {axes = array<i64: 2>} : tensor<2x16x32xf32> -> tensor<2x16xf32>
  return %0, %1, %2 : tensor<2x16x1xf32>, tensor<16xf32>, tensor<2x16xf32>
}

// -----

// Softmax and log-softmax.
// CHECK-LABEL: func.func @softmax(
// CHECK-SAME: %[[S:[a-z0-9_]+]]: tensor<2x2x16x16xf32>, %[[L:[a-z0-9_]+]]: tensor<8x10xf32>) -> (tensor<2x2x16x16xf32>, tensor<8x10xf32>)
// CHECK-NEXT: %[[V0:[a-z0-9_]+]] = cleave.softmax %[[S]] {axis = 3 : i64} : tensor<2x2x16x16xf32>
// CHECK-NEXT: %[[V1:[a-z0-9_]+]] = cleave.softmax %[[L]] {axis = 1 : i64, log} : tensor<8x10xf32>
// CHECK-NEXT: return %[[V0]], %[[V1]] : tensor<2x2x16x16xf32>, tensor<8x10xf32>
func.func @softmax(%s: tensor<2x2x16x16xf32>, %l: tensor<8x10xf32>) -> (tensor<2x2x16x16xf32>, tensor<8x10xf32>) {
  %0 = cleave.softmax %s {axis = 3 : i64} : tensor<2x2x16x16xf32>
  %1 = cleave.softmax %l {axis = 1 : i64, log} : tensor<8x10xf32>
  return %0, %1 : tensor<2x2x16x16xf32>, tensor<8x10xf32>
}

// -----

// Layer norm with a bias, and over two trailing dimensions without one.
// CHECK-LABEL: func.func @layer_norm(
// CHECK-SAME: %[[X:[a-z0-9_]+]]: tensor<2x16x32xf32>, %[[G:[a-z0-9_]+]]: tensor<32xf32>, %[[B:[a-z0-9_]+]]: tensor<32xf32>, %[[G2:[a-z0-9_]+]]: tensor<16x32xf32>) -> (tensor<2x16x32xf32>, tensor<2x16x32xf32>)
// CHECK-NEXT: %[[V0:[a-z0-9_]+]] = cleave.layer_norm %[[X]], %[[G]], %[[B]] {axis = 2 : i64, epsilon = 1.000000e-05 : f64} : (tensor<2x16x32xf32>, tensor<32xf32>, tensor<32xf32>) -> tensor<2x16x32xf32>
// CHECK-NEXT: %[[V1:[a-z0-9_]+]] = cleave.layer_norm %[[X]], %[[G2]] {axis = 1 : i64, epsilon = 0.000000e+00 : f64} : (tensor<2x16x32xf32>, tensor<16x32xf32>) -> tensor<2x16x32xf32>
// CHECK-NEXT: return %[[V0]], %[[V1]] : tensor<2x16x32xf32>, tensor<2x16x32xf32>
func.func @layer_norm(%x: tensor<2x16x32xf32>, %g: tensor<32xf32>, %b: tensor<32xf32>, %g2: tensor<16x32xf32>) -> (tensor<2x16x32xf32>, tensor<2x16x32xf32>) {
  %0 = cleave.layer_norm %x, %g, %b {axis = 2 : i64, epsilon = 1.000000e-05 : f64} : (tensor<2x16x32xf32>, tensor<32xf32>, tensor<32xf32>) -> tensor<2x16x32xf32>
  %1 = cleave.layer_norm %x, %g2 {axis = 1 : i64, epsilon = 0.000000e+00 : f64} : (tensor<2x16x32xf32>, tensor<16x32xf32>) -> tensor<2x16x32xf32>
  return %0, %1 : tensor<2x16x32xf32>, tensor<2x16x32xf32>
}

// -----

// Batch norm with its three results.
// CHECK-LABEL: func.func @batch_norm(
// CHECK-SAME: %[[X:[a-z0-9_]+]]: tensor<8x16x32x32xf32>, %[[G:[a-z0-9_]+]]: tensor<16xf32>, %[[B:[a-z0-9_]+]]: tensor<16xf32>, %[[M:[a-z0-9_]+]]: tensor<16xf32>, %[[V:[a-z0-9_]+]]: tensor<16xf32>) -> (tensor<8x16x32x32xf32>, tensor<16xf32>, tensor<16xf32>)
// CHECK-NEXT: %[[RESULT:[a-z0-9_]+]], %[[NEW_RUNNING_MEAN:[a-z0-9_]+]], %[[NEW_RUNNING_VAR:[a-z0-9_]+]] = cleave.batch_norm %[[X]], %[[G]], %[[B]], %[[M]], %[[V]] {epsilon = 1.000000e-05 : f64, momentum = 1.000000e-01 : f64} : (tensor<8x16x32x32xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>) -> (tensor<8x16x32x32xf32>, tensor<16xf32>, tensor<16xf32>)
// CHECK-NEXT: return %[[RESULT]], %[[NEW_RUNNING_MEAN]], %[[NEW_RUNNING_VAR]] : tensor<8x16x32x32xf32>, tensor<16xf32>, tensor<16xf32>
func.func @batch_norm(%x: tensor<8x16x32x32xf32>, %g: tensor<16xf32>, %b: tensor<16xf32>, %m: tensor<16xf32>, %v: tensor<16xf32>) -> (tensor<8x16x32x32xf32>, tensor<16xf32>, tensor<16xf32>) {
  %y, %rm, %rv = cleave.batch_norm %x, %g, %b, %m, %v {epsilon = 1.000000e-05 : f64, momentum = 1.000000e-01 : f64} : (tensor<8x16x32x32xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>) -> (tensor<8x16x32x32xf32>, tensor<16xf32>, tensor<16xf32>)
  return %y, %rm, %rv : tensor<8x16x32x32xf32>, tensor<16xf32>, tensor<16xf32>
}

// -----

// Gathers: an embedding lookup, an inner axis, and a 0-d index that drops
// the gathered dimension.
// CHECK-LABEL: func.func @gather(
// CHECK-SAME: %[[WTE:[a-z0-9_]+]]: tensor<64x32xf32>, %[[IDX:[a-z0-9_]+]]: tensor<2x16xi64>, %[[X:[a-z0-9_]+]]: tensor<2x5x3xf32>, %[[J:[a-z0-9_]+]]: tensor<4xi32>, %[[K:[a-z0-9_]+]]: tensor<i64>) -> (tensor<2x16x32xf32>, tensor<2x4x3xf32>, tensor<2x3xf32>)
// CHECK-NEXT: %[[V0:[a-z0-9_]+]] = cleave.gather %[[WTE]][%[[IDX]]] {axis = 0 : i64} : (tensor<64x32xf32>, tensor<2x16xi64>) -> tensor<2x16x32xf32>
// CHECK-NEXT: %[[V1:[a-z0-9_]+]] = cleave.gather %[[X]][%[[J]]] {axis = 1 : i64} : (tensor<2x5x3xf32>, tensor<4xi32>) -> tensor<2x4x3xf32>
// CHECK-NEXT: %[[V2:[a-z0-9_]+]] = cleave.gather %[[X]][%[[K]]] {axis = 1 : i64} : (tensor<2x5x3xf32>, tensor<i64>) -> tensor<2x3xf32>
// CHECK-NEXT: return %[[V0]], %[[V1]], %[[V2]] : tensor<2x16x32xf32>, tensor<2x4x3xf32>, tensor<2x3xf32>
func.func @gather(%wte: tensor<64x32xf32>, %idx: tensor<2x16xi64>, %x: tensor<2x5x3xf32>, %j: tensor<4xi32>, %k: tensor<i64>) -> (tensor<2x16x32xf32>, tensor<2x4x3xf32>, tensor<2x3xf32>) {
  %0 = cleave.gather %wte[%idx] {axis = 0 : i64} : (tensor<64x32xf32>, tensor<2x16xi64>) -> tensor<2x16x32xf32>
  %1 = cleave.gather %x[%j] {axis = 1 : i64} : (tensor<2x5x3xf32>, tensor<4xi32>) -> tensor<2x4x3xf32>
  %2 = cleave.gather %x[%k] {axis = 1 : i64} : (tensor<2x5x3xf32>, tensor<i64>) -> tensor<2x3xf32>
  return %0, %1, %2 : tensor<2x16x32xf32>, tensor<2x4x3xf32>, tensor<2x3xf32>
}

// -----

// Reshapes that split a dimension and that flatten to and from a scalar.
// CHECK-LABEL: func.func @reshape(
// CHECK-SAME: %[[X:[a-z0-9_]+]]: tensor<2x16x32xf32>, %[[S:[a-z0-9_]+]]: tensor<1x1xf32>) -> (tensor<2x16x2x16xf32>, tensor<f32>)
// CHECK-NEXT: %[[V0:[a-z0-9_]+]] = cleave.reshape %[[X]] : tensor<2x16x32xf32> to tensor<2x16x2x16xf32>
// CHECK-NEXT: %[[V1:[a-z0-9_]+]] = cleave.reshape %[[S]] : tensor<1x1xf32> to tensor<f32>
// CHECK-NEXT: return %[[V0]], %[[V1]] : tensor<2x16x2x16xf32>, tensor<f32>
func.func @reshape(%x: tensor<2x16x32xf32>, %s: tensor<1x1xf32>) -> (tensor<2x16x2x16xf32>, tensor<f32>) {
  %0 = cleave.reshape %x : tensor<2x16x32xf32> to tensor<2x16x2x16xf32>
  %1 = cleave.reshape %s : tensor<1x1xf32> to tensor<f32>
  return %0, %1 : tensor<2x16x2x16xf32>, tensor<f32>
}

// -----

// Broadcasts that stretch a unit dimension and that add leading dimensions.
// CHECK-LABEL: func.func @broadcast(
// CHECK-SAME: %[[X:[a-z0-9_]+]]: tensor<1x32xf32>, %[[S:[a-z0-9_]+]]: tensor<f32>) -> (tensor<16x32xf32>, tensor<2x3xf32>)
// CHECK-NEXT: %[[V0:[a-z0-9_]+]] = cleave.broadcast %[[X]] : tensor<1x32xf32> to tensor<16x32xf32>
// CHECK-NEXT: %[[V1:[a-z0-9_]+]] = cleave.broadcast %[[S]] : tensor<f32> to tensor<2x3xf32>
// CHECK-NEXT: return %[[V0]], %[[V1]] : tensor<16x32xf32>, tensor<2x3xf32>
func.func @broadcast(%x: tensor<1x32xf32>, %s: tensor<f32>) -> (tensor<16x32xf32>, tensor<2x3xf32>) {
  %0 = cleave.broadcast %x : tensor<1x32xf32> to tensor<16x32xf32>
  %1 = cleave.broadcast %s : tensor<f32> to tensor<2x3xf32>
  return %0, %1 : tensor<16x32xf32>, tensor<2x3xf32>
}

// -----

// A transpose of the attention heads.
// CHECK-LABEL: func.func @transpose(
// CHECK-SAME: %[[X:[a-z0-9_]+]]: tensor<2x16x2x8xf32>) -> tensor<2x2x16x8xf32>
// CHECK-NEXT: %[[V0:[a-z0-9_]+]] = cleave.transpose %[[X]] [0, 2, 1, 3] : tensor<2x16x2x8xf32> -> tensor<2x2x16x8xf32>
// CHECK-NEXT: return %[[V0]] : tensor<2x2x16x8xf32>
func.func @transpose(%x: tensor<2x16x2x8xf32>) -> tensor<2x2x16x8xf32> {
  %0 = cleave.transpose %x [0, 2, 1, 3] : tensor<2x16x2x8xf32> -> tensor<2x2x16x8xf32>
  return %0 : tensor<2x2x16x8xf32>
}

// -----

// Slices: a contiguous window and a strided one.
// CHECK-LABEL: func.func @slice(
// CHECK-SAME: %[[QKV:[a-z0-9_]+]]: tensor<2x16x96xf32>) -> (tensor<2x16x32xf32>, tensor<1x8x32xf32>)
// CHECK-NEXT: %[[V0:[a-z0-9_]+]] = cleave.slice %[[QKV]] {starts = array<i64: 0, 0, 32>, strides = array<i64: 1, 1, 1>} : tensor<2x16x96xf32> -> tensor<2x16x32xf32>
// CHECK-NEXT: %[[V1:[a-z0-9_]+]] = cleave.slice %[[QKV]] {starts = array<i64: 1, 1, 0>, strides = array<i64: 1, 2, 3>} : tensor<2x16x96xf32> -> tensor<1x8x32xf32>
// CHECK-NEXT: return %[[V0]], %[[V1]] : tensor<2x16x32xf32>, tensor<1x8x32xf32>
func.func @slice(%qkv: tensor<2x16x96xf32>) -> (tensor<2x16x32xf32>, tensor<1x8x32xf32>) {
  %0 = cleave.slice %qkv {starts = array<i64: 0, 0, 32>, strides = array<i64: 1, 1, 1>} : tensor<2x16x96xf32> -> tensor<2x16x32xf32>
  %1 = cleave.slice %qkv {starts = array<i64: 1, 1, 0>, strides = array<i64: 1, 2, 3>} : tensor<2x16x96xf32> -> tensor<1x8x32xf32>
  return %0, %1 : tensor<2x16x32xf32>, tensor<1x8x32xf32>
}

// -----

// Concatenations of two and of three inputs.
// CHECK-LABEL: func.func @concat(
// CHECK-SAME: %[[A:[a-z0-9_]+]]: tensor<2x3xf32>, %[[B:[a-z0-9_]+]]: tensor<2x5xf32>, %[[C:[a-z0-9_]+]]: tensor<1x3xf32>) -> (tensor<2x8xf32>, tensor<5x3xf32>)
// CHECK-NEXT: %[[V0:[a-z0-9_]+]] = cleave.concat %[[A]], %[[B]] {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x5xf32>) -> tensor<2x8xf32>
// CHECK-NEXT: %[[V1:[a-z0-9_]+]] = cleave.concat %[[A]], %[[C]], %[[A]] {axis = 0 : i64} : (tensor<2x3xf32>, tensor<1x3xf32>, tensor<2x3xf32>) -> tensor<5x3xf32>
// CHECK-NEXT: return %[[V0]], %[[V1]] : tensor<2x8xf32>, tensor<5x3xf32>
func.func @concat(%a: tensor<2x3xf32>, %b: tensor<2x5xf32>, %c: tensor<1x3xf32>) -> (tensor<2x8xf32>, tensor<5x3xf32>) {
  %0 = cleave.concat %a, %b {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x5xf32>) -> tensor<2x8xf32>
  %1 = cleave.concat %a, %c, %a {axis = 0 : i64} : (tensor<2x3xf32>, tensor<1x3xf32>, tensor<2x3xf32>) -> tensor<5x3xf32>
  return %0, %1 : tensor<2x8xf32>, tensor<5x3xf32>
}

// -----

// Convolutions: same-padded with a bias, and a grouped, strided, dilated,
// asymmetrically padded one without a bias.
// Second: span = 2 * (3 - 1) + 1 = 5; H: (10 + 1 + 2 - 5) / 2 + 1 = 5; W: (10 + 0 + 1 - 5) / 2 + 1 = 4.
// CHECK-LABEL: func.func @conv2d(
// CHECK-SAME: %[[X:[a-z0-9_]+]]: tensor<8x3x32x32xf32>, %[[W:[a-z0-9_]+]]: tensor<16x3x3x3xf32>, %[[B:[a-z0-9_]+]]: tensor<16xf32>, %[[GX:[a-z0-9_]+]]: tensor<1x4x10x10xf32>, %[[GW:[a-z0-9_]+]]: tensor<8x2x3x3xf32>) -> (tensor<8x16x32x32xf32>, tensor<1x8x5x4xf32>)
// CHECK-NEXT: %[[V0:[a-z0-9_]+]] = cleave.conv2d %[[X]], %[[W]], %[[B]] {dilations = array<i64: 1, 1>, groups = 1 : i64, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<8x3x32x32xf32>, tensor<16x3x3x3xf32>, tensor<16xf32>) -> tensor<8x16x32x32xf32>
// CHECK-NEXT: %[[V1:[a-z0-9_]+]] = cleave.conv2d %[[GX]], %[[GW]] {dilations = array<i64: 2, 2>, groups = 2 : i64, padding = array<i64: 1, 0, 2, 1>, strides = array<i64: 2, 2>} : (tensor<1x4x10x10xf32>, tensor<8x2x3x3xf32>) -> tensor<1x8x5x4xf32>
// CHECK-NEXT: return %[[V0]], %[[V1]] : tensor<8x16x32x32xf32>, tensor<1x8x5x4xf32>
func.func @conv2d(%x: tensor<8x3x32x32xf32>, %w: tensor<16x3x3x3xf32>, %b: tensor<16xf32>, %gx: tensor<1x4x10x10xf32>, %gw: tensor<8x2x3x3xf32>) -> (tensor<8x16x32x32xf32>, tensor<1x8x5x4xf32>) {
  %0 = cleave.conv2d %x, %w, %b {dilations = array<i64: 1, 1>, groups = 1 : i64, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<8x3x32x32xf32>, tensor<16x3x3x3xf32>, tensor<16xf32>) -> tensor<8x16x32x32xf32>
  %1 = cleave.conv2d %gx, %gw {dilations = array<i64: 2, 2>, groups = 2 : i64, padding = array<i64: 1, 0, 2, 1>, strides = array<i64: 2, 2>} : (tensor<1x4x10x10xf32>, tensor<8x2x3x3xf32>) -> tensor<1x8x5x4xf32>
  return %0, %1 : tensor<8x16x32x32xf32>, tensor<1x8x5x4xf32>
}

// -----

// Pooling: max, and average with count_include_pad and ceil_mode (the
// partial last window makes 5 outputs where floor mode gives 4).
// GENERIC-LABEL: sym_name = "pool2d"
// GENERIC: "cleave.pool2d"(%{{.*}}) <{ceil_mode, count_include_pad, kernel = array<i64: 3, 3>, kind = #cleave<pool_kind avg>, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>}> : (tensor<1x2x8x8xf32>) -> tensor<1x2x5x5xf32>
// CHECK-LABEL: func.func @pool2d(
// CHECK-SAME: %[[X:[a-z0-9_]+]]: tensor<8x16x32x32xf32>, %[[Y:[a-z0-9_]+]]: tensor<1x2x8x8xf32>) -> (tensor<8x16x16x16xf32>, tensor<1x2x5x5xf32>)
// CHECK-NEXT: %[[V0:[a-z0-9_]+]] = cleave.pool2d max %[[X]] {kernel = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : tensor<8x16x32x32xf32> -> tensor<8x16x16x16xf32>
// CHECK-NEXT: %[[V1:[a-z0-9_]+]] = cleave.pool2d avg %[[Y]] {ceil_mode, count_include_pad, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : tensor<1x2x8x8xf32> -> tensor<1x2x5x5xf32>
// CHECK-NEXT: return %[[V0]], %[[V1]] : tensor<8x16x16x16xf32>, tensor<1x2x5x5xf32>
func.func @pool2d(%x: tensor<8x16x32x32xf32>, %y: tensor<1x2x8x8xf32>) -> (tensor<8x16x16x16xf32>, tensor<1x2x5x5xf32>) {
  %0 = cleave.pool2d max %x {kernel = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : tensor<8x16x32x32xf32> -> tensor<8x16x16x16xf32>
  %1 = cleave.pool2d avg %y {ceil_mode, count_include_pad, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : tensor<1x2x8x8xf32> -> tensor<1x2x5x5xf32>
  return %0, %1 : tensor<8x16x16x16xf32>, tensor<1x2x5x5xf32>
}

// -----

// The model-level attributes: parameters (trainable and buffer), data
// inputs, named outputs, and the module's source and opset.
module attributes {cleave.opset = 17 : i64, cleave.source = "models/mlp.onnx"} {
  // GENERIC: "func.func"() <{arg_attrs = [{cleave.param = #cleave.param<"fc.weight", trainable>}, {cleave.param = #cleave.param<"bn.running_mean", buffer>}, {cleave.input = "x"}]
  // GENERIC-SAME: res_attrs = [{cleave.output = "y"}, {cleave.output = "mean"}], sym_name = "forward"
  // GENERIC: }) {cleave.opset = 17 : i64, cleave.source = "models/mlp.onnx"} : () -> ()
  // CHECK: module attributes {cleave.opset = 17 : i64, cleave.source = "models/mlp.onnx"}
  // CHECK-LABEL: func.func @forward(
  // CHECK-SAME: %[[W:[a-z0-9_]+]]: tensor<4x3xf32> {cleave.param = #cleave.param<"fc.weight", trainable>}, %[[M:[a-z0-9_]+]]: tensor<4xf32> {cleave.param = #cleave.param<"bn.running_mean", buffer>}, %[[X:[a-z0-9_]+]]: tensor<2x3xf32> {cleave.input = "x"}) -> (tensor<2x4xf32> {cleave.output = "y"}, tensor<4xf32> {cleave.output = "mean"})
  // CHECK-NEXT: %[[V0:[a-z0-9_]+]] = cleave.matmul %[[X]], %[[W]] {transpose_b} : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x4xf32>
  // CHECK-NEXT: return %[[V0]], %[[M]] : tensor<2x4xf32>, tensor<4xf32>
  func.func @forward(%w: tensor<4x3xf32> {cleave.param = #cleave.param<"fc.weight", trainable>}, %m: tensor<4xf32> {cleave.param = #cleave.param<"bn.running_mean", buffer>}, %x: tensor<2x3xf32> {cleave.input = "x"}) -> (tensor<2x4xf32> {cleave.output = "y"}, tensor<4xf32> {cleave.output = "mean"}) {
    %y = cleave.matmul %x, %w {transpose_b} : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x4xf32>
    return %y, %m : tensor<2x4xf32>, tensor<4xf32>
  }
}

// -----

// The train step attributes the training passes write: optimizer state and
// per-step scalar arguments, and loss, updated-argument and gradient results.
// CHECK-LABEL: func.func private @train_step
// CHECK-SAME:    (tensor<4xf32> {cleave.param = #cleave.param<"w", trainable>}, tensor<4xf32> {cleave.opt_state = "w.exp_avg"}, tensor<f32> {cleave.step_scalar = "lr"})
// CHECK-SAME:    -> (tensor<f32> {cleave.loss}, tensor<4xf32> {cleave.updates = 0 : i64}, tensor<4xf32> {cleave.grad_of = 0 : i64})
func.func private @train_step(tensor<4xf32> {cleave.param = #cleave.param<"w", trainable>}, tensor<4xf32> {cleave.opt_state = "w.exp_avg"}, tensor<f32> {cleave.step_scalar = "lr"}) -> (tensor<f32> {cleave.loss}, tensor<4xf32> {cleave.updates = 0 : i64}, tensor<4xf32> {cleave.grad_of = 0 : i64})
