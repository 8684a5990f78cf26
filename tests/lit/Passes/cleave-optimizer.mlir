// RUN: split-file %s %t
// RUN: cleave-opt %t/adamw.mlir --cleave-optimizer | FileCheck %t/adamw.mlir
// RUN: cleave-opt %t/adamw-decay.mlir --cleave-optimizer="weight-decay=0.1 beta1=0.8 beta2=0.99 eps=1e-6" | FileCheck %t/adamw-decay.mlir
// RUN: cleave-opt %t/sgd.mlir --cleave-optimizer="optimizer=sgd" | FileCheck %t/sgd.mlir
// RUN: cleave-opt %t/sgd-momentum.mlir --cleave-optimizer="optimizer=sgd momentum=0.9 weight-decay=0.01" | FileCheck %t/sgd-momentum.mlir
// RUN: cleave-opt %t/clip.mlir --cleave-optimizer="optimizer=sgd clip-grad-norm=2.0" | FileCheck %t/clip.mlir
// RUN: not cleave-opt %t/adamw.mlir --cleave-optimizer="optimizer=lion" 2>&1 | FileCheck %t/unknown-optimizer.mlir
// RUN: not cleave-opt %t/no-gradients.mlir --cleave-optimizer 2>&1 | FileCheck %t/no-gradients.mlir

// Every input is a @gradients function as cleave-autodiff makes it; its
// "gradients" are stand-ins (exp of the parameter) so that the checks can
// tell them apart.

//--- adamw.mlir

