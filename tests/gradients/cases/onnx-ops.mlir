// Gradient cases of the ONNX ops the importer decomposes (rules/Indexing.cpp,
// Loss.cpp, Resize.cpp, Convolution.cpp, Normalization.cpp): each function
// is `cleavec MODEL.onnxtext --emit=mlir` of a one-node model, with the
// float inputs made parameters, so the gradients of the decomposition as
// imported are checked end to end.

// GatherElements along axis 1 with repeated and negative indices: a gather
// from the flattened data at offsets built from iotas at run time.
func.func @gather_elements(%arg0: tensor<3x4xf32> {cleave.param = #cleave.param<"x", trainable>},
                          %arg1: tensor<3x5xi64> {cleave.input = "i", gradcheck.values = array<i64: 3, 0, -1, 2, 2, 1, 1, 0, 3, -4, 2, 3, 0, 0, 1>}) -> (tensor<3x5xf32>) {
  %0 = cleave.constant dense<0> : tensor<i64>
  %1 = cleave.compare lt %arg1, %0 : (tensor<3x5xi64>, tensor<i64>) -> tensor<3x5xi1>
  %2 = cleave.constant dense<4> : tensor<i64>
  %3 = cleave.binary add %arg1, %2 : (tensor<3x5xi64>, tensor<i64>) -> tensor<3x5xi64>
  %4 = cleave.select %1, %3, %arg1 : (tensor<3x5xi1>, tensor<3x5xi64>, tensor<3x5xi64>) -> tensor<3x5xi64>
  %5 = cleave.iota {start = 0 : i64, step = 4 : i64} : tensor<3xi64>
  %6 = cleave.reshape %5 : tensor<3xi64> to tensor<3x1xi64>
  %7 = cleave.binary add %4, %6 : (tensor<3x5xi64>, tensor<3x1xi64>) -> tensor<3x5xi64>
  %8 = cleave.reshape %arg0 : tensor<3x4xf32> to tensor<12xf32>
  %9 = cleave.gather %8[%7] {axis = 0 : i64} : (tensor<12xf32>, tensor<3x5xi64>) -> tensor<3x5xf32>
  return %9 : tensor<3x5xf32>
}

// ScatterElements without reduction: the updates replace the data where a
// scatter of ones hits (select), so the data's gradient is zero there.
func.func @scatter_elements_none(%arg0: tensor<4x3xf32> {cleave.param = #cleave.param<"data", trainable>},
                                %arg1: tensor<2x3xi64> {cleave.input = "i", gradcheck.values = array<i64: 1, 0, 3, 3, 2, 0>},
                                %arg2: tensor<2x3xf32> {cleave.param = #cleave.param<"u", trainable>}) -> (tensor<4x3xf32>) {
  %0 = cleave.constant dense<0> : tensor<i64>
  %1 = cleave.compare lt %arg1, %0 : (tensor<2x3xi64>, tensor<i64>) -> tensor<2x3xi1>
  %2 = cleave.constant dense<4> : tensor<i64>
  %3 = cleave.binary add %arg1, %2 : (tensor<2x3xi64>, tensor<i64>) -> tensor<2x3xi64>
  %4 = cleave.select %1, %3, %arg1 : (tensor<2x3xi1>, tensor<2x3xi64>, tensor<2x3xi64>) -> tensor<2x3xi64>
  %5 = cleave.constant dense<3> : tensor<i64>
  %6 = cleave.binary mul %4, %5 : (tensor<2x3xi64>, tensor<i64>) -> tensor<2x3xi64>
  %7 = cleave.iota {start = 0 : i64, step = 1 : i64} : tensor<3xi64>
  %8 = cleave.reshape %7 : tensor<3xi64> to tensor<1x3xi64>
  %9 = cleave.binary add %6, %8 : (tensor<2x3xi64>, tensor<1x3xi64>) -> tensor<2x3xi64>
  %10 = cleave.reshape %arg0 : tensor<4x3xf32> to tensor<12xf32>
  %11 = cleave.scatter_add %arg2[%9] {axis = 0 : i64} : (tensor<2x3xf32>, tensor<2x3xi64>) -> tensor<12xf32>
  %12 = cleave.constant dense<1.000000e+00> : tensor<f32>
  %13 = cleave.broadcast %12 : tensor<f32> to tensor<2x3xf32>
  %14 = cleave.scatter_add %13[%9] {axis = 0 : i64} : (tensor<2x3xf32>, tensor<2x3xi64>) -> tensor<12xf32>
  %15 = cleave.constant dense<0.000000e+00> : tensor<f32>
  %16 = cleave.compare gt %14, %15 : (tensor<12xf32>, tensor<f32>) -> tensor<12xi1>
  %17 = cleave.select %16, %11, %10 : (tensor<12xi1>, tensor<12xf32>, tensor<12xf32>) -> tensor<12xf32>
  %18 = cleave.reshape %17 : tensor<12xf32> to tensor<4x3xf32>
  return %18 : tensor<4x3xf32>
}

// ScatterElements with reduction add and a repeated index: both updates
// land on the same element; each gets its gradient back by a gather.
func.func @scatter_elements_add(%arg0: tensor<2x5xf32> {cleave.param = #cleave.param<"data", trainable>},
                               %arg1: tensor<2x4xi64> {cleave.input = "i", gradcheck.values = array<i64: 0, 4, 4, 1, 2, 2, -1, 0>},
                               %arg2: tensor<2x4xf32> {cleave.param = #cleave.param<"u", trainable>}) -> (tensor<2x5xf32>) {
  %0 = cleave.constant dense<0> : tensor<i64>
  %1 = cleave.compare lt %arg1, %0 : (tensor<2x4xi64>, tensor<i64>) -> tensor<2x4xi1>
  %2 = cleave.constant dense<5> : tensor<i64>
  %3 = cleave.binary add %arg1, %2 : (tensor<2x4xi64>, tensor<i64>) -> tensor<2x4xi64>
  %4 = cleave.select %1, %3, %arg1 : (tensor<2x4xi1>, tensor<2x4xi64>, tensor<2x4xi64>) -> tensor<2x4xi64>
  %5 = cleave.iota {start = 0 : i64, step = 5 : i64} : tensor<2xi64>
  %6 = cleave.reshape %5 : tensor<2xi64> to tensor<2x1xi64>
  %7 = cleave.binary add %4, %6 : (tensor<2x4xi64>, tensor<2x1xi64>) -> tensor<2x4xi64>
  %8 = cleave.reshape %arg0 : tensor<2x5xf32> to tensor<10xf32>
  %9 = cleave.scatter_add %arg2[%7] {axis = 0 : i64} : (tensor<2x4xf32>, tensor<2x4xi64>) -> tensor<10xf32>
  %10 = cleave.binary add %8, %9 : (tensor<10xf32>, tensor<10xf32>) -> tensor<10xf32>
  %11 = cleave.reshape %10 : tensor<10xf32> to tensor<2x5xf32>
  return %11 : tensor<2x5xf32>
}

// ScatterND of two [2, 3] slices into a [4, 2, 3] tensor (index -1 is row 3).
func.func @scatter_nd(%arg0: tensor<4x2x3xf32> {cleave.param = #cleave.param<"data", trainable>},
                     %arg1: tensor<2x1xi64> {cleave.input = "i", gradcheck.values = array<i64: 2, -1>},
                     %arg2: tensor<2x2x3xf32> {cleave.param = #cleave.param<"u", trainable>}) -> (tensor<4x2x3xf32>) {
  %0 = cleave.constant dense<4> : tensor<1xi64>
  %1 = cleave.constant dense<0> : tensor<i64>
  %2 = cleave.compare lt %arg1, %1 : (tensor<2x1xi64>, tensor<i64>) -> tensor<2x1xi1>
  %3 = cleave.binary add %arg1, %0 : (tensor<2x1xi64>, tensor<1xi64>) -> tensor<2x1xi64>
  %4 = cleave.select %2, %3, %arg1 : (tensor<2x1xi1>, tensor<2x1xi64>, tensor<2x1xi64>) -> tensor<2x1xi64>
  %5 = cleave.constant dense<1> : tensor<1xi64>
  %6 = cleave.binary mul %4, %5 : (tensor<2x1xi64>, tensor<1xi64>) -> tensor<2x1xi64>
  %7 = cleave.reduce sum %6 {axes = array<i64: 1>} : tensor<2x1xi64> -> tensor<2xi64>
  %8 = cleave.scatter_add %arg2[%7] {axis = 0 : i64} : (tensor<2x2x3xf32>, tensor<2xi64>) -> tensor<4x2x3xf32>
  %9 = cleave.constant dense<1.000000e+00> : tensor<f32>
  %10 = cleave.broadcast %9 : tensor<f32> to tensor<2x2x3xf32>
  %11 = cleave.scatter_add %10[%7] {axis = 0 : i64} : (tensor<2x2x3xf32>, tensor<2xi64>) -> tensor<4x2x3xf32>
  %12 = cleave.constant dense<0.000000e+00> : tensor<f32>
  %13 = cleave.compare gt %11, %12 : (tensor<4x2x3xf32>, tensor<f32>) -> tensor<4x2x3xi1>
  %14 = cleave.select %13, %8, %arg0 : (tensor<4x2x3xi1>, tensor<4x2x3xf32>, tensor<4x2x3xf32>) -> tensor<4x2x3xf32>
  return %14 : tensor<4x2x3xf32>
}

// ScatterND with reduction mul and row 2 addressed twice: two rounds of
// scatter_add, multiply and select, each writing a row at most once.
func.func @scatter_nd_mul(%arg0: tensor<4x3xf32> {cleave.param = #cleave.param<"data", trainable>},
                         %arg1: tensor<3x3xf32> {cleave.param = #cleave.param<"u", trainable>}) -> (tensor<4x3xf32>) {
  %0 = cleave.constant dense<[2, 0, 2]> : tensor<3xi64>
  %1 = cleave.constant dense<0.000000e+00> : tensor<f32>
  %2 = cleave.constant dense<[[true], [true], [false]]> : tensor<3x1xi1>
  %3 = cleave.select %2, %arg1, %1 : (tensor<3x1xi1>, tensor<3x3xf32>, tensor<f32>) -> tensor<3x3xf32>
  %4 = cleave.scatter_add %3[%0] {axis = 0 : i64} : (tensor<3x3xf32>, tensor<3xi64>) -> tensor<4x3xf32>
  %5 = cleave.binary mul %arg0, %4 : (tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>
  %6 = cleave.constant dense<[[true], [false], [true], [false]]> : tensor<4x1xi1>
  %7 = cleave.select %6, %5, %arg0 : (tensor<4x1xi1>, tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>
  %8 = cleave.constant dense<0.000000e+00> : tensor<f32>
  %9 = cleave.constant dense<[[false], [false], [true]]> : tensor<3x1xi1>
  %10 = cleave.select %9, %arg1, %8 : (tensor<3x1xi1>, tensor<3x3xf32>, tensor<f32>) -> tensor<3x3xf32>
  %11 = cleave.scatter_add %10[%0] {axis = 0 : i64} : (tensor<3x3xf32>, tensor<3xi64>) -> tensor<4x3xf32>
  %12 = cleave.binary mul %7, %11 : (tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>
  %13 = cleave.constant dense<[[false], [false], [true], [false]]> : tensor<4x1xi1>
  %14 = cleave.select %13, %12, %7 : (tensor<4x1xi1>, tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>
  return %14 : tensor<4x3xf32>
}

// GatherND with batch_dims 1 and run-time index pairs (one repeated, some
// negative): rows of the data with its batch and addressed dimensions
// flattened, at offsets that add a strided iota for the batch.
func.func @gather_nd(%arg0: tensor<2x3x4x2xf32> {cleave.param = #cleave.param<"x", trainable>},
                    %arg1: tensor<2x3x2xi64> {cleave.input = "i", gradcheck.values = array<i64: 0, 3, 2, -1, 1, 0, 2, 2, -3, 1, 0, 0>}) -> (tensor<2x3x2xf32>) {
  %0 = cleave.constant dense<[3, 4]> : tensor<2xi64>
  %1 = cleave.constant dense<0> : tensor<i64>
  %2 = cleave.compare lt %arg1, %1 : (tensor<2x3x2xi64>, tensor<i64>) -> tensor<2x3x2xi1>
  %3 = cleave.binary add %arg1, %0 : (tensor<2x3x2xi64>, tensor<2xi64>) -> tensor<2x3x2xi64>
  %4 = cleave.select %2, %3, %arg1 : (tensor<2x3x2xi1>, tensor<2x3x2xi64>, tensor<2x3x2xi64>) -> tensor<2x3x2xi64>
  %5 = cleave.constant dense<[4, 1]> : tensor<2xi64>
  %6 = cleave.binary mul %4, %5 : (tensor<2x3x2xi64>, tensor<2xi64>) -> tensor<2x3x2xi64>
  %7 = cleave.reduce sum %6 {axes = array<i64: 2>} : tensor<2x3x2xi64> -> tensor<2x3xi64>
  %8 = cleave.iota {start = 0 : i64, step = 12 : i64} : tensor<2xi64>
  %9 = cleave.reshape %8 : tensor<2xi64> to tensor<2x1xi64>
  %10 = cleave.binary add %7, %9 : (tensor<2x3xi64>, tensor<2x1xi64>) -> tensor<2x3xi64>
  %11 = cleave.compare lt %4, %0 : (tensor<2x3x2xi64>, tensor<2xi64>) -> tensor<2x3x2xi1>
  %12 = cleave.constant dense<0> : tensor<i64>
  %13 = cleave.compare ge %4, %12 : (tensor<2x3x2xi64>, tensor<i64>) -> tensor<2x3x2xi1>
  %14 = cleave.binary logical_and %11, %13 : (tensor<2x3x2xi1>, tensor<2x3x2xi1>) -> tensor<2x3x2xi1>
  %15 = cleave.cast %14 : tensor<2x3x2xi1> to tensor<2x3x2xi64>
  %16 = cleave.reduce min %15 {axes = array<i64: 2>} : tensor<2x3x2xi64> -> tensor<2x3xi64>
  %17 = cleave.constant dense<0> : tensor<i64>
  %18 = cleave.compare ne %16, %17 : (tensor<2x3xi64>, tensor<i64>) -> tensor<2x3xi1>
  %19 = cleave.constant dense<24> : tensor<i64>
  %20 = cleave.select %18, %10, %19 : (tensor<2x3xi1>, tensor<2x3xi64>, tensor<i64>) -> tensor<2x3xi64>
  %21 = cleave.reshape %arg0 : tensor<2x3x4x2xf32> to tensor<24x2xf32>
  %22 = cleave.gather %21[%20] {axis = 0 : i64} : (tensor<24x2xf32>, tensor<2x3xi64>) -> tensor<2x3x2xf32>
  return %22 : tensor<2x3x2xf32>
}

// NegativeLogLikelihoodLoss over [N, C, d1] with class weights and an
// ignored target (-1): the weighted mean divides by the weights that count,
// so the weights get a gradient too (kept positive: a total weight near 0
// would put a pole within eps).
func.func @nll_weight_ignore(%arg0: tensor<3x5x2xf32> {cleave.param = #cleave.param<"x", trainable>},
                            %arg1: tensor<3x2xi64> {cleave.input = "t", gradcheck.values = array<i64: 0, 4, -1, 2, 2, 3>},
                            %arg2: tensor<5xf32> {cleave.param = #cleave.param<"w", trainable>, gradcheck.init = array<f64: 0.5, 1.5>}) -> (tensor<f32>) {
  %0 = cleave.constant dense<-1> : tensor<i64>
  %1 = cleave.compare ne %arg1, %0 : (tensor<3x2xi64>, tensor<i64>) -> tensor<3x2xi1>
  %2 = cleave.constant dense<0> : tensor<i64>
  %3 = cleave.select %1, %arg1, %2 : (tensor<3x2xi1>, tensor<3x2xi64>, tensor<i64>) -> tensor<3x2xi64>
  %4 = cleave.constant dense<-1> : tensor<i64>
  %5 = cleave.select %1, %arg1, %4 : (tensor<3x2xi1>, tensor<3x2xi64>, tensor<i64>) -> tensor<3x2xi64>
  %6 = cleave.reshape %5 : tensor<3x2xi64> to tensor<3x1x2xi64>
  %7 = cleave.iota {start = 0 : i64, step = 1 : i64} : tensor<5xi64>
  %8 = cleave.reshape %7 : tensor<5xi64> to tensor<1x5x1xi64>
  %9 = cleave.compare eq %6, %8 : (tensor<3x1x2xi64>, tensor<1x5x1xi64>) -> tensor<3x5x2xi1>
  %10 = cleave.constant dense<0.000000e+00> : tensor<f32>
  %11 = cleave.select %9, %arg0, %10 : (tensor<3x5x2xi1>, tensor<3x5x2xf32>, tensor<f32>) -> tensor<3x5x2xf32>
  %12 = cleave.reduce sum %11 {axes = array<i64: 1>} : tensor<3x5x2xf32> -> tensor<3x2xf32>
  %13 = cleave.gather %arg2[%3] {axis = 0 : i64} : (tensor<5xf32>, tensor<3x2xi64>) -> tensor<3x2xf32>
  %14 = cleave.constant dense<0.000000e+00> : tensor<f32>
  %15 = cleave.select %1, %13, %14 : (tensor<3x2xi1>, tensor<3x2xf32>, tensor<f32>) -> tensor<3x2xf32>
  %16 = cleave.unary neg %12 : tensor<3x2xf32>
  %17 = cleave.binary mul %16, %15 : (tensor<3x2xf32>, tensor<3x2xf32>) -> tensor<3x2xf32>
  %18 = cleave.reduce sum %15 {axes = array<i64: 0, 1>} : tensor<3x2xf32> -> tensor<f32>
  %19 = cleave.reduce sum %17 {axes = array<i64: 0, 1>} : tensor<3x2xf32> -> tensor<f32>
  %20 = cleave.binary div %19, %18 : (tensor<f32>, tensor<f32>) -> tensor<f32>
  return %20 : tensor<f32>
}

// SoftmaxCrossEntropyLoss with mean reduction and its log_prob output.
func.func @sce_mean(%arg0: tensor<4x6xf32> {cleave.param = #cleave.param<"x", trainable>},
                   %arg1: tensor<4xi64> {cleave.input = "t", gradcheck.values = array<i64: 5, 0, 3, 3>}) -> (tensor<f32>, tensor<4x6xf32>) {
  %0 = cleave.softmax %arg0 {axis = 1 : i64, log} : tensor<4x6xf32>
  %1 = cleave.reshape %arg1 : tensor<4xi64> to tensor<4x1xi64>
  %2 = cleave.iota {start = 0 : i64, step = 1 : i64} : tensor<6xi64>
  %3 = cleave.reshape %2 : tensor<6xi64> to tensor<1x6xi64>
  %4 = cleave.compare eq %1, %3 : (tensor<4x1xi64>, tensor<1x6xi64>) -> tensor<4x6xi1>
  %5 = cleave.constant dense<0.000000e+00> : tensor<f32>
  %6 = cleave.select %4, %0, %5 : (tensor<4x6xi1>, tensor<4x6xf32>, tensor<f32>) -> tensor<4x6xf32>
  %7 = cleave.reduce sum %6 {axes = array<i64: 1>} : tensor<4x6xf32> -> tensor<4xf32>
  %8 = cleave.constant dense<1.000000e+00> : tensor<f32>
  %9 = cleave.broadcast %8 : tensor<f32> to tensor<6xf32>
  %10 = cleave.gather %9[%arg1] {axis = 0 : i64} : (tensor<6xf32>, tensor<4xi64>) -> tensor<4xf32>
  %11 = cleave.unary neg %7 : tensor<4xf32>
  %12 = cleave.binary mul %11, %10 : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %13 = cleave.reduce mean %12 {axes = array<i64: 0>} : tensor<4xf32> -> tensor<f32>
  return %13, %0 : tensor<f32>, tensor<4x6xf32>
}

// SoftmaxCrossEntropyLoss without reduction over [N, C, d1]; class 2 is
// ignored and its positions get no gradient.
func.func @sce_none_ignore(%arg0: tensor<2x4x3xf32> {cleave.param = #cleave.param<"x", trainable>},
                          %arg1: tensor<2x3xi64> {cleave.input = "t", gradcheck.values = array<i64: 0, 2, 3, 2, 1, 1>}) -> (tensor<2x3xf32>) {
  %0 = cleave.softmax %arg0 {axis = 1 : i64, log} : tensor<2x4x3xf32>
  %1 = cleave.constant dense<2> : tensor<i64>
  %2 = cleave.compare ne %arg1, %1 : (tensor<2x3xi64>, tensor<i64>) -> tensor<2x3xi1>
  %3 = cleave.constant dense<0> : tensor<i64>
  %4 = cleave.select %2, %arg1, %3 : (tensor<2x3xi1>, tensor<2x3xi64>, tensor<i64>) -> tensor<2x3xi64>
  %5 = cleave.constant dense<-1> : tensor<i64>
  %6 = cleave.select %2, %arg1, %5 : (tensor<2x3xi1>, tensor<2x3xi64>, tensor<i64>) -> tensor<2x3xi64>
  %7 = cleave.reshape %6 : tensor<2x3xi64> to tensor<2x1x3xi64>
  %8 = cleave.iota {start = 0 : i64, step = 1 : i64} : tensor<4xi64>
  %9 = cleave.reshape %8 : tensor<4xi64> to tensor<1x4x1xi64>
  %10 = cleave.compare eq %7, %9 : (tensor<2x1x3xi64>, tensor<1x4x1xi64>) -> tensor<2x4x3xi1>
  %11 = cleave.constant dense<0.000000e+00> : tensor<f32>
  %12 = cleave.select %10, %0, %11 : (tensor<2x4x3xi1>, tensor<2x4x3xf32>, tensor<f32>) -> tensor<2x4x3xf32>
  %13 = cleave.reduce sum %12 {axes = array<i64: 1>} : tensor<2x4x3xf32> -> tensor<2x3xf32>
  %14 = cleave.constant dense<1.000000e+00> : tensor<f32>
  %15 = cleave.broadcast %14 : tensor<f32> to tensor<4xf32>
  %16 = cleave.gather %15[%4] {axis = 0 : i64} : (tensor<4xf32>, tensor<2x3xi64>) -> tensor<2x3xf32>
  %17 = cleave.constant dense<0.000000e+00> : tensor<f32>
  %18 = cleave.select %2, %16, %17 : (tensor<2x3xi1>, tensor<2x3xf32>, tensor<f32>) -> tensor<2x3xf32>
  %19 = cleave.unary neg %13 : tensor<2x3xf32>
  %20 = cleave.binary mul %19, %18 : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  return %20 : tensor<2x3xf32>
}

// Resize, linear with half_pixel coordinates, 3x4 -> 5x7 by sizes.
func.func @resize_linear(%arg0: tensor<1x2x3x4xf32> {cleave.param = #cleave.param<"x", trainable>}) -> (tensor<1x2x5x7xf32>) {
  %0 = cleave.constant dense<[0, 0, 1, 1, 2]> : tensor<5xi64>
  %1 = cleave.gather %arg0[%0] {axis = 2 : i64} : (tensor<1x2x3x4xf32>, tensor<5xi64>) -> tensor<1x2x5x4xf32>
  %2 = cleave.constant dense<[[[[2.000000e-01], [6.000000e-01], [1.000000e+00], [4.000000e-01], [8.000000e-01]]]]> : tensor<1x1x5x1xf32>
  %3 = cleave.binary mul %1, %2 : (tensor<1x2x5x4xf32>, tensor<1x1x5x1xf32>) -> tensor<1x2x5x4xf32>
  %4 = cleave.constant dense<[0, 1, 2, 2, 2]> : tensor<5xi64>
  %5 = cleave.gather %arg0[%4] {axis = 2 : i64} : (tensor<1x2x3x4xf32>, tensor<5xi64>) -> tensor<1x2x5x4xf32>
  %6 = cleave.constant dense<[[[[8.000000e-01], [4.000000e-01], [0.000000e+00], [6.000000e-01], [2.000000e-01]]]]> : tensor<1x1x5x1xf32>
  %7 = cleave.binary mul %5, %6 : (tensor<1x2x5x4xf32>, tensor<1x1x5x1xf32>) -> tensor<1x2x5x4xf32>
  %8 = cleave.binary add %3, %7 : (tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>) -> tensor<1x2x5x4xf32>
  %9 = cleave.constant dense<[0, 0, 0, 1, 2, 2, 3]> : tensor<7xi64>
  %10 = cleave.gather %8[%9] {axis = 3 : i64} : (tensor<1x2x5x4xf32>, tensor<7xi64>) -> tensor<1x2x5x7xf32>
  %11 = cleave.constant dense<[[[[0.214285716, 0.642857134, 0.0714285746, 5.000000e-01, 0.928571403, 0.357142866, 0.785714268]]]]> : tensor<1x1x1x7xf32>
  %12 = cleave.binary mul %10, %11 : (tensor<1x2x5x7xf32>, tensor<1x1x1x7xf32>) -> tensor<1x2x5x7xf32>
  %13 = cleave.constant dense<[0, 1, 1, 2, 3, 3, 3]> : tensor<7xi64>
  %14 = cleave.gather %8[%13] {axis = 3 : i64} : (tensor<1x2x5x4xf32>, tensor<7xi64>) -> tensor<1x2x5x7xf32>
  %15 = cleave.constant dense<[[[[0.785714268, 0.357142866, 0.928571403, 5.000000e-01, 0.0714285746, 0.642857134, 0.214285716]]]]> : tensor<1x1x1x7xf32>
  %16 = cleave.binary mul %14, %15 : (tensor<1x2x5x7xf32>, tensor<1x1x1x7xf32>) -> tensor<1x2x5x7xf32>
  %17 = cleave.binary add %12, %16 : (tensor<1x2x5x7xf32>, tensor<1x2x5x7xf32>) -> tensor<1x2x5x7xf32>
  return %17 : tensor<1x2x5x7xf32>
}

// Resize: cubic with align_corners (four gathers per axis) and nearest
// with asymmetric coordinates and round_prefer_ceil.
func.func @resize_cubic_nearest(%arg0: tensor<1x1x4x5xf32> {cleave.param = #cleave.param<"x", trainable>}) -> (tensor<1x1x6x8xf32>, tensor<1x1x8x3xf32>) {
  %0 = cleave.constant dense<[0, 0, 0, 0, 1, 1]> : tensor<6xi64>
  %1 = cleave.gather %arg0[%0] {axis = 2 : i64} : (tensor<1x1x4x5xf32>, tensor<6xi64>) -> tensor<1x1x6x5xf32>
  %2 = cleave.constant dense<[[[[0.000000e+00], [-0.0719999969], [-9.600000e-02], [-2.400000e-02], [-1.080000e-01], [0.000000e+00]]]]> : tensor<1x1x6x1xf32>
  %3 = cleave.binary mul %1, %2 : (tensor<1x1x6x5xf32>, tensor<1x1x6x1xf32>) -> tensor<1x1x6x5xf32>
  %4 = cleave.constant dense<[0, 0, 1, 1, 2, 2]> : tensor<6xi64>
  %5 = cleave.gather %arg0[%4] {axis = 2 : i64} : (tensor<1x1x4x5xf32>, tensor<6xi64>) -> tensor<1x1x6x5xf32>
  %6 = cleave.constant dense<[[[[0.000000e+00], [4.600000e-01], [9.200000e-01], [2.000000e-01], [7.200000e-01], [0.000000e+00]]]]> : tensor<1x1x6x1xf32>
  %7 = cleave.binary mul %5, %6 : (tensor<1x1x6x5xf32>, tensor<1x1x6x1xf32>) -> tensor<1x1x6x5xf32>
  %8 = cleave.binary add %3, %7 : (tensor<1x1x6x5xf32>, tensor<1x1x6x5xf32>) -> tensor<1x1x6x5xf32>
  %9 = cleave.constant dense<[0, 1, 2, 2, 3, 3]> : tensor<6xi64>
  %10 = cleave.gather %arg0[%9] {axis = 2 : i64} : (tensor<1x1x4x5xf32>, tensor<6xi64>) -> tensor<1x1x6x5xf32>
  %11 = cleave.constant dense<[[[[1.000000e+00], [7.200000e-01], [2.000000e-01], [9.200000e-01], [4.600000e-01], [1.000000e+00]]]]> : tensor<1x1x6x1xf32>
  %12 = cleave.binary mul %10, %11 : (tensor<1x1x6x5xf32>, tensor<1x1x6x1xf32>) -> tensor<1x1x6x5xf32>
  %13 = cleave.binary add %8, %12 : (tensor<1x1x6x5xf32>, tensor<1x1x6x5xf32>) -> tensor<1x1x6x5xf32>
  %14 = cleave.constant dense<[1, 2, 3, 3, 3, 3]> : tensor<6xi64>
  %15 = cleave.gather %arg0[%14] {axis = 2 : i64} : (tensor<1x1x4x5xf32>, tensor<6xi64>) -> tensor<1x1x6x5xf32>
  %16 = cleave.constant dense<[[[[0.000000e+00], [-1.080000e-01], [-2.400000e-02], [-9.600000e-02], [-0.0719999969], [0.000000e+00]]]]> : tensor<1x1x6x1xf32>
  %17 = cleave.binary mul %15, %16 : (tensor<1x1x6x5xf32>, tensor<1x1x6x1xf32>) -> tensor<1x1x6x5xf32>
  %18 = cleave.binary add %13, %17 : (tensor<1x1x6x5xf32>, tensor<1x1x6x5xf32>) -> tensor<1x1x6x5xf32>
  %19 = cleave.constant dense<[0, 0, 0, 0, 1, 1, 2, 2]> : tensor<8xi64>
  %20 = cleave.gather %18[%19] {axis = 3 : i64} : (tensor<1x1x6x5xf32>, tensor<8xi64>) -> tensor<1x1x6x8xf32>
  %21 = cleave.constant dense<[[[[0.000000e+00, -7.871720e-02, -0.0787171944, -0.0437317863, -0.10932944, -0.013119542, -0.104956277, -4.4408921E-15]]]]> : tensor<1x1x1x8xf32>
  %22 = cleave.binary mul %20, %21 : (tensor<1x1x6x8xf32>, tensor<1x1x1x8xf32>) -> tensor<1x1x6x8xf32>
  %23 = cleave.constant dense<[0, 0, 1, 1, 2, 2, 3, 3]> : tensor<8xi64>
  %24 = cleave.gather %18[%23] {axis = 3 : i64} : (tensor<1x1x6x5xf32>, tensor<8xi64>) -> tensor<1x1x6x8xf32>
  %25 = cleave.constant dense<[[[[0.000000e+00, 0.498542279, 0.957725942, 0.307580203, 0.845481097, 0.134110838, 0.685131251, 5.10897031E-8]]]]> : tensor<1x1x1x8xf32>
  %26 = cleave.binary mul %24, %25 : (tensor<1x1x6x8xf32>, tensor<1x1x1x8xf32>) -> tensor<1x1x6x8xf32>
  %27 = cleave.binary add %22, %26 : (tensor<1x1x6x8xf32>, tensor<1x1x6x8xf32>) -> tensor<1x1x6x8xf32>
  %28 = cleave.constant dense<[0, 1, 2, 2, 3, 3, 4, 4]> : tensor<8xi64>
  %29 = cleave.gather %18[%28] {axis = 3 : i64} : (tensor<1x1x6x5xf32>, tensor<8xi64>) -> tensor<1x1x6x8xf32>
  %30 = cleave.constant dense<[[[[1.000000e+00, 0.685131192, 0.134110764, 0.845481038, 0.307580113, 0.957725942, 0.49854219, 1.000000e+00]]]]> : tensor<1x1x1x8xf32>
  %31 = cleave.binary mul %29, %30 : (tensor<1x1x6x8xf32>, tensor<1x1x1x8xf32>) -> tensor<1x1x6x8xf32>
  %32 = cleave.binary add %27, %31 : (tensor<1x1x6x8xf32>, tensor<1x1x6x8xf32>) -> tensor<1x1x6x8xf32>
  %33 = cleave.constant dense<[1, 2, 3, 3, 4, 4, 4, 4]> : tensor<8xi64>
  %34 = cleave.gather %18[%33] {axis = 3 : i64} : (tensor<1x1x6x5xf32>, tensor<8xi64>) -> tensor<1x1x6x8xf32>
  %35 = cleave.constant dense<[[[[0.000000e+00, -0.104956269, -0.0131195299, -0.109329447, -0.0437317677, -0.0787172168, -0.078717187, -5.10896889E-8]]]]> : tensor<1x1x1x8xf32>
  %36 = cleave.binary mul %34, %35 : (tensor<1x1x6x8xf32>, tensor<1x1x1x8xf32>) -> tensor<1x1x6x8xf32>
  %37 = cleave.binary add %32, %36 : (tensor<1x1x6x8xf32>, tensor<1x1x6x8xf32>) -> tensor<1x1x6x8xf32>
  %38 = cleave.constant dense<[0, 1, 1, 2, 2, 3, 3, 3]> : tensor<8xi64>
  %39 = cleave.gather %arg0[%38] {axis = 2 : i64} : (tensor<1x1x4x5xf32>, tensor<8xi64>) -> tensor<1x1x8x5xf32>
  %40 = cleave.constant dense<[0, 2, 3]> : tensor<3xi64>
  %41 = cleave.gather %39[%40] {axis = 3 : i64} : (tensor<1x1x8x5xf32>, tensor<3xi64>) -> tensor<1x1x8x3xf32>
  return %37, %41 : tensor<1x1x6x8xf32>, tensor<1x1x8x3xf32>
}

// ConvTranspose with strides, uneven pads, output_padding, groups and a
// bias: cleave.conv2d_grad_input, differentiated by conv2d and
// conv2d_grad_filter.
func.func @conv_transpose(%arg0: tensor<2x4x3x3xf32> {cleave.param = #cleave.param<"x", trainable>},
                         %arg1: tensor<4x3x3x2xf32> {cleave.param = #cleave.param<"w", trainable>},
                         %arg2: tensor<6xf32> {cleave.param = #cleave.param<"b", trainable>}) -> (tensor<2x6x7x6xf32>) {
  %0 = cleave.conv2d_grad_input %arg0, %arg1 {dilations = array<i64: 1, 1>, groups = 2 : i64, padding = array<i64: 1, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<2x4x3x3xf32>, tensor<4x3x3x2xf32>) -> tensor<2x6x7x6xf32>
  %1 = cleave.reshape %arg2 : tensor<6xf32> to tensor<6x1x1xf32>
  %2 = cleave.binary add %0, %1 : (tensor<2x6x7x6xf32>, tensor<6x1x1xf32>) -> tensor<2x6x7x6xf32>
  return %2 : tensor<2x6x7x6xf32>
}

// 3-D ConvTranspose with a depth stride, depth padding, output_padding and
// groups: one conv2d_grad_input per depth tap, placed with slice_scatter.
func.func @conv_transpose_3d(%arg0: tensor<1x4x3x2x3xf32> {cleave.param = #cleave.param<"x", trainable>},
                            %arg1: tensor<4x1x3x2x2xf32> {cleave.param = #cleave.param<"w", trainable>},
                            %arg2: tensor<2xf32> {cleave.param = #cleave.param<"b", trainable>}) -> (tensor<1x2x7x3x4xf32>) {
  %0 = cleave.transpose %arg0 [0, 2, 1, 3, 4] : tensor<1x4x3x2x3xf32> -> tensor<1x3x4x2x3xf32>
  %1 = cleave.reshape %0 : tensor<1x3x4x2x3xf32> to tensor<3x4x2x3xf32>
  %2 = cleave.slice %arg1 {starts = array<i64: 0, 0, 0, 0, 0>, strides = array<i64: 1, 1, 1, 1, 1>} : tensor<4x1x3x2x2xf32> -> tensor<4x1x1x2x2xf32>
  %3 = cleave.reshape %2 : tensor<4x1x1x2x2xf32> to tensor<4x1x2x2xf32>
  %4 = cleave.conv2d_grad_input %1, %3 {dilations = array<i64: 1, 1>, groups = 2 : i64, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<3x4x2x3xf32>, tensor<4x1x2x2xf32>) -> tensor<3x2x3x4xf32>
  %5 = cleave.reshape %4 : tensor<3x2x3x4xf32> to tensor<1x3x2x3x4xf32>
  %6 = cleave.slice_scatter %5 {starts = array<i64: 0, 0, 0, 0, 0>, strides = array<i64: 1, 2, 1, 1, 1>} : tensor<1x3x2x3x4xf32> -> tensor<1x8x2x3x4xf32>
  %7 = cleave.slice %arg1 {starts = array<i64: 0, 0, 1, 0, 0>, strides = array<i64: 1, 1, 1, 1, 1>} : tensor<4x1x3x2x2xf32> -> tensor<4x1x1x2x2xf32>
  %8 = cleave.reshape %7 : tensor<4x1x1x2x2xf32> to tensor<4x1x2x2xf32>
  %9 = cleave.conv2d_grad_input %1, %8 {dilations = array<i64: 1, 1>, groups = 2 : i64, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<3x4x2x3xf32>, tensor<4x1x2x2xf32>) -> tensor<3x2x3x4xf32>
  %10 = cleave.reshape %9 : tensor<3x2x3x4xf32> to tensor<1x3x2x3x4xf32>
  %11 = cleave.slice_scatter %10 {starts = array<i64: 0, 1, 0, 0, 0>, strides = array<i64: 1, 2, 1, 1, 1>} : tensor<1x3x2x3x4xf32> -> tensor<1x8x2x3x4xf32>
  %12 = cleave.binary add %6, %11 : (tensor<1x8x2x3x4xf32>, tensor<1x8x2x3x4xf32>) -> tensor<1x8x2x3x4xf32>
  %13 = cleave.slice %arg1 {starts = array<i64: 0, 0, 2, 0, 0>, strides = array<i64: 1, 1, 1, 1, 1>} : tensor<4x1x3x2x2xf32> -> tensor<4x1x1x2x2xf32>
  %14 = cleave.reshape %13 : tensor<4x1x1x2x2xf32> to tensor<4x1x2x2xf32>
  %15 = cleave.conv2d_grad_input %1, %14 {dilations = array<i64: 1, 1>, groups = 2 : i64, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<3x4x2x3xf32>, tensor<4x1x2x2xf32>) -> tensor<3x2x3x4xf32>
  %16 = cleave.reshape %15 : tensor<3x2x3x4xf32> to tensor<1x3x2x3x4xf32>
  %17 = cleave.slice_scatter %16 {starts = array<i64: 0, 2, 0, 0, 0>, strides = array<i64: 1, 2, 1, 1, 1>} : tensor<1x3x2x3x4xf32> -> tensor<1x8x2x3x4xf32>
  %18 = cleave.binary add %12, %17 : (tensor<1x8x2x3x4xf32>, tensor<1x8x2x3x4xf32>) -> tensor<1x8x2x3x4xf32>
  %19 = cleave.slice %18 {starts = array<i64: 0, 1, 0, 0, 0>, strides = array<i64: 1, 1, 1, 1, 1>} : tensor<1x8x2x3x4xf32> -> tensor<1x7x2x3x4xf32>
  %20 = cleave.transpose %19 [0, 2, 1, 3, 4] : tensor<1x7x2x3x4xf32> -> tensor<1x2x7x3x4xf32>
  %21 = cleave.reshape %arg2 : tensor<2xf32> to tensor<2x1x1x1xf32>
  %22 = cleave.binary add %20, %21 : (tensor<1x2x7x3x4xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x7x3x4xf32>
  return %22 : tensor<1x2x7x3x4xf32>
}

// 1-D ConvTranspose (a 2-D one over a height of 1).
func.func @conv_transpose_1d(%arg0: tensor<1x2x4xf32> {cleave.param = #cleave.param<"x", trainable>},
                            %arg1: tensor<2x3x3xf32> {cleave.param = #cleave.param<"w", trainable>}) -> (tensor<1x3x9xf32>) {
  %0 = cleave.reshape %arg0 : tensor<1x2x4xf32> to tensor<1x2x1x4xf32>
  %1 = cleave.reshape %arg1 : tensor<2x3x3xf32> to tensor<2x3x1x3xf32>
  %2 = cleave.conv2d_grad_input %0, %1 {dilations = array<i64: 1, 1>, groups = 1 : i64, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 2>} : (tensor<1x2x1x4xf32>, tensor<2x3x1x3xf32>) -> tensor<1x3x1x9xf32>
  %3 = cleave.reshape %2 : tensor<1x3x1x9xf32> to tensor<1x3x9xf32>
  return %3 : tensor<1x3x9xf32>
}

// 1-D Conv with padding and stride (a 2-D one over a height of 1).
func.func @conv_1d(%arg0: tensor<2x3x7xf32> {cleave.param = #cleave.param<"x", trainable>},
                  %arg1: tensor<4x3x3xf32> {cleave.param = #cleave.param<"w", trainable>},
                  %arg2: tensor<4xf32> {cleave.param = #cleave.param<"b", trainable>}) -> (tensor<2x4x4xf32>) {
  %0 = cleave.reshape %arg0 : tensor<2x3x7xf32> to tensor<2x3x1x7xf32>
  %1 = cleave.reshape %arg1 : tensor<4x3x3xf32> to tensor<4x3x1x3xf32>
  %2 = cleave.conv2d %0, %1, %arg2 {dilations = array<i64: 1, 1>, groups = 1 : i64, padding = array<i64: 0, 1, 0, 1>, strides = array<i64: 1, 2>} : (tensor<2x3x1x7xf32>, tensor<4x3x1x3xf32>, tensor<4xf32>) -> tensor<2x4x1x4xf32>
  %3 = cleave.reshape %2 : tensor<2x4x1x4xf32> to tensor<2x4x4xf32>
  return %3 : tensor<2x4x4xf32>
}

// 3-D Conv with a depth stride, depth padding and groups: a sum of 2-D
// convolutions over the depth taps.
func.func @conv_3d(%arg0: tensor<1x4x5x4x4xf32> {cleave.param = #cleave.param<"x", trainable>},
                  %arg1: tensor<2x2x3x2x2xf32> {cleave.param = #cleave.param<"w", trainable>},
                  %arg2: tensor<2xf32> {cleave.param = #cleave.param<"b", trainable>}) -> (tensor<1x2x3x3x3xf32>) {
  %0 = cleave.transpose %arg0 [0, 2, 1, 3, 4] : tensor<1x4x5x4x4xf32> -> tensor<1x5x4x4x4xf32>
  %1 = cleave.constant dense<0.000000e+00> : tensor<f32>
  %2 = cleave.broadcast %1 : tensor<f32> to tensor<1x1x4x4x4xf32>
  %3 = cleave.constant dense<0.000000e+00> : tensor<f32>
  %4 = cleave.broadcast %3 : tensor<f32> to tensor<1x1x4x4x4xf32>
  %5 = cleave.concat %2, %0, %4 {axis = 1 : i64} : (tensor<1x1x4x4x4xf32>, tensor<1x5x4x4x4xf32>, tensor<1x1x4x4x4xf32>) -> tensor<1x7x4x4x4xf32>
  %6 = cleave.slice %5 {starts = array<i64: 0, 0, 0, 0, 0>, strides = array<i64: 1, 2, 1, 1, 1>} : tensor<1x7x4x4x4xf32> -> tensor<1x3x4x4x4xf32>
  %7 = cleave.slice %arg1 {starts = array<i64: 0, 0, 0, 0, 0>, strides = array<i64: 1, 1, 1, 1, 1>} : tensor<2x2x3x2x2xf32> -> tensor<2x2x1x2x2xf32>
  %8 = cleave.reshape %7 : tensor<2x2x1x2x2xf32> to tensor<2x2x2x2xf32>
  %9 = cleave.reshape %6 : tensor<1x3x4x4x4xf32> to tensor<3x4x4x4xf32>
  %10 = cleave.conv2d %9, %8 {dilations = array<i64: 1, 1>, groups = 2 : i64, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<3x4x4x4xf32>, tensor<2x2x2x2xf32>) -> tensor<3x2x3x3xf32>
  %11 = cleave.slice %5 {starts = array<i64: 0, 1, 0, 0, 0>, strides = array<i64: 1, 2, 1, 1, 1>} : tensor<1x7x4x4x4xf32> -> tensor<1x3x4x4x4xf32>
  %12 = cleave.slice %arg1 {starts = array<i64: 0, 0, 1, 0, 0>, strides = array<i64: 1, 1, 1, 1, 1>} : tensor<2x2x3x2x2xf32> -> tensor<2x2x1x2x2xf32>
  %13 = cleave.reshape %12 : tensor<2x2x1x2x2xf32> to tensor<2x2x2x2xf32>
  %14 = cleave.reshape %11 : tensor<1x3x4x4x4xf32> to tensor<3x4x4x4xf32>
  %15 = cleave.conv2d %14, %13 {dilations = array<i64: 1, 1>, groups = 2 : i64, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<3x4x4x4xf32>, tensor<2x2x2x2xf32>) -> tensor<3x2x3x3xf32>
  %16 = cleave.binary add %10, %15 : (tensor<3x2x3x3xf32>, tensor<3x2x3x3xf32>) -> tensor<3x2x3x3xf32>
  %17 = cleave.slice %5 {starts = array<i64: 0, 2, 0, 0, 0>, strides = array<i64: 1, 2, 1, 1, 1>} : tensor<1x7x4x4x4xf32> -> tensor<1x3x4x4x4xf32>
  %18 = cleave.slice %arg1 {starts = array<i64: 0, 0, 2, 0, 0>, strides = array<i64: 1, 1, 1, 1, 1>} : tensor<2x2x3x2x2xf32> -> tensor<2x2x1x2x2xf32>
  %19 = cleave.reshape %18 : tensor<2x2x1x2x2xf32> to tensor<2x2x2x2xf32>
  %20 = cleave.reshape %17 : tensor<1x3x4x4x4xf32> to tensor<3x4x4x4xf32>
  %21 = cleave.conv2d %20, %19 {dilations = array<i64: 1, 1>, groups = 2 : i64, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<3x4x4x4xf32>, tensor<2x2x2x2xf32>) -> tensor<3x2x3x3xf32>
  %22 = cleave.binary add %16, %21 : (tensor<3x2x3x3xf32>, tensor<3x2x3x3xf32>) -> tensor<3x2x3x3xf32>
  %23 = cleave.reshape %22 : tensor<3x2x3x3xf32> to tensor<1x3x2x3x3xf32>
  %24 = cleave.transpose %23 [0, 2, 1, 3, 4] : tensor<1x3x2x3x3xf32> -> tensor<1x2x3x3x3xf32>
  %25 = cleave.reshape %arg2 : tensor<2xf32> to tensor<2x1x1x1xf32>
  %26 = cleave.binary add %24, %25 : (tensor<1x2x3x3x3xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x3x3x3xf32>
  return %26 : tensor<1x2x3x3x3xf32>
}

// 3-D MaxPool and AveragePool as pool2d over (H, W) and then over D.
func.func @pool_3d(%arg0: tensor<1x2x5x4x4xf32> {cleave.param = #cleave.param<"x", trainable>}) -> (tensor<1x2x3x2x2xf32>, tensor<1x2x3x3x3xf32>) {
  %0 = cleave.reshape %arg0 : tensor<1x2x5x4x4xf32> to tensor<1x10x4x4xf32>
  %1 = cleave.pool2d max %0 {kernel = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : tensor<1x10x4x4xf32> -> tensor<1x10x2x2xf32>
  %2 = cleave.reshape %1 : tensor<1x10x2x2xf32> to tensor<1x2x5x4xf32>
  %3 = cleave.pool2d max %2 {kernel = array<i64: 3, 1>, padding = array<i64: 1, 0, 1, 0>, strides = array<i64: 2, 1>} : tensor<1x2x5x4xf32> -> tensor<1x2x3x4xf32>
  %4 = cleave.reshape %3 : tensor<1x2x3x4xf32> to tensor<1x2x3x2x2xf32>
  %5 = cleave.reshape %arg0 : tensor<1x2x5x4x4xf32> to tensor<1x10x4x4xf32>
  %6 = cleave.pool2d avg %5 {kernel = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : tensor<1x10x4x4xf32> -> tensor<1x10x3x3xf32>
  %7 = cleave.reshape %6 : tensor<1x10x3x3xf32> to tensor<1x2x5x9xf32>
  %8 = cleave.pool2d avg %7 {kernel = array<i64: 2, 1>, padding = array<i64: 1, 0, 1, 0>, strides = array<i64: 2, 1>} : tensor<1x2x5x9xf32> -> tensor<1x2x3x9xf32>
  %9 = cleave.reshape %8 : tensor<1x2x3x9xf32> to tensor<1x2x3x3x3xf32>
  return %4, %9 : tensor<1x2x3x2x2xf32>, tensor<1x2x3x3x3xf32>
}

// Dilated MaxPool with padding and ceil_mode: an elementwise max of one
// strided slice per tap of the input padded with -inf.
func.func @pool_dilated(%arg0: tensor<1x2x6x7xf32> {cleave.param = #cleave.param<"x", trainable>}) -> (tensor<1x2x5x4xf32>) {
  %0 = cleave.constant dense<0xFF800000> : tensor<f32>
  %1 = cleave.broadcast %0 : tensor<f32> to tensor<1x2x1x7xf32>
  %2 = cleave.concat %1, %arg0 {axis = 2 : i64} : (tensor<1x2x1x7xf32>, tensor<1x2x6x7xf32>) -> tensor<1x2x7x7xf32>
  %3 = cleave.constant dense<0xFF800000> : tensor<f32>
  %4 = cleave.broadcast %3 : tensor<f32> to tensor<1x2x7x2xf32>
  %5 = cleave.concat %2, %4 {axis = 3 : i64} : (tensor<1x2x7x7xf32>, tensor<1x2x7x2xf32>) -> tensor<1x2x7x9xf32>
  %6 = cleave.slice %5 {starts = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1, 1, 2>} : tensor<1x2x7x9xf32> -> tensor<1x2x5x4xf32>
  %7 = cleave.slice %5 {starts = array<i64: 0, 0, 0, 1>, strides = array<i64: 1, 1, 1, 2>} : tensor<1x2x7x9xf32> -> tensor<1x2x5x4xf32>
  %8 = cleave.binary max %6, %7 : (tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>) -> tensor<1x2x5x4xf32>
  %9 = cleave.slice %5 {starts = array<i64: 0, 0, 0, 2>, strides = array<i64: 1, 1, 1, 2>} : tensor<1x2x7x9xf32> -> tensor<1x2x5x4xf32>
  %10 = cleave.binary max %8, %9 : (tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>) -> tensor<1x2x5x4xf32>
  %11 = cleave.slice %5 {starts = array<i64: 0, 0, 2, 0>, strides = array<i64: 1, 1, 1, 2>} : tensor<1x2x7x9xf32> -> tensor<1x2x5x4xf32>
  %12 = cleave.binary max %10, %11 : (tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>) -> tensor<1x2x5x4xf32>
  %13 = cleave.slice %5 {starts = array<i64: 0, 0, 2, 1>, strides = array<i64: 1, 1, 1, 2>} : tensor<1x2x7x9xf32> -> tensor<1x2x5x4xf32>
  %14 = cleave.binary max %12, %13 : (tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>) -> tensor<1x2x5x4xf32>
  %15 = cleave.slice %5 {starts = array<i64: 0, 0, 2, 2>, strides = array<i64: 1, 1, 1, 2>} : tensor<1x2x7x9xf32> -> tensor<1x2x5x4xf32>
  %16 = cleave.binary max %14, %15 : (tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>) -> tensor<1x2x5x4xf32>
  return %16 : tensor<1x2x5x4xf32>
}

// 1-D MaxPool and AveragePool (count_include_pad).
func.func @pool_1d(%arg0: tensor<2x3x8xf32> {cleave.param = #cleave.param<"x", trainable>}) -> (tensor<2x3x4xf32>, tensor<2x3x4xf32>) {
  %0 = cleave.reshape %arg0 : tensor<2x3x8xf32> to tensor<2x3x1x8xf32>
  %1 = cleave.pool2d max %0 {kernel = array<i64: 1, 3>, padding = array<i64: 0, 1, 0, 0>, strides = array<i64: 1, 2>} : tensor<2x3x1x8xf32> -> tensor<2x3x1x4xf32>
  %2 = cleave.reshape %1 : tensor<2x3x1x4xf32> to tensor<2x3x4xf32>
  %3 = cleave.reshape %arg0 : tensor<2x3x8xf32> to tensor<2x3x1x8xf32>
  %4 = cleave.pool2d avg %3 {count_include_pad, kernel = array<i64: 1, 3>, padding = array<i64: 0, 1, 0, 1>, strides = array<i64: 1, 2>} : tensor<2x3x1x8xf32> -> tensor<2x3x1x4xf32>
  %5 = cleave.reshape %4 : tensor<2x3x1x4xf32> to tensor<2x3x4xf32>
  return %2, %5 : tensor<2x3x4xf32>, tensor<2x3x4xf32>
}

// InstanceNormalization: layer_norm over each (n, c) plane, then the
// per-channel scale and bias.
func.func @instance_norm(%arg0: tensor<2x3x4x2xf32> {cleave.param = #cleave.param<"x", trainable>},
                        %arg1: tensor<3xf32> {cleave.param = #cleave.param<"s", trainable>},
                        %arg2: tensor<3xf32> {cleave.param = #cleave.param<"b", trainable>}) -> (tensor<2x3x4x2xf32>) {
  %0 = cleave.reshape %arg0 : tensor<2x3x4x2xf32> to tensor<2x3x8xf32>
  %1 = cleave.constant dense<1.000000e+00> : tensor<f32>
  %2 = cleave.broadcast %1 : tensor<f32> to tensor<8xf32>
  %3 = cleave.layer_norm %0, %2 {axis = 2 : i64, epsilon = 1.000000e-03 : f64} : (tensor<2x3x8xf32>, tensor<8xf32>) -> tensor<2x3x8xf32>
  %4 = cleave.reshape %arg1 : tensor<3xf32> to tensor<3x1x1xf32>
  %5 = cleave.reshape %3 : tensor<2x3x8xf32> to tensor<2x3x4x2xf32>
  %6 = cleave.binary mul %5, %4 : (tensor<2x3x4x2xf32>, tensor<3x1x1xf32>) -> tensor<2x3x4x2xf32>
  %7 = cleave.reshape %arg2 : tensor<3xf32> to tensor<3x1x1xf32>
  %8 = cleave.binary add %6, %7 : (tensor<2x3x4x2xf32>, tensor<3x1x1xf32>) -> tensor<2x3x4x2xf32>
  return %8 : tensor<2x3x4x2xf32>
}
