// Gradient cases of the data-movement ops (DataMovementGradients.cpp):
// each gradient moves values back to where the forward read them.

// Embedding lookup with repeated indices: scatter_add sums the rows that
// several positions picked; row 5 is never picked and gets zero.
func.func @gather_embedding(%table: tensor<6x4xf32> {cleave.param = #cleave.param<"table", trainable>},
                            %ids: tensor<2x5xi64> {cleave.input = "ids", gradcheck.values = array<i64: 1, 3, 3, 0, 2, 4, 1, 1, 0, 3>}) -> tensor<2x5x4xf32> {
  %e = cleave.gather %table[%ids] {axis = 0 : i64} : (tensor<6x4xf32>, tensor<2x5xi64>) -> tensor<2x5x4xf32>
  return %e : tensor<2x5x4xf32>
}

// Gather along a middle axis with i32 indices (outer and inner sizes > 1).
func.func @gather_middle_axis(%x: tensor<2x5x3xf32> {cleave.param = #cleave.param<"x", trainable>},
                              %ids: tensor<4xi32> {cleave.input = "ids", gradcheck.values = array<i64: 4, 0, 4, 2>}) -> tensor<2x4x3xf32> {
  %e = cleave.gather %x[%ids] {axis = 1 : i64} : (tensor<2x5x3xf32>, tensor<4xi32>) -> tensor<2x4x3xf32>
  return %e : tensor<2x4x3xf32>
}

// A negative index counts from the end (-1 is row 3), as ONNX says: the
// gradient must land where the forward read.
func.func @gather_negative_index(%x: tensor<4x3xf32> {cleave.param = #cleave.param<"x", trainable>},
                                 %ids: tensor<3xi64> {cleave.input = "ids", gradcheck.values = array<i64: -1, 0, 3>}) -> tensor<3x3xf32> {
  %e = cleave.gather %x[%ids] {axis = 0 : i64} : (tensor<4x3xf32>, tensor<3xi64>) -> tensor<3x3xf32>
  return %e : tensor<3x3xf32>
}

// Gather from a computed value (the gradient flows through scatter_add
// into the op before it).
func.func @gather_of_computed(%x: tensor<4x3xf32> {cleave.param = #cleave.param<"x", trainable>},
                              %ids: tensor<3xi64> {cleave.input = "ids", gradcheck.values = array<i64: 2, 2, 0>}) -> tensor<3x3xf32> {
  %t = cleave.unary tanh %x : tensor<4x3xf32>
  %e = cleave.gather %t[%ids] {axis = 0 : i64} : (tensor<4x3xf32>, tensor<3xi64>) -> tensor<3x3xf32>
  return %e : tensor<3x3xf32>
}

// reshape: the gradient is reshaped back.
func.func @reshape(%x: tensor<2x6xf32> {cleave.param = #cleave.param<"x", trainable>}) -> tensor<3x2x2xf32> {
  %y = cleave.reshape %x : tensor<2x6xf32> to tensor<3x2x2xf32>
  %z = cleave.unary sin %y : tensor<3x2x2xf32>
  return %z : tensor<3x2x2xf32>
}

// broadcast of a size-1 and a missing dimension: the gradient is summed
// back over both.
func.func @broadcast(%x: tensor<3x1xf32> {cleave.param = #cleave.param<"x", trainable>}) -> tensor<2x3x4xf32> {
  %y = cleave.broadcast %x : tensor<3x1xf32> to tensor<2x3x4xf32>
  %z = cleave.unary sin %y : tensor<2x3x4xf32>
  return %z : tensor<2x3x4xf32>
}

// transpose by a 3-cycle: the gradient takes the inverse permutation.
func.func @transpose(%x: tensor<2x3x4xf32> {cleave.param = #cleave.param<"x", trainable>}) -> tensor<4x2x3xf32> {
  %y = cleave.transpose %x [2, 0, 1] : tensor<2x3x4xf32> -> tensor<4x2x3xf32>
  %z = cleave.unary sin %y : tensor<4x2x3xf32>
  return %z : tensor<4x2x3xf32>
}

// A strided slice: slice_scatter puts the gradient back at the window and
// zeros elsewhere.
func.func @slice_strided(%x: tensor<5x7xf32> {cleave.param = #cleave.param<"x", trainable>}) -> tensor<2x3xf32> {
  %y = cleave.slice %x {starts = array<i64: 1, 0>, strides = array<i64: 2, 3>} : tensor<5x7xf32> -> tensor<2x3xf32>
  %z = cleave.unary sin %y : tensor<2x3xf32>
  return %z : tensor<2x3xf32>
}

// concat of two parameters and a data input along axis 1: each parameter
// gets its own slice of the gradient; the data input none.
func.func @concat(%a: tensor<2x3xf32> {cleave.param = #cleave.param<"a", trainable>},
                  %d: tensor<2x1xf32> {cleave.input = "d"},
                  %b: tensor<2x2xf32> {cleave.param = #cleave.param<"b", trainable>}) -> tensor<2x6xf32> {
  %y = cleave.concat %a, %d, %b {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x1xf32>, tensor<2x2xf32>) -> tensor<2x6xf32>
  %z = cleave.unary sin %y : tensor<2x6xf32>
  return %z : tensor<2x6xf32>
}

// concat along the first axis.
func.func @concat_axis0(%a: tensor<1x3xf32> {cleave.param = #cleave.param<"a", trainable>},
                        %b: tensor<2x3xf32> {cleave.param = #cleave.param<"b", trainable>}) -> tensor<3x3xf32> {
  %y = cleave.concat %a, %b {axis = 0 : i64} : (tensor<1x3xf32>, tensor<2x3xf32>) -> tensor<3x3xf32>
  %z = cleave.unary sin %y : tensor<3x3xf32>
  return %z : tensor<3x3xf32>
}
