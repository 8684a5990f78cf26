//===- reduce.cpp - the plan of a reduction over a set of axes -------------===//

#include "cleave/rt/kernels/reduce.h"

namespace cleave::rt::kernels {

CheckFailure plan_reduce(int64_t rank, const int64_t *shape, const int64_t *axes, int64_t num_axes,
                         ReduceKind kind, ReducePlan &plan) {
  PLAN_CHECK(rank >= 0 && rank <= kMaxRank, "reduce rank out of range");
  PLAN_CHECK(num_axes >= 0 && num_axes <= rank, "too many reduce axes");
  PLAN_CHECK(kind == ReduceKind::sum || kind == ReduceKind::mean || kind == ReduceKind::max ||
                 kind == ReduceKind::min || kind == ReduceKind::prod,
             "unknown reduce kind");
  bool is_reduced[kMaxRank] = {};
  for (int64_t i = 0; i < num_axes; ++i) {
    PLAN_CHECK(axes[i] >= 0 && axes[i] < rank, "reduce axis out of range");
    PLAN_CHECK(i == 0 || axes[i] > axes[i - 1], "reduce axes must be sorted and unique");
    is_reduced[axes[i]] = true;
  }
  int64_t strides[kMaxRank];
  contiguous_strides(shape, rank, strides);

  plan = ReducePlan();
  bool last_reduced = false;
  bool any = false;
  for (int64_t d = 0; d < rank; ++d) {
    if (shape[d] == 1)
      continue;
    StridedShape &group = is_reduced[d] ? plan.reduced : plan.kept;
    if (any && last_reduced == is_reduced[d]) {
      // Same group as the previous surviving dimension, and contiguous with
      // it (the dimensions between were size 1): merge.
      group.sizes[group.rank - 1] *= shape[d];
      group.strides[group.rank - 1] = strides[d];
    } else {
      group.push(shape[d], strides[d]);
    }
    last_reduced = is_reduced[d];
    any = true;
  }
  plan.innermost_reduced = any && last_reduced;
  plan.outputs = product(plan.kept.sizes, plan.kept.rank);
  plan.reduced_count = product(plan.reduced.sizes, plan.reduced.rank);
  if (plan.kept.rank == 0 && plan.reduced.rank == 0)
    plan.kept.push(1, 1);
  return {};
}

} // namespace cleave::rt::kernels
