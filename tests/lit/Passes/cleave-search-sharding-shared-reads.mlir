// Cheap ops that read one parameter decide together how they read it, and
// one resharding of it serves them all (the partitioner shares it by value
// and layout). Here a fused q/k/v weight in [in, out] layout, as onnx.helper
// graphs write it, is read by three slices (cleave-split-fused-projections
// made one product per slice). The search stores it split over the 4
// devices (AdamW updates a quarter each) and gathers it once per step;
// priced per slice, three gathers looked dearer than keeping it whole on
// every device, while the same weight read through one transpose (GPT-2's
// export) was split: the plan depended on how the model was written.
// (x[64,256] . W[256,768] + b, Split, q*k + v, . W2[256,16]; AdamW; the
// train step from cleavec --emit train-mlir.) The profile is h100-sxm-8x1
// without its 4 us kernel launch per NCCL collective: at this size one
// launch outweighs the update a split saves, and the decision tested here
// is how shared reads are priced, not the launch floor.
// RUN: cleave-opt %s --split-input-file --cleave-search-sharding="devices=4 grid=tp=4 cluster=%inputs/h100-no-launch-cluster.json" | FileCheck %s
// RUN: cleave-opt %s --split-input-file --cleave-search-sharding="devices=4 grid=tp=4 cluster=%inputs/h100-no-launch-cluster.json" --cleave-partition | FileCheck %s --check-prefix=COLLECTIVES

// CHECK-LABEL: func.func @train_step
// CHECK-SAME:    %arg0: tensor<256x768xf32> {cleave.param = #cleave.param<"qkv.weight", trainable>, cleave.sharding = #shard<axisarray{{\[}}[0], []]>}

