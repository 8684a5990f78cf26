//===- host_device.h - helpers both the CPU and the CUDA kernels run -------===//
#ifndef CLEAVE_RT_KERNELS_HOST_DEVICE_H
#define CLEAVE_RT_KERNELS_HOST_DEVICE_H

/// Marks an inline helper that the CUDA kernels also call on the device;
/// plain inline everywhere else.
#ifdef __CUDACC__
#define CLEAVE_HOST_DEVICE __host__ __device__
#else
#define CLEAVE_HOST_DEVICE
#endif

#endif // CLEAVE_RT_KERNELS_HOST_DEVICE_H
