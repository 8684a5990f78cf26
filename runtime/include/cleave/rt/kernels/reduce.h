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

} // namespace cleave::rt::kernels

#endif // CLEAVE_RT_KERNELS_REDUCE_H
