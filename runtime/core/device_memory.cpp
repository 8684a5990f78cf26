//===- device_memory.cpp - host memory for the CPU target ------------------===//
#include "cleave/rt/device_memory.h"

#include "cleave/rt/check.h"

#include <cstdlib>
#include <cstring>

namespace cleave::rt {
namespace {

class HostMemory final : public DeviceMemory {
public:
  const char *name() const override { return "host"; }
  bool is_host() const override { return true; }

  void *alloc(int64_t bytes) override {
    CLEAVE_CHECK(bytes >= 0, "negative allocation of ", bytes, " bytes");
    // 64 bytes: a cache line and an AVX-512 vector; aligned_alloc wants the
    // size rounded up to a multiple of the alignment (and > 0 for a unique
    // pointer).
    constexpr int64_t kAlignment = 64;
    int64_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
    if (rounded == 0)
      rounded = kAlignment;
    void *ptr = std::aligned_alloc(kAlignment, static_cast<size_t>(rounded));
    if (!ptr)
      fail("out of host memory: cannot allocate ", bytes, " bytes");
    std::memset(ptr, 0, static_cast<size_t>(rounded));
    return ptr;
  }

  void free(void *ptr) override { std::free(ptr); }

  void copy_to_device(void *device_dst, const void *host_src, int64_t bytes) override {
    std::memcpy(device_dst, host_src, static_cast<size_t>(bytes));
  }

  void copy_to_host(void *host_dst, const void *device_src, int64_t bytes) override {
    std::memcpy(host_dst, device_src, static_cast<size_t>(bytes));
  }
};

} // namespace

DeviceMemory &host_memory() {
  static HostMemory memory;
  return memory;
}

} // namespace cleave::rt
