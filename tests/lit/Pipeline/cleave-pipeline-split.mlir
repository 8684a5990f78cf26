// cleave-pipeline-split on small train steps built from a forward with
// ONNX node names (the locations): an MLP of three layers (fc0 relu0 fc1
// relu1 fc2) and a model whose embedding is tied to its head (embed fc0
// relu0 fc1 relu1 head, `wte` read by the gather and the head).
// RUN: cleave-opt %s --split-input-file --cleave-train-pipeline="loss=cross_entropy labels=y optimizer=sgd phase-tags=true" --cleave-pipeline-split="stages=1 micro-batches=4" | FileCheck %s --check-prefix=S1
// RUN: cleave-opt %s --split-input-file --cleave-train-pipeline="loss=cross_entropy labels=y optimizer=sgd phase-tags=true" --cleave-pipeline-split="stages=2 micro-batches=4" | FileCheck %s --check-prefix=S2
// RUN: cleave-opt %s --split-input-file --cleave-train-pipeline="loss=cross_entropy labels=y optimizer=sgd phase-tags=true" --cleave-pipeline-split="stages=3 micro-batches=4 schedule=gpipe" | FileCheck %s --check-prefix=S3
// RUN: cleave-opt %s --split-input-file --cleave-train-pipeline="loss=cross_entropy labels=y optimizer=sgd phase-tags=true" --cleave-pipeline-split="stages=2 micro-batches=4 cuts=relu1" | FileCheck %s --check-prefix=PIN
// RUN: cleave-opt %s --split-input-file --cleave-train-pipeline="loss=cross_entropy labels=y optimizer=sgd phase-tags=true" --cleave-pipeline-split="stages=2 micro-batches=4 print=true" -o /dev/null | FileCheck %s --check-prefix=REPORT
// RUN: cleave-opt %s --split-input-file --cleave-train-pipeline="loss=cross_entropy labels=y optimizer=sgd clip-grad-norm=1.0 phase-tags=true" --cleave-pipeline-split="stages=2" | FileCheck %s --check-prefix=CLIP

// Micro-batches alone: every op is chunk 0, with its phase.
// S1: cleave.pipeline = {bubble = 0.000000e+00 : f64, {{.*}}cut_bytes = [], cuts = [], layers = 3 : i64, micro_batches = 4 : i64, {{.*}}schedule = "1f1b", shared_parameters = [], {{.*}}stage_in_flight = [1], {{.*}}stages = 1 : i64, virtual_stages = 1 : i64}
// S1-LABEL: func.func @train_step(
// S1-NOT:   cleave.stage = 1
// S1:       cleave.matmul %arg6, %arg0 {cleave.fwd_id = 0 : i64, cleave.phase = "forward", cleave.stage = 0 : i64
// S1:       cleave.cross_entropy_grad {{.*}}cleave.phase = "backward", cleave.stage = 0 : i64
// S1:       cleave.binary sub %arg0, {{.*}}cleave.phase = "update", cleave.stage = 0 : i64
// S1-NOT:   cleave.stage = 1
// S1:       return

