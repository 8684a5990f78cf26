// Gradient cases of matmul and the reductions (LinearAlgebraGradients.cpp):
// every transpose combination, broadcast batch dimensions, and every
// reduce kind with and without keep_dims.

// C = A B: both gradients in the operands' stored layouts.
func.func @matmul(%a: tensor<3x4xf32> {cleave.param = #cleave.param<"a", trainable>},
                  %b: tensor<4x5xf32> {cleave.param = #cleave.param<"b", trainable>}) -> tensor<3x5xf32> {
  %c = cleave.matmul %a, %b : (tensor<3x4xf32>, tensor<4x5xf32>) -> tensor<3x5xf32>
  return %c : tensor<3x5xf32>
}

// C = A B^T: both gradients in the operands' stored layouts.
func.func @matmul_tb(%a: tensor<3x4xf32> {cleave.param = #cleave.param<"a", trainable>},
                     %b: tensor<5x4xf32> {cleave.param = #cleave.param<"b", trainable>}) -> tensor<3x5xf32> {
  %c = cleave.matmul %a, %b {transpose_b} : (tensor<3x4xf32>, tensor<5x4xf32>) -> tensor<3x5xf32>
  return %c : tensor<3x5xf32>
}

// C = A^T B: both gradients in the operands' stored layouts.
func.func @matmul_ta(%a: tensor<4x3xf32> {cleave.param = #cleave.param<"a", trainable>},
                     %b: tensor<4x5xf32> {cleave.param = #cleave.param<"b", trainable>}) -> tensor<3x5xf32> {
  %c = cleave.matmul %a, %b {transpose_a} : (tensor<4x3xf32>, tensor<4x5xf32>) -> tensor<3x5xf32>
  return %c : tensor<3x5xf32>
}

// C = A^T B^T: both gradients in the operands' stored layouts.
func.func @matmul_ta_tb(%a: tensor<4x3xf32> {cleave.param = #cleave.param<"a", trainable>},
                        %b: tensor<5x4xf32> {cleave.param = #cleave.param<"b", trainable>}) -> tensor<3x5xf32> {
  %c = cleave.matmul %a, %b {transpose_a, transpose_b} : (tensor<4x3xf32>, tensor<5x4xf32>) -> tensor<3x5xf32>
  return %c : tensor<3x5xf32>
}

// A batched lhs against one shared rhs: the rhs gradient sums over the batch.
func.func @matmul_batch_broadcast_rhs(%a: tensor<2x3x4xf32> {cleave.param = #cleave.param<"a", trainable>},
                                      %b: tensor<4x5xf32> {cleave.param = #cleave.param<"b", trainable>}) -> tensor<2x3x5xf32> {
  %c = cleave.matmul %a, %b : (tensor<2x3x4xf32>, tensor<4x5xf32>) -> tensor<2x3x5xf32>
  return %c : tensor<2x3x5xf32>
}

// Batch dimensions broadcasting on both sides ([2, 1] against [3]), with
// transposes: each gradient sums back over the batch it was broadcast in.
func.func @matmul_batch_broadcast_both(%a: tensor<2x1x4x3xf32> {cleave.param = #cleave.param<"a", trainable>},
                                       %b: tensor<3x5x4xf32> {cleave.param = #cleave.param<"b", trainable>}) -> tensor<2x3x3x5xf32> {
  %c = cleave.matmul %a, %b {transpose_a, transpose_b} : (tensor<2x1x4x3xf32>, tensor<3x5x4xf32>) -> tensor<2x3x3x5xf32>
  return %c : tensor<2x3x3x5xf32>
}

// One lhs matrix against a batched rhs: the lhs gradient sums over the batch.
func.func @matmul_batch_broadcast_lhs(%a: tensor<3x4xf32> {cleave.param = #cleave.param<"a", trainable>},
                                      %b: tensor<2x4x5xf32> {cleave.param = #cleave.param<"b", trainable>}) -> tensor<2x3x5xf32> {
  %c = cleave.matmul %a, %b : (tensor<3x4xf32>, tensor<2x4x5xf32>) -> tensor<2x3x5xf32>
  return %c : tensor<2x3x5xf32>
}

// A weight used twice (tied): its gradients from both uses add up.
func.func @matmul_tied_weight(%w: tensor<4x4xf32> {cleave.param = #cleave.param<"w", trainable>},
                              %x: tensor<3x4xf32> {cleave.input = "x"}) -> tensor<3x4xf32> {
  %h = cleave.matmul %x, %w : (tensor<3x4xf32>, tensor<4x4xf32>) -> tensor<3x4xf32>
  %y = cleave.matmul %h, %w {transpose_b} : (tensor<3x4xf32>, tensor<4x4xf32>) -> tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

// reduce sum over axes 0 and 2, dropping them.
func.func @reduce_sum(%x: tensor<2x3x4xf32> {cleave.param = #cleave.param<"x", trainable>}) -> tensor<3xf32> {
  %y = cleave.reduce sum %x {axes = array<i64: 0, 2>} : tensor<2x3x4xf32> -> tensor<3xf32>
  return %y : tensor<3xf32>
}

// reduce sum over axis 1, keeping it as 1.
func.func @reduce_sum_keep_dims(%x: tensor<2x3x4xf32> {cleave.param = #cleave.param<"x", trainable>}) -> tensor<2x1x4xf32> {
  %y = cleave.reduce sum %x {axes = array<i64: 1>, keep_dims} : tensor<2x3x4xf32> -> tensor<2x1x4xf32>
  return %y : tensor<2x1x4xf32>
}

// reduce mean over axes 0 and 2, dropping them.
func.func @reduce_mean(%x: tensor<2x3x4xf32> {cleave.param = #cleave.param<"x", trainable>}) -> tensor<3xf32> {
  %y = cleave.reduce mean %x {axes = array<i64: 0, 2>} : tensor<2x3x4xf32> -> tensor<3xf32>
  return %y : tensor<3xf32>
}

// reduce mean over axis 1, keeping it as 1.
func.func @reduce_mean_keep_dims(%x: tensor<2x3x4xf32> {cleave.param = #cleave.param<"x", trainable>}) -> tensor<2x1x4xf32> {
  %y = cleave.reduce mean %x {axes = array<i64: 1>, keep_dims} : tensor<2x3x4xf32> -> tensor<2x1x4xf32>
  return %y : tensor<2x1x4xf32>
}

// reduce max over axes 0 and 2, dropping them (distinct inputs: one maximum per slice).
func.func @reduce_max(%x: tensor<2x3x4xf32> {cleave.param = #cleave.param<"x", trainable>}) -> tensor<3xf32> {
  %y = cleave.reduce max %x {axes = array<i64: 0, 2>} : tensor<2x3x4xf32> -> tensor<3xf32>
  return %y : tensor<3xf32>
}

// reduce max over axis 1, keeping it as 1.
func.func @reduce_max_keep_dims(%x: tensor<2x3x4xf32> {cleave.param = #cleave.param<"x", trainable>}) -> tensor<2x1x4xf32> {
  %y = cleave.reduce max %x {axes = array<i64: 1>, keep_dims} : tensor<2x3x4xf32> -> tensor<2x1x4xf32>
  return %y : tensor<2x1x4xf32>
}

// reduce min over axes 0 and 2, dropping them (distinct inputs: one minimum per slice).
func.func @reduce_min(%x: tensor<2x3x4xf32> {cleave.param = #cleave.param<"x", trainable>}) -> tensor<3xf32> {
  %y = cleave.reduce min %x {axes = array<i64: 0, 2>} : tensor<2x3x4xf32> -> tensor<3xf32>
  return %y : tensor<3xf32>
}

// reduce min over axis 1, keeping it as 1.
func.func @reduce_min_keep_dims(%x: tensor<2x3x4xf32> {cleave.param = #cleave.param<"x", trainable>}) -> tensor<2x1x4xf32> {
  %y = cleave.reduce min %x {axes = array<i64: 1>, keep_dims} : tensor<2x3x4xf32> -> tensor<2x1x4xf32>
  return %y : tensor<2x1x4xf32>
}

// reduce prod over axes 0 and 2, dropping them (inputs away from 0).
func.func @reduce_prod(%x: tensor<2x3x4xf32> {cleave.param = #cleave.param<"x", trainable>, gradcheck.init = array<f64: 0.5, 1.5>}) -> tensor<3xf32> {
  %y = cleave.reduce prod %x {axes = array<i64: 0, 2>} : tensor<2x3x4xf32> -> tensor<3xf32>
  return %y : tensor<3xf32>
}

// reduce prod over axis 1, keeping it as 1.
func.func @reduce_prod_keep_dims(%x: tensor<2x3x4xf32> {cleave.param = #cleave.param<"x", trainable>, gradcheck.init = array<f64: 0.5, 1.5>}) -> tensor<2x1x4xf32> {
  %y = cleave.reduce prod %x {axes = array<i64: 1>, keep_dims} : tensor<2x3x4xf32> -> tensor<2x1x4xf32>
  return %y : tensor<2x1x4xf32>
}

// A reduction to a scalar (every axis).
func.func @reduce_mean_all(%x: tensor<3x4xf32> {cleave.param = #cleave.param<"x", trainable>}) -> tensor<f32> {
  %y = cleave.reduce mean %x {axes = array<i64: 0, 1>} : tensor<3x4xf32> -> tensor<f32>
  return %y : tensor<f32>
}

// reduce max over exact ties: every element of a row is the same
// parameter, so max(row) = p is smooth in p. The tied elements must share
// the gradient (summing to g), not each take all of it.
func.func @reduce_max_ties(%p: tensor<3x1xf32> {cleave.param = #cleave.param<"p", trainable>}) -> tensor<3xf32> {
  %x = cleave.broadcast %p : tensor<3x1xf32> to tensor<3x4xf32>
  %y = cleave.reduce max %x {axes = array<i64: 1>} : tensor<3x4xf32> -> tensor<3xf32>
  return %y : tensor<3xf32>
}

// reduce min over exact ties, keeping the dimension.
func.func @reduce_min_ties_keep_dims(%p: tensor<1x4xf32> {cleave.param = #cleave.param<"p", trainable>}) -> tensor<1x4xf32> {
  %x = cleave.broadcast %p : tensor<1x4xf32> to tensor<3x4xf32>
  %y = cleave.reduce min %x {axes = array<i64: 0>, keep_dims} : tensor<3x4xf32> -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}

// reduce prod with exact zeros: d prod / d x_i is the product of the other
// elements, which g * y / x_i cannot give at x_i = 0. Row 0 has one zero
// (its gradient is the product of the rest), row 1 two (all gradients 0),
// row 2 none.
func.func @reduce_prod_zeros(%x: tensor<3x4xf32> {cleave.param = #cleave.param<"x", trainable>, gradcheck.values = array<f64: 0.8, 0.0, 1.2, -0.9, 0.0, 1.1, 0.0, 0.7, 1.3, -0.6, 0.9, 1.4>}) -> tensor<3xf32> {
  %y = cleave.reduce prod %x {axes = array<i64: 1>} : tensor<3x4xf32> -> tensor<3xf32>
  return %y : tensor<3xf32>
}
