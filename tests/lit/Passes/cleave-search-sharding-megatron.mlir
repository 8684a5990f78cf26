// The search finds Megatron's MLP split by itself: a 1024 -> 8192 -> 1024
// block under a small batch (8 rows) on 4 H100s. Moving its 32 MiB weight
// gradients (data parallelism) costs far more than one all-reduce of the
// 32 KiB block output, so the up-projection is split by columns and the
// down-projection by rows over the same devices: exactly one all-reduce in
// the forward (the block's output) and one in the backward (the gradient
// of the block's input). (The train step of models/gen_mlp.py
// --in-features 1024 --hidden 1024,8192,1024 --classes 16 --batch 8, SGD,
// from cleavec --emit train-mlir.)
// RUN: cleave-opt %s --cleave-search-sharding="devices=4 cluster=h100-sxm-8x1" | FileCheck %s
// RUN: cleave-opt %s --cleave-search-sharding="devices=4 cluster=h100-sxm-8x1" --cleave-partition | FileCheck %s --check-prefix=COLLECTIVES

// CHECK-LABEL: func.func @train_step
// CHECK-SAME:    %arg2: tensor<8192x1024xf32> {cleave.param = #cleave.param<"2.weight", trainable>, cleave.sharding = #shard<axisarray{{\[}}[[[AXES:[0-9, ]+]]], []]>}
// CHECK-SAME:    %arg4: tensor<1024x8192xf32> {cleave.param = #cleave.param<"4.weight", trainable>, cleave.sharding = #shard<axisarray{{\[}}[], [[[AXES]]]]>}
// CHECK:         cleave.matmul %{{.*}}, %arg2 {cleave.factor_axes = #shard<axisarray{{\[}}[], [[[AXES]]], []]>, transpose_b}
// CHECK:         cleave.matmul %{{.*}}, %arg4 {cleave.factor_axes = #shard<axisarray{{\[}}[], [], [[[AXES]]]]>, transpose_b}

