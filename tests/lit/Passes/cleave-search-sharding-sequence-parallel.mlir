// The search's `sequence-parallel` option on the toy GPT (two transformer
// layers; models/onnx/gpt_toy_dynamic.onnx at batch 8) on a tp=4 grid with
// Megatron's MLP pins: `on` splits every norm's rows (the forward's
// layer_norms and the backward's layer_norm_grads) over tp, Megatron-SP;
// `off` splits no norm over tp.
// RUN: cleavec %models/gpt_toy_dynamic.onnx --loss cross_entropy --labels y --batch-size 8 --emit=train-mlir -o %t.mlir
// RUN: cleave-opt %t.mlir --cleave-search-sharding="devices=4 grid=tp=4 sequence-parallel=on pins=transformer.h.0.mlp.c_fc.weight=tp,-;transformer.h.0.mlp.c_proj.weight=-,tp;transformer.h.1.mlp.c_fc.weight=tp,-;transformer.h.1.mlp.c_proj.weight=-,tp" | FileCheck %s --check-prefix=ON
// RUN: cleave-opt %t.mlir --cleave-search-sharding="devices=4 grid=tp=4 sequence-parallel=off pins=transformer.h.0.mlp.c_fc.weight=tp,-;transformer.h.0.mlp.c_proj.weight=-,tp;transformer.h.1.mlp.c_fc.weight=tp,-;transformer.h.1.mlp.c_proj.weight=-,tp" | FileCheck %s --check-prefix=OFF
// RUN: not cleave-opt %s --split-input-file --cleave-search-sharding="devices=4 grid=tp=4 sequence-parallel=maybe" 2>&1 | FileCheck %s --check-prefix=BAD

// ON-LABEL: func.func @train_step
// ON-COUNT-5: cleave.layer_norm %{{.*}} {axis = 2 : i64, cleave.factor_axes = #shard<axisarray{{\[}}{{.*}}[0]{{.*}}]>
// ON-COUNT-5: cleave.layer_norm_grad %{{.*}} {axis = 2 : i64, cleave.factor_axes = #shard<axisarray{{\[}}{{.*}}[0]{{.*}}]>

// OFF-LABEL: func.func @train_step
// OFF-NOT:   cleave.layer_norm{{.*}}cleave.factor_axes
// OFF:       return

// BAD: error: cleave-search-sharding: sequence-parallel=maybe is not one of auto, on, off
func.func @train_step(%w: tensor<4x4xf32> {cleave.param = #cleave.param<"w", trainable>}) -> tensor<4x4xf32> {
  return %w : tensor<4x4xf32>
}
