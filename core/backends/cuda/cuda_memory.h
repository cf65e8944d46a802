// CUDA device memory and copies (compiled only with the CUDA backend). Plain C++ declarations so
// host code can call them without CUDA headers.
#pragma once

#include <cstddef>

namespace sy::core::cuda {

int device_count();  // 0 when no GPU or driver is present
void* device_malloc(int device, size_t bytes);
void device_free(int device, void* ptr) noexcept;
// Copies between host and device memory in any direction; synchronous.
void memcpy_any(void* dst, bool dst_on_device, const void* src, bool src_on_device, size_t bytes);
void memset_zero(int device, void* ptr, size_t bytes);

}  // namespace sy::core::cuda
