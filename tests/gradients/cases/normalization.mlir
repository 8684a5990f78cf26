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

// cross_entropy with PyTorch's ignore_index and label_smoothing: rows
// labelled -100 get no gradient, the others (softmax - 0.9 onehot -
// 0.1/C), and the mean divides by the 3 rows not ignored.
func.func @cross_entropy_ignore_smoothing(%z: tensor<5x4xf32> {cleave.param = #cleave.param<"logits", trainable>, gradcheck.init = array<f64: -2.0, 2.0>},
                                          %y: tensor<5xi64> {cleave.input = "labels", gradcheck.values = array<i64: 2, -100, 0, -100, 3>}) -> tensor<f32> {
  %l = cleave.cross_entropy %z, %y {ignore_index = -100 : i64, label_smoothing = 1.000000e-01 : f64} : (tensor<5x4xf32>, tensor<5xi64>) -> tensor<f32>
  return %l : tensor<f32>
}

// The form cleave-attach-loss builds: the sum over rows not ignored,
// divided by their count (compare, cast, reduce), so that the gradient
// reaches the logits through the division.
func.func @cross_entropy_sum_over_count(%z: tensor<5x4xf32> {cleave.param = #cleave.param<"logits", trainable>, gradcheck.init = array<f64: -2.0, 2.0>},
                                        %y: tensor<5xi64> {cleave.input = "labels", gradcheck.values = array<i64: -100, 1, 1, 3, -100>}) -> tensor<f32> {
  %s = cleave.cross_entropy %z, %y {ignore_index = -100 : i64, label_smoothing = 2.500000e-01 : f64, sum} : (tensor<5x4xf32>, tensor<5xi64>) -> tensor<f32>
  %ignore = cleave.constant dense<-100> : tensor<i64>
  %kept = cleave.compare ne %y, %ignore : (tensor<5xi64>, tensor<i64>) -> tensor<5xi1>
  %keptf = cleave.cast %kept : tensor<5xi1> to tensor<5xf32>
  %count = cleave.reduce sum %keptf {axes = array<i64: 0>} : tensor<5xf32> -> tensor<f32>
  %l = cleave.binary div %s, %count : (tensor<f32>, tensor<f32>) -> tensor<f32>
  return %l : tensor<f32>
}

// A small transformer-style block end to end: embedding (tied with the
// output projection), layer norm, an MLP with an erf-GELU, a residual and
// cross-entropy over [B*T, V] rows. Gradients from several ops meet in one
// parameter (the tied table) and in the residual.
func.func @composite_block(%wte: tensor<7x4xf32> {cleave.param = #cleave.param<"wte", trainable>},
                           %g: tensor<4xf32> {cleave.param = #cleave.param<"ln.scale", trainable>, gradcheck.init = array<f64: 0.5, 1.5>},
                           %bln: tensor<4xf32> {cleave.param = #cleave.param<"ln.bias", trainable>},
                           %w1: tensor<8x4xf32> {cleave.param = #cleave.param<"fc1.weight", trainable>},
                           %b1: tensor<8xf32> {cleave.param = #cleave.param<"fc1.bias", trainable>},
                           %w2: tensor<4x8xf32> {cleave.param = #cleave.param<"fc2.weight", trainable>},
                           %ids: tensor<2x3xi64> {cleave.input = "ids", gradcheck.values = array<i64: 1, 4, 4, 6, 0, 1>},
                           %labels: tensor<6xi64> {cleave.input = "labels", gradcheck.values = array<i64: 4, 4, 6, 0, 1, 2>}) -> tensor<f32> {
  %e = cleave.gather %wte[%ids] {axis = 0 : i64} : (tensor<7x4xf32>, tensor<2x3xi64>) -> tensor<2x3x4xf32>
  %n = cleave.layer_norm %e, %g, %bln {axis = 2 : i64, epsilon = 1.0e-05 : f64} : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
  %h = cleave.matmul %n, %w1 {transpose_b} : (tensor<2x3x4xf32>, tensor<8x4xf32>) -> tensor<2x3x8xf32>
  %hb = cleave.binary add %h, %b1 : (tensor<2x3x8xf32>, tensor<8xf32>) -> tensor<2x3x8xf32>
  %c = cleave.constant dense<0.707106769> : tensor<f32>
  %half = cleave.constant dense<0.5> : tensor<f32>
  %one = cleave.constant dense<1.0> : tensor<f32>
  %s = cleave.binary mul %hb, %c : (tensor<2x3x8xf32>, tensor<f32>) -> tensor<2x3x8xf32>
  %erf = cleave.unary erf %s : tensor<2x3x8xf32>
  %p = cleave.binary add %erf, %one : (tensor<2x3x8xf32>, tensor<f32>) -> tensor<2x3x8xf32>
  %q = cleave.binary mul %hb, %p : (tensor<2x3x8xf32>, tensor<2x3x8xf32>) -> tensor<2x3x8xf32>
  %gelu = cleave.binary mul %q, %half : (tensor<2x3x8xf32>, tensor<f32>) -> tensor<2x3x8xf32>
  %o = cleave.matmul %gelu, %w2 {transpose_b} : (tensor<2x3x8xf32>, tensor<4x8xf32>) -> tensor<2x3x4xf32>
  %r = cleave.binary add %e, %o : (tensor<2x3x4xf32>, tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %logits = cleave.matmul %r, %wte {transpose_b} : (tensor<2x3x4xf32>, tensor<7x4xf32>) -> tensor<2x3x7xf32>
  %rows = cleave.reshape %logits : tensor<2x3x7xf32> to tensor<6x7xf32>
  %l = cleave.cross_entropy %rows, %labels : (tensor<6x7xf32>, tensor<6xi64>) -> tensor<f32>
  return %l : tensor<f32>
}
