//===- reduce.h - the plan of a reduction over a set of axes ---------------===//
//
// After dropping size-1 dimensions and merging neighbours that are both kept
// or both reduced, a reduction is two strided shapes over the input: the
// kept dimensions (one output element each) and the reduced ones (folded
// into it). Whether the innermost surviving dimension is reduced decides
// how a backend walks the input (runtime/cpu/reduce.cpp,
// runtime/cuda/reduce.cu).
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_KERNELS_REDUCE_H
#define CLEAVE_RT_KERNELS_REDUCE_H

#include "cleave/rt/kernels/check.h"
#include "cleave/rt/kernels/shape.h"

#include <cstdint>
#include <limits>

namespace cleave::rt::kernels {

struct ReducePlan {
  /// Kept and reduced dimensions with their input strides, in the input's
  /// order within each group. A single-element reduction keeps one
  /// dimension of size 1, so that a backend's kept path copies it.
  StridedShape kept;
  StridedShape reduced;
  bool innermost_reduced = false;
  int64_t outputs = 0;       // product of the kept sizes; 0: nothing to do
  int64_t reduced_count = 0; // product of the reduced sizes; 0: identities
};

/// Checks reduce()'s arguments and simplifies its shapes.
CheckFailure plan_reduce(int64_t rank, const int64_t *shape, const int64_t *axes, int64_t num_axes,
                         ReduceKind kind, ReducePlan &plan);

/// What an empty reduction gives (kernels.h): sum 0, prod 1, max -inf /
/// lowest, min +inf / highest, mean 0/0 (NaN for float, 0 for int64).
template <typename T> T reduce_identity(ReduceKind kind) {
  using Limits = std::numeric_limits<T>;
  switch (kind) {
  case ReduceKind::max:
    return Limits::has_infinity ? -Limits::infinity() : Limits::lowest();
  case ReduceKind::min:
    return Limits::has_infinity ? Limits::infinity() : Limits::max();
  case ReduceKind::prod:
    return T(1);
  case ReduceKind::mean:
    return Limits::has_quiet_NaN ? Limits::quiet_NaN() : T(0);
  case ReduceKind::sum:
    break;
  }
  return T(0);
}

/// The cases of a reduction that read no input: true when there is nothing
/// left to do, after fill(identity) has written every output of an empty
/// reduced dimension.
template <typename T, typename Fill>
bool reduce_without_input(const ReducePlan &plan, ReduceKind kind, Fill fill) {
  if (plan.outputs == 0)
    return true;
  if (plan.reduced_count != 0)
    return false;
  fill(reduce_identity<T>(kind));
  return true;
}

/// visit(Op<T>{}) with a backend's combining op for `kind`; mean combines as
/// sum (the backend divides afterwards).
template <typename T, template <typename> class Sum, template <typename> class Max,
          template <typename> class Min, template <typename> class Prod, typename Visit>
void visit_reduce_op(ReduceKind kind, Visit visit) {
  switch (kind) {
  case ReduceKind::max:
    return visit(Max<T>{});
  case ReduceKind::min:
    return visit(Min<T>{});
  case ReduceKind::prod:
    return visit(Prod<T>{});
  case ReduceKind::sum:
  case ReduceKind::mean:
    break;
  }
  visit(Sum<T>{});
}

} // namespace cleave::rt::kernels

#endif // CLEAVE_RT_KERNELS_REDUCE_H
