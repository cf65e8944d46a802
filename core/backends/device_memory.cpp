#include "core/backends/device_memory.h"

#include <cstdlib>
#include <cstring>

#include "core/common/error.h"

#ifdef SY_HAS_CUDA
#include "core/backends/cuda/cuda_memory.h"
#endif

namespace sy::core {

#ifndef SY_HAS_CUDA
namespace {

[[noreturn]] void no_cuda() {
  SY_FAIL(ErrorKind::kUsage, "this Switchyard build has no CUDA backend (configure with SY_CUDA=ON)");
}

}  // namespace
#endif

void* device_alloc(Device device, size_t bytes) {
  if (device.is_cpu()) {
    const size_t rounded = (bytes + kCpuAlignment - 1) / kCpuAlignment * kCpuAlignment;
    void* p = std::aligned_alloc(kCpuAlignment, rounded == 0 ? kCpuAlignment : rounded);
    SY_CHECK(p != nullptr, "out of host memory allocating ", bytes, " bytes");
    return p;
  }
#ifdef SY_HAS_CUDA
  return cuda::device_malloc(device.index, bytes);
#else
  no_cuda();
#endif
}

void device_free(Device device, void* ptr) noexcept {
  if (ptr == nullptr) return;
  if (device.is_cpu()) {
    std::free(ptr);
    return;
  }
#ifdef SY_HAS_CUDA
  cuda::device_free(device.index, ptr);
#endif
}

void device_copy(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes) {
  if (bytes == 0) return;
  if (dst_device.is_cpu() && src_device.is_cpu()) {
    std::memcpy(dst, src, bytes);
    return;
  }
#ifdef SY_HAS_CUDA
  cuda::memcpy_any(dst, dst_device.is_cuda(), src, src_device.is_cuda(), bytes);
#else
  no_cuda();
#endif
}

void device_zero(Device device, void* ptr, size_t bytes) {
  if (bytes == 0) return;
  if (device.is_cpu()) {
    std::memset(ptr, 0, bytes);
    return;
  }
#ifdef SY_HAS_CUDA
  cuda::memset_zero(device.index, ptr, bytes);
#else
  no_cuda();
#endif
}

bool cuda_compiled() {
#ifdef SY_HAS_CUDA
  return true;
#else
  return false;
#endif
}

bool cuda_available() {
#ifdef SY_HAS_CUDA
  return cuda::device_count() > 0;
#else
  return false;
#endif
}

}  // namespace sy::core