// COLLECTIVES-LABEL: func.func @train_step
// COLLECTIVES:         %[[W:.*]] = shard.all_gather %arg0 on @grid grid_axes = [0] gather_axis = 0 : tensor<64x768xf32> -> tensor<256x768xf32>
// COLLECTIVES:         cleave.slice %[[W]] {starts = array<i64: 0, 0>
// COLLECTIVES:         cleave.slice %[[W]] {starts = array<i64: 0, 256>
// COLLECTIVES:         cleave.slice %[[W]] {starts = array<i64: 0, 512>
// COLLECTIVES-NOT:     shard.all_gather
// COLLECTIVES:         return
module {
  func.func @train_step(%arg0: tensor<256x768xf32> {cleave.param = #cleave.param<"qkv.weight", trainable>}, %arg1: tensor<768xf32> {cleave.param = #cleave.param<"qkv.bias", trainable>}, %arg2: tensor<256x16xf32> {cleave.param = #cleave.param<"head.weight", trainable>}, %arg3: tensor<256x768xf32> {cleave.opt_state = "qkv.weight.exp_avg"}, %arg4: tensor<256x768xf32> {cleave.opt_state = "qkv.weight.exp_avg_sq"}, %arg5: tensor<768xf32> {cleave.opt_state = "qkv.bias.exp_avg"}, %arg6: tensor<768xf32> {cleave.opt_state = "qkv.bias.exp_avg_sq"}, %arg7: tensor<256x16xf32> {cleave.opt_state = "head.weight.exp_avg"}, %arg8: tensor<256x16xf32> {cleave.opt_state = "head.weight.exp_avg_sq"}, %arg9: tensor<64x256xf32> {cleave.input = "x"}, %arg10: tensor<64xi64> {cleave.input = "y"}, %arg11: tensor<f32> {cleave.step_scalar = "lr"}, %arg12: tensor<f32> {cleave.step_scalar = "bias_correction1"}, %arg13: tensor<f32> {cleave.step_scalar = "bias_correction2"}) -> (tensor<256x768xf32> {cleave.updates = 0 : i64}, tensor<256x768xf32> {cleave.updates = 3 : i64}, tensor<256x768xf32> {cleave.updates = 4 : i64}, tensor<768xf32> {cleave.updates = 1 : i64}, tensor<768xf32> {cleave.updates = 5 : i64}, tensor<768xf32> {cleave.updates = 6 : i64}, tensor<256x16xf32> {cleave.updates = 2 : i64}, tensor<256x16xf32> {cleave.updates = 7 : i64}, tensor<256x16xf32> {cleave.updates = 8 : i64}, tensor<f32> {cleave.loss}) {
    %0 = cleave.constant dense<9.99999993E-9> : tensor<f32>
    %1 = cleave.constant dense<9.990000e-01> : tensor<f32>
    %2 = cleave.constant dense<1.000000e-03> : tensor<f32>
    %3 = cleave.constant dense<1.000000e-01> : tensor<f32>
    %4 = cleave.constant dense<1.000000e+00> : tensor<f32>
    %5 = cleave.slice %arg0 {starts = array<i64: 0, 0>, strides = array<i64: 1, 1>} : tensor<256x768xf32> -> tensor<256x256xf32>
    %6 = cleave.matmul %arg9, %5 : (tensor<64x256xf32>, tensor<256x256xf32>) -> tensor<64x256xf32>
    %7 = cleave.slice %arg1 {starts = array<i64: 0>, strides = array<i64: 1>} : tensor<768xf32> -> tensor<256xf32>
    %8 = cleave.binary add %6, %7 : (tensor<64x256xf32>, tensor<256xf32>) -> tensor<64x256xf32>
    %9 = cleave.slice %arg0 {starts = array<i64: 0, 256>, strides = array<i64: 1, 1>} : tensor<256x768xf32> -> tensor<256x256xf32>
    %10 = cleave.matmul %arg9, %9 : (tensor<64x256xf32>, tensor<256x256xf32>) -> tensor<64x256xf32>
    %11 = cleave.slice %arg1 {starts = array<i64: 256>, strides = array<i64: 1>} : tensor<768xf32> -> tensor<256xf32>
    %12 = cleave.binary add %10, %11 : (tensor<64x256xf32>, tensor<256xf32>) -> tensor<64x256xf32>
    %13 = cleave.slice %arg0 {starts = array<i64: 0, 512>, strides = array<i64: 1, 1>} : tensor<256x768xf32> -> tensor<256x256xf32>
    %14 = cleave.matmul %arg9, %13 : (tensor<64x256xf32>, tensor<256x256xf32>) -> tensor<64x256xf32>
    %15 = cleave.slice %arg1 {starts = array<i64: 512>, strides = array<i64: 1>} : tensor<768xf32> -> tensor<256xf32>
    %16 = cleave.binary add %14, %15 : (tensor<64x256xf32>, tensor<256xf32>) -> tensor<64x256xf32>
    %17 = cleave.binary mul %8, %12 : (tensor<64x256xf32>, tensor<64x256xf32>) -> tensor<64x256xf32>
    %18 = cleave.binary add %17, %16 : (tensor<64x256xf32>, tensor<64x256xf32>) -> tensor<64x256xf32>
    %19 = cleave.matmul %18, %arg2 : (tensor<64x256xf32>, tensor<256x16xf32>) -> tensor<64x16xf32>
    %20 = cleave.cross_entropy %19, %arg10 : (tensor<64x16xf32>, tensor<64xi64>) -> tensor<f32>
    %21 = cleave.cross_entropy_grad %19, %arg10, %4 : (tensor<64x16xf32>, tensor<64xi64>, tensor<f32>) -> tensor<64x16xf32>
    %22 = cleave.matmul %21, %arg2 {transpose_b} : (tensor<64x16xf32>, tensor<256x16xf32>) -> tensor<64x256xf32>
    %23 = cleave.matmul %18, %21 {transpose_a} : (tensor<64x256xf32>, tensor<64x16xf32>) -> tensor<256x16xf32>
    %24 = cleave.binary mul %22, %12 : (tensor<64x256xf32>, tensor<64x256xf32>) -> tensor<64x256xf32>
    %25 = cleave.binary mul %22, %8 : (tensor<64x256xf32>, tensor<64x256xf32>) -> tensor<64x256xf32>
    %26 = cleave.reduce sum %22 {axes = array<i64: 0>, keep_dims} : tensor<64x256xf32> -> tensor<1x256xf32>
    %27 = cleave.reshape %26 : tensor<1x256xf32> to tensor<256xf32>
    %28 = cleave.slice_scatter %27 {starts = array<i64: 512>, strides = array<i64: 1>} : tensor<256xf32> -> tensor<768xf32>
    %29 = cleave.matmul %arg9, %22 {transpose_a} : (tensor<64x256xf32>, tensor<64x256xf32>) -> tensor<256x256xf32>
    %30 = cleave.slice_scatter %29 {starts = array<i64: 0, 512>, strides = array<i64: 1, 1>} : tensor<256x256xf32> -> tensor<256x768xf32>
    %31 = cleave.reduce sum %25 {axes = array<i64: 0>, keep_dims} : tensor<64x256xf32> -> tensor<1x256xf32>
    %32 = cleave.reshape %31 : tensor<1x256xf32> to tensor<256xf32>
    %33 = cleave.slice_scatter %32 {starts = array<i64: 256>, strides = array<i64: 1>} : tensor<256xf32> -> tensor<768xf32>
    %34 = cleave.binary add %28, %33 : (tensor<768xf32>, tensor<768xf32>) -> tensor<768xf32>
    %35 = cleave.matmul %arg9, %25 {transpose_a} : (tensor<64x256xf32>, tensor<64x256xf32>) -> tensor<256x256xf32>
    %36 = cleave.slice_scatter %35 {starts = array<i64: 0, 256>, strides = array<i64: 1, 1>} : tensor<256x256xf32> -> tensor<256x768xf32>
    %37 = cleave.binary add %30, %36 : (tensor<256x768xf32>, tensor<256x768xf32>) -> tensor<256x768xf32>
    %38 = cleave.reduce sum %24 {axes = array<i64: 0>, keep_dims} : tensor<64x256xf32> -> tensor<1x256xf32>
    %39 = cleave.reshape %38 : tensor<1x256xf32> to tensor<256xf32>
    %40 = cleave.slice_scatter %39 {starts = array<i64: 0>, strides = array<i64: 1>} : tensor<256xf32> -> tensor<768xf32>
    %41 = cleave.binary add %34, %40 : (tensor<768xf32>, tensor<768xf32>) -> tensor<768xf32>
    %42 = cleave.matmul %arg9, %24 {transpose_a} : (tensor<64x256xf32>, tensor<64x256xf32>) -> tensor<256x256xf32>
    %43 = cleave.slice_scatter %42 {starts = array<i64: 0, 0>, strides = array<i64: 1, 1>} : tensor<256x256xf32> -> tensor<256x768xf32>
    %44 = cleave.binary add %37, %43 : (tensor<256x768xf32>, tensor<256x768xf32>) -> tensor<256x768xf32>
    %45 = cleave.binary sub %44, %arg3 : (tensor<256x768xf32>, tensor<256x768xf32>) -> tensor<256x768xf32>
    %46 = cleave.binary mul %45, %3 : (tensor<256x768xf32>, tensor<f32>) -> tensor<256x768xf32>
    %47 = cleave.binary add %arg3, %46 : (tensor<256x768xf32>, tensor<256x768xf32>) -> tensor<256x768xf32>
    %48 = cleave.binary mul %44, %44 : (tensor<256x768xf32>, tensor<256x768xf32>) -> tensor<256x768xf32>
    %49 = cleave.binary mul %48, %2 : (tensor<256x768xf32>, tensor<f32>) -> tensor<256x768xf32>
    %50 = cleave.binary mul %arg4, %1 : (tensor<256x768xf32>, tensor<f32>) -> tensor<256x768xf32>
    %51 = cleave.binary add %50, %49 : (tensor<256x768xf32>, tensor<256x768xf32>) -> tensor<256x768xf32>
    %52 = cleave.unary sqrt %arg13 : tensor<f32>
    %53 = cleave.unary sqrt %51 : tensor<256x768xf32>
    %54 = cleave.binary div %53, %52 : (tensor<256x768xf32>, tensor<f32>) -> tensor<256x768xf32>
    %55 = cleave.binary add %54, %0 : (tensor<256x768xf32>, tensor<f32>) -> tensor<256x768xf32>
    %56 = cleave.binary div %arg11, %arg12 : (tensor<f32>, tensor<f32>) -> tensor<f32>
    %57 = cleave.binary div %47, %55 : (tensor<256x768xf32>, tensor<256x768xf32>) -> tensor<256x768xf32>
    %58 = cleave.binary mul %56, %57 : (tensor<f32>, tensor<256x768xf32>) -> tensor<256x768xf32>
    %59 = cleave.binary sub %arg0, %58 : (tensor<256x768xf32>, tensor<256x768xf32>) -> tensor<256x768xf32>
    %60 = cleave.binary sub %41, %arg5 : (tensor<768xf32>, tensor<768xf32>) -> tensor<768xf32>
    %61 = cleave.binary mul %60, %3 : (tensor<768xf32>, tensor<f32>) -> tensor<768xf32>
    %62 = cleave.binary add %arg5, %61 : (tensor<768xf32>, tensor<768xf32>) -> tensor<768xf32>
    %63 = cleave.binary mul %41, %41 : (tensor<768xf32>, tensor<768xf32>) -> tensor<768xf32>
    %64 = cleave.binary mul %63, %2 : (tensor<768xf32>, tensor<f32>) -> tensor<768xf32>
    %65 = cleave.binary mul %arg6, %1 : (tensor<768xf32>, tensor<f32>) -> tensor<768xf32>
    %66 = cleave.binary add %65, %64 : (tensor<768xf32>, tensor<768xf32>) -> tensor<768xf32>
    %67 = cleave.unary sqrt %66 : tensor<768xf32>
    %68 = cleave.binary div %67, %52 : (tensor<768xf32>, tensor<f32>) -> tensor<768xf32>
    %69 = cleave.binary add %68, %0 : (tensor<768xf32>, tensor<f32>) -> tensor<768xf32>
    %70 = cleave.binary div %62, %69 : (tensor<768xf32>, tensor<768xf32>) -> tensor<768xf32>
    %71 = cleave.binary mul %56, %70 : (tensor<f32>, tensor<768xf32>) -> tensor<768xf32>
    %72 = cleave.binary sub %arg1, %71 : (tensor<768xf32>, tensor<768xf32>) -> tensor<768xf32>
    %73 = cleave.binary sub %23, %arg7 : (tensor<256x16xf32>, tensor<256x16xf32>) -> tensor<256x16xf32>
    %74 = cleave.binary mul %73, %3 : (tensor<256x16xf32>, tensor<f32>) -> tensor<256x16xf32>
    %75 = cleave.binary add %arg7, %74 : (tensor<256x16xf32>, tensor<256x16xf32>) -> tensor<256x16xf32>
    %76 = cleave.binary mul %23, %23 : (tensor<256x16xf32>, tensor<256x16xf32>) -> tensor<256x16xf32>
    %77 = cleave.binary mul %76, %2 : (tensor<256x16xf32>, tensor<f32>) -> tensor<256x16xf32>
    %78 = cleave.binary mul %arg8, %1 : (tensor<256x16xf32>, tensor<f32>) -> tensor<256x16xf32>
    %79 = cleave.binary add %78, %77 : (tensor<256x16xf32>, tensor<256x16xf32>) -> tensor<256x16xf32>
    %80 = cleave.unary sqrt %79 : tensor<256x16xf32>
    %81 = cleave.binary div %80, %52 : (tensor<256x16xf32>, tensor<f32>) -> tensor<256x16xf32>
    %82 = cleave.binary add %81, %0 : (tensor<256x16xf32>, tensor<f32>) -> tensor<256x16xf32>
    %83 = cleave.binary div %75, %82 : (tensor<256x16xf32>, tensor<256x16xf32>) -> tensor<256x16xf32>
    %84 = cleave.binary mul %56, %83 : (tensor<f32>, tensor<256x16xf32>) -> tensor<256x16xf32>
    %85 = cleave.binary sub %arg2, %84 : (tensor<256x16xf32>, tensor<256x16xf32>) -> tensor<256x16xf32>
    return %59, %47, %51, %72, %62, %66, %85, %75, %79, %20 : tensor<256x768xf32>, tensor<256x768xf32>, tensor<256x768xf32>, tensor<768xf32>, tensor<768xf32>, tensor<768xf32>, tensor<256x16xf32>, tensor<256x16xf32>, tensor<256x16xf32>, tensor<f32>
  }
}
