//===- HeavyOpTrait.td - ops whose sharding is a decision ------*- tablegen -*-===//
//
// The sharding search (passes/Sharding/SearchProblem.h) decides the layout
// of the ops that do the train step's work or move data across their
// factors (products, convolutions, normalisations, softmax, reductions,
// losses, gathers, pools and their gradients); every other op is cheap and
// follows the layout of its largest operand. Which op is which is a
// property of the op, declared in its trait list.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_INTERFACES_HEAVYOPTRAIT_TD
#define CLEAVE_INTERFACES_HEAVYOPTRAIT_TD

include "mlir/IR/OpBase.td"

def Cleave_HeavyOp : NativeOpTrait<"HeavyOp"> {
  let cppNamespace = "::mlir::OpTrait::cleave";
}

#endif // CLEAVE_INTERFACES_HEAVYOPTRAIT_TD
