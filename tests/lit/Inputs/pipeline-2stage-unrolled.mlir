// A hand-written pipeline after cleave-pipeline-unroll (2 stages, 1
// micro-batch): a two-layer MLP (w0: 32 -> 64, relu, w1: 64 -> 10, summed
// cross-entropy) as one function per rank stage with the step's signature,
// the pp axis in the grid, transfers between the stages, the loss
// all-reduced over pp; the split's figures in cleave.pipeline (round
// numbers). Read by tests/lit/Tools/cleave-plan-pipeline.test.
module attributes {cleave.pipeline = {
    stages = 2 : i64, virtual_stages = 1 : i64, micro_batches = 1 : i64, schedule = "1f1b",
    cuts = ["/1/Relu"],
    chunk_forward_seconds = [1.0e-06, 1.0e-06], chunk_backward_seconds = [2.0e-06, 2.0e-06],
    chunk_parameter_bytes = [8192, 2560], chunk_activation_bytes = [3072, 2368],
    cut_bytes = [2048],
    p2p_seconds = [0.0],
    stage_memory_bytes = [19456, 7488], stage_seconds = [3.5e-06, 3.5e-06],
    predicted_step_seconds = 7.0e-06, bubble = 0.5,
    shared_parameters = []}} {
  shard.grid @grid(shape = 2) {cleave.axis_names = ["pp"]}
  func.func @train_step_stage0(
      %w0: tensor<64x32xf32> {cleave.param = #cleave.param<"w0", trainable>},
      %w1: tensor<10x64xf32> {cleave.param = #cleave.param<"w1", trainable>},
      %x: tensor<8x32xf32> {cleave.input = "x"}, %y: tensor<8xi64> {cleave.input = "y"},
      %lr: tensor<f32> {cleave.step_scalar = "lr"})
      -> (tensor<64x32xf32> {cleave.updates = 0 : i64}, tensor<10x64xf32> {cleave.updates = 1 : i64},
          tensor<f32> {cleave.loss}) {
    %zero = cleave.constant dense<0.000000e+00> : tensor<f32>
    %gb = cleave.recv_start {axis = "pp", peer = 1 : i64, tag = 1 : i64, slot = 1 : i64} : tensor<8x64xf32>
    %a = cleave.matmul %x, %w0 {transpose_b, cleave.fwd_id = 0 : i64, cleave.phase = "forward", cleave.stage = 0 : i64} : (tensor<8x32xf32>, tensor<64x32xf32>) -> tensor<8x64xf32> loc("/0/MatMul")
    %h = cleave.unary relu %a {cleave.fwd_id = 1 : i64, cleave.phase = "forward", cleave.stage = 0 : i64} : tensor<8x64xf32> loc("/1/Relu")
    cleave.send_start %h {axis = "pp", peer = 1 : i64, tag = 0 : i64, slot = 0 : i64} : tensor<8x64xf32>
    %gh = cleave.recv_wait %gb {slot = 1 : i64} : tensor<8x64xf32>
    cleave.send_wait %h {slot = 0 : i64} : tensor<8x64xf32>
    %m = cleave.compare gt %a, %zero {cleave.bwd_of = 1 : i64, cleave.phase = "backward", cleave.stage = 0 : i64} : (tensor<8x64xf32>, tensor<f32>) -> tensor<8x64xi1> loc("/1/Relu")
    %ga = cleave.select %m, %gh, %zero {cleave.bwd_of = 1 : i64, cleave.phase = "backward", cleave.stage = 0 : i64} : (tensor<8x64xi1>, tensor<8x64xf32>, tensor<f32>) -> tensor<8x64xf32> loc("/1/Relu")
    %gw0 = cleave.matmul %ga, %x {transpose_a, cleave.bwd_of = 0 : i64, cleave.phase = "backward", cleave.stage = 0 : i64} : (tensor<8x64xf32>, tensor<8x32xf32>) -> tensor<64x32xf32> loc("/0/MatMul")
    %s0 = cleave.binary mul %lr, %gw0 {cleave.update_of = 0 : i64, cleave.phase = "update", cleave.stage = 0 : i64} : (tensor<f32>, tensor<64x32xf32>) -> tensor<64x32xf32>
    %w0n = cleave.binary sub %w0, %s0 {cleave.update_of = 0 : i64, cleave.phase = "update", cleave.stage = 0 : i64} : (tensor<64x32xf32>, tensor<64x32xf32>) -> tensor<64x32xf32>
    %loss = shard.all_reduce %zero on @grid grid_axes = [0] : tensor<f32> -> tensor<f32>
    return %w0n, %w1, %loss : tensor<64x32xf32>, tensor<10x64xf32>, tensor<f32>
  }
  func.func @train_step_stage1(
      %w0: tensor<64x32xf32> {cleave.param = #cleave.param<"w0", trainable>},
      %w1: tensor<10x64xf32> {cleave.param = #cleave.param<"w1", trainable>},
      %x: tensor<8x32xf32> {cleave.input = "x"}, %y: tensor<8xi64> {cleave.input = "y"},
      %lr: tensor<f32> {cleave.step_scalar = "lr"})
      -> (tensor<64x32xf32> {cleave.updates = 0 : i64}, tensor<10x64xf32> {cleave.updates = 1 : i64},
          tensor<f32> {cleave.loss}) {
    %one = cleave.constant dense<1.000000e+00> : tensor<f32>
    %hb = cleave.recv_start {axis = "pp", peer = 0 : i64, tag = 0 : i64, slot = 0 : i64} : tensor<8x64xf32>
    %h = cleave.recv_wait %hb {slot = 0 : i64} : tensor<8x64xf32>
    %z = cleave.matmul %h, %w1 {transpose_b, cleave.fwd_id = 2 : i64, cleave.phase = "forward", cleave.stage = 1 : i64} : (tensor<8x64xf32>, tensor<10x64xf32>) -> tensor<8x10xf32> loc("/2/MatMul")
    %l = cleave.cross_entropy %z, %y {ignore_index = -100 : i64, sum, cleave.fwd_id = 3 : i64, cleave.phase = "forward", cleave.stage = 1 : i64} : (tensor<8x10xf32>, tensor<8xi64>) -> tensor<f32> loc("loss")
    %gz = cleave.cross_entropy_grad %z, %y, %one {ignore_index = -100 : i64, sum, cleave.bwd_of = 3 : i64, cleave.phase = "backward", cleave.stage = 1 : i64} : (tensor<8x10xf32>, tensor<8xi64>, tensor<f32>) -> tensor<8x10xf32> loc("loss")
    %gh = cleave.matmul %gz, %w1 {cleave.bwd_of = 2 : i64, cleave.phase = "backward", cleave.stage = 1 : i64} : (tensor<8x10xf32>, tensor<10x64xf32>) -> tensor<8x64xf32> loc("/2/MatMul")
    cleave.send_start %gh {axis = "pp", peer = 0 : i64, tag = 1 : i64, slot = 1 : i64} : tensor<8x64xf32>
    %gw1 = cleave.matmul %gz, %h {transpose_a, cleave.bwd_of = 2 : i64, cleave.phase = "backward", cleave.stage = 1 : i64} : (tensor<8x10xf32>, tensor<8x64xf32>) -> tensor<10x64xf32> loc("/2/MatMul")
    %s1 = cleave.binary mul %lr, %gw1 {cleave.update_of = 1 : i64, cleave.phase = "update", cleave.stage = 1 : i64} : (tensor<f32>, tensor<10x64xf32>) -> tensor<10x64xf32>
    %w1n = cleave.binary sub %w1, %s1 {cleave.update_of = 1 : i64, cleave.phase = "update", cleave.stage = 1 : i64} : (tensor<10x64xf32>, tensor<10x64xf32>) -> tensor<10x64xf32>
    cleave.send_wait %gh {slot = 1 : i64} : tensor<8x64xf32>
    %loss = shard.all_reduce %l on @grid grid_axes = [0] : tensor<f32> -> tensor<f32>
    return %w0, %w1n, %loss : tensor<64x32xf32>, tensor<10x64xf32>, tensor<f32>
  }
}
