//===- rows.cpp - plans of the row-wise kernels ----------------------------===//
//
// softmax, normalisation, cross-entropy and gather need no simplification:
// their plans are the argument checks.
//
//===----------------------------------------------------------------------===//

#include "cleave/rt/kernels/gather.h"
#include "cleave/rt/kernels/loss.h"
#include "cleave/rt/kernels/norm.h"
#include "cleave/rt/kernels/softmax.h"

namespace cleave::rt::kernels {

CheckFailure check_softmax(int64_t outer, int64_t n, int64_t inner) {
  PLAN_CHECK(outer >= 0 && n >= 0 && inner >= 0, "negative softmax size");
  return {};
}

CheckFailure check_gather(int64_t outer, int64_t axis_size, int64_t count, int64_t inner,
                          int64_t element_bytes) {
  PLAN_TRY(check_scatter_add(outer, axis_size, count, inner));
  PLAN_CHECK(element_bytes > 0, "gather element size must be positive");
  return {};
}

CheckFailure check_scatter_add(int64_t outer, int64_t axis_size, int64_t count, int64_t inner) {
  PLAN_CHECK(outer >= 0 && axis_size >= 0 && count >= 0 && inner >= 0, "negative gather size");
  return {};
}

int64_t layer_norm_grad_scratch_bytes(int64_t rows) {
  return rows * static_cast<int64_t>(sizeof(RowStats));
}

CheckFailure check_layer_norm(int64_t rows, int64_t cols) {
  PLAN_CHECK(rows >= 0 && cols > 0, "layer_norm needs rows >= 0 and cols > 0");
  return {};
}

CheckFailure check_layer_norm_grad(int64_t rows, int64_t cols, const void *scratch) {
  PLAN_CHECK(rows >= 0 && cols > 0, "layer_norm_grad needs rows >= 0 and cols > 0");
  PLAN_CHECK(scratch || rows == 0, "layer_norm_grad needs layer_norm_grad_scratch_bytes()");
  return {};
}

CheckFailure check_batch_norm_train(int64_t batch, int64_t channels, int64_t spatial) {
  PLAN_CHECK(batch >= 0 && channels >= 0 && spatial >= 0, "negative batch_norm size");
  // PyTorch refuses this too: the unbiased variance of one value is 0/0.
  PLAN_CHECK(batch * spatial > 1 || channels == 0,
             "batch_norm needs more than one value per channel");
  return {};
}

CheckFailure check_batch_norm_grad(int64_t batch, int64_t channels, int64_t spatial) {
  PLAN_CHECK(batch >= 0 && channels >= 0 && spatial >= 0, "negative batch_norm size");
  PLAN_CHECK(batch * spatial > 0 || channels == 0, "batch_norm_grad of an empty batch");
  return {};
}

CheckFailure check_cross_entropy(int64_t rows, int64_t classes) {
  PLAN_CHECK(rows > 0 && classes > 0, "cross_entropy needs rows > 0 and classes > 0");
  return {};
}

} // namespace cleave::rt::kernels
