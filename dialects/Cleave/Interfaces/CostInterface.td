//===- CostInterface.td - what an op costs to run -------------------------===//
//
// The cost model (and the sharding search built on it) asks every op how
// much arithmetic it does and how many bytes it touches, for the global
// shapes it carries. A sharded op's cost follows by dividing by the shard
// counts of the factors it is split along (see FactorRule.h).
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_INTERFACES_COSTINTERFACE_TD
#define CLEAVE_INTERFACES_COSTINTERFACE_TD

include "mlir/IR/OpBase.td"

def Cleave_CostOpInterface : OpInterface<"CostOpInterface"> {
  let description = [{
    Reports the work of one op: floating-point operations and bytes read
    plus written, counted on the op's (global) operand and result types.
    Ops that only move or reinterpret data report zero FLOPs.
  }];
  let cppNamespace = "::mlir::cleave";

  let methods = [
    InterfaceMethod<
      /*desc=*/[{
        Floating-point operations the op performs (a multiply-add counts
        as two). The default counts one operation per result element.
      }],
      /*retTy=*/"int64_t",
      /*methodName=*/"getFlops",
      /*args=*/(ins),
      /*methodBody=*/"",
      /*defaultImplementation=*/[{
        return ::mlir::cleave::detail::countResultElements($_op.getOperation());
      }]
    >,
    InterfaceMethod<
      /*desc=*/[{
        Bytes the op reads and writes in memory: by default every operand
        once and every result once.
      }],
      /*retTy=*/"int64_t",
      /*methodName=*/"getBytesAccessed",
      /*args=*/(ins),
      /*methodBody=*/"",
      /*defaultImplementation=*/[{
        return ::mlir::cleave::detail::countOperandAndResultBytes($_op.getOperation());
      }]
    >
  ];
}

#endif // CLEAVE_INTERFACES_COSTINTERFACE_TD
