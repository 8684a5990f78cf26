//===- gather.cpp - ONNX Gather and its gradient (scatter-add) ------------===//

#include "cleave/rt/kernels/gather.h"
#include "cleave/rt/kernels.h"

#include "parallel.h"
#include "require.h"

#include <algorithm>
#include <cstring>

namespace cleave::rt::cpu {
namespace {

// Column block of scatter_add: threads split the inner dimension, which
// never races (repeated indices only collide within one column).
constexpr int64_t kColumnBlock = 512;

void flag_invalid(int32_t *invalid_flag) {
  if (!invalid_flag)
    return;
#pragma omp atomic write
  *invalid_flag = 1;
}

template <typename Index>
void gather_typed(const void *input, const Index *indices, void *output, int64_t outer,
                  int64_t axis_size, int64_t count, int64_t inner, int64_t element_bytes,
                  int32_t *invalid_flag) {
  require(kernels::check_gather(outer, axis_size, count, inner, element_bytes));
  const int64_t slice_bytes = inner * element_bytes;
  if (slice_bytes == 0)
    return; // empty slices: nothing to copy (and the buffers may be null)
  const auto *in = static_cast<const char *>(input);
  auto *out = static_cast<char *>(output);
#pragma omp parallel for schedule(static) if (worth_parallel(outer * count * inner))
  for (int64_t item = 0; item < outer * count; ++item) {
    const int64_t o = item / count, j = item % count;
    const int64_t selected = kernels::resolve_index(indices[j], axis_size);
    char *destination = out + item * slice_bytes;
    if (selected < 0) {
      flag_invalid(invalid_flag);
      std::memset(destination, 0, slice_bytes);
    } else {
      std::memcpy(destination, in + (o * axis_size + selected) * slice_bytes, slice_bytes);
    }
  }
}

template <typename Index>
void scatter_add_typed(const float *updates, const Index *indices, float *output, int64_t outer,
                       int64_t axis_size, int64_t count, int64_t inner, int32_t *invalid_flag) {
  require(kernels::check_scatter_add(outer, axis_size, count, inner));
  const int64_t total = outer * axis_size * inner;
#pragma omp parallel for simd schedule(static) if (worth_parallel(total))
  for (int64_t i = 0; i < total; ++i)
    output[i] = 0.0f;

  const int64_t blocks = (inner + kColumnBlock - 1) / kColumnBlock;
#pragma omp parallel for schedule(static) if (worth_parallel(outer * count * inner))
  for (int64_t item = 0; item < outer * blocks; ++item) {
    const int64_t o = item / blocks;
    const int64_t begin = (item % blocks) * kColumnBlock;
    const int64_t width = std::min(kColumnBlock, inner - begin);
    for (int64_t j = 0; j < count; ++j) {
      const int64_t selected = kernels::resolve_index(indices[j], axis_size);
      if (selected < 0) {
        flag_invalid(invalid_flag);
        continue;
      }
      const float *from = updates + (o * count + j) * inner + begin;
      float *to = output + (o * axis_size + selected) * inner + begin;
#pragma omp simd
      for (int64_t i = 0; i < width; ++i)
        to[i] += from[i];
    }
  }
}

} // namespace

void gather(const void *input, const int64_t *indices, void *output, int64_t outer,
            int64_t axis_size, int64_t count, int64_t inner, int64_t element_bytes,
            int32_t *invalid_flag) {
  gather_typed(input, indices, output, outer, axis_size, count, inner, element_bytes, invalid_flag);
}

void gather(const void *input, const int32_t *indices, void *output, int64_t outer,
            int64_t axis_size, int64_t count, int64_t inner, int64_t element_bytes,
            int32_t *invalid_flag) {
  gather_typed(input, indices, output, outer, axis_size, count, inner, element_bytes, invalid_flag);
}

void scatter_add(const float *updates, const int64_t *indices, float *output, int64_t outer,
                 int64_t axis_size, int64_t count, int64_t inner, int32_t *invalid_flag) {
  scatter_add_typed(updates, indices, output, outer, axis_size, count, inner, invalid_flag);
}

void scatter_add(const float *updates, const int32_t *indices, float *output, int64_t outer,
                 int64_t axis_size, int64_t count, int64_t inner, int32_t *invalid_flag) {
  scatter_add_typed(updates, indices, output, outer, axis_size, count, inner, invalid_flag);
}

} // namespace cleave::rt::cpu
