// Gradient cases of softmax, the normalisations and the loss
// (NormalizationGradients.cpp and the fused gradient ops' kernels).

// softmax over a middle axis (inner size 4): softmax_grad.
func.func @softmax_middle_axis(%x: tensor<2x3x4xf32> {cleave.param = #cleave.param<"x", trainable>, gradcheck.init = array<f64: -2.0, 2.0>}) -> tensor<2x3x4xf32> {
  %y = cleave.softmax %x {axis = 1 : i64} : tensor<2x3x4xf32>
  return %y : tensor<2x3x4xf32>
}

// softmax over the last axis.
func.func @softmax_last_axis(%x: tensor<3x5xf32> {cleave.param = #cleave.param<"x", trainable>, gradcheck.init = array<f64: -2.0, 2.0>}) -> tensor<3x5xf32> {
  %y = cleave.softmax %x {axis = 1 : i64} : tensor<3x5xf32>
  return %y : tensor<3x5xf32>
}

// log-softmax over the last axis: softmax_grad {log}.
func.func @log_softmax_last_axis(%x: tensor<3x5xf32> {cleave.param = #cleave.param<"x", trainable>, gradcheck.init = array<f64: -2.0, 2.0>}) -> tensor<3x5xf32> {
  %y = cleave.softmax %x {axis = 1 : i64, log} : tensor<3x5xf32>
  return %y : tensor<3x5xf32>
}

// log-softmax over the first axis (outer size 1, inner size 6).
func.func @log_softmax_first_axis(%x: tensor<4x2x3xf32> {cleave.param = #cleave.param<"x", trainable>, gradcheck.init = array<f64: -2.0, 2.0>}) -> tensor<4x2x3xf32> {
  %y = cleave.softmax %x {axis = 0 : i64, log} : tensor<4x2x3xf32>
  return %y : tensor<4x2x3xf32>
}

// layer_norm over the last two dimensions with a bias: input, scale and
// bias gradients from one layer_norm_grad.
func.func @layer_norm_bias(%x: tensor<2x3x4xf32> {cleave.param = #cleave.param<"x", trainable>},
                           %g: tensor<3x4xf32> {cleave.param = #cleave.param<"scale", trainable>, gradcheck.init = array<f64: 0.5, 1.5>},
                           %b: tensor<3x4xf32> {cleave.param = #cleave.param<"bias", trainable>}) -> tensor<2x3x4xf32> {
  %y = cleave.layer_norm %x, %g, %b {axis = 1 : i64, epsilon = 1.0e-05 : f64} : (tensor<2x3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<2x3x4xf32>
  return %y : tensor<2x3x4xf32>
}

// layer_norm over the last dimension, no bias.
func.func @layer_norm_no_bias(%x: tensor<3x6xf32> {cleave.param = #cleave.param<"x", trainable>},
                              %g: tensor<6xf32> {cleave.param = #cleave.param<"scale", trainable>, gradcheck.init = array<f64: 0.5, 1.5>}) -> tensor<3x6xf32> {
  %y = cleave.layer_norm %x, %g {axis = 1 : i64, epsilon = 1.0e-05 : f64} : (tensor<3x6xf32>, tensor<6xf32>) -> tensor<3x6xf32>
  return %y : tensor<3x6xf32>
}

// Training-mode batch_norm: the batch statistics depend on the input, so
// the input gradient has batch_norm_grad's two correction terms. The
// running statistics are buffers: updated, never differentiated.
func.func @batch_norm_train(%x: tensor<4x3x2x2xf32> {cleave.param = #cleave.param<"x", trainable>},
                            %g: tensor<3xf32> {cleave.param = #cleave.param<"scale", trainable>, gradcheck.init = array<f64: 0.5, 1.5>},
                            %b: tensor<3xf32> {cleave.param = #cleave.param<"bias", trainable>},
                            %m: tensor<3xf32> {cleave.param = #cleave.param<"running_mean", buffer>},
                            %v: tensor<3xf32> {cleave.param = #cleave.param<"running_var", buffer>, gradcheck.init = array<f64: 0.5, 1.5>}) -> tensor<4x3x2x2xf32> {
  %y, %rm, %rv = cleave.batch_norm %x, %g, %b, %m, %v {epsilon = 1.0e-05 : f64, momentum = 1.0e-01 : f64} : (tensor<4x3x2x2xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> (tensor<4x3x2x2xf32>, tensor<3xf32>, tensor<3xf32>)
  return %y : tensor<4x3x2x2xf32>
}

// batch_norm on [N, C] (no spatial dimensions).
func.func @batch_norm_2d(%x: tensor<6x4xf32> {cleave.param = #cleave.param<"x", trainable>},
                         %g: tensor<4xf32> {cleave.param = #cleave.param<"scale", trainable>, gradcheck.init = array<f64: 0.5, 1.5>},
                         %b: tensor<4xf32> {cleave.param = #cleave.param<"bias", trainable>},
                         %m: tensor<4xf32> {cleave.param = #cleave.param<"running_mean", buffer>},
                         %v: tensor<4xf32> {cleave.param = #cleave.param<"running_var", buffer>, gradcheck.init = array<f64: 0.5, 1.5>}) -> tensor<6x4xf32> {
  %y, %rm, %rv = cleave.batch_norm %x, %g, %b, %m, %v {epsilon = 1.0e-05 : f64, momentum = 1.0e-01 : f64} : (tensor<6x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<6x4xf32>, tensor<4xf32>, tensor<4xf32>)
  return %y : tensor<6x4xf32>
}

// cross_entropy of [4, 5] logits against labels from a data input:
// cross_entropy_grad (softmax - onehot) / N.
func.func @cross_entropy(%z: tensor<4x5xf32> {cleave.param = #cleave.param<"logits", trainable>, gradcheck.init = array<f64: -2.0, 2.0>},
                         %y: tensor<4xi64> {cleave.input = "labels", gradcheck.values = array<i64: 3, 0, 4, 0>}) -> tensor<f32> {
  %l = cleave.cross_entropy %z, %y : (tensor<4x5xf32>, tensor<4xi64>) -> tensor<f32>
  return %l : tensor<f32>
}
