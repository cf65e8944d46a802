// Dense matrix products on the GPU through cuBLAS: one handle per device, created on first use,
// fp32 compute (CUBLAS_COMPUTE_32F, no TF32) so results match the CPU's sgemm to fp32 rounding.
//
// cuBLAS is column-major. A row-major matrix X (r,c) with row stride ld is, to cuBLAS, the
// column-major X^T (c,r) with leading dimension ld, so the row-major product C = op(A) op(B) is
// computed as C^T = op(B)^T op(A)^T: swap the operands and M with N, keep the transpose flags.
#include <climits>
#include <cstdint>
#include <mutex>
#include <vector>

#include "core/backends/cuda/cuda_kernels.h"
#include "core/backends/cuda/cuda_launch.cuh"

namespace sy::core::cuda {

namespace {

// The cuBLAS handle of `device`, created (bound to that device and the default stream) on first
// use. Handles live until the process exits: destroying them from a static destructor can run
// after the CUDA runtime has shut down.
cublasHandle_t handle_for(int device) {
  static std::mutex mu;
  static auto* handles = new std::vector<cublasHandle_t>();
  std::lock_guard<std::mutex> lock(mu);
  SY_CHECK(device >= 0, "gemm: bad CUDA device ", device);
  if (static_cast<size_t>(device) >= handles->size()) {
    handles->resize(static_cast<size_t>(device) + 1, nullptr);
  }
  cublasHandle_t& handle = (*handles)[static_cast<size_t>(device)];
  if (handle == nullptr) {
    SY_CUBLAS_CHECK(cublasCreate(&handle));
    SY_CUBLAS_CHECK(cublasSetStream(handle, 0));
    SY_CUBLAS_CHECK(cublasSetMathMode(handle, CUBLAS_DEFAULT_MATH));
  }
  return handle;
}

int as_int(int64_t v, const char* what) {
  SY_CHECK(v >= 0 && v <= INT_MAX, "gemm: ", what, " = ", v, " exceeds cuBLAS's int range");
  return static_cast<int>(v);
}

cublasOperation_t op_of(bool trans) { return trans ? CUBLAS_OP_T : CUBLAS_OP_N; }

// c (rows,cols) with row stride ldc: c = beta * c, or 0 when beta == 0 (the K = 0 product, which
// must not read c when beta == 0: it may hold NaNs from a fresh allocation).
__global__ void scale_matrix_kernel(float* c, int64_t rows, int64_t cols, int64_t ldc, float beta) {
  const int64_t n = rows * cols;
  for (int64_t i = detail::global_thread(); i < n; i += detail::grid_threads()) {
    float* p = c + (i / cols) * ldc + i % cols;
    *p = beta == 0.0f ? 0.0f : beta * *p;
  }
}

// c (rows,cols), row stride ldc
void scale_matrix(float* c, int64_t rows, int64_t cols, int64_t ldc, float beta) {
  scale_matrix_kernel<<<detail::grid_for(rows * cols), detail::kBlock>>>(c, rows, cols, ldc, beta);
  detail::check_launch();
}

}  // namespace

// a (M,K) or (K,M) when trans_a, row stride lda; b (K,N) or (N,K) when trans_b, row stride ldb;
// c (M,N), row stride ldc
void gemm(int device, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
          const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
          int64_t ldc) {
  if (m == 0 || n == 0) return;
  detail::use_device(device);
  if (k == 0) {
    scale_matrix(c, m, n, ldc, beta);
    return;
  }
  SY_CUBLAS_CHECK(cublasGemmEx(
      handle_for(device), op_of(trans_b), op_of(trans_a), as_int(n, "N"), as_int(m, "M"),
      as_int(k, "K"), &alpha, b, CUDA_R_32F, as_int(ldb, "ldb"), a, CUDA_R_32F, as_int(lda, "lda"),
      &beta, c, CUDA_R_32F, as_int(ldc, "ldc"), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
}

// a (batch, M,K or K,M), b (batch, K,N or N,K), c (batch,M,N), each contiguous
void gemm_batched(int device, int64_t batch, bool trans_a, bool trans_b, int64_t m, int64_t n,
                  int64_t k, float alpha, const float* a, const float* b, float beta, float* c) {
  const int64_t lda = trans_a ? m : k, ldb = trans_b ? k : n;
  if (batch == 1) {
    gemm(device, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, n);
    return;
  }
  if (batch == 0 || m == 0 || n == 0) return;
  detail::use_device(device);
  if (k == 0) {
    scale_matrix(c, batch * m, n, n, beta);
    return;
  }
  SY_CUBLAS_CHECK(cublasGemmStridedBatchedEx(
      handle_for(device), op_of(trans_b), op_of(trans_a), as_int(n, "N"), as_int(m, "M"),
      as_int(k, "K"), &alpha, b, CUDA_R_32F, as_int(ldb, "ldb"), static_cast<long long>(k * n), a,
      CUDA_R_32F, as_int(lda, "lda"), static_cast<long long>(m * k), &beta, c, CUDA_R_32F,
      as_int(n, "ldc"), static_cast<long long>(m * n), as_int(batch, "batch"), CUBLAS_COMPUTE_32F,
      CUBLAS_GEMM_DEFAULT));
}

}  // namespace sy::core::cuda
