// cleave-recompute's errors: each names what is missing and what to do.
// RUN: cleave-opt %s --split-input-file --verify-diagnostics --cleave-recompute=mode=full
// RUN: not cleave-opt %s --split-input-file --cleave-recompute=mode=partial -o /dev/null 2>&1 | FileCheck %s --check-prefix=MODE
// MODE: error: cleave-recompute: mode 'partial' is not one of none, selective, full

// A train step built without phase tags: the pass cannot tell the forward
// from the backward.
// expected-error @+1 {{'func.func' op has no op tagged cleave.fwd_id: cleave-recompute needs the train step built with phase tags (--cleave-train-pipeline="... phase-tags=true"; cleavec --recompute turns them on)}}
func.func @train_step(%w: tensor<4x4xf32>, %x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %0 = cleave.matmul %x, %w : (tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<2x4xf32>
  %1 = cleave.unary tanh %0 : tensor<2x4xf32>
  return %1 : tensor<2x4xf32>
}

// -----

// Already cut into pipeline chunks: the split must see the clones.
// expected-error @+1 {{'func.func' op is already cut into pipeline chunks (cleave.stage): run cleave-recompute before cleave-pipeline-split}}
func.func @train_step(%w: tensor<4x4xf32>, %x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %0 = cleave.matmul %x, %w {cleave.fwd_id = 0 : i64, cleave.phase = "forward", cleave.stage = 0 : i64} : (tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// No train step at all.
// expected-error @below {{cleave-recompute: no function @train_step to recompute; build the train step first (--cleave-train-pipeline with phase-tags=true)}}
module {
  func.func @forward(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
    return %x : tensor<2x4xf32>
  }
}
