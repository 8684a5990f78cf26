//===- norm.h - the plans of layer and batch normalisation -----------------===//
#ifndef CLEAVE_RT_KERNELS_NORM_H
#define CLEAVE_RT_KERNELS_NORM_H

#include "cleave/rt/kernels/check.h"
#include "cleave/rt/kernels/sizes.h"

#include <cstdint>

namespace cleave::rt::kernels {

/// One row's statistics, as layer_norm_grad keeps them in its scratch.
struct RowStats {
  float mean;
  float rstd; // 1 / sqrt(var + epsilon)
};

CheckFailure check_layer_norm(int64_t rows, int64_t cols);
CheckFailure check_layer_norm_grad(int64_t rows, int64_t cols, const void *scratch);
CheckFailure check_batch_norm_train(int64_t batch, int64_t channels, int64_t spatial);
CheckFailure check_batch_norm_grad(int64_t batch, int64_t channels, int64_t spatial);

} // namespace cleave::rt::kernels

#endif // CLEAVE_RT_KERNELS_NORM_H
