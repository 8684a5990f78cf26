//===- norm.h - the plans of layer and batch normalisation -----------------===//
#ifndef CLEAVE_RT_KERNELS_NORM_H
#define CLEAVE_RT_KERNELS_NORM_H

#include "cleave/rt/kernels/check.h"
#include "cleave/rt/kernels/host_device.h"
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

/// batch_norm_train's running statistics: PyTorch's momentum average.
CLEAVE_HOST_DEVICE inline float running_average(float running, float momentum, float batch_value) {
  return (1.0f - momentum) * running + momentum * batch_value;
}

/// batch_norm_grad's parameter gradients of channel c, from its sums over
/// the channel (each output may be null: not wanted).
CLEAVE_HOST_DEVICE inline void store_batch_norm_param_grads(float *dscale, float *dbias, int64_t c,
                                                            double sum_dy, double sum_dy_xhat) {
  if (dbias)
    dbias[c] = static_cast<float>(sum_dy);
  if (dscale)
    dscale[c] = static_cast<float>(sum_dy_xhat);
}

/// What batch_norm_grad's dx needs of one channel, from the channel's sums
/// over its `count` values: dx = gain * (dy - mean_dy - xhat * mean_dy_xhat).
struct BatchNormGradTerms {
  float mean_dy, mean_dy_xhat, gain;

  CLEAVE_HOST_DEVICE float dx(float dy, float xhat) const {
    return gain * (dy - mean_dy - xhat * mean_dy_xhat);
  }
};

CLEAVE_HOST_DEVICE inline BatchNormGradTerms
batch_norm_grad_terms(double sum_dy, double sum_dy_xhat, int64_t count, float scale, float rstd) {
  return {static_cast<float>(sum_dy / static_cast<double>(count)),
          static_cast<float>(sum_dy_xhat / static_cast<double>(count)), scale * rstd};
}

} // namespace cleave::rt::kernels

#endif // CLEAVE_RT_KERNELS_NORM_H
