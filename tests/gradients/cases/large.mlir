// Gradient cases large enough (> 32768 elements) for the generated loops
// and the kernels to take their multi-threaded paths; only a sample of
// each parameter's elements is checked. A file of its own, so that the
// large loss sum does not add rounding noise to the small cases. That
// noise (float sums over ~35000 terms) is ~1e-3 in the loss, hence the
// larger eps and atol here (all ops in these cases are smooth).

// matmul (BLAS), layer norm, softmax and a mean over 34816 elements.
func.func @large_block(%x: tensor<32x64xf32> {cleave.param = #cleave.param<"x", trainable>},
                       %w: tensor<1088x64xf32> {cleave.param = #cleave.param<"w", trainable>, gradcheck.init = array<f64: -0.2, 0.2>},
                       %g: tensor<1088xf32> {cleave.param = #cleave.param<"scale", trainable>, gradcheck.init = array<f64: 0.5, 1.5>})
    -> tensor<32x1xf32> attributes {gradcheck.sample = 24 : i64, gradcheck.eps = 5.0e-02 : f64, gradcheck.atol = 5.0e-03 : f64} {
  %h = cleave.matmul %x, %w {transpose_b} : (tensor<32x64xf32>, tensor<1088x64xf32>) -> tensor<32x1088xf32>
  %t = cleave.unary tanh %h : tensor<32x1088xf32>
  %n = cleave.layer_norm %t, %g {axis = 1 : i64, epsilon = 1.0e-05 : f64} : (tensor<32x1088xf32>, tensor<1088xf32>) -> tensor<32x1088xf32>
  %p = cleave.softmax %n {axis = 0 : i64} : tensor<32x1088xf32>
  %q = cleave.binary mul %p, %n : (tensor<32x1088xf32>, tensor<32x1088xf32>) -> tensor<32x1088xf32>
  %r = cleave.reduce sum %q {axes = array<i64: 1>, keep_dims} : tensor<32x1088xf32> -> tensor<32x1xf32>
  return %r : tensor<32x1xf32>
}

// An embedding gradient (scatter_add) and a broadcast bias over 36864
// elements.
func.func @large_embedding(%table: tensor<50x48xf32> {cleave.param = #cleave.param<"table", trainable>},
                           %b: tensor<48xf32> {cleave.param = #cleave.param<"bias", trainable>},
                           %ids: tensor<768xi64> {cleave.input = "ids", gradcheck.values = array<i64: 3, 17, 3, 49, 0, 22, 8, 8, 31, 12, 40, 5, 27>})
    -> tensor<768x48xf32> attributes {gradcheck.sample = 24 : i64, gradcheck.eps = 5.0e-02 : f64, gradcheck.atol = 5.0e-03 : f64} {
  %e = cleave.gather %table[%ids] {axis = 0 : i64} : (tensor<50x48xf32>, tensor<768xi64>) -> tensor<768x48xf32>
  %y = cleave.binary add %e, %b : (tensor<768x48xf32>, tensor<48xf32>) -> tensor<768x48xf32>
  %z = cleave.unary sin %y : tensor<768x48xf32>
  return %z : tensor<768x48xf32>
}