// COLLECTIVES-LABEL: func.func @train_step
// COLLECTIVES-COUNT-2: shard.all_reduce
// COLLECTIVES-NOT:     shard.all_reduce
// COLLECTIVES-NOT:     shard.reduce_scatter
module {
  func.func @train_step(%arg0: tensor<1024x1024xf32> {cleave.param = #cleave.param<"0.weight", trainable>}, %arg1: tensor<1024xf32> {cleave.param = #cleave.param<"0.bias", trainable>}, %arg2: tensor<8192x1024xf32> {cleave.param = #cleave.param<"2.weight", trainable>}, %arg3: tensor<8192xf32> {cleave.param = #cleave.param<"2.bias", trainable>}, %arg4: tensor<1024x8192xf32> {cleave.param = #cleave.param<"4.weight", trainable>}, %arg5: tensor<1024xf32> {cleave.param = #cleave.param<"4.bias", trainable>}, %arg6: tensor<16x1024xf32> {cleave.param = #cleave.param<"6.weight", trainable>}, %arg7: tensor<16xf32> {cleave.param = #cleave.param<"6.bias", trainable>}, %arg8: tensor<8x1024xf32> {cleave.input = "x"}, %arg9: tensor<8xi64> {cleave.input = "y"}, %arg10: tensor<f32> {cleave.step_scalar = "lr"}) -> (tensor<1024x1024xf32> {cleave.updates = 0 : i64}, tensor<1024xf32> {cleave.updates = 1 : i64}, tensor<8192x1024xf32> {cleave.updates = 2 : i64}, tensor<8192xf32> {cleave.updates = 3 : i64}, tensor<1024x8192xf32> {cleave.updates = 4 : i64}, tensor<1024xf32> {cleave.updates = 5 : i64}, tensor<16x1024xf32> {cleave.updates = 6 : i64}, tensor<16xf32> {cleave.updates = 7 : i64}, tensor<f32> {cleave.loss}) {
    %0 = cleave.constant dense<0.000000e+00> : tensor<f32>
    %1 = cleave.constant dense<1.000000e+00> : tensor<f32>
    %2 = cleave.matmul %arg8, %arg0 {transpose_b} : (tensor<8x1024xf32>, tensor<1024x1024xf32>) -> tensor<8x1024xf32>
    %3 = cleave.binary add %2, %arg1 : (tensor<8x1024xf32>, tensor<1024xf32>) -> tensor<8x1024xf32>
    %4 = cleave.unary relu %3 : tensor<8x1024xf32>
    %5 = cleave.matmul %4, %arg2 {transpose_b} : (tensor<8x1024xf32>, tensor<8192x1024xf32>) -> tensor<8x8192xf32>
    %6 = cleave.binary add %5, %arg3 : (tensor<8x8192xf32>, tensor<8192xf32>) -> tensor<8x8192xf32>
    %7 = cleave.unary relu %6 : tensor<8x8192xf32>
    %8 = cleave.matmul %7, %arg4 {transpose_b} : (tensor<8x8192xf32>, tensor<1024x8192xf32>) -> tensor<8x1024xf32>
    %9 = cleave.binary add %8, %arg5 : (tensor<8x1024xf32>, tensor<1024xf32>) -> tensor<8x1024xf32>
    %10 = cleave.unary relu %9 : tensor<8x1024xf32>
    %11 = cleave.matmul %10, %arg6 {transpose_b} : (tensor<8x1024xf32>, tensor<16x1024xf32>) -> tensor<8x16xf32>
    %12 = cleave.binary add %11, %arg7 : (tensor<8x16xf32>, tensor<16xf32>) -> tensor<8x16xf32>
    %13 = cleave.cross_entropy %12, %arg9 : (tensor<8x16xf32>, tensor<8xi64>) -> tensor<f32>
    %14 = cleave.cross_entropy_grad %12, %arg9, %1 : (tensor<8x16xf32>, tensor<8xi64>, tensor<f32>) -> tensor<8x16xf32>
    %15 = cleave.reduce sum %14 {axes = array<i64: 0>, keep_dims} : tensor<8x16xf32> -> tensor<1x16xf32>
    %16 = cleave.reshape %15 : tensor<1x16xf32> to tensor<16xf32>
    %17 = cleave.matmul %14, %arg6 : (tensor<8x16xf32>, tensor<16x1024xf32>) -> tensor<8x1024xf32>
    %18 = cleave.matmul %14, %10 {transpose_a} : (tensor<8x16xf32>, tensor<8x1024xf32>) -> tensor<16x1024xf32>
    %19 = cleave.compare gt %9, %0 : (tensor<8x1024xf32>, tensor<f32>) -> tensor<8x1024xi1>
    %20 = cleave.select %19, %17, %0 : (tensor<8x1024xi1>, tensor<8x1024xf32>, tensor<f32>) -> tensor<8x1024xf32>
    %21 = cleave.reduce sum %20 {axes = array<i64: 0>, keep_dims} : tensor<8x1024xf32> -> tensor<1x1024xf32>
    %22 = cleave.reshape %21 : tensor<1x1024xf32> to tensor<1024xf32>
    %23 = cleave.matmul %20, %arg4 : (tensor<8x1024xf32>, tensor<1024x8192xf32>) -> tensor<8x8192xf32>
    %24 = cleave.matmul %20, %7 {transpose_a} : (tensor<8x1024xf32>, tensor<8x8192xf32>) -> tensor<1024x8192xf32>
    %25 = cleave.compare gt %6, %0 : (tensor<8x8192xf32>, tensor<f32>) -> tensor<8x8192xi1>
    %26 = cleave.select %25, %23, %0 : (tensor<8x8192xi1>, tensor<8x8192xf32>, tensor<f32>) -> tensor<8x8192xf32>
    %27 = cleave.reduce sum %26 {axes = array<i64: 0>, keep_dims} : tensor<8x8192xf32> -> tensor<1x8192xf32>
    %28 = cleave.reshape %27 : tensor<1x8192xf32> to tensor<8192xf32>
    %29 = cleave.matmul %26, %arg2 : (tensor<8x8192xf32>, tensor<8192x1024xf32>) -> tensor<8x1024xf32>
    %30 = cleave.matmul %26, %4 {transpose_a} : (tensor<8x8192xf32>, tensor<8x1024xf32>) -> tensor<8192x1024xf32>
    %31 = cleave.compare gt %3, %0 : (tensor<8x1024xf32>, tensor<f32>) -> tensor<8x1024xi1>
    %32 = cleave.select %31, %29, %0 : (tensor<8x1024xi1>, tensor<8x1024xf32>, tensor<f32>) -> tensor<8x1024xf32>
    %33 = cleave.reduce sum %32 {axes = array<i64: 0>, keep_dims} : tensor<8x1024xf32> -> tensor<1x1024xf32>
    %34 = cleave.reshape %33 : tensor<1x1024xf32> to tensor<1024xf32>
    %35 = cleave.matmul %32, %arg8 {transpose_a} : (tensor<8x1024xf32>, tensor<8x1024xf32>) -> tensor<1024x1024xf32>
    %36 = cleave.binary mul %arg10, %35 : (tensor<f32>, tensor<1024x1024xf32>) -> tensor<1024x1024xf32>
    %37 = cleave.binary sub %arg0, %36 : (tensor<1024x1024xf32>, tensor<1024x1024xf32>) -> tensor<1024x1024xf32>
    %38 = cleave.binary mul %arg10, %34 : (tensor<f32>, tensor<1024xf32>) -> tensor<1024xf32>
    %39 = cleave.binary sub %arg1, %38 : (tensor<1024xf32>, tensor<1024xf32>) -> tensor<1024xf32>
    %40 = cleave.binary mul %arg10, %30 : (tensor<f32>, tensor<8192x1024xf32>) -> tensor<8192x1024xf32>
    %41 = cleave.binary sub %arg2, %40 : (tensor<8192x1024xf32>, tensor<8192x1024xf32>) -> tensor<8192x1024xf32>
    %42 = cleave.binary mul %arg10, %28 : (tensor<f32>, tensor<8192xf32>) -> tensor<8192xf32>
    %43 = cleave.binary sub %arg3, %42 : (tensor<8192xf32>, tensor<8192xf32>) -> tensor<8192xf32>
    %44 = cleave.binary mul %arg10, %24 : (tensor<f32>, tensor<1024x8192xf32>) -> tensor<1024x8192xf32>
    %45 = cleave.binary sub %arg4, %44 : (tensor<1024x8192xf32>, tensor<1024x8192xf32>) -> tensor<1024x8192xf32>
    %46 = cleave.binary mul %arg10, %22 : (tensor<f32>, tensor<1024xf32>) -> tensor<1024xf32>
    %47 = cleave.binary sub %arg5, %46 : (tensor<1024xf32>, tensor<1024xf32>) -> tensor<1024xf32>
    %48 = cleave.binary mul %arg10, %18 : (tensor<f32>, tensor<16x1024xf32>) -> tensor<16x1024xf32>
    %49 = cleave.binary sub %arg6, %48 : (tensor<16x1024xf32>, tensor<16x1024xf32>) -> tensor<16x1024xf32>
    %50 = cleave.binary mul %arg10, %16 : (tensor<f32>, tensor<16xf32>) -> tensor<16xf32>
    %51 = cleave.binary sub %arg7, %50 : (tensor<16xf32>, tensor<16xf32>) -> tensor<16xf32>
    return %37, %39, %41, %43, %45, %47, %49, %51, %13 : tensor<1024x1024xf32>, tensor<1024xf32>, tensor<8192x1024xf32>, tensor<8192xf32>, tensor<1024x8192xf32>, tensor<1024xf32>, tensor<16x1024xf32>, tensor<16xf32>, tensor<f32>
  }
}
