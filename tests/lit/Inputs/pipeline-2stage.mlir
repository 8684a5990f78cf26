// A hand-written pipeline: the MLP's train step (models/onnx/mlp.onnx, SGD)
// as cleave-pipeline-split leaves it for 2 stages, 4 micro-batches, 1F1B:
// cleave.phase and cleave.stage on every op, the figures in cleave.pipeline
// (round numbers, consistent with each other as the split counts them:
// docs/pipeline.md). tests/lit/Tools/cleave-plan-pipeline.test reads it.
module attributes {cleave.pipeline = {
    stages = 2 : i64, virtual_stages = 1 : i64, micro_batches = 4 : i64, schedule = "1f1b",
    cuts = ["/1/Relu"],
    chunk_forward_seconds = [1.0e-06, 2.0e-06], chunk_backward_seconds = [2.0e-06, 4.0e-06],
    chunk_parameter_bytes = [8448, 19240], chunk_activation_bytes = [1280, 2400],
    cut_bytes = [512],
    p2p_seconds = [0.0],
    stage_memory_bytes = [19456, 40880], stage_seconds = [1.25e-05, 2.45e-05],
    predicted_step_seconds = 2.75e-05, bubble = 0.33333333333333331,
    shared_parameters = [],
    layers = 3 : i64,
    stage_weight_bytes = [8448, 19240], stage_gradient_bytes = [8448, 19240],
    stage_optimizer_bytes = [0, 0], stage_activation_bytes = [2560, 2400],
    stage_in_flight = [2, 1]}} {
  func.func @train_step(%arg0: tensor<64x32xf32> {cleave.param = #cleave.param<"0.weight", trainable>}, %arg1: tensor<64xf32> {cleave.param = #cleave.param<"0.bias", trainable>}, %arg2: tensor<64x64xf32> {cleave.param = #cleave.param<"2.weight", trainable>}, %arg3: tensor<64xf32> {cleave.param = #cleave.param<"2.bias", trainable>}, %arg4: tensor<10x64xf32> {cleave.param = #cleave.param<"4.weight", trainable>}, %arg5: tensor<10xf32> {cleave.param = #cleave.param<"4.bias", trainable>}, %arg6: tensor<8x32xf32> {cleave.input = "x"}, %arg7: tensor<8xi64> {cleave.input = "y"}, %arg8: tensor<f32> {cleave.step_scalar = "lr"}) -> (tensor<64x32xf32> {cleave.updates = 0 : i64}, tensor<64xf32> {cleave.updates = 1 : i64}, tensor<64x64xf32> {cleave.updates = 2 : i64}, tensor<64xf32> {cleave.updates = 3 : i64}, tensor<10x64xf32> {cleave.updates = 4 : i64}, tensor<10xf32> {cleave.updates = 5 : i64}, tensor<f32> {cleave.loss}) {
    %0 = cleave.constant dense<0.000000e+00> : tensor<f32>
    %1 = cleave.constant dense<1.000000e+00> : tensor<f32>
    %2 = cleave.constant dense<-100> : tensor<i64>
    %3 = cleave.matmul %arg6, %arg0 {cleave.fwd_id = 0 : i64, cleave.phase = "forward", cleave.stage = 0 : i64, transpose_b} : (tensor<8x32xf32>, tensor<64x32xf32>) -> tensor<8x64xf32> loc("/0/MatMul")
    %4 = cleave.binary add %3, %arg1 {cleave.fwd_id = 1 : i64, cleave.phase = "forward", cleave.stage = 0 : i64} : (tensor<8x64xf32>, tensor<64xf32>) -> tensor<8x64xf32> loc("/0/Add")
    %5 = cleave.unary relu %4 {cleave.fwd_id = 2 : i64, cleave.phase = "forward", cleave.stage = 0 : i64} : tensor<8x64xf32> loc("/1/Relu")
    %6 = cleave.matmul %5, %arg2 {cleave.fwd_id = 3 : i64, cleave.phase = "forward", cleave.stage = 1 : i64, transpose_b} : (tensor<8x64xf32>, tensor<64x64xf32>) -> tensor<8x64xf32> loc("/2/MatMul")
    %7 = cleave.binary add %6, %arg3 {cleave.fwd_id = 4 : i64, cleave.phase = "forward", cleave.stage = 1 : i64} : (tensor<8x64xf32>, tensor<64xf32>) -> tensor<8x64xf32> loc("/2/Add")
    %8 = cleave.unary relu %7 {cleave.fwd_id = 5 : i64, cleave.phase = "forward", cleave.stage = 1 : i64} : tensor<8x64xf32> loc("/3/Relu")
    %9 = cleave.matmul %8, %arg4 {cleave.fwd_id = 6 : i64, cleave.phase = "forward", cleave.stage = 1 : i64, transpose_b} : (tensor<8x64xf32>, tensor<10x64xf32>) -> tensor<8x10xf32> loc("/4/MatMul")
    %10 = cleave.binary add %9, %arg5 {cleave.fwd_id = 7 : i64, cleave.phase = "forward", cleave.stage = 1 : i64} : (tensor<8x10xf32>, tensor<10xf32>) -> tensor<8x10xf32> loc("/4/Add")
    %11 = cleave.cross_entropy %10, %arg7 {cleave.fwd_id = 8 : i64, cleave.phase = "forward", cleave.stage = 1 : i64, ignore_index = -100 : i64, sum} : (tensor<8x10xf32>, tensor<8xi64>) -> tensor<f32> loc("loss/CrossEntropy")
    %12 = cleave.compare ne %arg7, %2 {cleave.fwd_id = 10 : i64, cleave.phase = "forward", cleave.stage = 1 : i64} : (tensor<8xi64>, tensor<i64>) -> tensor<8xi1> loc("loss/NotIgnored")
    %13 = cleave.cast %12 {cleave.fwd_id = 11 : i64, cleave.phase = "forward", cleave.stage = 1 : i64} : tensor<8xi1> to tensor<8xf32> loc("loss/Cast")
    %14 = cleave.reduce sum %13 {axes = array<i64: 0>, cleave.fwd_id = 12 : i64, cleave.phase = "forward", cleave.stage = 1 : i64} : tensor<8xf32> -> tensor<f32> loc("loss/Count")
    %15 = cleave.binary div %11, %14 {cleave.fwd_id = 13 : i64, cleave.phase = "forward", cleave.stage = 1 : i64} : (tensor<f32>, tensor<f32>) -> tensor<f32> loc("loss/Mean")
    %16 = cleave.binary div %1, %14 {cleave.bwd_of = 13 : i64, cleave.phase = "backward", cleave.stage = 1 : i64} : (tensor<f32>, tensor<f32>) -> tensor<f32> loc("loss/Mean")
    %17 = cleave.cross_entropy_grad %10, %arg7, %16 {cleave.bwd_of = 8 : i64, cleave.phase = "backward", cleave.stage = 1 : i64, ignore_index = -100 : i64, sum} : (tensor<8x10xf32>, tensor<8xi64>, tensor<f32>) -> tensor<8x10xf32> loc("loss/CrossEntropy")
    %18 = cleave.reduce sum %17 {axes = array<i64: 0>, cleave.bwd_of = 7 : i64, cleave.phase = "backward", cleave.stage = 1 : i64, keep_dims} : tensor<8x10xf32> -> tensor<1x10xf32> loc("/4/Add")
    %19 = cleave.reshape %18 {cleave.bwd_of = 7 : i64, cleave.phase = "backward", cleave.stage = 1 : i64} : tensor<1x10xf32> to tensor<10xf32> loc("/4/Add")
    %20 = cleave.matmul %17, %arg4 {cleave.bwd_of = 6 : i64, cleave.phase = "backward", cleave.stage = 1 : i64} : (tensor<8x10xf32>, tensor<10x64xf32>) -> tensor<8x64xf32> loc("/4/MatMul")
    %21 = cleave.matmul %17, %8 {cleave.bwd_of = 6 : i64, cleave.phase = "backward", cleave.stage = 1 : i64, transpose_a} : (tensor<8x10xf32>, tensor<8x64xf32>) -> tensor<10x64xf32> loc("/4/MatMul")
    %22 = cleave.compare gt %7, %0 {cleave.bwd_of = 5 : i64, cleave.phase = "backward", cleave.stage = 1 : i64} : (tensor<8x64xf32>, tensor<f32>) -> tensor<8x64xi1> loc("/3/Relu")
    %23 = cleave.select %22, %20, %0 {cleave.bwd_of = 5 : i64, cleave.phase = "backward", cleave.stage = 1 : i64} : (tensor<8x64xi1>, tensor<8x64xf32>, tensor<f32>) -> tensor<8x64xf32> loc("/3/Relu")
    %24 = cleave.reduce sum %23 {axes = array<i64: 0>, cleave.bwd_of = 4 : i64, cleave.phase = "backward", cleave.stage = 1 : i64, keep_dims} : tensor<8x64xf32> -> tensor<1x64xf32> loc("/2/Add")
    %25 = cleave.reshape %24 {cleave.bwd_of = 4 : i64, cleave.phase = "backward", cleave.stage = 1 : i64} : tensor<1x64xf32> to tensor<64xf32> loc("/2/Add")
    %26 = cleave.matmul %23, %arg2 {cleave.bwd_of = 3 : i64, cleave.phase = "backward", cleave.stage = 1 : i64} : (tensor<8x64xf32>, tensor<64x64xf32>) -> tensor<8x64xf32> loc("/2/MatMul")
    %27 = cleave.matmul %23, %5 {cleave.bwd_of = 3 : i64, cleave.phase = "backward", cleave.stage = 1 : i64, transpose_a} : (tensor<8x64xf32>, tensor<8x64xf32>) -> tensor<64x64xf32> loc("/2/MatMul")
    %28 = cleave.compare gt %4, %0 {cleave.bwd_of = 2 : i64, cleave.phase = "backward", cleave.stage = 0 : i64} : (tensor<8x64xf32>, tensor<f32>) -> tensor<8x64xi1> loc("/1/Relu")
    %29 = cleave.select %28, %26, %0 {cleave.bwd_of = 2 : i64, cleave.phase = "backward", cleave.stage = 0 : i64} : (tensor<8x64xi1>, tensor<8x64xf32>, tensor<f32>) -> tensor<8x64xf32> loc("/1/Relu")
    %30 = cleave.reduce sum %29 {axes = array<i64: 0>, cleave.bwd_of = 1 : i64, cleave.phase = "backward", cleave.stage = 0 : i64, keep_dims} : tensor<8x64xf32> -> tensor<1x64xf32> loc("/0/Add")
    %31 = cleave.reshape %30 {cleave.bwd_of = 1 : i64, cleave.phase = "backward", cleave.stage = 0 : i64} : tensor<1x64xf32> to tensor<64xf32> loc("/0/Add")
    %32 = cleave.matmul %29, %arg6 {cleave.bwd_of = 0 : i64, cleave.phase = "backward", cleave.stage = 0 : i64, transpose_a} : (tensor<8x64xf32>, tensor<8x32xf32>) -> tensor<64x32xf32> loc("/0/MatMul")
    %33 = cleave.binary mul %arg8, %32 {cleave.update_of = 0 : i64, cleave.phase = "update", cleave.stage = 0 : i64} : (tensor<f32>, tensor<64x32xf32>) -> tensor<64x32xf32>
    %34 = cleave.binary sub %arg0, %33 {cleave.update_of = 0 : i64, cleave.phase = "update", cleave.stage = 0 : i64} : (tensor<64x32xf32>, tensor<64x32xf32>) -> tensor<64x32xf32>
    %35 = cleave.binary mul %arg8, %31 {cleave.update_of = 1 : i64, cleave.phase = "update", cleave.stage = 0 : i64} : (tensor<f32>, tensor<64xf32>) -> tensor<64xf32>
    %36 = cleave.binary sub %arg1, %35 {cleave.update_of = 1 : i64, cleave.phase = "update", cleave.stage = 0 : i64} : (tensor<64xf32>, tensor<64xf32>) -> tensor<64xf32>
    %37 = cleave.binary mul %arg8, %27 {cleave.update_of = 2 : i64, cleave.phase = "update", cleave.stage = 1 : i64} : (tensor<f32>, tensor<64x64xf32>) -> tensor<64x64xf32>
    %38 = cleave.binary sub %arg2, %37 {cleave.update_of = 2 : i64, cleave.phase = "update", cleave.stage = 1 : i64} : (tensor<64x64xf32>, tensor<64x64xf32>) -> tensor<64x64xf32>
    %39 = cleave.binary mul %arg8, %25 {cleave.update_of = 3 : i64, cleave.phase = "update", cleave.stage = 1 : i64} : (tensor<f32>, tensor<64xf32>) -> tensor<64xf32>
    %40 = cleave.binary sub %arg3, %39 {cleave.update_of = 3 : i64, cleave.phase = "update", cleave.stage = 1 : i64} : (tensor<64xf32>, tensor<64xf32>) -> tensor<64xf32>
    %41 = cleave.binary mul %arg8, %21 {cleave.update_of = 4 : i64, cleave.phase = "update", cleave.stage = 1 : i64} : (tensor<f32>, tensor<10x64xf32>) -> tensor<10x64xf32>
    %42 = cleave.binary sub %arg4, %41 {cleave.update_of = 4 : i64, cleave.phase = "update", cleave.stage = 1 : i64} : (tensor<10x64xf32>, tensor<10x64xf32>) -> tensor<10x64xf32>
    %43 = cleave.binary mul %arg8, %19 {cleave.update_of = 5 : i64, cleave.phase = "update", cleave.stage = 1 : i64} : (tensor<f32>, tensor<10xf32>) -> tensor<10xf32>
    %44 = cleave.binary sub %arg5, %43 {cleave.update_of = 5 : i64, cleave.phase = "update", cleave.stage = 1 : i64} : (tensor<10xf32>, tensor<10xf32>) -> tensor<10xf32>
    return %34, %36, %38, %40, %42, %44, %15 : tensor<64x32xf32>, tensor<64xf32>, tensor<64x64xf32>, tensor<64xf32>, tensor<10x64xf32>, tensor<10xf32>, tensor<f32>
  }

}
