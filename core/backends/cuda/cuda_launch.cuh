// Launch helpers shared by the CUDA kernel files (.cu only): block sizes, grid sizing for
// grid-stride loops, alignment tests for float4 paths and deterministic warp/block sums.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "core/backends/cuda/cuda_check.h"

namespace sy::core::cuda::detail {

constexpr int kBlock = 256;          // threads per block of the 1-D kernels
constexpr int64_t kMaxGrid = 65535;  // grid-stride loops cover the rest

// Blocks for `work` items at `block` threads per block (at least 1, at most kMaxGrid).
inline unsigned grid_for(int64_t work, int block = kBlock) {
  const int64_t blocks = (work + block - 1) / block;
  return static_cast<unsigned>(blocks < 1 ? 1 : (blocks > kMaxGrid ? kMaxGrid : blocks));
}

// Makes `device` current for the launches that follow.
inline void use_device(int device) { SY_CUDA_CHECK(cudaSetDevice(device)); }

// Checks the most recent launch (configuration errors surface here; faults surface later).
inline void check_launch() { SY_CUDA_CHECK(cudaGetLastError()); }

inline bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15u) == 0; }

// This thread's first index and the stride of a 1-D grid-stride loop.
__device__ inline int64_t global_thread() {
  return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ inline int64_t grid_threads() { return static_cast<int64_t>(gridDim.x) * blockDim.x; }

// Sum of v over the 32 lanes of a warp, valid in lane 0; every lane must call it.
template <typename T>
__device__ inline T warp_sum(T v) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_down_sync(0xffffffffu, v, offset);
  return v;
}

// Sum of v over a 1-D block (blockDim.x a multiple of 32, at most 1024), valid in thread 0.
// Every thread must call it; shared holds 32 slots. The order of additions is fixed by the block
// shape, so results are reproducible.
template <typename T>
__device__ inline T block_sum(T v, T* shared) {
  const int lane = static_cast<int>(threadIdx.x) & 31, warp = static_cast<int>(threadIdx.x) >> 5;
  v = warp_sum(v);
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  const int warps = static_cast<int>(blockDim.x) >> 5;
  v = static_cast<int>(threadIdx.x) < warps ? shared[threadIdx.x] : T(0);
  if (warp == 0) v = warp_sum(v);
  __syncthreads();  // the caller may reuse shared right away
  return v;
}

}  // namespace sy::core::cuda::detail
