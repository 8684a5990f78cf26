// RUN: cleave-opt %s --split-input-file --verify-diagnostics --pass-pipeline='builtin.module(func.func(cleave-legalize-for-codegen))'

// Codegen has no dropout: the random masks must exist by then.
func.func @dropout(%x: tensor<2x16xf32>) -> tensor<2x16xf32> {
  // expected-error @+1 {{must be lowered (cleave-lower-dropout) before codegen}}
  %y = cleave.dropout %x {ratio = 1.0e-01 : f64} : tensor<2x16xf32>
  return %y : tensor<2x16xf32>
}
