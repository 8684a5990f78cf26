// Gradient cases of the elementwise ops (ElementwiseGradients.cpp): every
// unary kind with a gradient, every differentiable binary kind with the
// broadcast on either side, select and a float cast round trip.
// One function is one case (see GradientCheck.cpp for the conventions).

// neg: d(-x) = -1.
func.func @unary_neg(%x: tensor<3x4xf32> {cleave.param = #cleave.param<"x", trainable>}) -> tensor<3x4xf32> {
  %y = cleave.unary neg %x : tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

// abs: d|x| = sign(x); the default inputs stay away from 0.
func.func @unary_abs(%x: tensor<3x4xf32> {cleave.param = #cleave.param<"x", trainable>}) -> tensor<3x4xf32> {
  %y = cleave.unary abs %x : tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

// exp: d e^x = e^x.
func.func @unary_exp(%x: tensor<3x4xf32> {cleave.param = #cleave.param<"x", trainable>}) -> tensor<3x4xf32> {
  %y = cleave.unary exp %x : tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

// log: d log x = 1/x, for x > 0.
func.func @unary_log(%x: tensor<3x4xf32> {cleave.param = #cleave.param<"x", trainable>, gradcheck.init = array<f64: 0.5, 2.0>}) -> tensor<3x4xf32> {
  %y = cleave.unary log %x : tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

// sqrt: d sqrt(x) = 1/(2 sqrt(x)), for x > 0.
func.func @unary_sqrt(%x: tensor<3x4xf32> {cleave.param = #cleave.param<"x", trainable>, gradcheck.init = array<f64: 0.5, 2.0>}) -> tensor<3x4xf32> {
  %y = cleave.unary sqrt %x : tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

// rsqrt: d x^-1/2 = -x^-3/2 / 2, for x > 0.
func.func @unary_rsqrt(%x: tensor<3x4xf32> {cleave.param = #cleave.param<"x", trainable>, gradcheck.init = array<f64: 0.5, 2.0>}) -> tensor<3x4xf32> {
  %y = cleave.unary rsqrt %x : tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

// reciprocal: d 1/x = -1/x^2, away from 0.
func.func @unary_reciprocal(%x: tensor<3x4xf32> {cleave.param = #cleave.param<"x", trainable>, gradcheck.init = array<f64: 0.5, 2.0>}) -> tensor<3x4xf32> {
  %y = cleave.unary reciprocal %x : tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

// tanh: d tanh x = 1 - tanh^2 x.
func.func @unary_tanh(%x: tensor<3x4xf32> {cleave.param = #cleave.param<"x", trainable>, gradcheck.init = array<f64: -2.0, 2.0>}) -> tensor<3x4xf32> {
  %y = cleave.unary tanh %x : tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

// erf: d erf x = 2/sqrt(pi) e^-x^2.
func.func @unary_erf(%x: tensor<3x4xf32> {cleave.param = #cleave.param<"x", trainable>, gradcheck.init = array<f64: -2.0, 2.0>}) -> tensor<3x4xf32> {
  %y = cleave.unary erf %x : tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

// relu: d relu x = [x > 0]; the default inputs stay away from 0.
func.func @unary_relu(%x: tensor<3x4xf32> {cleave.param = #cleave.param<"x", trainable>}) -> tensor<3x4xf32> {
  %y = cleave.unary relu %x : tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

// sigmoid: d s(x) = s(x)(1 - s(x)).
func.func @unary_sigmoid(%x: tensor<3x4xf32> {cleave.param = #cleave.param<"x", trainable>, gradcheck.init = array<f64: -3.0, 3.0>}) -> tensor<3x4xf32> {
  %y = cleave.unary sigmoid %x : tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

// sin: d sin x = cos x.
func.func @unary_sin(%x: tensor<3x4xf32> {cleave.param = #cleave.param<"x", trainable>, gradcheck.init = array<f64: -3.0, 3.0>}) -> tensor<3x4xf32> {
  %y = cleave.unary sin %x : tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

// cos: d cos x = -sin x.
func.func @unary_cos(%x: tensor<3x4xf32> {cleave.param = #cleave.param<"x", trainable>, gradcheck.init = array<f64: -3.0, 3.0>}) -> tensor<3x4xf32> {
  %y = cleave.unary cos %x : tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

// softplus: d log(1 + e^x) = sigmoid(x).
func.func @unary_softplus(%x: tensor<3x4xf32> {cleave.param = #cleave.param<"x", trainable>, gradcheck.init = array<f64: -4.0, 4.0>}) -> tensor<3x4xf32> {
  %y = cleave.unary softplus %x : tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

// add, rhs broadcast along the rows: the rhs gradient sums over them.
func.func @binary_add_rhs_broadcast(%a: tensor<3x4xf32> {cleave.param = #cleave.param<"a", trainable>},
                                   %b: tensor<4xf32> {cleave.param = #cleave.param<"b", trainable>}) -> tensor<3x4xf32> {
  %y = cleave.binary add %a, %b : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

// add, lhs broadcast in two dimensions (a size-1 and a missing one).
func.func @binary_add_lhs_broadcast(%a: tensor<3x1xf32> {cleave.param = #cleave.param<"a", trainable>},
                                   %b: tensor<2x3x4xf32> {cleave.param = #cleave.param<"b", trainable>}) -> tensor<2x3x4xf32> {
  %y = cleave.binary add %a, %b : (tensor<3x1xf32>, tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  return %y : tensor<2x3x4xf32>
}

// sub, rhs broadcast along the rows: the rhs gradient sums over them.
func.func @binary_sub_rhs_broadcast(%a: tensor<3x4xf32> {cleave.param = #cleave.param<"a", trainable>},
                                   %b: tensor<4xf32> {cleave.param = #cleave.param<"b", trainable>}) -> tensor<3x4xf32> {
  %y = cleave.binary sub %a, %b : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

// sub, lhs broadcast in two dimensions (a size-1 and a missing one).
func.func @binary_sub_lhs_broadcast(%a: tensor<3x1xf32> {cleave.param = #cleave.param<"a", trainable>},
                                   %b: tensor<2x3x4xf32> {cleave.param = #cleave.param<"b", trainable>}) -> tensor<2x3x4xf32> {
  %y = cleave.binary sub %a, %b : (tensor<3x1xf32>, tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  return %y : tensor<2x3x4xf32>
}

// mul, rhs broadcast along the rows: the rhs gradient sums over them.
func.func @binary_mul_rhs_broadcast(%a: tensor<3x4xf32> {cleave.param = #cleave.param<"a", trainable>},
                                   %b: tensor<4xf32> {cleave.param = #cleave.param<"b", trainable>}) -> tensor<3x4xf32> {
  %y = cleave.binary mul %a, %b : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

// mul, lhs broadcast in two dimensions (a size-1 and a missing one).
func.func @binary_mul_lhs_broadcast(%a: tensor<3x1xf32> {cleave.param = #cleave.param<"a", trainable>},
                                   %b: tensor<2x3x4xf32> {cleave.param = #cleave.param<"b", trainable>}) -> tensor<2x3x4xf32> {
  %y = cleave.binary mul %a, %b : (tensor<3x1xf32>, tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  return %y : tensor<2x3x4xf32>
}

// div, rhs broadcast along the rows: the rhs gradient sums over them (the divisor stays away from 0).
func.func @binary_div_rhs_broadcast(%a: tensor<3x4xf32> {cleave.param = #cleave.param<"a", trainable>},
                                   %b: tensor<4xf32> {cleave.param = #cleave.param<"b", trainable>, gradcheck.init = array<f64: 0.5, 2.0>}) -> tensor<3x4xf32> {
  %y = cleave.binary div %a, %b : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

// div, lhs broadcast in two dimensions (a size-1 and a missing one).
func.func @binary_div_lhs_broadcast(%a: tensor<3x1xf32> {cleave.param = #cleave.param<"a", trainable>},
                                   %b: tensor<2x3x4xf32> {cleave.param = #cleave.param<"b", trainable>, gradcheck.init = array<f64: 0.5, 2.0>}) -> tensor<2x3x4xf32> {
  %y = cleave.binary div %a, %b : (tensor<3x1xf32>, tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  return %y : tensor<2x3x4xf32>
}

// pow, rhs broadcast along the rows: the rhs gradient sums over them (a positive base, so that d/db = a^b log a exists).
func.func @binary_pow_rhs_broadcast(%a: tensor<3x4xf32> {cleave.param = #cleave.param<"a", trainable>, gradcheck.init = array<f64: 0.5, 2.0>},
                                   %b: tensor<4xf32> {cleave.param = #cleave.param<"b", trainable>, gradcheck.init = array<f64: -1.5, 1.5>}) -> tensor<3x4xf32> {
  %y = cleave.binary pow %a, %b : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

// pow, lhs broadcast in two dimensions (a size-1 and a missing one).
func.func @binary_pow_lhs_broadcast(%a: tensor<3x1xf32> {cleave.param = #cleave.param<"a", trainable>, gradcheck.init = array<f64: 0.5, 2.0>},
                                   %b: tensor<2x3x4xf32> {cleave.param = #cleave.param<"b", trainable>, gradcheck.init = array<f64: -1.5, 1.5>}) -> tensor<2x3x4xf32> {
  %y = cleave.binary pow %a, %b : (tensor<3x1xf32>, tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  return %y : tensor<2x3x4xf32>
}

// max, rhs broadcast along the rows: the rhs gradient sums over them (shifted grids, so that no pair ties).
func.func @binary_max_rhs_broadcast(%a: tensor<3x4xf32> {cleave.param = #cleave.param<"a", trainable>, gradcheck.init = array<f64: -1.0, 1.0, 0.25>},
                                   %b: tensor<4xf32> {cleave.param = #cleave.param<"b", trainable>, gradcheck.init = array<f64: -0.9, 1.1, 0.6>}) -> tensor<3x4xf32> {
  %y = cleave.binary max %a, %b : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

// max, lhs broadcast in two dimensions (a size-1 and a missing one).
func.func @binary_max_lhs_broadcast(%a: tensor<3x1xf32> {cleave.param = #cleave.param<"a", trainable>, gradcheck.init = array<f64: -1.0, 1.0, 0.25>},
                                   %b: tensor<2x3x4xf32> {cleave.param = #cleave.param<"b", trainable>, gradcheck.init = array<f64: -0.9, 1.1, 0.6>}) -> tensor<2x3x4xf32> {
  %y = cleave.binary max %a, %b : (tensor<3x1xf32>, tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  return %y : tensor<2x3x4xf32>
}

// min, rhs broadcast along the rows: the rhs gradient sums over them (shifted grids, so that no pair ties).
func.func @binary_min_rhs_broadcast(%a: tensor<3x4xf32> {cleave.param = #cleave.param<"a", trainable>, gradcheck.init = array<f64: -1.0, 1.0, 0.25>},
                                   %b: tensor<4xf32> {cleave.param = #cleave.param<"b", trainable>, gradcheck.init = array<f64: -0.9, 1.1, 0.6>}) -> tensor<3x4xf32> {
  %y = cleave.binary min %a, %b : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

// min, lhs broadcast in two dimensions (a size-1 and a missing one).
func.func @binary_min_lhs_broadcast(%a: tensor<3x1xf32> {cleave.param = #cleave.param<"a", trainable>, gradcheck.init = array<f64: -1.0, 1.0, 0.25>},
                                   %b: tensor<2x3x4xf32> {cleave.param = #cleave.param<"b", trainable>, gradcheck.init = array<f64: -0.9, 1.1, 0.6>}) -> tensor<2x3x4xf32> {
  %y = cleave.binary min %a, %b : (tensor<3x1xf32>, tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  return %y : tensor<2x3x4xf32>
}

// The same value on both sides (x * x): the two operand gradients add up.
func.func @binary_mul_same_operand(%x: tensor<3x4xf32> {cleave.param = #cleave.param<"x", trainable>}) -> tensor<3x4xf32> {
  %y = cleave.binary mul %x, %x : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

// select with a data-dependent condition: each branch gets the gradient
// where it was chosen; on_true broadcasts from [4] and is summed back.
func.func @select(%c: tensor<3x4xf32> {cleave.input = "c"},
                  %t: tensor<4xf32> {cleave.param = #cleave.param<"t", trainable>},
                  %f: tensor<3x4xf32> {cleave.param = #cleave.param<"f", trainable>}) -> tensor<3x4xf32> {
  %zero = cleave.constant dense<0.0> : tensor<f32>
  %m = cleave.compare gt %c, %zero : (tensor<3x4xf32>, tensor<f32>) -> tensor<3x4xi1>
  %y = cleave.select %m, %t, %f : (tensor<3x4xi1>, tensor<4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

// f32 -> f64 -> f32 casts around an f64 op: the gradient is cast back.
func.func @cast_f64_round_trip(%x: tensor<3x4xf32> {cleave.param = #cleave.param<"x", trainable>}) -> tensor<3x4xf32> {
  %d = cleave.cast %x : tensor<3x4xf32> to tensor<3x4xf64>
  %e = cleave.unary exp %d : tensor<3x4xf64>
  %y = cleave.cast %e : tensor<3x4xf64> to tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}
