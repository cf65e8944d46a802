// Allocation and copies on any device. CPU memory is 64-byte aligned (one cache line, one AVX-512
// vector); CUDA memory comes from the CUDA backend when Switchyard is built with it.
#pragma once

#include <cstddef>

#include "core/tensor/device.h"

namespace sy::core {

constexpr size_t kCpuAlignment = 64;

void* device_alloc(Device device, size_t bytes);
void device_free(Device device, void* ptr) noexcept;
// Copies bytes between any two devices (host <-> device, device <-> device, host <-> host).
void device_copy(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes);
void device_zero(Device device, void* ptr, size_t bytes);

// True when this build has the CUDA backend and at least one GPU is visible.
bool cuda_available();
// True when this build was compiled with the CUDA backend (whether or not a GPU is present).
bool cuda_compiled();

}  // namespace sy::core
