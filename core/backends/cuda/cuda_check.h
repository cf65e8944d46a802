// Error checks for CUDA runtime and cuBLAS calls: a failure becomes a sy::Error naming the call.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "core/common/error.h"

#define SY_CUDA_CHECK(call)                                                                  \
  do {                                                                                       \
    const cudaError_t sy_status_ = (call);                                                   \
    SY_CHECK(sy_status_ == cudaSuccess, #call, " failed: ", cudaGetErrorString(sy_status_)); \
  } while (0)

#define SY_CUBLAS_CHECK(call)                                                                \
  do {                                                                                       \
    const cublasStatus_t sy_status_ = (call);                                                \
    SY_CHECK(sy_status_ == CUBLAS_STATUS_SUCCESS, #call, " failed: ",                        \
             cublasGetStatusString(sy_status_));                                             \
  } while (0)
