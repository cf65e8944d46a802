#include "core/backends/cuda/cuda_memory.h"

#include "core/backends/cuda/cuda_check.h"

namespace sy::core::cuda {

int device_count() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver" error
    return 0;
  }
  return count;
}

void* device_malloc(int device, size_t bytes) {
  SY_CUDA_CHECK(cudaSetDevice(device));
  void* ptr = nullptr;
  SY_CUDA_CHECK(cudaMalloc(&ptr, bytes == 0 ? 1 : bytes));
  return ptr;
}

void device_free(int device, void* ptr) noexcept {
  cudaSetDevice(device);
  cudaFree(ptr);
}

void memcpy_any(void* dst, bool dst_on_device, const void* src, bool src_on_device, size_t bytes) {
  const cudaMemcpyKind kind = dst_on_device ? (src_on_device ? cudaMemcpyDeviceToDevice
                                                             : cudaMemcpyHostToDevice)
                                            : (src_on_device ? cudaMemcpyDeviceToHost
                                                             : cudaMemcpyHostToHost);
  SY_CUDA_CHECK(cudaMemcpy(dst, src, bytes, kind));
}

void memset_zero(int device, void* ptr, size_t bytes) {
  SY_CUDA_CHECK(cudaSetDevice(device));
  SY_CUDA_CHECK(cudaMemset(ptr, 0, bytes));
}

}  // namespace sy::core::cuda
