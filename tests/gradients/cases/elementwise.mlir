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

// identity: the gradient passes through.
func.func @unary_identity(%x: tensor<3x4xf32> {cleave.param = #cleave.param<"x", trainable>}) -> tensor<3x4xf32> {
  %y = cleave.unary identity %x : tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

// floor: piecewise constant, so the gradient is 0 (the default inputs stay
// more than eps away from every integer and half-integer).
func.func @unary_floor(%x: tensor<3x4xf32> {cleave.param = #cleave.param<"x", trainable>}) -> tensor<3x4xf32> {
  %y = cleave.unary floor %x : tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

// ceil: piecewise constant, so the gradient is 0 (the default inputs stay
// more than eps away from every integer and half-integer).
func.func @unary_ceil(%x: tensor<3x4xf32> {cleave.param = #cleave.param<"x", trainable>}) -> tensor<3x4xf32> {
  %y = cleave.unary ceil %x : tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

// round: piecewise constant, so the gradient is 0 (the default inputs stay
// more than eps away from every integer and half-integer).
func.func @unary_round(%x: tensor<3x4xf32> {cleave.param = #cleave.param<"x", trainable>}) -> tensor<3x4xf32> {
  %y = cleave.unary round %x : tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

// sign: piecewise constant, so the gradient is 0 (the default inputs stay
// more than eps away from every integer and half-integer).
func.func @unary_sign(%x: tensor<3x4xf32> {cleave.param = #cleave.param<"x", trainable>}) -> tensor<3x4xf32> {
  %y = cleave.unary sign %x : tensor<3x4xf32>
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

// An outer sum: both operands broadcast ([3, 1] + [1, 4]), both gradients
// are summed back.
func.func @binary_add_outer(%a: tensor<3x1xf32> {cleave.param = #cleave.param<"a", trainable>},
                            %b: tensor<1x4xf32> {cleave.param = #cleave.param<"b", trainable>}) -> tensor<3x4xf32> {
  %y = cleave.binary add %a, %b : (tensor<3x1xf32>, tensor<1x4xf32>) -> tensor<3x4xf32>
  %z = cleave.unary sin %y : tensor<3x4xf32>
  return %z : tensor<3x4xf32>
}

// pow with a zero base and a trainable exponent: d 0^b / db = 0 for b > 0
// (a^b log a would be 0 * -inf = NaN).
func.func @binary_pow_zero_base(%a: tensor<2x3xf32> {cleave.input = "a", gradcheck.values = array<f64: 0.0, 0.5, 1.5, 0.0, 2.0, 0.0>},
                                %b: tensor<2x3xf32> {cleave.param = #cleave.param<"b", trainable>, gradcheck.init = array<f64: 0.5, 2.0>}) -> tensor<2x3xf32> {
  %y = cleave.binary pow %a, %b : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// pow with a zero exponent and a zero base: a^0 = 1 is constant, so its
// base gradient is 0 (b a^(b-1) would be 0 * inf = NaN); the other pairs
// cover 0^1, 0^2 and a negative base with an integer exponent.
func.func @binary_pow_zero_exponent(%a: tensor<2x3xf32> {cleave.param = #cleave.param<"a", trainable>, gradcheck.values = array<f64: 0.0, 0.0, 0.0, 0.5, -0.7, 1.3>},
                                    %b: tensor<2x3xf32> {cleave.input = "b", gradcheck.values = array<f64: 0.0, 1.0, 2.0, 0.0, 2.0, 1.5>}) -> tensor<2x3xf32> {
  %y = cleave.binary pow %a, %b : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// The same value on both sides (x * x): the two operand gradients add up.
func.func @binary_mul_same_operand(%x: tensor<3x4xf32> {cleave.param = #cleave.param<"x", trainable>}) -> tensor<3x4xf32> {
  %y = cleave.binary mul %x, %x : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

// select with a data-dependent condition: each branch gets the gradient
// where it was chosen; on_true broadcasts from [4], on_false from [3, 1],
// and both are summed back.
func.func @select(%c: tensor<3x4xf32> {cleave.input = "c"},
                  %t: tensor<4xf32> {cleave.param = #cleave.param<"t", trainable>},
                  %f: tensor<3x1xf32> {cleave.param = #cleave.param<"f", trainable>}) -> tensor<3x4xf32> {
  %zero = cleave.constant dense<0.0> : tensor<f32>
  %m = cleave.compare gt %c, %zero : (tensor<3x4xf32>, tensor<f32>) -> tensor<3x4xi1>
  %y = cleave.select %m, %t, %f : (tensor<3x4xi1>, tensor<4xf32>, tensor<3x1xf32>) -> tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

// f32 -> f64 -> f32 casts around an f64 op: the gradient is cast back.
func.func @cast_f64_round_trip(%x: tensor<3x4xf32> {cleave.param = #cleave.param<"x", trainable>}) -> tensor<3x4xf32> {
  %d = cleave.cast %x : tensor<3x4xf32> to tensor<3x4xf64>
  %e = cleave.unary exp %d : tensor<3x4xf64>
  %y = cleave.cast %e : tensor<3x4xf64> to tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

// Dropout (lowered to a product with a random mask): the gradient reuses
// the forward's mask. Every step here has the same seed and step number,
// so every evaluation draws the same mask.
func.func @dropout(%x: tensor<4x8xf32> {cleave.param = #cleave.param<"x", trainable>}) -> tensor<4x8xf32> {
  %y = cleave.dropout %x {ratio = 3.000000e-01 : f64} : tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}
