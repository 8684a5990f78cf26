//===- device_memory.h - where the step function's tensors live ------------===//
//
// The seam between the target-independent driver and a target. The driver
// allocates parameters, optimizer state, batch inputs, the loss and the
// workspace through a DeviceMemory, and moves bytes only through
// copy_to_device / copy_to_host. The CPU target uses host_memory(); a CUDA
// target implements the same interface with cudaMalloc / cudaMemcpy and
// calls run_training (training_loop.h) with it.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_DEVICE_MEMORY_H
#define CLEAVE_RT_DEVICE_MEMORY_H

#include <cstdint>

namespace cleave::rt {

class DeviceMemory {
public:
  virtual ~DeviceMemory() = default;

  /// Short name for messages: "host", "cuda:0".
  virtual const char *name() const = 0;

  /// True when device pointers are ordinary host pointers. The driver then
  /// reads weights, checkpoints and batches straight into them instead of
  /// staging through a host buffer.
  virtual bool is_host() const = 0;

  /// `bytes` of zero-filled memory, aligned to at least 64 bytes (a
  /// zero-byte request still returns a unique pointer). Throws Error when
  /// the memory is not there, naming the size.
  virtual void *alloc(int64_t bytes) = 0;
  virtual void free(void *ptr) = 0;

  virtual void copy_to_device(void *device_dst, const void *host_src, int64_t bytes) = 0;
  virtual void copy_to_host(void *host_dst, const void *device_src, int64_t bytes) = 0;
};

/// Plain host memory (aligned_alloc), for the CPU target.
DeviceMemory &host_memory();

/// One allocation, freed when it goes out of scope.
class DeviceBuffer {
public:
  DeviceBuffer() = default;
  DeviceBuffer(DeviceMemory &memory, int64_t bytes)
      : memory_(&memory), data_(memory.alloc(bytes)), bytes_(bytes) {}
  DeviceBuffer(DeviceBuffer &&other) noexcept { *this = static_cast<DeviceBuffer &&>(other); }
  DeviceBuffer &operator=(DeviceBuffer &&other) noexcept {
    if (this != &other) {
      release();
      memory_ = other.memory_;
      data_ = other.data_;
      bytes_ = other.bytes_;
      other.data_ = nullptr;
    }
    return *this;
  }
  DeviceBuffer(const DeviceBuffer &) = delete;
  DeviceBuffer &operator=(const DeviceBuffer &) = delete;
  ~DeviceBuffer() { release(); }

  void *data() const { return data_; }
  int64_t bytes() const { return bytes_; }

private:
  void release() {
    if (data_)
      memory_->free(data_);
    data_ = nullptr;
  }

  DeviceMemory *memory_ = nullptr;
  void *data_ = nullptr;
  int64_t bytes_ = 0;
};

} // namespace cleave::rt

#endif // CLEAVE_RT_DEVICE_MEMORY_H
