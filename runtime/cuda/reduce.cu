//===- reduce.cu - sum/mean/max/min/prod over a set of axes ----------------===//
//
// The plan (cleave/rt/kernels/reduce.h) simplifies the shapes for both
// backends: size-1 dimensions dropped, neighbours that are both kept or both
// reduced merged. Then the innermost dimension is either
//   - reduced ("lines"): a warp (short lines) or a block (long ones) folds
//     each output's elements; consecutive threads read consecutive
//     elements of the innermost run, so loads coalesce;
//   - kept ("columns"): each thread owns one output of a 32-wide column
//     block and walks the reduced elements, blockDim.y threads splitting
//     them; a warp's loads are 32 consecutive floats (bias gradients).
// When there are too few outputs to fill the GPU, each output's reduced
// range is cut into `splits` chunks whose partial results a second kernel
// folds in chunk order. Every fold happens in a fixed order, so results do
// not change from run to run.
//
//===----------------------------------------------------------------------===//

#include "common.cuh"
#include "require.cuh"

#include "cleave/rt/kernels/reduce.h"

#include <algorithm>

namespace cleave::rt::cuda {
namespace {

/// Reduced elements each thread should fold at least, before a reduction is
/// worth splitting over more blocks.
constexpr int64_t kElementsPerThread = 16;
/// Threads per column in the kept-innermost kernel (blockDim.y).
constexpr int kColumnSplit = 8;
constexpr int64_t kMaxGridY = 65535;

using kernels::ReducePlan;

/// How an output's folded value becomes the result: mean divides by the
/// count (int64 truncating toward zero, as C++ division does).
template <typename T> struct Finish {
  bool divide;
  T divisor;
  __device__ T operator()(T value) const { return divide ? value / divisor : value; }
};

/// Output `line / splits`, chunk `line % splits`: a group folds the chunk.
/// With splits == 1 the result is the output, else a partial.
template <typename T, typename Op, typename Group>
__global__ void reduce_lines_kernel(const T *input, T *result, StridedShape kept,
                                    StridedShape reduced, int64_t outputs, int64_t reduced_count,
                                    int64_t splits, Finish<T> finish) {
  const Group group;
  const Op op;
  const int64_t chunk = ceil_div(reduced_count, splits);
  for (int64_t line = group.first(); line < outputs * splits; line += group.stride()) {
    const int64_t out = line / splits, part = line % splits;
    const int64_t end = min64(reduced_count, (part + 1) * chunk);
    const T *base = input + kept.offset_of(out);
    T acc = Op::identity();
    for (int64_t r = part * chunk + group.rank(); r < end; r += group.size())
      acc = op(acc, base[reduced.offset_of(r)]);
    acc = group.reduce(acc, op, Op::identity());
    if (group.rank() == 0)
      result[line] = splits == 1 ? finish(acc) : acc;
  }
}

/// Kept innermost dimension of `row` outputs per outer row; block
/// (32, kColumnSplit) covers 32 columns, grid.z splits the reduced range.
template <typename T, typename Op>
__global__ void reduce_columns_kernel(const T *input, T *result, StridedShape outer_kept,
                                      int64_t rows, int64_t row, StridedShape reduced,
                                      int64_t reduced_count, int64_t splits, Finish<T> finish) {
  __shared__ T partial[kColumnSplit][kWarpSize + 1]; // +1: no bank conflicts on the fold
  const Op op;
  const int64_t column = static_cast<int64_t>(blockIdx.x) * kWarpSize + threadIdx.x;
  const int64_t part = blockIdx.z;
  const int64_t chunk = ceil_div(reduced_count, splits);
  const int64_t end = min64(reduced_count, (part + 1) * chunk);
  for (int64_t out_row = blockIdx.y; out_row < rows; out_row += gridDim.y) {
    T acc = Op::identity();
    if (column < row) {
      const T *base = input + outer_kept.offset_of(out_row) + column;
      for (int64_t r = part * chunk + threadIdx.y; r < end; r += kColumnSplit)
        acc = op(acc, base[reduced.offset_of(r)]);
    }
    partial[threadIdx.y][threadIdx.x] = acc;
    __syncthreads();
    if (threadIdx.y == 0 && column < row) {
      T total = partial[0][threadIdx.x];
      for (int y = 1; y < kColumnSplit; ++y)
        total = op(total, partial[y][threadIdx.x]);
      const int64_t out = out_row * row + column;
      if (splits == 1)
        result[out] = finish(total);
      else
        result[out * splits + part] = total;
    }
    __syncthreads(); // `partial` is reused by the next row
  }
}

/// Folds each output's `splits` partials in chunk order.
template <typename T, typename Op>
__global__ void reduce_finish_kernel(const T *partials, T *output, int64_t outputs, int64_t splits,
                                     Finish<T> finish) {
  const Op op;
  for (int64_t out = global_thread(); out < outputs; out += grid_threads()) {
    T total = partials[out * splits];
    for (int64_t p = 1; p < splits; ++p)
      total = op(total, partials[out * splits + p]);
    output[out] = finish(total);
  }
}

/// Chunks per output so that about two blocks per multiprocessor run,
/// without giving any thread fewer than kElementsPerThread elements.
int64_t choose_splits(int64_t blocks, int64_t reduced_count, int64_t threads_per_output) {
  const int64_t wanted = 2 * detail::multiprocessors();
  if (blocks >= wanted)
    return 1;
  const int64_t most = ceil_div(reduced_count, threads_per_output * kElementsPerThread);
  return std::max<int64_t>(1, std::min(ceil_div(wanted, blocks), most));
}

template <typename T, typename Op>
void reduce_with(const T *input, T *output, const ReducePlan &plan, int64_t outputs,
                 int64_t reduced_count, Finish<T> finish) {
  int64_t splits = 1;
  if (plan.innermost_reduced) {
    const bool short_lines = reduced_count <= kWarpLineLimit;
    const int threads = short_lines ? kBlockSize : kLineBlockSize;
    const int64_t per_block = short_lines ? threads / kWarpSize : 1;
    const int64_t group_threads = short_lines ? kWarpSize : threads;
    splits = choose_splits(ceil_div(outputs, per_block), reduced_count, group_threads);
    T *result =
        splits == 1 ? output : static_cast<T *>(detail::scratch(outputs * splits * sizeof(T)));
    const unsigned blocks = blocks_for(outputs * splits, per_block);
    if (short_lines)
      reduce_lines_kernel<T, Op, WarpGroup><<<blocks, threads>>>(
          input, result, plan.kept, plan.reduced, outputs, reduced_count, splits, finish);
    else
      reduce_lines_kernel<T, Op, BlockGroup><<<blocks, threads>>>(
          input, result, plan.kept, plan.reduced, outputs, reduced_count, splits, finish);
    CLEAVE_CUDA_CHECK_LAUNCH();
    if (splits > 1) {
      reduce_finish_kernel<T, Op>
          <<<blocks_for(outputs), kBlockSize>>>(result, output, outputs, splits, finish);
      CLEAVE_CUDA_CHECK_LAUNCH();
    }
    return;
  }
  StridedShape outer_kept = plan.kept;
  const int64_t row = outer_kept.sizes[--outer_kept.rank];
  const int64_t rows = product(outer_kept.sizes, outer_kept.rank);
  const int64_t column_blocks = ceil_div(row, kWarpSize);
  const int64_t grid_y = std::min(rows, kMaxGridY);
  splits = std::min<int64_t>(choose_splits(column_blocks * grid_y, reduced_count, kColumnSplit),
                             kMaxGridY);
  T *result =
      splits == 1 ? output : static_cast<T *>(detail::scratch(outputs * splits * sizeof(T)));
  const dim3 grid(static_cast<unsigned>(column_blocks), static_cast<unsigned>(grid_y),
                  static_cast<unsigned>(splits));
  reduce_columns_kernel<T, Op><<<grid, dim3(kWarpSize, kColumnSplit)>>>(
      input, result, outer_kept, rows, row, plan.reduced, reduced_count, splits, finish);
  CLEAVE_CUDA_CHECK_LAUNCH();
  if (splits > 1) {
    reduce_finish_kernel<T, Op>
        <<<blocks_for(outputs), kBlockSize>>>(result, output, outputs, splits, finish);
    CLEAVE_CUDA_CHECK_LAUNCH();
  }
}

template <typename T>
void reduce_typed(const T *input, T *output, int64_t rank, const int64_t *shape,
                  const int64_t *axes, int64_t num_axes, ReduceKind kind) {
  ReducePlan plan;
  require(kernels::plan_reduce(rank, shape, axes, num_axes, kind, plan));
  const int64_t outputs = plan.outputs, reduced_count = plan.reduced_count;
  if (kernels::reduce_without_input<T>(plan, kind,
                                       [&](T identity) { fill(output, outputs, identity); }))
    return;
  const Finish<T> finish{kind == ReduceKind::mean, static_cast<T>(reduced_count)};
  kernels::visit_reduce_op<T, Sum, Max, Min, Prod>(kind, [&](auto op) {
    reduce_with<T, decltype(op)>(input, output, plan, outputs, reduced_count, finish);
  });
}

} // namespace
} // namespace cleave::rt::cuda

// The kernels of api.inc, defined qualified: a definition that does not
// match its declaration does not compile.
namespace cleave::rt {

void cuda::reduce(const float *input, float *output, int64_t rank, const int64_t *shape,
                  const int64_t *axes, int64_t num_axes, ReduceKind kind) {
  reduce_typed(input, output, rank, shape, axes, num_axes, kind);
}

void cuda::reduce(const int64_t *input, int64_t *output, int64_t rank, const int64_t *shape,
                  const int64_t *axes, int64_t num_axes, ReduceKind kind) {
  reduce_typed(input, output, rank, shape, axes, num_axes, kind);
}

} // namespace cleave::rt
