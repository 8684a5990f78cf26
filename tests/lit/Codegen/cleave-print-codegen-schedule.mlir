// RUN: cleave-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(cleave-print-codegen-schedule))' -o /dev/null | FileCheck %s

// Fusion: the elementwise ops of one shape after the matmul form one loop
// (the splat constant inlined, the reshape a view); the reduce ends it and
// the 0-d sqrt opens another. Only values read after their loop (%1
// returned, %4 read by the reduce through the view) are stored.
// Memory: %0 dies in step 1, so the reduce's result reuses its bytes;
// %1 lives to the end (returned).
// CHECK-LABEL: schedule @fuse: 4 steps, 2 fused loops
// CHECK-NEXT:    step 0: call cleave.matmul -> %0
// CHECK-NEXT:    step 1: loop 0 over [8, 16]: cleave.binary, cleave.binary, cleave.unary; in %0, %arg2; out %1, %4
// CHECK-NEXT:    step 2: call cleave.reduce -> %6
// CHECK-NEXT:    step 3: loop 1 over []: cleave.unary; in %6; out %7
// CHECK-NEXT:  memory @fuse: workspace 1536 bytes (1664 without reuse)
// CHECK-NEXT:    %arg0: argument 0
// CHECK-NEXT:    %arg1: argument 1
// CHECK-NEXT:    %arg2: argument 2
// CHECK-NEXT:    %0: workspace [0, 512) steps 0..1
// CHECK-NEXT:    %1: workspace [512, 1024) steps 1..4
// CHECK-NEXT:    %4: workspace [1024, 1536) steps 1..2
// CHECK-NEXT:    %6: workspace [0, 4) steps 2..3
// CHECK-NEXT:    %7: workspace [64, 68) steps 3..4
func.func @fuse(%a: tensor<8x4xf32>, %w: tensor<4x16xf32>, %b: tensor<16xf32>) -> (tensor<8x16xf32>, tensor<f32>) {
  %0 = cleave.matmul %a, %w : (tensor<8x4xf32>, tensor<4x16xf32>) -> tensor<8x16xf32>
  %1 = cleave.binary add %0, %b : (tensor<8x16xf32>, tensor<16xf32>) -> tensor<8x16xf32>
  %c = cleave.constant dense<2.0> : tensor<8x16xf32>
  %2 = cleave.binary mul %1, %c : (tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<8x16xf32>
  %3 = cleave.unary relu %2 : tensor<8x16xf32>
  %4 = cleave.reshape %3 : tensor<8x16xf32> to tensor<128xf32>
  %5 = cleave.reduce sum %4 {axes = array<i64: 0>} : tensor<128xf32> -> tensor<f32>
  %6 = cleave.unary sqrt %5 : tensor<f32>
  return %1, %6 : tensor<8x16xf32>, tensor<f32>
}

// -----

// Updates of arguments: the new %m (%3) is written in place, since nothing
// reads the old %m after its loop; the new %p (%1) is not, since the reduce
// reads the old %p later: it goes to the workspace and is copied at the end.
// CHECK-LABEL: schedule @update: 3 steps, 2 fused loops
// CHECK-NEXT:    step 0: loop 0 over [16]: cleave.binary, cleave.binary; in %arg1, %arg2, %arg0; out %1
// CHECK-NEXT:    step 1: call cleave.reduce -> %2
// CHECK-NEXT:    step 2: loop 1 over [16]: cleave.binary; in %arg1, %2; out %3
// CHECK-NEXT:  memory @update: workspace 128 bytes (128 without reuse)
// CHECK:         %1: workspace [0, 64) steps 0..3
// CHECK-NEXT:    %2: workspace [64, 68) steps 1..2
// CHECK-NEXT:    %3: argument 1
// CHECK-NEXT:    copy at end: %1 -> argument 0
func.func @update(%p: tensor<16xf32>, %m: tensor<16xf32>, %g: tensor<16xf32>) -> (tensor<16xf32> {cleave.updates = 0 : i64}, tensor<16xf32> {cleave.updates = 1 : i64}) {
  %0 = cleave.binary mul %m, %g : (tensor<16xf32>, tensor<16xf32>) -> tensor<16xf32>
  %1 = cleave.binary sub %p, %0 : (tensor<16xf32>, tensor<16xf32>) -> tensor<16xf32>
  %2 = cleave.reduce sum %p {axes = array<i64: 0>, keep_dims} : tensor<16xf32> -> tensor<1xf32>
  %3 = cleave.binary add %m, %2 : (tensor<16xf32>, tensor<1xf32>) -> tensor<16xf32>
  return %1, %3 : tensor<16xf32>, tensor<16xf32>
}

// -----

// Transfers (a pipeline stage): each is a step of its own, so no loop spans
// one, and the loop reading the received tensor (%3, a view of the buffer
// %1) comes after its recv_wait. The sent %0 lives until its send_wait
// (step 6), the buffer %1 from its recv_start to its view's last reader;
// only the matmul after the send_wait reuses %0's bytes.
// CHECK-LABEL: schedule @transfers: 8 steps, 3 fused loops
// CHECK-NEXT:    step 0: loop 0 over [2, 8]: cleave.unary; in %arg0; out %0
// CHECK-NEXT:    step 1: call cleave.recv_start -> %1
// CHECK-NEXT:    step 2: call cleave.send_start ->
// CHECK-NEXT:    step 3: loop 1 over [2, 8]: cleave.unary; in %0; out %2
// CHECK-NEXT:    step 4: call cleave.recv_wait -> %3
// CHECK-NEXT:    step 5: loop 2 over [2, 8]: cleave.binary; in %3, %2; out %4
// CHECK-NEXT:    step 6: call cleave.send_wait ->
// CHECK-NEXT:    step 7: call cleave.matmul -> %5
// CHECK-NEXT:  memory @transfers: workspace 256 bytes (320 without reuse)
// CHECK-NEXT:    %arg0: argument 0
// CHECK-NEXT:    %0: workspace [0, 64) steps 0..6
// CHECK-NEXT:    %1: workspace [64, 128) steps 1..5
// CHECK-NEXT:    %2: workspace [128, 192) steps 3..5
// CHECK-NEXT:    %4: workspace [192, 256) steps 5..8
// CHECK-NEXT:    %5: workspace [0, 16) steps 7..8
func.func @transfers(%x: tensor<2x8xf32>) -> (tensor<2x8xf32>, tensor<2x2xf32>) {
  %a = cleave.unary relu %x : tensor<2x8xf32>
  %buf = cleave.recv_start {axis = "pp", peer = 1 : i64, tag = 1 : i64, slot = 1 : i64} : tensor<2x8xf32>
  cleave.send_start %a {axis = "pp", peer = 1 : i64, tag = 0 : i64, slot = 0 : i64} : tensor<2x8xf32>
  %e = cleave.unary exp %a : tensor<2x8xf32>
  %g = cleave.recv_wait %buf {slot = 1 : i64} : tensor<2x8xf32>
  %s = cleave.binary add %g, %e : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  cleave.send_wait %a {slot = 0 : i64} : tensor<2x8xf32>
  %m = cleave.matmul %x, %x {transpose_b} : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x2xf32>
  return %s, %m : tensor<2x8xf32>, tensor<2x2xf32>
}