// Two stages: the layer boundaries are after relu0 and relu1 (one per
// layer, not between a bias add and its ReLU); the cost model puts the
// cut after relu0, since the head's cross entropy and its backward weigh
// more than a 64x64 layer. Backward ops follow the forward op they
// differentiate, updates the chunk of their parameter. Per micro-batch
// (4): 8x64 f32 / 4 = 512 bytes cross; chunk 0 stashes relu0's input
// (2048 B) and x (1024 B) for its backward, / 4 = 768; the first stage
// of 1F1B holds 2 micro-batches in flight.
// S2: cleave.pipeline = {{{.*}}chunk_activation_bytes = [768, 1633], {{.*}}chunk_parameter_bytes = [8448, 19240], cut_bytes = [512], cuts = ["relu0"], layers = 3 : i64, {{.*}}stage_activation_bytes = [1536, 1633], stage_gradient_bytes = [8448, 19240], stage_in_flight = [2, 1], stage_memory_bytes = [18432, 40113], stage_optimizer_bytes = [0, 0], {{.*}}stage_weight_bytes = [8448, 19240], stages = 2 : i64, virtual_stages = 1 : i64}
// S2-LABEL: func.func @train_step(
// S2:       cleave.matmul %arg6, %arg0 {cleave.fwd_id = 0 : i64, cleave.phase = "forward", cleave.stage = 0 : i64
// S2:       cleave.unary relu {{.*}}cleave.fwd_id = 2 : i64, cleave.phase = "forward", cleave.stage = 0 : i64
// S2:       cleave.matmul {{.*}}cleave.fwd_id = 3 : i64, cleave.phase = "forward", cleave.stage = 1 : i64
// S2:       cleave.cross_entropy {{.*}}cleave.phase = "forward", cleave.stage = 1 : i64
// S2:       cleave.cross_entropy_grad {{.*}}cleave.phase = "backward", cleave.stage = 1 : i64
// S2:       cleave.matmul {{.*}}cleave.bwd_of = 3 : i64, cleave.phase = "backward", cleave.stage = 1 : i64
// S2:       cleave.compare gt {{.*}}cleave.bwd_of = 2 : i64, cleave.phase = "backward", cleave.stage = 0 : i64
// S2:       cleave.matmul {{.*}}cleave.bwd_of = 0 : i64, cleave.phase = "backward", cleave.stage = 0 : i64
// S2:       cleave.binary sub %arg0, {{.*}}cleave.phase = "update", cleave.stage = 0 : i64, cleave.update_of = 0 : i64
// S2:       cleave.binary sub %arg2, {{.*}}cleave.phase = "update", cleave.stage = 1 : i64, cleave.update_of = 2 : i64

// Three stages, one layer each; under GPipe every stage holds all 4
// micro-batches' stashes.
// S3: cleave.pipeline = {{{.*}}cuts = ["relu0", "relu1"], {{.*}}schedule = "gpipe", {{.*}}stage_in_flight = [4, 4, 4], {{.*}}stages = 3 : i64
// S3-LABEL: func.func @train_step(
// S3:       cleave.unary relu {{.*}}cleave.fwd_id = 2 : i64, cleave.phase = "forward", cleave.stage = 0 : i64
// S3:       cleave.unary relu {{.*}}cleave.fwd_id = 5 : i64, cleave.phase = "forward", cleave.stage = 1 : i64
// S3:       cleave.matmul {{.*}}cleave.fwd_id = 6 : i64, cleave.phase = "forward", cleave.stage = 2 : i64
// S3:       cleave.binary sub %arg4, {{.*}}cleave.phase = "update", cleave.stage = 2 : i64

// A pinned cut: chunk 0 ends with ONNX node relu1.
// PIN: cleave.pipeline = {{{.*}}cuts = ["relu1"],
// PIN-LABEL: func.func @train_step(
// PIN:       cleave.unary relu {{.*}}cleave.fwd_id = 5 : i64, cleave.phase = "forward", cleave.stage = 0 : i64
// PIN:       cleave.matmul {{.*}}cleave.fwd_id = 6 : i64, cleave.phase = "forward", cleave.stage = 1 : i64
// PIN:       cleave.binary sub %arg2, {{.*}}cleave.phase = "update", cleave.stage = 0 : i64

