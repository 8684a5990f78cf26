// RUN: cleave-opt %s --split-input-file --cleave-emit-cpp -o /dev/null | FileCheck %s --check-prefixes=CHECK,CPU
// RUN: cleave-opt %s --split-input-file --cleave-emit-cpp=target=cuda -o /dev/null | FileCheck %s --check-prefixes=CHECK,CUDA

// Two pipeline stages on a pp=2 x dp=2 grid (what cleave-pipeline-unroll
// writes): a two-layer MLP whose stage 0 owns "0.weight", stage 1
// "1.weight" and its momentum; "scale" (a buffer) is read by both.
// Each stage is a step function of its own in `namespace stage<p>`, naming
// only the arguments it uses; `train_step` dispatches on the rank's "pp"
// coordinate.
// CHECK-LABEL: // Pipeline train step: 2 stages, one step function each
// CPU:         #include "cleave/rt/collectives.h"
// CUDA:        #include "cleave/rt/cuda_collectives.h"
// CHECK:       // Stage 0 (@train_step_stage0): {{.*}} workspace [[WS0:[0-9]+]] bytes
// CHECK-NEXT:  namespace stage0 {
// CHECK:       void train_step(const cleave::rt::StepScalars &s, const cleave::rt::StepBuffers &io) {
// CHECK-NEXT:    char *const workspace = static_cast<char *>(io.workspace);
// CHECK-NEXT:    float *const t_0_weight = static_cast<float *>(io.params[0]);
// CHECK-NEXT:    float *const scale = static_cast<float *>(io.params[2]);
// CHECK-NEXT:    float *const x = static_cast<float *>(const_cast<void *>(io.inputs[0]));
// CHECK-NEXT:    float *const constant = reinterpret_cast<float *>(workspace + 0);
// The receive buffer has a place of its own; the received tensor is not
// declared: it is the buffer (a view).
// CHECK:         float *const recv_start = reinterpret_cast<float *>(workspace + {{[0-9]+}});
// CHECK-NOT:     float *const select
// CHECK:         void *const scratch = workspace + [[WS0]];
// The gradient's receive is posted before the activation is sent; bytes,
// tag and slot follow the ops.
// CHECK:         { // cleave.recv_start
// CPU-NEXT:        cleave::rt::collective::recv_start(io.collectives, "pp", 1, recv_start, 64, 1, 1);
// CUDA-NEXT:       cleave::rt::cuda::collective::recv_start(io.collectives, "pp", 1, recv_start, 64, 1, 1);
// CHECK:         { // cleave.send_start
// CPU-NEXT:        cleave::rt::collective::send_start(io.collectives, "pp", 1, relu, 64, 0, 0);
// CUDA-NEXT:       cleave::rt::cuda::collective::send_start(io.collectives, "pp", 1, relu, 64, 0, 0);
// The compare, which precedes the wait in the program, is a loop of its
// own: the loop that reads the received gradient starts after the wait.
// CHECK:         // fused loop 2 over [2, 8]: cleave.compare
// CHECK-NOT:     recv_start[
// CHECK:         { // cleave.recv_wait
// CPU-NEXT:        cleave::rt::collective::wait(io.collectives, 1);
// CUDA-NEXT:       cleave::rt::cuda::collective::wait(io.collectives, 1);
// CHECK-NEXT:    }
// CHECK-NEXT:    // fused loop 3 over [2, 8]: cleave.select, cleave.binary
// CPU:               const float x1 = recv_start[i0 * 8 + i1];
// CUDA-NEXT:     fused_loop_3<<<1, 256>>>(compare, recv_start, constant, scale, mul_1, s);
// CHECK:         { // cleave.send_wait
// CPU-NEXT:        cleave::rt::collective::wait(io.collectives, 0);
// CUDA-NEXT:       cleave::rt::cuda::collective::wait(io.collectives, 0);
// CPU:             cleave::rt::collective::all_reduce(io.collectives, "pp", constant,
// "1.weight" and its momentum are returned unchanged: nothing is copied.
// CPU-NOT:       std::memcpy
// CUDA-NOT:      cudaMemcpyAsync
// CHECK:       int64_t workspace_bytes() { return [[WS0]] + int64_t(0); }
// CHECK:       } // namespace stage0
// CHECK:       // Stage 1 (@train_step_stage1): {{.*}} workspace [[WS1:[0-9]+]] bytes
// CHECK-NEXT:  namespace stage1 {
// CHECK:         float *const t_1_weight = static_cast<float *>(io.params[1]);
// CHECK-NEXT:    float *const scale = static_cast<float *>(io.params[2]);
// CHECK-NEXT:    float *const t_1_weight_momentum_buffer = static_cast<float *>(io.opt_state[0]);
// CHECK-NEXT:    int64_t *const y = static_cast<int64_t *>(const_cast<void *>(io.inputs[1]));
// CHECK:         { // cleave.recv_start
// CPU-NEXT:        cleave::rt::collective::recv_start(io.collectives, "pp", 0, recv_start, 64, 0, 0);
// CHECK:         { // cleave.recv_wait
// CPU-NEXT:        cleave::rt::collective::wait(io.collectives, 0);
// CHECK:         { // cleave.send_start
// CPU-NEXT:        cleave::rt::collective::send_start(io.collectives, "pp", 0, mul_1, 64, 1, 1);
// The weight gradient's matmul reads the received activation in place.
// CPU:             K::matmul(cross_entropy_grad, recv_start, matmul_2,
// CHECK:         { // cleave.send_wait
// CPU-NEXT:        cleave::rt::collective::wait(io.collectives, 1);
// CPU:             cleave::rt::collective::all_reduce(io.collectives, "pp", cross_entropy,
// CPU-NOT:       std::memcpy
// CHECK:       int64_t workspace_bytes() { return [[WS1]] + int64_t(0); }
// CHECK:       } // namespace stage1
// CHECK:       // Each rank runs the stage of its coordinate on grid axis "pp".
// CHECK-NEXT:  void train_step(const cleave::rt::StepScalars &s, const cleave::rt::StepBuffers &io) {
// CPU-NEXT:      switch (cleave::rt::collective::grid_coordinate(io.collectives, "pp")) {
// CUDA-NEXT:     switch (cleave::rt::cuda::collective::grid_coordinate(io.collectives, "pp")) {
// CHECK-NEXT:    case 0:
// CHECK-NEXT:      stage0::train_step(s, io);
// CHECK-NEXT:      break;
// CHECK-NEXT:    case 1:
// CHECK-NEXT:      stage1::train_step(s, io);
// CHECK-NEXT:      break;
// CHECK-NEXT:    }
// CHECK-NEXT:  }
// A stage's own tensors carry its stage list; "scale" (both) and the
// inputs (every rank's) none.
// CHECK:       const char * kParamShardings[] = {
// CHECK-NEXT:      "@0:",
// CHECK-NEXT:      "@1:",
// CHECK-NEXT:      "",
// CHECK-NEXT:  };
// CHECK-NEXT:  const char * kOptStateShardings[] = {
// CHECK-NEXT:      "@1:",
// CHECK-NEXT:  };
// CHECK-NEXT:  const char * kInputShardings[] = {
// CHECK-NEXT:      "dp,-",
// CHECK-NEXT:      "dp",
// CHECK-NEXT:  };
// CHECK:         model.workspace_bytes = std::max<int64_t>({stage0::workspace_bytes(), stage1::workspace_bytes()});
// CHECK-NOT:     eval_step
// CHECK:         model.grid = "pp=2,dp=2";
// CPU:           return cleave::rt::cpu::run_training_distributed(argc, argv, makeModelInfo(), train_step);
// CUDA:          return cleave::rt::cuda::run_training_distributed(argc, argv, makeModelInfo(), train_step);
module {
  shard.grid @grid(shape = 2x2) {cleave.axis_names = ["pp", "dp"]}
  func.func @train_step_stage0(%w0: tensor<8x4xf32> {cleave.param = #cleave.param<"0.weight", trainable>, cleave.sharding = #shard<axisarray[[], []]>}, %w1: tensor<3x8xf32> {cleave.param = #cleave.param<"1.weight", trainable>, cleave.sharding = #shard<axisarray[[], []]>}, %scale: tensor<8xf32> {cleave.param = #cleave.param<"scale", buffer>, cleave.sharding = #shard<axisarray[[]]>}, %m1: tensor<3x8xf32> {cleave.opt_state = "1.weight.momentum_buffer", cleave.sharding = #shard<axisarray[[], []]>}, %x: tensor<2x4xf32> {cleave.input = "x", cleave.sharding = #shard<axisarray[[1], []]>}, %y: tensor<2xi64> {cleave.input = "y", cleave.sharding = #shard<axisarray[[1]]>}, %lr: tensor<f32> {cleave.step_scalar = "lr"}) -> (tensor<8x4xf32> {cleave.updates = 0 : i64}, tensor<3x8xf32> {cleave.updates = 1 : i64}, tensor<3x8xf32> {cleave.updates = 3 : i64}, tensor<f32> {cleave.loss}) {
    %zero = cleave.constant dense<0.000000e+00> : tensor<f32>
    %h = cleave.matmul %x, %w0 {transpose_b} : (tensor<2x4xf32>, tensor<8x4xf32>) -> tensor<2x8xf32>
    %hs = cleave.binary mul %h, %scale : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
    %a = cleave.unary relu %hs : tensor<2x8xf32>
    %gbuf = cleave.recv_start {axis = "pp", peer = 1 : i64, tag = 1 : i64, slot = 1 : i64} : tensor<2x8xf32>
    cleave.send_start %a {axis = "pp", peer = 1 : i64, tag = 0 : i64, slot = 0 : i64} : tensor<2x8xf32>
    %pos = cleave.compare gt %hs, %zero : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xi1>
    %g = cleave.recv_wait %gbuf {slot = 1 : i64} : tensor<2x8xf32>
    %gm = cleave.select %pos, %g, %zero : (tensor<2x8xi1>, tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
    %gh = cleave.binary mul %gm, %scale : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
    %gw = cleave.matmul %gh, %x {transpose_a} : (tensor<2x8xf32>, tensor<2x4xf32>) -> tensor<8x4xf32>
    %gwr = shard.all_reduce %gw on @grid grid_axes = [1] : tensor<8x4xf32> -> tensor<8x4xf32>
    %step = cleave.binary mul %lr, %gwr : (tensor<f32>, tensor<8x4xf32>) -> tensor<8x4xf32>
    %w0n = cleave.binary sub %w0, %step : (tensor<8x4xf32>, tensor<8x4xf32>) -> tensor<8x4xf32>
    cleave.send_wait %a {slot = 0 : i64} : tensor<2x8xf32>
    %loss = shard.all_reduce %zero on @grid grid_axes = [0] : tensor<f32> -> tensor<f32>
    return %w0n, %w1, %m1, %loss : tensor<8x4xf32>, tensor<3x8xf32>, tensor<3x8xf32>, tensor<f32>
  }
  func.func @train_step_stage1(%w0: tensor<8x4xf32> {cleave.param = #cleave.param<"0.weight", trainable>, cleave.sharding = #shard<axisarray[[], []]>}, %w1: tensor<3x8xf32> {cleave.param = #cleave.param<"1.weight", trainable>, cleave.sharding = #shard<axisarray[[], []]>}, %scale: tensor<8xf32> {cleave.param = #cleave.param<"scale", buffer>, cleave.sharding = #shard<axisarray[[]]>}, %m1: tensor<3x8xf32> {cleave.opt_state = "1.weight.momentum_buffer", cleave.sharding = #shard<axisarray[[], []]>}, %x: tensor<2x4xf32> {cleave.input = "x", cleave.sharding = #shard<axisarray[[1], []]>}, %y: tensor<2xi64> {cleave.input = "y", cleave.sharding = #shard<axisarray[[1]]>}, %lr: tensor<f32> {cleave.step_scalar = "lr"}) -> (tensor<8x4xf32> {cleave.updates = 0 : i64}, tensor<3x8xf32> {cleave.updates = 1 : i64}, tensor<3x8xf32> {cleave.updates = 3 : i64}, tensor<f32> {cleave.loss}) {
    %one = cleave.constant dense<1.000000e+00> : tensor<f32>
    %momentum = cleave.constant dense<9.000000e-01> : tensor<f32>
    %abuf = cleave.recv_start {axis = "pp", peer = 0 : i64, tag = 0 : i64, slot = 0 : i64} : tensor<2x8xf32>
    %a0 = cleave.recv_wait %abuf {slot = 0 : i64} : tensor<2x8xf32>
    %a = cleave.binary mul %a0, %scale : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
    %z = cleave.matmul %a, %w1 {transpose_b} : (tensor<2x8xf32>, tensor<3x8xf32>) -> tensor<2x3xf32>
    %l = cleave.cross_entropy %z, %y {ignore_index = -100 : i64, sum} : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<f32>
    %gz = cleave.cross_entropy_grad %z, %y, %one {ignore_index = -100 : i64, sum} : (tensor<2x3xf32>, tensor<2xi64>, tensor<f32>) -> tensor<2x3xf32>
    %ga = cleave.matmul %gz, %w1 : (tensor<2x3xf32>, tensor<3x8xf32>) -> tensor<2x8xf32>
    %ga0 = cleave.binary mul %ga, %scale : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
    cleave.send_start %ga0 {axis = "pp", peer = 0 : i64, tag = 1 : i64, slot = 1 : i64} : tensor<2x8xf32>
    %gw = cleave.matmul %gz, %a0 {transpose_a} : (tensor<2x3xf32>, tensor<2x8xf32>) -> tensor<3x8xf32>
    %gwr = shard.all_reduce %gw on @grid grid_axes = [1] : tensor<3x8xf32> -> tensor<3x8xf32>
    %mm = cleave.binary mul %momentum, %m1 : (tensor<f32>, tensor<3x8xf32>) -> tensor<3x8xf32>
    %m1n = cleave.binary add %mm, %gwr : (tensor<3x8xf32>, tensor<3x8xf32>) -> tensor<3x8xf32>
    %step = cleave.binary mul %lr, %m1n : (tensor<f32>, tensor<3x8xf32>) -> tensor<3x8xf32>
    %w1n = cleave.binary sub %w1, %step : (tensor<3x8xf32>, tensor<3x8xf32>) -> tensor<3x8xf32>
    cleave.send_wait %ga0 {slot = 1 : i64} : tensor<2x8xf32>
    %loss = shard.all_reduce %l on @grid grid_axes = [0] : tensor<f32> -> tensor<f32>
    return %w0, %w1n, %m1n, %loss : tensor<8x4xf32>, tensor<3x8xf32>, tensor<3x8xf32>, tensor<f32>
  }
}

// -----

// Three stages on pp=3, one tied parameter: "emb" is used by stages 0 and
// 2 (stage 0 owns and updates it, then sends the new value to stage 2,
// which returns the received tensor: copied from the buffer at the end),
// "w" by stage 1 only. Sharded tensors keep their dims after the stage
// list.
// CHECK-LABEL: // Pipeline train step: 3 stages
// CHECK:       namespace stage0 {
// The update is written in place; the send reads it from the parameter.
// CPU:             emb[i0] = r0;
// CHECK:           collective::send_start(io.collectives, "pp", 2, emb, 16, 2, 1);
// CHECK:       namespace stage2 {
// CHECK:           collective::recv_start(io.collectives, "pp", 0, [[P0:recv_start[_0-9]*]], 16, 2, 1);
// CPU:           std::memcpy(emb, [[P0]], 16);
// CUDA:          CLEAVE_CUDA_CHECK(cudaMemcpyAsync(emb, [[P0]], 16, cudaMemcpyDeviceToDevice));
// CHECK:         case 2:
// CHECK-NEXT:      stage2::train_step(s, io);
// CHECK:       const char * kParamShardings[] = {
// CHECK-NEXT:      "@0,2:",
// CHECK-NEXT:      "@1:-,dp",
// CHECK-NEXT:  };
// CHECK:         model.workspace_bytes = std::max<int64_t>({stage0::workspace_bytes(), stage1::workspace_bytes(), stage2::workspace_bytes()});
// CHECK:         model.grid = "pp=3,dp=2";
module {
  shard.grid @grid(shape = 3x2) {cleave.axis_names = ["pp", "dp"]}
  func.func @train_step_stage0(%emb: tensor<4xf32> {cleave.param = #cleave.param<"emb", trainable>}, %w: tensor<4x2xf32> {cleave.param = #cleave.param<"w", trainable>, cleave.sharding = #shard<axisarray[[], [1]]>}, %x: tensor<2x4xf32> {cleave.input = "x"}, %lr: tensor<f32> {cleave.step_scalar = "lr"}) -> (tensor<4xf32> {cleave.updates = 0 : i64}, tensor<4x2xf32> {cleave.updates = 1 : i64}, tensor<f32> {cleave.loss}) {
    %zero = cleave.constant dense<0.000000e+00> : tensor<f32>
    %h = cleave.binary mul %x, %emb : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
    cleave.send_start %h {axis = "pp", peer = 1 : i64, tag = 0 : i64, slot = 0 : i64} : tensor<2x4xf32>
    %embn = cleave.binary sub %emb, %lr : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
    cleave.send_start %embn {axis = "pp", peer = 2 : i64, tag = 2 : i64, slot = 1 : i64} : tensor<4xf32>
    cleave.send_wait %h {slot = 0 : i64} : tensor<2x4xf32>
    cleave.send_wait %embn {slot = 1 : i64} : tensor<4xf32>
    %loss = shard.all_reduce %zero on @grid grid_axes = [0] : tensor<f32> -> tensor<f32>
    return %embn, %w, %loss : tensor<4xf32>, tensor<4x2xf32>, tensor<f32>
  }
  func.func @train_step_stage1(%emb: tensor<4xf32> {cleave.param = #cleave.param<"emb", trainable>}, %w: tensor<4x2xf32> {cleave.param = #cleave.param<"w", trainable>, cleave.sharding = #shard<axisarray[[], [1]]>}, %x: tensor<2x4xf32> {cleave.input = "x"}, %lr: tensor<f32> {cleave.step_scalar = "lr"}) -> (tensor<4xf32> {cleave.updates = 0 : i64}, tensor<4x2xf32> {cleave.updates = 1 : i64}, tensor<f32> {cleave.loss}) {
    %zero = cleave.constant dense<0.000000e+00> : tensor<f32>
    %hbuf = cleave.recv_start {axis = "pp", peer = 0 : i64, tag = 0 : i64, slot = 0 : i64} : tensor<2x4xf32>
    %h = cleave.recv_wait %hbuf {slot = 0 : i64} : tensor<2x4xf32>
    %g = cleave.matmul %h, %w : (tensor<2x4xf32>, tensor<4x2xf32>) -> tensor<2x2xf32>
    cleave.send_start %g {axis = "pp", peer = 2 : i64, tag = 1 : i64, slot = 1 : i64} : tensor<2x2xf32>
    cleave.send_wait %g {slot = 1 : i64} : tensor<2x2xf32>
    %loss = shard.all_reduce %zero on @grid grid_axes = [0] : tensor<f32> -> tensor<f32>
    return %emb, %w, %loss : tensor<4xf32>, tensor<4x2xf32>, tensor<f32>
  }
  func.func @train_step_stage2(%emb: tensor<4xf32> {cleave.param = #cleave.param<"emb", trainable>}, %w: tensor<4x2xf32> {cleave.param = #cleave.param<"w", trainable>, cleave.sharding = #shard<axisarray[[], [1]]>}, %x: tensor<2x4xf32> {cleave.input = "x"}, %lr: tensor<f32> {cleave.step_scalar = "lr"}) -> (tensor<4xf32> {cleave.updates = 0 : i64}, tensor<4x2xf32> {cleave.updates = 1 : i64}, tensor<f32> {cleave.loss}) {
    %gbuf = cleave.recv_start {axis = "pp", peer = 1 : i64, tag = 1 : i64, slot = 0 : i64} : tensor<2x2xf32>
    %ebuf = cleave.recv_start {axis = "pp", peer = 0 : i64, tag = 2 : i64, slot = 1 : i64} : tensor<4xf32>
    %g = cleave.recv_wait %gbuf {slot = 0 : i64} : tensor<2x2xf32>
    %gs = cleave.reduce sum %g {axes = array<i64: 0, 1>} : tensor<2x2xf32> -> tensor<f32>
    %t = cleave.binary mul %emb, %gs : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
    %l = cleave.reduce sum %t {axes = array<i64: 0>} : tensor<4xf32> -> tensor<f32>
    %embn = cleave.recv_wait %ebuf {slot = 1 : i64} : tensor<4xf32>
    %loss = shard.all_reduce %l on @grid grid_axes = [0] : tensor<f32> -> tensor<f32>
    return %embn, %w, %loss : tensor<4xf32>, tensor<4x2xf32>, tensor<f32>
  }
}
