//===- cuda_memory.h - the CUDA target's device memory ---------------------===//
//
// The DeviceMemory (device_memory.h) the CUDA run_training hands the core
// driver: cudaMalloc'd, zero-filled tensors, copies through cudaMemcpy.
// The device is chosen on first use, so that --help and command-line
// mistakes are reported on machines without a GPU too.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_CUDA_MEMORY_H
#define CLEAVE_RT_CUDA_MEMORY_H

#include "cleave/rt/device_memory.h"
#include "cleave/rt/model.h"

namespace cleave::rt::cuda {

/// Makes this process's GPU current and returns its index: the local rank
/// a launcher gives (LOCAL_RANK, then OMPI_COMM_WORLD_LOCAL_RANK, then
/// SLURM_LOCALID) modulo the number of visible devices, else device 0. Throws cleave::rt::Error "no
/// CUDA device visible: ..." when the process sees no GPU, and a clear Error when the rank names a
/// device that is not there. Later calls return the same device.
int select_device();

/// The process's CUDA memory ("cuda:N"), selecting the device on its
/// first allocation.
DeviceMemory &device_memory();

/// `step` (the generated CUDA step) wrapped for the core driver: the step
/// gets a device invalid-index flag, which the wrapper ORs into the
/// driver's host flag once the step's kernels are done. One model per
/// process (StepFunction is a plain function pointer).
StepFunction with_device_flag(StepFunction step);
/// The model with its evaluation step (ModelInfo::eval_step) wrapped the same way.
ModelInfo with_device_flag(const ModelInfo &model);

} // namespace cleave::rt::cuda

#endif // CLEAVE_RT_CUDA_MEMORY_H