// Gradient clipping (update_of = -1): each gradient's square sums on its
// own chunk, the partial sums flow on to the last chunk, which makes the
// coefficient; each gradient is scaled on its parameter's chunk.
// CLIP-LABEL: func.func @train_step(
// CLIP:       cleave.reduce sum {{.*}}cleave.phase = "update", cleave.stage = 0 : i64, cleave.update_of = -1 : i64
// CLIP:       cleave.reduce sum {{.*}}cleave.phase = "update", cleave.stage = 1 : i64, cleave.update_of = -1 : i64
// CLIP:       %[[COEF:[0-9]+]] = cleave.binary min {{.*}}cleave.phase = "update", cleave.stage = 1 : i64, cleave.update_of = -1 : i64
// CLIP:       cleave.binary mul %{{[0-9]+}}, %[[COEF]] {cleave.phase = "update", cleave.stage = 0 : i64, cleave.update_of = -1 : i64}
// CLIP:       cleave.binary mul %{{[0-9]+}}, %[[COEF]] {cleave.phase = "update", cleave.stage = 1 : i64, cleave.update_of = -1 : i64}

// REPORT:      pipeline: 2 stages, 4 micro-batches, schedule 1f1b; the model has 3 layers
// REPORT-NEXT:   stage 0: memory 18.0 KiB (weights 8.2 KiB, gradients 8.2 KiB, optimizer state 0 B, activations 1.5 KiB for 2 micro-batches in flight), busy {{.*}} per step
// REPORT-NEXT:     chunk 0: fc0 .. relu0 (3 forward ops); forward {{.*}}, backward {{.*}} per micro-batch; parameters 8.2 KiB, stash 768 B per micro-batch
// REPORT-NEXT:   stage 1: memory 39.2 KiB (weights 18.8 KiB, gradients 18.8 KiB, optimizer state 0 B, activations 1.6 KiB for 1 micro-batch in flight), busy {{.*}} per step
// REPORT-NEXT:     chunk 1: fc1 .. cleave.binary#13 (10 forward ops); forward {{.*}}, backward {{.*}} per micro-batch; parameters 18.8 KiB, stash 1.6 KiB per micro-batch
// REPORT-NEXT:   cut 0 after relu0 (chunk 0 -> 1): 512 B per micro-batch
// REPORT-NEXT:   predicted step {{.*}}, bubble {{[0-9.]+}}%

