//===- FactorRuleInterface.td - which dimensions of an op may be split ----===//
//
// Every cleave op describes its loops as factors (FactorRule.h): the
// sharding search enumerates assignments of grid axes to factors, the cost
// model divides the op's work by them, and cleave-partition rewrites the op
// into its per-device form from them. An op without the interface runs
// replicated: its operands are gathered whole first.
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_INTERFACES_FACTORRULEINTERFACE_TD
#define CLEAVE_INTERFACES_FACTORRULEINTERFACE_TD

include "mlir/IR/OpBase.td"

def Cleave_FactorRuleOpInterface : OpInterface<"FactorRuleOpInterface"> {
  let description = [{
    Describes the op's dimensions as factors that may be split across a
    device grid, for the op's current (global) operand and result types.
  }];
  let cppNamespace = "::mlir::cleave";

  let methods = [
    InterfaceMethod<
      /*desc=*/"The factors of the op and where each operand and result dimension maps.",
      /*retTy=*/"::mlir::cleave::FactorRule",
      /*methodName=*/"getFactorRule",
      /*args=*/(ins)
    >
  ];
}

#endif // CLEAVE_INTERFACES_FACTORRULEINTERFACE_TD
