// RUN: cleave-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(cleave-annotate-costs))' | FileCheck %s

// Pins the FLOP and byte formulas of CostOpInterface with hand-computed
// numbers. Bytes are every operand read once plus every result written once,
// at 4 bytes per f32, 8 per i64 and 1 per i1 element, unless noted.

// 2-D matmul: 2 * M * N * K FLOPs.
// CHECK-LABEL: func.func @matmul
// CHECK-SAME:    attributes {cleave.total_bytes = 11264 : i64, cleave.total_flops = 32768 : i64}
// flops = 2 * 8 * 64 * 32 = 32768
// bytes = (8*32 + 32*64 + 8*64) * 4 = (256 + 2048 + 512) * 4 = 11264
// CHECK:         cleave.matmul {{.*}} {cleave.bytes = 11264 : i64, cleave.flops = 32768 : i64}
func.func @matmul(%a: tensor<8x32xf32>, %b: tensor<32x64xf32>) -> tensor<8x64xf32> {
  %0 = cleave.matmul %a, %b : (tensor<8x32xf32>, tensor<32x64xf32>) -> tensor<8x64xf32>
  return %0 : tensor<8x64xf32>
}

// -----

// Batched matmul with broadcast batch dimensions and transposed operands:
// 2 * (result elements) * K, where the result holds the broadcast batch.
// CHECK-LABEL: func.func @matmul_batched
// CHECK-SAME:    attributes {cleave.total_bytes = 11264 : i64, cleave.total_flops = 49152 : i64}
// result 2x3x8x16 = 768 elements, K = 32 (lhs is [.., K, M] with transpose_a)
// flops = 2 * 768 * 32 = 49152
// bytes = (2*1*32*8 + 3*16*32 + 768) * 4 = (512 + 1536 + 768) * 4 = 11264
// CHECK:         cleave.matmul {{.*}} {cleave.bytes = 11264 : i64, cleave.flops = 49152 : i64, transpose_a, transpose_b}
func.func @matmul_batched(%a: tensor<2x1x32x8xf32>, %b: tensor<3x16x32xf32>) -> tensor<2x3x8x16xf32> {
  %0 = cleave.matmul %a, %b {transpose_a, transpose_b} : (tensor<2x1x32x8xf32>, tensor<3x16x32xf32>) -> tensor<2x3x8x16xf32>
  return %0 : tensor<2x3x8x16xf32>
}

// -----