module {
  func.func @forward(%w0: tensor<64x32xf32> {cleave.param = #cleave.param<"0.weight", trainable>}, %b0: tensor<64xf32> {cleave.param = #cleave.param<"0.bias", trainable>}, %w1: tensor<64x64xf32> {cleave.param = #cleave.param<"2.weight", trainable>}, %b1: tensor<64xf32> {cleave.param = #cleave.param<"2.bias", trainable>}, %w2: tensor<10x64xf32> {cleave.param = #cleave.param<"4.weight", trainable>}, %b2: tensor<10xf32> {cleave.param = #cleave.param<"4.bias", trainable>}, %x: tensor<8x32xf32> {cleave.input = "x"}) -> (tensor<8x10xf32> {cleave.output = "logits"}) {
    %0 = cleave.matmul %x, %w0 {transpose_b} : (tensor<8x32xf32>, tensor<64x32xf32>) -> tensor<8x64xf32> loc("fc0")
    %1 = cleave.binary add %0, %b0 : (tensor<8x64xf32>, tensor<64xf32>) -> tensor<8x64xf32> loc("fc0")
    %2 = cleave.unary relu %1 : tensor<8x64xf32> loc("relu0")
    %3 = cleave.matmul %2, %w1 {transpose_b} : (tensor<8x64xf32>, tensor<64x64xf32>) -> tensor<8x64xf32> loc("fc1")
    %4 = cleave.binary add %3, %b1 : (tensor<8x64xf32>, tensor<64xf32>) -> tensor<8x64xf32> loc("fc1")
    %5 = cleave.unary relu %4 : tensor<8x64xf32> loc("relu1")
    %6 = cleave.matmul %5, %w2 {transpose_b} : (tensor<8x64xf32>, tensor<10x64xf32>) -> tensor<8x10xf32> loc("fc2")
    %7 = cleave.binary add %6, %b2 : (tensor<8x10xf32>, tensor<10xf32>) -> tensor<8x10xf32> loc("fc2")
    return %7 : tensor<8x10xf32>
  }
}

// -----

// The tied embedding: `wte` is read by the gather (chunk 0) and the head
// (the last chunk); chunk 0 owns it (its update is chunk 0's) and the
// dictionary records both readers. Its gradient is the head's partial sum
// plus the gather's, added in chunk 0's backward.
// Stage 1 holds a copy of wte (2048 B) and its partial gradient besides
// its own fc1 (4224 B); the optimizer state (none for SGD) stays with the
// owner.
// S2: cleave.pipeline = {{{.*}}chunk_parameter_bytes = [6272, 4224], {{.*}}cuts = ["relu0"], {{.*}}shared_parameters = [{chunks = [0, 1], name = "wte"}], {{.*}}stage_gradient_bytes = [6272, 6272], {{.*}}stage_weight_bytes = [6272, 6272],
// S2-LABEL: func.func @train_step(
// S2:       cleave.gather {{.*}}cleave.phase = "forward", cleave.stage = 0 : i64
// S2:       cleave.matmul %{{.*}}, %arg0 {cleave.fwd_id = 7 : i64, cleave.phase = "forward", cleave.stage = 1 : i64
// S2:       cleave.scatter_add {{.*}}cleave.bwd_of = 0 : i64, cleave.phase = "backward", cleave.stage = 0 : i64
// S2:       cleave.binary sub %arg0, {{.*}}cleave.phase = "update", cleave.stage = 0 : i64

// S3: cleave.pipeline = {{{.*}}cuts = ["relu0", "relu1"], {{.*}}shared_parameters = [{chunks = [0, 2], name = "wte"}],

// S1: shared_parameters = []
// PIN: cleave.pipeline = {{{.*}}cuts = ["relu1"], {{.*}}shared_parameters = [{chunks = [0, 1], name = "wte"}],

// REPORT: pipeline: 2 stages, 4 micro-batches, schedule 1f1b; the model has 3 layers
// REPORT:   shared parameter wte: read by chunks 0, 1 (owner 0: it sums the others' gradients, updates, and sends the new value back)

module {
  func.func @forward(%wte: tensor<16x32xf32> {cleave.param = #cleave.param<"wte", trainable>}, %w0: tensor<32x32xf32> {cleave.param = #cleave.param<"fc0.weight", trainable>}, %b0: tensor<32xf32> {cleave.param = #cleave.param<"fc0.bias", trainable>}, %w1: tensor<32x32xf32> {cleave.param = #cleave.param<"fc1.weight", trainable>}, %b1: tensor<32xf32> {cleave.param = #cleave.param<"fc1.bias", trainable>}, %ids: tensor<8xi64> {cleave.input = "ids"}) -> (tensor<8x16xf32> {cleave.output = "logits"}) {
    %0 = cleave.gather %wte[%ids] {axis = 0 : i64} : (tensor<16x32xf32>, tensor<8xi64>) -> tensor<8x32xf32> loc("embed")
    %1 = cleave.matmul %0, %w0 {transpose_b} : (tensor<8x32xf32>, tensor<32x32xf32>) -> tensor<8x32xf32> loc("fc0")
    %2 = cleave.binary add %1, %b0 : (tensor<8x32xf32>, tensor<32xf32>) -> tensor<8x32xf32> loc("fc0")
    %3 = cleave.unary relu %2 : tensor<8x32xf32> loc("relu0")
    %4 = cleave.matmul %3, %w1 {transpose_b} : (tensor<8x32xf32>, tensor<32x32xf32>) -> tensor<8x32xf32> loc("fc1")
    %5 = cleave.binary add %4, %b1 : (tensor<8x32xf32>, tensor<32xf32>) -> tensor<8x32xf32> loc("fc1")
    %6 = cleave.unary relu %5 : tensor<8x32xf32> loc("relu1")
    %7 = cleave.matmul %6, %wte {transpose_b} : (tensor<8x32xf32>, tensor<16x32xf32>) -> tensor<8x16xf32> loc("head")
    return %7 : tensor<8x16xf32>
  }
}
