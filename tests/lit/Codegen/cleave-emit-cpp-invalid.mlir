// RUN: cleave-opt %s --split-input-file --verify-diagnostics --cleave-emit-cpp -o /dev/null

// Stages must be numbered without gaps.
module {
  shard.grid @grid(shape = 2) {cleave.axis_names = ["pp"]}
  func.func @train_step_stage0(%x: tensor<4xf32> {cleave.input = "x"}) -> (tensor<f32> {cleave.loss}) {
    %l = cleave.reduce sum %x {axes = array<i64: 0>} : tensor<4xf32> -> tensor<f32>
    return %l : tensor<f32>
  }
  // expected-error @+1 {{is a pipeline stage but @train_step_stage1 is missing: codegen needs the stages numbered 0, 1, ... without gaps}}
  func.func @train_step_stage2(%x: tensor<4xf32> {cleave.input = "x"}) -> (tensor<f32> {cleave.loss}) {
    %l = cleave.reduce sum %x {axes = array<i64: 0>} : tensor<4xf32> -> tensor<f32>
    return %l : tensor<f32>
  }
}

// -----

// Every stage takes the train step's arguments.
module {
  shard.grid @grid(shape = 2) {cleave.axis_names = ["pp"]}
  func.func @train_step_stage0(%x: tensor<4xf32> {cleave.input = "x"}) -> (tensor<f32> {cleave.loss}) {
    %l = cleave.reduce sum %x {axes = array<i64: 0>} : tensor<4xf32> -> tensor<f32>
    return %l : tensor<f32>
  }
  // expected-error @+1 {{has another signature than @train_step_stage0: every stage function takes and returns what the train step does}}
  func.func @train_step_stage1(%x: tensor<8xf32> {cleave.input = "x"}) -> (tensor<f32> {cleave.loss}) {
    %l = cleave.reduce sum %x {axes = array<i64: 0>} : tensor<8xf32> -> tensor<f32>
    return %l : tensor<f32>
  }
}

// -----

// The stages lie on grid axis "pp", one device each.
// expected-error @+1 {{a pipeline of 2 stages (@train_step_stage0..) needs a shard.grid whose axis 'pp' has 2 devices; the grid has no such axis}}
module {
  shard.grid @grid(shape = 2) {cleave.axis_names = ["dp"]}
  func.func @train_step_stage0(%x: tensor<4xf32> {cleave.input = "x"}) -> (tensor<f32> {cleave.loss}) {
    %l = cleave.reduce sum %x {axes = array<i64: 0>} : tensor<4xf32> -> tensor<f32>
    return %l : tensor<f32>
  }
  func.func @train_step_stage1(%x: tensor<4xf32> {cleave.input = "x"}) -> (tensor<f32> {cleave.loss}) {
    %l = cleave.reduce sum %x {axes = array<i64: 0>} : tensor<4xf32> -> tensor<f32>
    return %l : tensor<f32>
  }
}

// -----

// expected-error @+1 {{a pipeline of 2 stages (@train_step_stage0..) needs a shard.grid whose axis 'pp' has 2 devices; it has 4}}
module {
  shard.grid @grid(shape = 4) {cleave.axis_names = ["pp"]}
  func.func @train_step_stage0(%x: tensor<4xf32> {cleave.input = "x"}) -> (tensor<f32> {cleave.loss}) {
    %l = cleave.reduce sum %x {axes = array<i64: 0>} : tensor<4xf32> -> tensor<f32>
    return %l : tensor<f32>
  }
  func.func @train_step_stage1(%x: tensor<4xf32> {cleave.input = "x"}) -> (tensor<f32> {cleave.loss}) {
    %l = cleave.reduce sum %x {axes = array<i64: 0>} : tensor<4xf32> -> tensor<f32>
    return %l : tensor<f32>
  }
}

// -----

// expected-error @+1 {{a pipeline of 2 stages (@train_step_stage0..) needs a shard.grid whose axis 'pp' has 2 devices; the module has no shard.grid}}
module {
  func.func @train_step_stage0(%x: tensor<4xf32> {cleave.input = "x"}) -> (tensor<f32> {cleave.loss}) {
    %l = cleave.reduce sum %x {axes = array<i64: 0>} : tensor<4xf32> -> tensor<f32>
    return %l : tensor<f32>
  }
  func.func @train_step_stage1(%x: tensor<4xf32> {cleave.input = "x"}) -> (tensor<f32> {cleave.loss}) {
    %l = cleave.reduce sum %x {axes = array<i64: 0>} : tensor<4xf32> -> tensor<f32>
    return %l : tensor<f32>
  }
}

// -----

// A transfer names a grid axis and a stage that exist.
module {
  shard.grid @grid(shape = 2) {cleave.axis_names = ["pp"]}
  func.func @train_step_stage0(%x: tensor<4xf32> {cleave.input = "x"}) -> (tensor<f32> {cleave.loss}) {
    // expected-error @+1 {{transfers over grid axis 'tp', which the module's shard.grid does not have}}
    cleave.send_start %x {axis = "tp", peer = 1 : i64, tag = 0 : i64, slot = 0 : i64} : tensor<4xf32>
    cleave.send_wait %x {slot = 0 : i64} : tensor<4xf32>
    %l = cleave.reduce sum %x {axes = array<i64: 0>} : tensor<4xf32> -> tensor<f32>
    return %l : tensor<f32>
  }
  func.func @train_step_stage1(%x: tensor<4xf32> {cleave.input = "x"}) -> (tensor<f32> {cleave.loss}) {
    %l = cleave.reduce sum %x {axes = array<i64: 0>} : tensor<4xf32> -> tensor<f32>
    return %l : tensor<f32>
  }
}

// -----

module {
  shard.grid @grid(shape = 2) {cleave.axis_names = ["pp"]}
  func.func @train_step_stage0(%x: tensor<4xf32> {cleave.input = "x"}) -> (tensor<f32> {cleave.loss}) {
    %l = cleave.reduce sum %x {axes = array<i64: 0>} : tensor<4xf32> -> tensor<f32>
    return %l : tensor<f32>
  }
  func.func @train_step_stage1(%x: tensor<4xf32> {cleave.input = "x"}) -> (tensor<f32> {cleave.loss}) {
    // expected-error @+1 {{sends to or receives from stage 2 but grid axis 'pp' has 2 stages}}
    %b = cleave.recv_start {axis = "pp", peer = 2 : i64, tag = 0 : i64, slot = 0 : i64} : tensor<4xf32>
    %y = cleave.recv_wait %b {slot = 0 : i64} : tensor<4xf32>
    %l = cleave.reduce sum %y {axes = array<i64: 0>} : tensor<4xf32> -> tensor<f32>
    return %l : tensor<f32>
  }
}

// -----

// Transfers outside a pipeline need the grid too.
func.func @train_step(%x: tensor<4xf32> {cleave.input = "x"}) -> (tensor<f32> {cleave.loss}) {
  // expected-error @+1 {{transfers over grid axis 'pp' but the module has no shard.grid (a pipeline program's grid has the axis the stages lie on)}}
  cleave.send_start %x {axis = "pp", peer = 1 : i64, tag = 0 : i64, slot = 0 : i64} : tensor<4xf32>
  cleave.send_wait %x {slot = 0 : i64} : tensor<4xf32>
  %l = cleave.reduce sum %x {axes = array<i64: 0>} : tensor<4xf32> -> tensor<f32>
  return %l : tensor<f32>
}
