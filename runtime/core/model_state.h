//===- model_state.h - the model's tensors on this rank ---------------------===//
//
// What train() (training_loop.cpp) holds for the model: each rank's block
// of every parameter, optimizer state tensor and input, in the target's
// memory, and the moves between those blocks and whole host tensors
// (initial weights, checkpoints, the ONNX export). Under a pipeline grid a
// rank holds nothing of the tensors of other stages (distribution.h): 0
// bytes, never read or written here.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_CORE_MODEL_STATE_H
#define CLEAVE_RT_CORE_MODEL_STATE_H

#include "cleave/rt/checkpoint.h"
#include "cleave/rt/device_memory.h"
#include "cleave/rt/distribution.h"
#include "cleave/rt/training_loop.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace cleave::rt {

/// shardings[index], or "" when the model has no shardings.
const char *sharding_of(const char *const *shardings, int32_t index);

/// The shapes this rank holds: the global ones on one device, each rank's
/// block of every tensor under a device grid; and their bytes, 0 for a
/// tensor this rank does not hold.
struct LocalSpecs {
  std::vector<TensorSpec> params, opt_state, inputs;
  std::vector<int64_t> param_bytes, opt_state_bytes, input_bytes;
  std::vector<std::unique_ptr<std::vector<int64_t>>> shapes; // owns the shape arrays

  LocalSpecs(const ModelInfo &model, const Distribution *distribution);
};

/// The model's tensors in one place, allocated in the target's memory.
struct ModelState {
  std::vector<DeviceBuffer> params, opt_state, inputs;
  DeviceBuffer workspace;
  std::vector<void *> param_ptrs, opt_state_ptrs;
  std::vector<const void *> input_ptrs;

  ModelState(const ModelInfo &model, const LocalSpecs &local, DeviceMemory &memory);

  /// Parameters then optimizer state: checkpoint_specs order (one device).
  std::vector<BoundTensor> checkpoint_tensors(const ModelInfo &model);
  std::vector<BoundTensor> param_tensors(const ModelInfo &model);
};

/// Fills every parameter from the ONNX file or the random rule, staging
/// through a host buffer when the target's memory is not host memory.
void initialize_params(const TrainConfig &config, const ModelInfo &model, const LocalSpecs &local,
                       ModelState &state, DeviceMemory &memory, const Distribution *distribution);

/// Whole host copies of the checkpointed tensors (parameters, then
/// optimizer state), each rebuilt from its holders' blocks. Collective.
struct FullTensors {
  std::vector<std::vector<uint8_t>> storage;
  std::vector<BoundTensor> tensors;

  FullTensors(const ModelInfo &model, const LocalSpecs &local, ModelState &state,
              DeviceMemory &memory, Distribution &distribution, bool params_only);
};

/// Loads whole checkpoint tensors and keeps this rank's blocks.
void load_sharded_checkpoint(const Checkpoint &checkpoint, const ModelInfo &model,
                             const LocalSpecs &local, ModelState &state, DeviceMemory &memory,
                             const Distribution &distribution);

} // namespace cleave::rt

#endif // CLEAVE_RT_CORE_MODEL_STATE_H
