//===- model_state.cpp - the model's tensors on this rank -------------------===//
#include "model_state.h"

#include "cleave/rt/tensor.h"
#include "cleave/rt/weights.h"

#include <cstring>
#include <optional>

namespace cleave::rt {

namespace {

/// Checkpoint tensor i (parameters, then optimizer state) of this rank.
struct StateTensor {
  const TensorSpec &spec;
  const char *sharding;
  int64_t local_bytes;
  void *device;
};

StateTensor state_tensor(const ModelInfo &model, const LocalSpecs &local, ModelState &state,
                         int32_t i) {
  if (i < model.num_params) {
    auto k = static_cast<size_t>(i);
    return {model.params[i].tensor, sharding_of(model.param_shardings, i), local.param_bytes[k],
            state.param_ptrs[k]};
  }
  int32_t j = i - model.num_params;
  auto k = static_cast<size_t>(j);
  return {model.opt_state[j], sharding_of(model.opt_state_shardings, j), local.opt_state_bytes[k],
          state.opt_state_ptrs[k]};
}

} // namespace

const char *sharding_of(const char *const *shardings, int32_t index) {
  return shardings ? shardings[index] : "";
}

LocalSpecs::LocalSpecs(const ModelInfo &model, const Distribution *distribution) {
  auto local = [&](const TensorSpec &spec, const char *const *shardings, int32_t index,
                   std::vector<TensorSpec> &specs, std::vector<int64_t> &bytes) {
    if (!distribution) {
      specs.push_back(spec);
      bytes.push_back(byte_size(spec));
      return;
    }
    const char *sharding = sharding_of(shardings, index);
    shapes.push_back(
        std::make_unique<std::vector<int64_t>>(distribution->local_shape(spec, sharding)));
    TensorSpec result = spec;
    result.shape = shapes.back()->data();
    specs.push_back(result);
    bytes.push_back(distribution->local_bytes(spec, sharding));
  };
  for (int32_t i = 0; i < model.num_params; ++i)
    local(model.params[i].tensor, model.param_shardings, i, params, param_bytes);
  for (int32_t i = 0; i < model.num_opt_state; ++i)
    local(model.opt_state[i], model.opt_state_shardings, i, opt_state, opt_state_bytes);
  for (int32_t i = 0; i < model.num_inputs; ++i)
    local(model.inputs[i], model.input_shardings, i, inputs, input_bytes);
}

ModelState::ModelState(const ModelInfo &model, const LocalSpecs &local, DeviceMemory &memory) {
  // A tensor this rank does not hold gets a zero-byte allocation: a unique
  // pointer the step is given but never reads (DeviceMemory::alloc).
  auto allocate = [&](const std::vector<int64_t> &bytes, std::vector<DeviceBuffer> &buffers,
                      auto &pointers) {
    for (int64_t size : bytes)
      buffers.emplace_back(memory, size);
    for (DeviceBuffer &buffer : buffers)
      pointers.push_back(buffer.data());
  };
  allocate(local.param_bytes, params, param_ptrs);
  allocate(local.opt_state_bytes, opt_state, opt_state_ptrs);
  allocate(local.input_bytes, inputs, input_ptrs);
  workspace = DeviceBuffer(memory, model.workspace_bytes);
}

std::vector<BoundTensor> ModelState::checkpoint_tensors(const ModelInfo &model) {
  std::vector<BoundTensor> tensors = param_tensors(model);
  for (int32_t i = 0; i < model.num_opt_state; ++i)
    tensors.push_back({&model.opt_state[i], opt_state_ptrs[static_cast<size_t>(i)]});
  return tensors;
}

std::vector<BoundTensor> ModelState::param_tensors(const ModelInfo &model) {
  std::vector<BoundTensor> tensors;
  for (int32_t i = 0; i < model.num_params; ++i)
    tensors.push_back({&model.params[i].tensor, param_ptrs[static_cast<size_t>(i)]});
  return tensors;
}

void initialize_params(const TrainConfig &config, const ModelInfo &model, const LocalSpecs &local,
                       ModelState &state, DeviceMemory &memory, const Distribution *distribution) {
  std::optional<WeightReader> reader;
  if (config.init == WeightInit::onnx && model.num_params > 0)
    reader.emplace(model.model_path);
  std::vector<uint8_t> staging, full;
  for (int32_t i = 0; i < model.num_params; ++i) {
    const TensorSpec &spec = model.params[i].tensor;
    void *device = state.param_ptrs[static_cast<size_t>(i)];
    void *host = device;
    if (!memory.is_host() || distribution) {
      staging.resize(static_cast<size_t>(byte_size(spec)));
      host = staging.data();
    }
    // Every rank reads (or draws) the whole tensor and keeps its block, so
    // the weights are those of a one-device run whatever the plan; a rank
    // of another pipeline stage keeps nothing, but still reads, so that a
    // bad ONNX file fails on every rank alike.
    if (reader)
      reader->read(spec, host);
    else
      init_random(spec, config.seed, i, host);
    int64_t local_bytes = local.param_bytes[static_cast<size_t>(i)];
    if (distribution) {
      full.swap(staging);
      staging.resize(static_cast<size_t>(local_bytes));
      distribution->extract(spec, sharding_of(model.param_shardings, i), full.data(),
                            staging.data());
      host = staging.data();
      if (memory.is_host() && local_bytes > 0)
        std::memcpy(device, host, static_cast<size_t>(local_bytes));
    }
    if (!memory.is_host() && local_bytes > 0)
      memory.copy_to_device(device, host, local_bytes);
  }
}

FullTensors::FullTensors(const ModelInfo &model, const LocalSpecs &local, ModelState &state,
                         DeviceMemory &memory, Distribution &distribution, bool params_only) {
  int32_t count = params_only ? model.num_params : model.num_params + model.num_opt_state;
  storage.resize(static_cast<size_t>(count));
  std::vector<uint8_t> block;
  for (int32_t i = 0; i < count; ++i) {
    StateTensor tensor = state_tensor(model, local, state, i);
    block.resize(static_cast<size_t>(tensor.local_bytes));
    if (tensor.local_bytes > 0)
      memory.copy_to_host(block.data(), tensor.device, tensor.local_bytes);
    std::vector<uint8_t> &whole = storage[static_cast<size_t>(i)];
    whole.resize(static_cast<size_t>(byte_size(tensor.spec)));
    distribution.assemble(tensor.spec, tensor.sharding, block.data(), whole.data());
    tensors.push_back({&tensor.spec, whole.data()});
  }
}

void load_sharded_checkpoint(const Checkpoint &checkpoint, const ModelInfo &model,
                             const LocalSpecs &local, ModelState &state, DeviceMemory &memory,
                             const Distribution &distribution) {
  int32_t count = model.num_params + model.num_opt_state;
  std::vector<std::vector<uint8_t>> storage(static_cast<size_t>(count));
  std::vector<BoundTensor> tensors;
  for (int32_t i = 0; i < count; ++i) {
    const TensorSpec &spec = state_tensor(model, local, state, i).spec;
    storage[static_cast<size_t>(i)].resize(static_cast<size_t>(byte_size(spec)));
    tensors.push_back({&spec, storage[static_cast<size_t>(i)].data()});
  }
  // Every rank reads (and checks) every tensor: a damaged checkpoint stops
  // every rank alike, whichever stage holds the tensor.
  checkpoint.load(tensors, host_memory());
  std::vector<uint8_t> block;
  for (int32_t i = 0; i < count; ++i) {
    StateTensor tensor = state_tensor(model, local, state, i);
    if (tensor.local_bytes == 0)
      continue;
    block.resize(static_cast<size_t>(tensor.local_bytes));
    distribution.extract(tensor.spec, tensor.sharding, storage[static_cast<size_t>(i)].data(),
                         block.data());
    memory.copy_to_device(tensor.device, block.data(), tensor.local_bytes);
  }
}

} // namespace cleave::rt
