//===- loss.h - the plan of softmax cross-entropy --------------------------===//
#ifndef CLEAVE_RT_KERNELS_LOSS_H
#define CLEAVE_RT_KERNELS_LOSS_H

#include "cleave/rt/kernels/check.h"
#include "cleave/rt/kernels/host_device.h"
#include "cleave/rt/kernels/types.h"

#include <cstdint>

namespace cleave::rt::kernels {

CheckFailure check_cross_entropy(int64_t rows, int64_t classes);

/// Whether a row labelled `label` adds nothing to the loss.
CLEAVE_HOST_DEVICE inline bool ignored_label(int64_t label, const CrossEntropyOptions &options) {
  return options.has_ignore_index && label == options.ignore_index;
}

} // namespace cleave::rt::kernels

#endif // CLEAVE_RT_KERNELS_LOSS_H
