// RUN: cleave-opt %s --split-input-file --verify-diagnostics --cleave-partition="function=f"

shard.grid @grid(shape = 4) {cleave.axis_names = ["dp"]}
// expected-error @+1 {{dimension 0 (size 6) of a 6x4 tensor cannot be split 4 ways over grid axes dp: choose a grid whose axes divide it}}
func.func @f(%x: tensor<6x4xf32> {cleave.sharding = #shard<axisarray[[0], []]>}) -> tensor<6x4xf32> {
  return %x : tensor<6x4xf32>
}

// -----

shard.grid @grid(shape = 2) {cleave.axis_names = ["dp"]}
func.func @f(%x: tensor<8x4xf32>) -> tensor<8x4xf32> {
  // expected-error @+1 {{factor 1 (size 4) must stay whole but is split over dp}}
  %s = cleave.softmax %x {axis = 1 : i64, cleave.factor_axes = #shard<axisarray[[], [0]]>} : tensor<8x4xf32>
  return %s : tensor<8x4xf32>
}

// -----

shard.grid @grid(shape = 2x2) {cleave.axis_names = ["dp", "tp"]}
func.func @f(%x: tensor<8x4xf32>) -> tensor<8x4xf32> {
  // expected-error @+1 {{splits two factors over grid axis dp}}
  %s = cleave.unary relu %x {cleave.factor_axes = #shard<axisarray[[0], [0]]>} : tensor<8x4xf32>
  return %s : tensor<8x4xf32>
}

// -----

shard.grid @grid(shape = 2) {cleave.axis_names = ["dp"]}
func.func @f(%x: tensor<8x4xf32>) -> tensor<8x4xf32> {
  // expected-error @+1 {{has 1 entries in cleave.factor_axes but 2 factors}}
  %s = cleave.unary relu %x {cleave.factor_axes = #shard<axisarray[[0]]>} : tensor<8x4xf32>
  return %s : tensor<8x4xf32>
}

// -----

shard.grid @grid(shape = 2) {cleave.axis_names = ["dp"]}
func.func @f(%x: tensor<2x16xf32>) -> tensor<32xf32> {
  // expected-error @+1 {{factor 1 is the minor part of a merged dimension and cannot be split}}
  %r = cleave.reshape %x {cleave.factor_axes = #shard<axisarray[[], [0]]>} : tensor<2x16xf32> to tensor<32xf32>
  return %r : tensor<32xf32>
}
