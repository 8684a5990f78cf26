//===- softmax.h - the plan of softmax and log-softmax ---------------------===//
#ifndef CLEAVE_RT_KERNELS_SOFTMAX_H
#define CLEAVE_RT_KERNELS_SOFTMAX_H

#include "cleave/rt/kernels/check.h"
#include "cleave/rt/kernels/host_device.h"

#include <cstdint>

namespace cleave::rt::kernels {

/// The softmax family's arguments [outer, n, inner] (kernels.h).
CheckFailure check_softmax(int64_t outer, int64_t n, int64_t inner);

/// The offset of line `line`'s first element: lines are the outer * inner
/// runs of n elements, `inner` apart, that the kernels normalise.
CLEAVE_HOST_DEVICE inline int64_t softmax_line_start(int64_t line, int64_t n, int64_t inner) {
  return (line / inner) * n * inner + line % inner;
}

} // namespace cleave::rt::kernels

#endif // CLEAVE_RT_KERNELS_SOFTMAX_H