// AdamW: the signature is parameters (trainable and buffers), then
// exp_avg and exp_avg_sq per trained parameter, named "<param>.<slot>",
// then the data inputs, then the per-step scalars the host computes in
// double: lr, step_size = lr / (1 - beta1^t) and sqrt(1 - beta2^t).
// Results: new parameter, exp_avg, exp_avg_sq per trained parameter (each
// `cleave.updates` its argument), the loss, then the buffer updates of
// @gradients.
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME:    %arg0: tensor<4x3xf32> {cleave.param = #cleave.param<"fc.weight", trainable>},
// CHECK-SAME:    %arg1: tensor<4xf32> {cleave.param = #cleave.param<"fc.bias", trainable>},
// CHECK-SAME:    %arg2: tensor<4xf32> {cleave.param = #cleave.param<"bn.running_mean", buffer>},
// CHECK-SAME:    %arg3: tensor<4x3xf32> {cleave.opt_state = "fc.weight.exp_avg"},
// CHECK-SAME:    %arg4: tensor<4x3xf32> {cleave.opt_state = "fc.weight.exp_avg_sq"},
// CHECK-SAME:    %arg5: tensor<4xf32> {cleave.opt_state = "fc.bias.exp_avg"},
// CHECK-SAME:    %arg6: tensor<4xf32> {cleave.opt_state = "fc.bias.exp_avg_sq"},
// CHECK-SAME:    %arg7: tensor<2x3xf32> {cleave.input = "x"},
// CHECK-SAME:    %arg8: tensor<2xi64> {cleave.input = "y"},
// CHECK-SAME:    %arg9: tensor<f32> {cleave.step_scalar = "lr"},
// CHECK-SAME:    %arg10: tensor<f32> {cleave.step_scalar = "step_size"},
// CHECK-SAME:    %arg11: tensor<f32> {cleave.step_scalar = "bias_correction2_sqrt"})
// CHECK-SAME:    -> (tensor<4x3xf32> {cleave.updates = 0 : i64}, tensor<4x3xf32> {cleave.updates = 3 : i64}, tensor<4x3xf32> {cleave.updates = 4 : i64},
// CHECK-SAME:        tensor<4xf32> {cleave.updates = 1 : i64}, tensor<4xf32> {cleave.updates = 5 : i64}, tensor<4xf32> {cleave.updates = 6 : i64},
// CHECK-SAME:        tensor<f32> {cleave.loss}, tensor<4xf32> {cleave.updates = 2 : i64})
// The inlined @gradients:
// CHECK:         %[[LOSS:.*]] = cleave.constant dense<1.000000e+00> : tensor<f32>
// CHECK:         %[[RUNNING:.*]] = cleave.unary neg %arg2
// CHECK:         %[[G:.*]] = cleave.unary exp %arg0
// torch 1.13's _single_tensor_adamw, operation by operation; the first op
// reads the gradient (so that a collective producing it precedes the whole
// update, see Optimizer.cpp).
// exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
// CHECK:         %[[C1:.*]] = cleave.constant dense<1.000000e-01> : tensor<f32>
// CHECK-NEXT:    %[[GS:.*]] = cleave.binary mul %[[G]], %[[C1]]
// CHECK-NEXT:    %[[B1:.*]] = cleave.constant dense<0.899999976> : tensor<f32>
// CHECK-NEXT:    %[[MS:.*]] = cleave.binary mul %arg3, %[[B1]]
// CHECK-NEXT:    %[[M:.*]] = cleave.binary add %[[MS]], %[[GS]]
// exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2), with
// 1 - beta2 from the double 0.999 (0.001f; from 0.999f it would be
// 9.99987125E-4):
// CHECK-NEXT:    %[[C2:.*]] = cleave.constant dense<1.000000e-03> : tensor<f32>
// CHECK-NEXT:    %[[G2:.*]] = cleave.binary mul %[[G]], %[[C2]]
// CHECK-NEXT:    %[[GG:.*]] = cleave.binary mul %[[G2]], %[[G]]
// CHECK-NEXT:    %[[B2:.*]] = cleave.constant dense<9.990000e-01> : tensor<f32>
// CHECK-NEXT:    %[[VS:.*]] = cleave.binary mul %arg4, %[[B2]]
// CHECK-NEXT:    %[[V:.*]] = cleave.binary add %[[VS]], %[[GG]]
// denom = exp_avg_sq.sqrt() / math.sqrt(bias_correction2) + eps
// CHECK:         %[[SQV:.*]] = cleave.unary sqrt %[[V]]
// CHECK:         %[[Q:.*]] = cleave.binary div %[[SQV]], %arg11
// CHECK:         %[[EPS:.*]] = cleave.constant dense<9.99999993E-9> : tensor<f32>
// CHECK:         %[[DENOM:.*]] = cleave.binary add %[[Q]], %[[EPS]]
// param.addcdiv_(exp_avg, denom, value=-step_size)
// CHECK:         %[[SM:.*]] = cleave.binary mul %arg10, %[[M]]
// CHECK:         %[[U:.*]] = cleave.binary div %[[SM]], %[[DENOM]]
// CHECK:         %[[W:.*]] = cleave.binary sub %arg0, %[[U]]
// The bias gets the same update from its own state.
// CHECK:         cleave.binary mul %arg5
// CHECK:         cleave.binary mul %arg6
// CHECK:         %[[BIAS:.*]] = cleave.binary sub %arg1,
// CHECK:         return %[[W]], %[[M]], %[[V]], %[[BIAS]], %{{.*}}, %{{.*}}, %[[LOSS]], %[[RUNNING]]
func.func @gradients(%w: tensor<4x3xf32> {cleave.param = #cleave.param<"fc.weight", trainable>},
                     %b: tensor<4xf32> {cleave.param = #cleave.param<"fc.bias", trainable>},
                     %m: tensor<4xf32> {cleave.param = #cleave.param<"bn.running_mean", buffer>},
                     %x: tensor<2x3xf32> {cleave.input = "x"},
                     %y: tensor<2xi64> {cleave.input = "y"})
    -> (tensor<f32> {cleave.loss}, tensor<4xf32> {cleave.updates = 2 : i64},
        tensor<4x3xf32> {cleave.grad_of = 0 : i64}, tensor<4xf32> {cleave.grad_of = 1 : i64}) {
  %l = cleave.constant dense<1.0> : tensor<f32>
  %nm = cleave.unary neg %m : tensor<4xf32>
  %gw = cleave.unary exp %w : tensor<4x3xf32>
  %gb = cleave.unary exp %b : tensor<4xf32>
  return %l, %nm, %gw, %gb : tensor<f32>, tensor<4xf32>, tensor<4x3xf32>, tensor<4xf32>
}

//--- adamw-decay.mlir

// AdamW's weight decay is decoupled: the parameter is first scaled by the
// host's decay_factor = 1 - lr * weight_decay (a fourth step scalar), the
// gradient is untouched. beta1, beta2 and eps are options; 1 - beta is
// computed in double before it becomes a constant.
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME:    %arg3: tensor<f32> {cleave.step_scalar = "lr"},
// CHECK-SAME:    %arg4: tensor<f32> {cleave.step_scalar = "step_size"},
// CHECK-SAME:    %arg5: tensor<f32> {cleave.step_scalar = "bias_correction2_sqrt"},
// CHECK-SAME:    %arg6: tensor<f32> {cleave.step_scalar = "decay_factor"})
// The decay is computed last: it does not read the gradient (see adamw).
// CHECK:         %[[G:.*]] = cleave.unary exp %arg0
// CHECK:         cleave.constant dense<2.000000e-01> : tensor<f32>
// CHECK:         cleave.constant dense<8.000000e-01> : tensor<f32>
// CHECK:         cleave.binary mul %arg1,
// CHECK:         cleave.constant dense<0.00999999977> : tensor<f32>
// CHECK:         cleave.constant dense<9.900000e-01> : tensor<f32>
// CHECK:         cleave.constant dense<9.99999997E-7> : tensor<f32>
// CHECK:         %[[U:.*]] = cleave.binary div
// CHECK-NEXT:    %[[DECAYED:.*]] = cleave.binary mul %arg0, %arg6
// CHECK-NEXT:    %[[NEW:.*]] = cleave.binary sub %[[DECAYED]], %[[U]]
// CHECK:         return %[[NEW]]
func.func @gradients(%w: tensor<4xf32> {cleave.param = #cleave.param<"w", trainable>})
    -> (tensor<f32> {cleave.loss}, tensor<4xf32> {cleave.grad_of = 0 : i64}) {
  %l = cleave.constant dense<1.0> : tensor<f32>
  %g = cleave.unary exp %w : tensor<4xf32>
  return %l, %g : tensor<f32>, tensor<4xf32>
}

//--- sgd.mlir

// Plain SGD: no optimizer state, no bias corrections; p - lr * g. A
// trainable parameter without a gradient (the loss does not depend on it)
// is neither updated nor given state.
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME:    %arg0: tensor<4xf32> {cleave.param = #cleave.param<"w", trainable>},
// CHECK-SAME:    %arg1: tensor<4xf32> {cleave.param = #cleave.param<"unused", trainable>},
// CHECK-SAME:    %arg2: tensor<f32> {cleave.step_scalar = "lr"})
// CHECK-SAME:    -> (tensor<4xf32> {cleave.updates = 0 : i64}, tensor<f32> {cleave.loss})
// CHECK-NOT:     cleave.opt_state
// CHECK:         %[[G:.*]] = cleave.unary exp %arg0
// CHECK:         %[[STEP:.*]] = cleave.binary mul %arg2, %[[G]] : (tensor<f32>, tensor<4xf32>) -> tensor<4xf32>
// CHECK:         %[[NEW:.*]] = cleave.binary sub %arg0, %[[STEP]]
// CHECK:         return %[[NEW]], %{{.*}} : tensor<4xf32>, tensor<f32>
func.func @gradients(%w: tensor<4xf32> {cleave.param = #cleave.param<"w", trainable>},
                     %u: tensor<4xf32> {cleave.param = #cleave.param<"unused", trainable>})
    -> (tensor<f32> {cleave.loss}, tensor<4xf32> {cleave.grad_of = 0 : i64}) {
  %l = cleave.constant dense<1.0> : tensor<f32>
  %g = cleave.unary exp %w : tensor<4xf32>
  return %l, %g : tensor<f32>, tensor<4xf32>
}

//--- sgd-momentum.mlir

// SGD with momentum and weight decay (torch.optim.SGD): g + wd * p, then
// buf = momentum * buf + g, p - lr * buf; the buffer is state
// "<param>.momentum_buffer".
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME:    %arg0: tensor<4xf32> {cleave.param = #cleave.param<"w", trainable>},
// CHECK-SAME:    %arg1: tensor<4xf32> {cleave.opt_state = "w.momentum_buffer"},
// CHECK-SAME:    %arg2: tensor<f32> {cleave.step_scalar = "lr"})
// CHECK-SAME:    -> (tensor<4xf32> {cleave.updates = 0 : i64}, tensor<4xf32> {cleave.updates = 1 : i64}, tensor<f32> {cleave.loss})
// CHECK:         %[[G:.*]] = cleave.unary exp %arg0
// CHECK:         %[[WD:.*]] = cleave.constant dense<0.00999999977> : tensor<f32>
// CHECK:         %[[DECAY:.*]] = cleave.binary mul %arg0, %[[WD]]
// CHECK:         %[[GD:.*]] = cleave.binary add %[[G]], %[[DECAY]]
// CHECK:         %[[MU:.*]] = cleave.constant dense<0.899999976> : tensor<f32>
// CHECK:         %[[OLD:.*]] = cleave.binary mul %arg1, %[[MU]]
// CHECK:         %[[BUF:.*]] = cleave.binary add %[[OLD]], %[[GD]]
// CHECK:         %[[STEP:.*]] = cleave.binary mul %arg2, %[[BUF]]
// CHECK:         %[[NEW:.*]] = cleave.binary sub %arg0, %[[STEP]]
// CHECK:         return %[[NEW]], %[[BUF]], %{{.*}}
func.func @gradients(%w: tensor<4xf32> {cleave.param = #cleave.param<"w", trainable>})
    -> (tensor<f32> {cleave.loss}, tensor<4xf32> {cleave.grad_of = 0 : i64}) {
  %l = cleave.constant dense<1.0> : tensor<f32>
  %g = cleave.unary exp %w : tensor<4xf32>
  return %l, %g : tensor<f32>, tensor<4xf32>
}

//--- clip.mlir

// clip-grad-norm (torch.nn.utils.clip_grad_norm_): the global L2 norm over
// every gradient, coefficient min(1, max_norm / (norm + 1e-6)), applied to
// each gradient before the update.
// CHECK-LABEL: func.func @train_step(
// CHECK:         %[[GA:.*]] = cleave.unary exp %arg0
// CHECK:         %[[GB:.*]] = cleave.unary exp %arg1
// CHECK:         %[[SA:.*]] = cleave.binary mul %[[GA]], %[[GA]]
// CHECK:         %[[NA:.*]] = cleave.reduce sum %[[SA]] {axes = array<i64: 0, 1>} : tensor<2x3xf32> -> tensor<f32>
// CHECK:         %[[SB:.*]] = cleave.binary mul %[[GB]], %[[GB]]
// CHECK:         %[[NB:.*]] = cleave.reduce sum %[[SB]] {axes = array<i64: 0>} : tensor<4xf32> -> tensor<f32>
// CHECK:         %[[SUM:.*]] = cleave.binary add %[[NA]], %[[NB]]
// CHECK:         %[[NORM:.*]] = cleave.unary sqrt %[[SUM]]
// CHECK:         %[[EPS:.*]] = cleave.constant dense<9.99999997E-7> : tensor<f32>
// CHECK:         %[[DEN:.*]] = cleave.binary add %[[NORM]], %[[EPS]]
// CHECK:         %[[MAX:.*]] = cleave.constant dense<2.000000e+00> : tensor<f32>
// CHECK:         %[[RATIO:.*]] = cleave.binary div %[[MAX]], %[[DEN]]
// CHECK:         %[[ONE:.*]] = cleave.constant dense<1.000000e+00> : tensor<f32>
// CHECK:         %[[COEF:.*]] = cleave.binary min %[[RATIO]], %[[ONE]]
// CHECK:         %[[CA:.*]] = cleave.binary mul %[[GA]], %[[COEF]]
// CHECK:         %[[CB:.*]] = cleave.binary mul %[[GB]], %[[COEF]]
// CHECK:         cleave.binary mul %arg2, %[[CA]]
// CHECK:         cleave.binary mul %arg2, %[[CB]]
func.func @gradients(%a: tensor<2x3xf32> {cleave.param = #cleave.param<"a", trainable>},
                     %b: tensor<4xf32> {cleave.param = #cleave.param<"b", trainable>})
    -> (tensor<f32> {cleave.loss}, tensor<2x3xf32> {cleave.grad_of = 0 : i64}, tensor<4xf32> {cleave.grad_of = 1 : i64}) {
  %l = cleave.constant dense<1.0> : tensor<f32>
  %ga = cleave.unary exp %a : tensor<2x3xf32>
  %gb = cleave.unary exp %b : tensor<4xf32>
  return %l, %ga, %gb : tensor<f32>, tensor<2x3xf32>, tensor<4xf32>
}

//--- unknown-optimizer.mlir

// Only sgd and adamw exist.
// CHECK: error: cleave-optimizer: unknown optimizer 'lion'; choose sgd or adamw

//--- no-gradients.mlir

// The pass starts from @gradients.
// CHECK: error: cleave-optimizer: no @gradients function (run cleave-autodiff first)
func.func @loss(%x: tensor<f32>) -> tensor<f32> {
  return %x : tensor<f32>
}
