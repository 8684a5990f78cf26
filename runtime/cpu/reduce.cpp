//===- reduce.cpp - sum/mean/max/min/prod over a set of axes --------------===//
//
// After the plan (cleave/rt/kernels/reduce.h) has dropped size-1 dimensions
// and merged neighbours that are both kept or both reduced, the innermost
// dimension is either
//   - reduced: each output element folds contiguous runs of the input
//     (softmax-like row reductions), one output per work item; or
//   - kept: each output row of that dimension accumulates whole input rows
//     elementwise (bias-gradient-like column reductions), vectorised, with
//     the rows cut into column blocks so that even one output row spreads
//     over the threads.
//
//===----------------------------------------------------------------------===//

#include "cleave/rt/kernels/reduce.h"
#include "cleave/rt/kernels.h"

#include "parallel.h"
#include "require.h"
#include "shape.h"

#include <algorithm>
#include <limits>
#include <type_traits>

namespace cleave::rt::cpu {
namespace {

// Column block of the kept-innermost case: big enough to stream, small
// enough that a single output row still gives every thread a block.
constexpr int64_t kColumnBlock = 1024;

template <typename T> struct SumOp {
  static T identity() { return T(0); }
  static T combine(T acc, T value) { return acc + value; }
};
template <typename T> struct ProdOp {
  static T identity() { return T(1); }
  static T combine(T acc, T value) { return acc * value; }
};
// `value != value` is the NaN test: once acc is NaN no comparison replaces
// it, so NaN propagates as it does in PyTorch.
template <typename T> struct MaxOp {
  static T identity() { return kernels::reduce_identity<T>(ReduceKind::max); }
  static T combine(T acc, T value) { return (value > acc || value != value) ? value : acc; }
};
template <typename T> struct MinOp {
  static T identity() { return kernels::reduce_identity<T>(ReduceKind::min); }
  static T combine(T acc, T value) { return (value < acc || value != value) ? value : acc; }
};

/// Folds n contiguous values into acc. Sums and products let the compiler
/// reorder (vectorise) the fold; max/min keep their NaN-aware scalar loop.
template <typename T, typename Op> T fold_run(const T *values, int64_t n, T acc) {
  if constexpr (std::is_same_v<Op, SumOp<T>>) {
#pragma omp simd reduction(+ : acc)
    for (int64_t i = 0; i < n; ++i)
      acc += values[i];
  } else if constexpr (std::is_same_v<Op, ProdOp<T>>) {
#pragma omp simd reduction(* : acc)
    for (int64_t i = 0; i < n; ++i)
      acc *= values[i];
  } else {
    for (int64_t i = 0; i < n; ++i)
      acc = Op::combine(acc, values[i]);
  }
  return acc;
}

using kernels::ReducePlan;

template <typename T, typename Op>
void reduce_innermost_reduced(const T *input, T *output, const ReducePlan &plan,
                              int64_t output_count) {
  // The last reduced dimension is a contiguous run; the others walk around it.
  StridedShape outer_reduced = plan.reduced;
  const int64_t run = outer_reduced.sizes[--outer_reduced.rank];
  const int64_t runs = product(outer_reduced.sizes, outer_reduced.rank);
#pragma omp parallel for schedule(static) if (worth_parallel(output_count * runs * run))
  for (int64_t out = 0; out < output_count; ++out) {
    const T *base = input + plan.kept.offset_of(out);
    T acc = Op::identity();
    Odometer position(outer_reduced, 0);
    for (int64_t r = 0; r < runs; ++r, position.next())
      acc = fold_run<T, Op>(base + position.offset(), run, acc);
    output[out] = acc;
  }
}

template <typename T, typename Op>
void reduce_innermost_kept(const T *input, T *output, const ReducePlan &plan) {
  StridedShape outer_kept = plan.kept;
  const int64_t row = outer_kept.sizes[--outer_kept.rank];
  const int64_t rows = product(outer_kept.sizes, outer_kept.rank);
  const int64_t blocks_per_row = (row + kColumnBlock - 1) / kColumnBlock;
  const int64_t reduced_count = product(plan.reduced.sizes, plan.reduced.rank);
#pragma omp parallel for schedule(static) if (worth_parallel(rows * row * reduced_count))
  for (int64_t item = 0; item < rows * blocks_per_row; ++item) {
    const int64_t out_row = item / blocks_per_row;
    const int64_t begin = (item % blocks_per_row) * kColumnBlock;
    const int64_t width = std::min(kColumnBlock, row - begin);
    const T *base = input + outer_kept.offset_of(out_row) + begin;
    T *out = output + out_row * row + begin;
    for (int64_t i = 0; i < width; ++i)
      out[i] = Op::identity();
    Odometer position(plan.reduced, 0);
    for (int64_t r = 0; r < reduced_count; ++r, position.next()) {
      const T *in = base + position.offset();
#pragma omp simd
      for (int64_t i = 0; i < width; ++i)
        out[i] = Op::combine(out[i], in[i]);
    }
  }
}

template <typename T, typename Op>
void reduce_with(const T *input, T *output, const ReducePlan &plan, int64_t output_count) {
  if (plan.innermost_reduced)
    reduce_innermost_reduced<T, Op>(input, output, plan, output_count);
  else
    reduce_innermost_kept<T, Op>(input, output, plan);
}

template <typename T>
void reduce_typed(const T *input, T *output, int64_t rank, const int64_t *shape,
                  const int64_t *axes, int64_t num_axes, ReduceKind kind) {
  ReducePlan plan;
  require(kernels::plan_reduce(rank, shape, axes, num_axes, kind, plan));
  if (kernels::reduce_without_input<T>(
          plan, kind, [&](T identity) { std::fill_n(output, plan.outputs, identity); }))
    return;
  const int64_t output_count = plan.outputs, reduced_count = plan.reduced_count;
  kernels::visit_reduce_op<T, SumOp, MaxOp, MinOp, ProdOp>(
      kind, [&](auto op) { reduce_with<T, decltype(op)>(input, output, plan, output_count); });
  if (kind == ReduceKind::mean) {
    const T count = static_cast<T>(reduced_count);
#pragma omp parallel for simd schedule(static) if (worth_parallel(output_count))
    for (int64_t i = 0; i < output_count; ++i)
      output[i] /= count;
  }
}

} // namespace

void reduce(const float *input, float *output, int64_t rank, const int64_t *shape,
            const int64_t *axes, int64_t num_axes, ReduceKind kind) {
  reduce_typed(input, output, rank, shape, axes, num_axes, kind);
}

void reduce(const int64_t *input, int64_t *output, int64_t rank, const int64_t *shape,
            const int64_t *axes, int64_t num_axes, ReduceKind kind) {
  reduce_typed(input, output, rank, shape, axes, num_axes, kind);
}

void reduce(const double *input, double *output, int64_t rank, const int64_t *shape,
            const int64_t *axes, int64_t num_axes, ReduceKind kind) {
  reduce_typed(input, output, rank, shape, axes, num_axes, kind);
}

} // namespace cleave::rt::cpu
