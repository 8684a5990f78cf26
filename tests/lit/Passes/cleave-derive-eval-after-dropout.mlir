// RUN: cleave-opt %s --cleave-derive-eval --verify-diagnostics

// After cleave-lower-dropout a dropout mask is a product with random data
// that evaluation cannot tell from the model's own: the pass must run first.
func.func @forward(%x: tensor<4xf32> {cleave.input = "x"}) -> (tensor<4xf32> {cleave.output = "y"}) {
  // expected-error @+1 {{draws a dropout mask, which evaluation must not: run cleave-derive-eval before cleave-lower-dropout}}
  %m = cleave.random_mask {keep_probability = 9.000000e-01 : f64, stream = 0 : i64} : tensor<4xf32>
  %y = cleave.binary mul %x, %m : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}
