// Gradient cases of conv2d and pool2d (ConvolutionGradients.cpp and the
// conv2d_grad_input / conv2d_grad_filter / pool2d_grad kernels).

// conv2d with bias, stride 1 and symmetric padding.
func.func @conv2d_padded_bias(%x: tensor<2x3x5x5xf32> {cleave.param = #cleave.param<"x", trainable>},
                              %w: tensor<4x3x3x3xf32> {cleave.param = #cleave.param<"w", trainable>},
                              %b: tensor<4xf32> {cleave.param = #cleave.param<"b", trainable>}) -> tensor<2x4x5x5xf32> {
  %y = cleave.conv2d %x, %w, %b {dilations = array<i64: 1, 1>, groups = 1 : i64, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<2x3x5x5xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<2x4x5x5xf32>
  return %y : tensor<2x4x5x5xf32>
}

// conv2d with strides (2, 1), asymmetric padding and 2 groups, no bias.
func.func @conv2d_strided_grouped(%x: tensor<2x4x6x5xf32> {cleave.param = #cleave.param<"x", trainable>},
                                  %w: tensor<6x2x3x2xf32> {cleave.param = #cleave.param<"w", trainable>}) -> tensor<2x6x3x5xf32> {
  %y = cleave.conv2d %x, %w {dilations = array<i64: 1, 1>, groups = 2 : i64, padding = array<i64: 1, 0, 0, 1>, strides = array<i64: 2, 1>} : (tensor<2x4x6x5xf32>, tensor<6x2x3x2xf32>) -> tensor<2x6x3x5xf32>
  return %y : tensor<2x6x3x5xf32>
}

// conv2d with dilation 2, stride 2 and a bias; depthwise (groups = channels).
func.func @conv2d_dilated_depthwise(%x: tensor<1x3x7x7xf32> {cleave.param = #cleave.param<"x", trainable>},
                                    %w: tensor<3x1x2x2xf32> {cleave.param = #cleave.param<"w", trainable>},
                                    %b: tensor<3xf32> {cleave.param = #cleave.param<"b", trainable>}) -> tensor<1x3x3x3xf32> {
  %y = cleave.conv2d %x, %w, %b {dilations = array<i64: 2, 2>, groups = 3 : i64, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<1x3x7x7xf32>, tensor<3x1x2x2xf32>, tensor<3xf32>) -> tensor<1x3x3x3xf32>
  return %y : tensor<1x3x3x3xf32>
}

// A 1x1, stride-1, unpadded conv2d: the kernels' direct path (no im2col).
func.func @conv2d_pointwise(%x: tensor<2x3x4x4xf32> {cleave.param = #cleave.param<"x", trainable>},
                            %w: tensor<5x3x1x1xf32> {cleave.param = #cleave.param<"w", trainable>},
                            %b: tensor<5xf32> {cleave.param = #cleave.param<"b", trainable>}) -> tensor<2x5x4x4xf32> {
  %y = cleave.conv2d %x, %w, %b {dilations = array<i64: 1, 1>, groups = 1 : i64, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<2x3x4x4xf32>, tensor<5x3x1x1xf32>, tensor<5xf32>) -> tensor<2x5x4x4xf32>
  return %y : tensor<2x5x4x4xf32>
}

// Max pooling with overlapping 3x3 windows, stride 2 and padding: each
// window's gradient goes to its maximum (distinct inputs, spaced well
// beyond eps, so that no maximum changes under the perturbation).
func.func @pool2d_max_padded(%x: tensor<2x2x5x5xf32> {cleave.param = #cleave.param<"x", trainable>, gradcheck.init = array<f64: -5.0, 5.0>}) -> tensor<2x2x3x3xf32> {
  %y = cleave.pool2d max %x {kernel = array<i64: 3, 3>, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : tensor<2x2x5x5xf32> -> tensor<2x2x3x3xf32>
  return %y : tensor<2x2x3x3xf32>
}

// Max pooling in ceil mode: the last, partial windows count.
func.func @pool2d_max_ceil(%x: tensor<1x2x5x6xf32> {cleave.param = #cleave.param<"x", trainable>, gradcheck.init = array<f64: -5.0, 5.0>}) -> tensor<1x2x3x3xf32> {
  %y = cleave.pool2d max %x {ceil_mode, kernel = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : tensor<1x2x5x6xf32> -> tensor<1x2x3x3xf32>
  return %y : tensor<1x2x3x3xf32>
}

// Average pooling with padding, not counting the padded elements.
func.func @pool2d_avg_padded(%x: tensor<2x2x5x5xf32> {cleave.param = #cleave.param<"x", trainable>}) -> tensor<2x2x3x3xf32> {
  %y = cleave.pool2d avg %x {kernel = array<i64: 3, 3>, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : tensor<2x2x5x5xf32> -> tensor<2x2x3x3xf32>
  return %y : tensor<2x2x3x3xf32>
}

// Average pooling with padding counted in the divisor.
func.func @pool2d_avg_count_include_pad(%x: tensor<2x2x5x5xf32> {cleave.param = #cleave.param<"x", trainable>}) -> tensor<2x2x3x3xf32> {
  %y = cleave.pool2d avg %x {count_include_pad, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : tensor<2x2x5x5xf32> -> tensor<2x2x3x3xf32>
  return %y : tensor<2x2x3x3xf32>
}

// Average pooling in ceil mode with padding: partial windows divide by
// their clipped size.
func.func @pool2d_avg_ceil_padded(%x: tensor<1x2x6x6xf32> {cleave.param = #cleave.param<"x", trainable>}) -> tensor<1x2x3x3xf32> {
  %y = cleave.pool2d avg %x {ceil_mode, count_include_pad, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 3, 3>} : tensor<1x2x6x6xf32> -> tensor<1x2x3x3xf32>
  return %y : tensor<1x2x3x3xf32>
}

// Average pooling in ceil mode with padding, not counting padded elements:
// the partial windows divide by what they cover of the input.
func.func @pool2d_avg_ceil_exclude_pad(%x: tensor<1x2x6x5xf32> {cleave.param = #cleave.param<"x", trainable>}) -> tensor<1x2x4x3xf32> {
  %y = cleave.pool2d avg %x {ceil_mode, kernel = array<i64: 3, 3>, padding = array<i64: 1, 0, 1, 1>, strides = array<i64: 2, 2>} : tensor<1x2x6x5xf32> -> tensor<1x2x4x3xf32>
  return %y : tensor<1x2x4x3xf32>
}