// conv2d: 2 * N * F * OH * OW * (C / groups) * KH * KW, plus one add per
// output element for the bias.
// CHECK-LABEL: func.func @conv2d
// CHECK-SAME:    attributes {cleave.total_bytes = 11552 : i64, cleave.total_flops = 61144 : i64}
// Grouped with bias: output 2x8x10x10 = 1600 elements, C/g * KH * KW = 2 * 3 * 3 = 18
// flops = 2 * 1600 * 18 + 1600 = 57600 + 1600 = 59200
// bytes = (2*4*10*10 + 8*2*3*3 + 8 + 1600) * 4 = (800 + 144 + 8 + 1600) * 4 = 10208
// CHECK:         cleave.conv2d {{.*}} {cleave.bytes = 10208 : i64, cleave.flops = 59200 : i64,
// No bias, stride 2: output 1x4x3x3 = 36 elements ((8 - 3) / 2 + 1 = 3), C * KH * KW = 27
// flops = 2 * 36 * 27 = 1944
// bytes = (1*3*8*8 + 4*3*3*3 + 36) * 4 = (192 + 108 + 36) * 4 = 1344
// CHECK:         cleave.conv2d {{.*}} {cleave.bytes = 1344 : i64, cleave.flops = 1944 : i64,
// totals: flops = 59200 + 1944 = 61144; bytes = 10208 + 1344 = 11552
func.func @conv2d(%x: tensor<2x4x10x10xf32>, %w: tensor<8x2x3x3xf32>, %b: tensor<8xf32>, %y: tensor<1x3x8x8xf32>, %v: tensor<4x3x3x3xf32>) -> (tensor<2x8x10x10xf32>, tensor<1x4x3x3xf32>) {
  %0 = cleave.conv2d %x, %w, %b {dilations = array<i64: 1, 1>, groups = 2 : i64, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<2x4x10x10xf32>, tensor<8x2x3x3xf32>, tensor<8xf32>) -> tensor<2x8x10x10xf32>
  %1 = cleave.conv2d %y, %v {dilations = array<i64: 1, 1>, groups = 1 : i64, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x3x3xf32>
  return %0, %1 : tensor<2x8x10x10xf32>, tensor<1x4x3x3xf32>
}

// -----

// softmax: 5 FLOPs per element (max, subtract, exp, sum, divide), log or not.
// CHECK-LABEL: func.func @softmax
// CHECK-SAME:    attributes {cleave.total_bytes = 1280 : i64, cleave.total_flops = 800 : i64}
// flops = 5 * 8*10 = 400; bytes = (80 + 80) * 4 = 640
// CHECK:         cleave.softmax {{.*}} {axis = 1 : i64, cleave.bytes = 640 : i64, cleave.flops = 400 : i64}
// CHECK:         cleave.softmax {{.*}} {axis = 1 : i64, cleave.bytes = 640 : i64, cleave.flops = 400 : i64, log}
func.func @softmax(%x: tensor<8x10xf32>) -> (tensor<8x10xf32>, tensor<8x10xf32>) {
  %0 = cleave.softmax %x {axis = 1 : i64} : tensor<8x10xf32>
  %1 = cleave.softmax %x {axis = 1 : i64, log} : tensor<8x10xf32>
  return %0, %1 : tensor<8x10xf32>, tensor<8x10xf32>
}

// -----

// layer_norm and batch_norm: 8 FLOPs per (normalised) output element.
// CHECK-LABEL: func.func @norms
// CHECK-SAME:    attributes {cleave.total_bytes = 9120 : i64, cleave.total_flops = 8768 : i64}
// layer_norm: flops = 8 * 2*16*32 = 8 * 1024 = 8192
//             bytes = (1024 + 32 + 32 + 1024) * 4 = 2112 * 4 = 8448
// CHECK:         cleave.layer_norm {{.*}} {axis = 2 : i64, cleave.bytes = 8448 : i64, cleave.flops = 8192 : i64,
// batch_norm: flops = 8 * 2*4*3*3 = 8 * 72 = 576 (statistics updates not counted)
//             bytes = (72 + 4 * 4 + 72 + 2 * 4) * 4 = 168 * 4 = 672
// CHECK:         cleave.batch_norm {{.*}} {cleave.bytes = 672 : i64, cleave.flops = 576 : i64,
// totals: flops = 8192 + 576 = 8768; bytes = 8448 + 672 = 9120
func.func @norms(%x: tensor<2x16x32xf32>, %g: tensor<32xf32>, %b: tensor<32xf32>, %y: tensor<2x4x3x3xf32>, %s: tensor<4xf32>) -> (tensor<2x16x32xf32>, tensor<2x4x3x3xf32>) {
  %0 = cleave.layer_norm %x, %g, %b {axis = 2 : i64, epsilon = 1.0e-05 : f64} : (tensor<2x16x32xf32>, tensor<32xf32>, tensor<32xf32>) -> tensor<2x16x32xf32>
  %1, %2, %3 = cleave.batch_norm %y, %s, %s, %s, %s {epsilon = 1.0e-05 : f64, momentum = 0.1 : f64} : (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>)
  return %0, %1 : tensor<2x16x32xf32>, tensor<2x4x3x3xf32>
}

// -----

// reduce: one FLOP per input element, whatever the kind and keep_dims.
// CHECK-LABEL: func.func @reduce
// CHECK-SAME:    attributes {cleave.total_bytes = 8324 : i64, cleave.total_flops = 2048 : i64}
// flops = 2*16*32 = 1024; bytes = (1024 + 2*16*1) * 4 = 1056 * 4 = 4224
// CHECK:         cleave.reduce mean {{.*}} {axes = array<i64: 2>, cleave.bytes = 4224 : i64, cleave.flops = 1024 : i64, keep_dims}
// flops = 1024; bytes = (1024 + 1) * 4 = 4100 (the scalar result is one element)
// CHECK:         cleave.reduce max {{.*}} {axes = array<i64: 0, 1, 2>, cleave.bytes = 4100 : i64, cleave.flops = 1024 : i64}
// totals: flops = 2048; bytes = 4224 + 4100 = 8324
func.func @reduce(%x: tensor<2x16x32xf32>) -> (tensor<2x16x1xf32>, tensor<f32>) {
  %0 = cleave.reduce mean %x {axes = array<i64: 2>, keep_dims} : tensor<2x16x32xf32> -> tensor<2x16x1xf32>
  %1 = cleave.reduce max %x {axes = array<i64: 0, 1, 2>} : tensor<2x16x32xf32> -> tensor<f32>
  return %0, %1 : tensor<2x16x1xf32>, tensor<f32>
}

// -----

// pool2d: one FLOP per window element per output element.
// CHECK-LABEL: func.func @pool2d
// CHECK-SAME:    attributes {cleave.total_bytes = 1352 : i64, cleave.total_flops = 578 : i64}
// max 2x2 stride 2: output 1x2x4x4 = 32; flops = 32 * 2*2 = 128; bytes = (128 + 32) * 4 = 640
// CHECK:         cleave.pool2d max {{.*}} {cleave.bytes = 640 : i64, cleave.flops = 128 : i64,
// avg 3x3 ceil_mode: output 1x2x5x5 = 50; flops = 50 * 3*3 = 450; bytes = (128 + 50) * 4 = 712
// CHECK:         cleave.pool2d avg {{.*}} {ceil_mode, cleave.bytes = 712 : i64, cleave.flops = 450 : i64,
// totals: flops = 128 + 450 = 578; bytes = 640 + 712 = 1352
func.func @pool2d(%x: tensor<1x2x8x8xf32>) -> (tensor<1x2x4x4xf32>, tensor<1x2x5x5xf32>) {
  %0 = cleave.pool2d max %x {kernel = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : tensor<1x2x8x8xf32> -> tensor<1x2x4x4xf32>
  %1 = cleave.pool2d avg %x {ceil_mode, count_include_pad, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : tensor<1x2x8x8xf32> -> tensor<1x2x5x5xf32>
  return %0, %1 : tensor<1x2x4x4xf32>, tensor<1x2x5x5xf32>
}

// -----

// Data movement does no arithmetic: 0 FLOPs, but reads and writes its data.
// CHECK-LABEL: func.func @data_movement
// CHECK-SAME:    attributes {cleave.total_bytes = 39576 : i64, cleave.total_flops = 0 : i64}
// transpose: bytes = 2 * (2*16*32) * 4 = 8192
// CHECK:         cleave.transpose {{.*}} {cleave.bytes = 8192 : i64, cleave.flops = 0 : i64}
// gather: bytes = 64*32*4 + 2*16*8 (i64 indices) + 2*16*32*4 = 8192 + 256 + 4096 = 12544
// CHECK:         cleave.gather {{.*}} {axis = 0 : i64, cleave.bytes = 12544 : i64, cleave.flops = 0 : i64}
// broadcast: bytes = (32 + 16*32) * 4 = 2176
// CHECK:         cleave.broadcast {{.*}} {cleave.bytes = 2176 : i64, cleave.flops = 0 : i64}
// slice: bytes = (2*16*96 + 2*16*32) * 4 = (3072 + 1024) * 4 = 16384
// CHECK:         cleave.slice {{.*}} {cleave.bytes = 16384 : i64, cleave.flops = 0 : i64,
// concat: bytes = (2*3 + 2*5 + 2*8) * 4 = 128
// CHECK:         cleave.concat {{.*}} {axis = 1 : i64, cleave.bytes = 128 : i64, cleave.flops = 0 : i64}
// cast: bytes = 4*4 (f32) + 4*2 (f16) = 24
// CHECK:         cleave.cast {{.*}} {cleave.bytes = 24 : i64, cleave.flops = 0 : i64}
// iota: bytes = 16 * 8 = 128 (no operands)
// CHECK:         cleave.iota {cleave.bytes = 128 : i64, cleave.flops = 0 : i64,
// total bytes = 8192 + 12544 + 2176 + 16384 + 128 + 24 + 128 = 39576
func.func @data_movement(%x: tensor<2x16x32xf32>, %wte: tensor<64x32xf32>, %idx: tensor<2x16xi64>, %r: tensor<1x32xf32>, %qkv: tensor<2x16x96xf32>, %a: tensor<2x3xf32>, %b: tensor<2x5xf32>, %h: tensor<4xf32>) -> (tensor<2x32x16xf32>, tensor<2x16x32xf32>, tensor<16x32xf32>, tensor<2x16x32xf32>, tensor<2x8xf32>, tensor<4xf16>, tensor<16xi64>) {
  %0 = cleave.transpose %x [0, 2, 1] : tensor<2x16x32xf32> -> tensor<2x32x16xf32>
  %1 = cleave.gather %wte[%idx] {axis = 0 : i64} : (tensor<64x32xf32>, tensor<2x16xi64>) -> tensor<2x16x32xf32>
  %2 = cleave.broadcast %r : tensor<1x32xf32> to tensor<16x32xf32>
  %3 = cleave.slice %qkv {starts = array<i64: 0, 0, 32>, strides = array<i64: 1, 1, 1>} : tensor<2x16x96xf32> -> tensor<2x16x32xf32>
  %4 = cleave.concat %a, %b {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x5xf32>) -> tensor<2x8xf32>
  %5 = cleave.cast %h : tensor<4xf32> to tensor<4xf16>
  %6 = cleave.iota {start = 0 : i64, step = 1 : i64} : tensor<16xi64>
  return %0, %1, %2, %3, %4, %5, %6 : tensor<2x32x16xf32>, tensor<2x16x32xf32>, tensor<16x32xf32>, tensor<2x16x32xf32>, tensor<2x8xf32>, tensor<4xf16>, tensor<16xi64>
}

// -----

// A reshape is a view of the same buffer (0 bytes); a constant is baked into
// the program (0 bytes). Neither computes anything.
// CHECK-LABEL: func.func @free
// CHECK-SAME:    attributes {cleave.total_bytes = 0 : i64, cleave.total_flops = 0 : i64}
// CHECK:         cleave.constant dense<1.000000e+00> : tensor<4x4xf32> {cleave.bytes = 0 : i64, cleave.flops = 0 : i64}
// CHECK:         cleave.reshape {{.*}} {cleave.bytes = 0 : i64, cleave.flops = 0 : i64} : tensor<4x4xf32> to tensor<16xf32>
func.func @free() -> tensor<16xf32> {
  %0 = cleave.constant dense<1.0> : tensor<4x4xf32>
  %1 = cleave.reshape %0 : tensor<4x4xf32> to tensor<16xf32>
  return %1 : tensor<16xf32>
}

// -----

// Elementwise ops take the default: one FLOP per result element.
// CHECK-LABEL: func.func @elementwise
// CHECK-SAME:    attributes {cleave.total_bytes = 5076 : i64, cleave.total_flops = 792 : i64}
// binary (broadcast): flops = 2*4 = 8; bytes = (8 + 4 + 8) * 4 = 80
// CHECK:         cleave.binary add {{.*}} {cleave.bytes = 80 : i64, cleave.flops = 8 : i64}
// unary: flops = 8; bytes = (8 + 8) * 4 = 64
// CHECK:         cleave.unary relu {{.*}} {cleave.bytes = 64 : i64, cleave.flops = 8 : i64}
// compare (i64 in, i1 out): flops = 16*16 = 256; bytes = 16*8 + 16*8 + 256*1 = 512
// CHECK:         cleave.compare gt {{.*}} {cleave.bytes = 512 : i64, cleave.flops = 256 : i64}
// select: flops = 2*16*16 = 512; bytes = 256*1 + 1*4 + 512*4 + 512*4 = 4356
// CHECK:         cleave.select {{.*}} {cleave.bytes = 4356 : i64, cleave.flops = 512 : i64}
// dropout: flops = 8; bytes = 64
// CHECK:         cleave.dropout {{.*}} {cleave.bytes = 64 : i64, cleave.flops = 8 : i64,
// totals: flops = 8 + 8 + 256 + 512 + 8 = 792; bytes = 80 + 64 + 512 + 4356 + 64 = 5076
func.func @elementwise(%a: tensor<2x4xf32>, %v: tensor<4xf32>, %col: tensor<1x16xi64>, %row: tensor<16x1xi64>, %s: tensor<f32>, %t: tensor<2x16x16xf32>) -> (tensor<2x4xf32>, tensor<2x16x16xf32>, tensor<2x4xf32>) {
  %0 = cleave.binary add %a, %v : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  %1 = cleave.unary relu %0 : tensor<2x4xf32>
  %2 = cleave.compare gt %col, %row : (tensor<1x16xi64>, tensor<16x1xi64>) -> tensor<16x16xi1>
  %3 = cleave.select %2, %s, %t : (tensor<16x16xi1>, tensor<f32>, tensor<2x16x16xf32>) -> tensor<2x16x16xf32>
  %4 = cleave.dropout %1 {ratio = 0.1 : f64} : tensor<2x4xf32>
  return %1, %3, %4 : tensor<2x4xf32>, tensor<2x16x16xf32>, tensor<2x4xf32>
}

// -----

// A whole MLP, as PyTorch exports it after canonicalization: the function
// totals are the sums of the per-op counts, and func.return carries none.
// CHECK-LABEL: func.func @mlp
// CHECK-SAME:    attributes {cleave.total_bytes = 25280 : i64, cleave.total_flops = 44432 : i64}
// fc1: flops = 2 * 8*64 * 32 = 32768; bytes = (8*32 + 64*32 + 8*64) * 4 = 11264
// CHECK:         cleave.matmul {{.*}} {cleave.bytes = 11264 : i64, cleave.flops = 32768 : i64, transpose_b}
// bias: flops = 8*64 = 512; bytes = (512 + 64 + 512) * 4 = 4352
// CHECK:         cleave.binary add {{.*}} {cleave.bytes = 4352 : i64, cleave.flops = 512 : i64}
// relu: flops = 512; bytes = (512 + 512) * 4 = 4096
// CHECK:         cleave.unary relu {{.*}} {cleave.bytes = 4096 : i64, cleave.flops = 512 : i64}
// fc2: flops = 2 * 8*10 * 64 = 10240; bytes = (8*64 + 10*64 + 8*10) * 4 = 1232 * 4 = 4928
// CHECK:         cleave.matmul {{.*}} {cleave.bytes = 4928 : i64, cleave.flops = 10240 : i64, transpose_b}
// log_softmax: flops = 5 * 80 = 400; bytes = (80 + 80) * 4 = 640
// CHECK:         cleave.softmax {{.*}} {axis = 1 : i64, cleave.bytes = 640 : i64, cleave.flops = 400 : i64, log}
// CHECK-NEXT:    return %{{[0-9]+}} : tensor<8x10xf32>{{$}}
// totals: flops = 32768 + 512 + 512 + 10240 + 400 = 44432
//         bytes = 11264 + 4352 + 4096 + 4928 + 640 = 25280
func.func @mlp(%x: tensor<8x32xf32>, %w1: tensor<64x32xf32>, %b1: tensor<64xf32>, %w2: tensor<10x64xf32>) -> tensor<8x10xf32> {
  %0 = cleave.matmul %x, %w1 {transpose_b} : (tensor<8x32xf32>, tensor<64x32xf32>) -> tensor<8x64xf32>
  %1 = cleave.binary add %0, %b1 : (tensor<8x64xf32>, tensor<64xf32>) -> tensor<8x64xf32>
  %2 = cleave.unary relu %1 : tensor<8x64xf32>
  %3 = cleave.matmul %2, %w2 {transpose_b} : (tensor<8x64xf32>, tensor<10x64xf32>) -> tensor<8x10xf32>
  %4 = cleave.softmax %3 {axis = 1 : i64, log} : tensor<8x10xf32>
  return %4 : tensor<8x10xf32>
}
