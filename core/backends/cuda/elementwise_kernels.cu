// CUDA kernels for elementwise arithmetic (all four broadcast kinds), axpby, SiLU/SwiGLU and the
// row/column/total reductions their gradients need. Contracts: core/backends/cuda/cuda_kernels.h.
#include <cstdint>

#include "core/backends/cuda/cuda_kernels.h"
#include "core/backends/cuda/cuda_launch.cuh"

namespace sy::core::cuda {

using detail::aligned16;
using detail::check_launch;
using detail::global_thread;
using detail::grid_for;
using detail::grid_threads;
using detail::kBlock;
using detail::use_device;

namespace {

// ---- per-element functors ----

struct AddF {
  __device__ float operator()(float x, float y) const { return x + y; }
};
struct SubF {
  __device__ float operator()(float x, float y) const { return x - y; }
};
struct MulF {
  __device__ float operator()(float x, float y) const { return x * y; }
};

template <typename Run>
void dispatch(BinaryOp op, Run&& run) {
  switch (op) {
    case BinaryOp::kAdd:
      run(AddF{});
      break;
    case BinaryOp::kSub:
      run(SubF{});
      break;
    case BinaryOp::kMul:
      run(MulF{});
      break;
  }
}

// x op b[0], with b read on the device (no host round trip for the scalar).
template <typename F>
struct ScalarRhsF {
  F f;
  const float* b;
  __device__ float operator()(float x) const { return f(x, *b); }
};

struct ScaleF {
  float alpha;
  __device__ float operator()(float x) const { return alpha * x; }
};
struct AxpbyF {
  float alpha, beta;
  __device__ float operator()(float x, float y) const { return alpha * x + beta * y; }
};

__device__ inline float sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }

struct SiluF {
  __device__ float operator()(float x) const { return x * sigmoid(x); }
};
// d/dx [x s(x)] = s(x) (1 + x (1 - s(x)))
struct SiluBackwardF {
  __device__ float operator()(float x, float dout) const {
    const float s = sigmoid(x);
    return dout * s * (1.0f + x * (1.0f - s));
  }
};
struct SwigluF {
  __device__ float operator()(float g, float u) const { return g * sigmoid(g) * u; }
};
// Returns (dg, du).
struct SwigluBackwardF {
  __device__ float2 operator()(float g, float u, float dout) const {
    const float s = sigmoid(g);
    return make_float2(dout * u * s * (1.0f + g * (1.0f - s)), dout * (g * s));
  }
};

// ---- maps: out[i] = f(in0[i], in1[i], ...) ----

// p (4i + 4): elements [4i, 4i + 4) as one float4; p 16-byte aligned
__device__ inline float4 load4(const float* p, int64_t i) {
  return reinterpret_cast<const float4*>(p)[i];
}

// v... one float4 per input -> (f(v.x...), f(v.y...), f(v.z...), f(v.w...))
template <typename F, typename... V>
__device__ inline float4 apply4(const F& f, V... v) {
  return make_float4(f(v.x...), f(v.y...), f(v.z...), f(v.w...));
}

// in..., out (n). With vec every pointer is 16-byte aligned and the body moves float4s; the
// n % 4 tail (or everything, without vec) goes element by element.
template <typename F, typename... Ptr>
__global__ void map_kernel(F f, float* out, int64_t n, bool vec, Ptr... in) {
  const int64_t stride = grid_threads();
  int64_t start = 0;
  if (vec) {
    const int64_t n4 = n / 4;
    for (int64_t i = global_thread(); i < n4; i += stride) {
      reinterpret_cast<float4*>(out)[i] = apply4(f, load4(in, i)...);
    }
    start = n4 * 4;
  }
  for (int64_t i = start + global_thread(); i < n; i += stride) out[i] = f(in[i]...);
}

// in..., out (n); one float4 per thread-step when every pointer is 16-byte aligned
template <typename F, typename... Ptr>
void launch_map(int device, F f, float* out, int64_t n, Ptr... in) {
  if (n <= 0) return;
  use_device(device);
  const bool vec = aligned16(out) && (aligned16(in) && ...);
  map_kernel<<<grid_for(vec ? (n + 3) / 4 : n), kBlock>>>(f, out, n, vec, in...);
  check_launch();
}

// v... one float4 per input -> o0, o1: the two results of f per lane
template <typename F, typename... V>
__device__ inline void apply4x2(const F& f, float4& o0, float4& o1, V... v) {
  const float2 r0 = f(v.x...), r1 = f(v.y...), r2 = f(v.z...), r3 = f(v.w...);
  o0 = make_float4(r0.x, r1.x, r2.x, r3.x);
  o1 = make_float4(r0.y, r1.y, r2.y, r3.y);
}

// in..., out0, out1 (n): (out0[i], out1[i]) = f(in0[i], ...), f returning a float2.
template <typename F, typename... Ptr>
__global__ void map2_kernel(F f, float* out0, float* out1, int64_t n, bool vec, Ptr... in) {
  const int64_t stride = grid_threads();
  int64_t start = 0;
  if (vec) {
    const int64_t n4 = n / 4;
    for (int64_t i = global_thread(); i < n4; i += stride) {
      float4 o0, o1;
      apply4x2(f, o0, o1, load4(in, i)...);
      reinterpret_cast<float4*>(out0)[i] = o0;
      reinterpret_cast<float4*>(out1)[i] = o1;
    }
    start = n4 * 4;
  }
  for (int64_t i = start + global_thread(); i < n; i += stride) {
    const float2 r = f(in[i]...);
    out0[i] = r.x;
    out1[i] = r.y;
  }
}

// in..., out0, out1 (n)
template <typename F, typename... Ptr>
void launch_map2(int device, F f, float* out0, float* out1, int64_t n, Ptr... in) {
  if (n <= 0) return;
  use_device(device);
  const bool vec = aligned16(out0) && aligned16(out1) && (aligned16(in) && ...);
  map2_kernel<<<grid_for(vec ? (n + 3) / 4 : n), kBlock>>>(f, out0, out1, n, vec, in...);
  check_launch();
}

// ---- broadcasts over a (rows,cols) matrix ----

// a, out (rows,cols); b (cols), or b (rows) when kPerRow. 2-D grid-stride: x over columns,
// y over rows.
template <typename F, bool kPerRow>
__global__ void broadcast_kernel(F f, const float* a, const float* b, float* out, int64_t rows,
                                 int64_t cols) {
  const int64_t c0 = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t cstride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const int64_t rstride = static_cast<int64_t>(gridDim.y) * blockDim.y;
  for (int64_t r = static_cast<int64_t>(blockIdx.y) * blockDim.y + threadIdx.y; r < rows;
       r += rstride) {
    const float* ar = a + r * cols;
    float* orow = out + r * cols;
    if constexpr (kPerRow) {
      const float br = b[r];
      for (int64_t c = c0; c < cols; c += cstride) orow[c] = f(ar[c], br);
    } else {
      for (int64_t c = c0; c < cols; c += cstride) orow[c] = f(ar[c], b[c]);
    }
  }
}

// a, out (rows,cols); b (cols) or (rows)
template <bool kPerRow>
void launch_broadcast(int device, BinaryOp op, const float* a, const float* b, float* out,
                      int64_t rows, int64_t cols) {
  if (rows <= 0 || cols <= 0) return;
  use_device(device);
  // A warp-multiple of threads across the columns (up to the whole block), the rest down rows.
  int bx = 32;
  while (bx < kBlock && bx < cols) bx *= 2;
  const dim3 block(static_cast<unsigned>(bx), static_cast<unsigned>(kBlock / bx));
  const dim3 grid(grid_for(cols, bx), grid_for(rows, kBlock / bx));
  dispatch(op, [&](auto f) {
    broadcast_kernel<decltype(f), kPerRow><<<grid, block>>>(f, a, b, out, rows, cols);
  });
  check_launch();
}

// ---- reductions ----

constexpr int kSumRowsWidth = 32;        // columns per block of the column sums
constexpr int kSumRowsHeight = 16;       // rows summed in parallel per column
constexpr int kWarpPerRowMaxCols = 512;  // row sums at most this wide use a warp per row

// x, y (rows,cols) -> out (cols): out[c] = sum_r x[r,c] (* y[r,c]). Block (32, height): each
// thread sums every height-th row of one column, then thread row 0 adds the partials in order.
template <bool kProduct>
__global__ void sum_rows_kernel(const float* x, const float* y, float* out, int64_t rows,
                                int64_t cols) {
  __shared__ float partial[kSumRowsHeight][kSumRowsWidth + 1];
  const int tx = static_cast<int>(threadIdx.x), ty = static_cast<int>(threadIdx.y);
  for (int64_t c0 = static_cast<int64_t>(blockIdx.x) * kSumRowsWidth; c0 < cols;
       c0 += static_cast<int64_t>(gridDim.x) * kSumRowsWidth) {
    const int64_t c = c0 + tx;
    float s = 0.0f;
    if (c < cols) {
      for (int64_t r = ty; r < rows; r += blockDim.y) {
        if constexpr (kProduct) {
          s += x[r * cols + c] * y[r * cols + c];
        } else {
          s += x[r * cols + c];
        }
      }
    }
    partial[ty][tx] = s;
    __syncthreads();
    if (ty == 0 && c < cols) {
      float total = partial[0][tx];
      for (int i = 1; i < static_cast<int>(blockDim.y); ++i) total += partial[i][tx];
      out[c] = total;
    }
    __syncthreads();
  }
}

// x, y (rows,cols) -> out (cols); y null unless kProduct
template <bool kProduct>
void launch_sum_rows(int device, const float* x, const float* y, float* out, int64_t rows,
                     int64_t cols) {
  if (cols <= 0) return;  // rows == 0 still writes zeros
  use_device(device);
  const int height =
      rows >= kSumRowsHeight ? kSumRowsHeight : (rows < 1 ? 1 : static_cast<int>(rows));
  const dim3 block(kSumRowsWidth, static_cast<unsigned>(height));
  sum_rows_kernel<kProduct><<<grid_for(cols, kSumRowsWidth), block>>>(x, y, out, rows, cols);
  check_launch();
}

// xr, yr (cols): this thread's share (columns first, first + step, ...) of one row's sum
template <bool kProduct>
__device__ inline float row_partial(const float* xr, const float* yr, int64_t cols, int64_t first,
                                    int64_t step) {
  float s = 0.0f;
  for (int64_t c = first; c < cols; c += step) {
    if constexpr (kProduct) {
      s += xr[c] * yr[c];
    } else {
      s += xr[c];
    }
  }
  return s;
}

// x, y (rows,cols) -> out (rows): out[r] = sum_c x[r,c] (* y[r,c]), one warp per row.
template <bool kProduct>
__global__ void sum_cols_warp_kernel(const float* x, const float* y, float* out, int64_t rows,
                                     int64_t cols) {
  const int lane = static_cast<int>(threadIdx.x) & 31;
  const int64_t warps = grid_threads() / 32;
  for (int64_t r = global_thread() / 32; r < rows; r += warps) {
    const float s = detail::warp_sum(
        row_partial<kProduct>(x + r * cols, kProduct ? y + r * cols : nullptr, cols, lane, 32));
    if (lane == 0) out[r] = s;
  }
}

// x, y (rows,cols) -> out (rows), one block per row (wide rows).
template <bool kProduct>
__global__ void sum_cols_block_kernel(const float* x, const float* y, float* out, int64_t rows,
                                      int64_t cols) {
  __shared__ float shared[32];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const float s =
        detail::block_sum(row_partial<kProduct>(x + r * cols, kProduct ? y + r * cols : nullptr,
                                                cols, threadIdx.x, blockDim.x),
                          shared);
    if (threadIdx.x == 0) out[r] = s;
  }
}

// x, y (rows,cols) -> out (rows); y null unless kProduct
template <bool kProduct>
void launch_sum_cols(int device, const float* x, const float* y, float* out, int64_t rows,
                     int64_t cols) {
  if (rows <= 0) return;  // cols == 0 still writes zeros
  use_device(device);
  if (cols <= kWarpPerRowMaxCols) {
    sum_cols_warp_kernel<kProduct><<<grid_for(rows * 32), kBlock>>>(x, y, out, rows, cols);
  } else {
    sum_cols_block_kernel<kProduct><<<grid_for(rows, 1), kBlock>>>(x, y, out, rows, cols);
  }
  check_launch();
}

constexpr int kSumAllBlock = 1024;

// x (n) -> out (1), one block accumulating in double.
__global__ void sum_all_kernel(const float* x, float* out, int64_t n) {
  __shared__ double shared[32];
  double s = 0.0;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) s += x[i];
  s = detail::block_sum(s, shared);
  if (threadIdx.x == 0) out[0] = static_cast<float>(s);
}

}  // namespace

// ---- elementwise ----

// a, b, out (n)
void binary_same(int device, BinaryOp op, const float* a, const float* b, float* out, int64_t n) {
  dispatch(op, [&](auto f) { launch_map(device, f, out, n, a, b); });
}

// a, out (rows,cols); b (cols)
void binary_row(int device, BinaryOp op, const float* a, const float* b, float* out, int64_t rows,
                int64_t cols) {
  launch_broadcast<false>(device, op, a, b, out, rows, cols);
}

// a, out (rows,cols); b (rows)
void binary_col(int device, BinaryOp op, const float* a, const float* b, float* out, int64_t rows,
                int64_t cols) {
  launch_broadcast<true>(device, op, a, b, out, rows, cols);
}

// a, out (n); b (1)
void binary_scalar(int device, BinaryOp op, const float* a, const float* b, float* out, int64_t n) {
  dispatch(op, [&](auto f) { launch_map(device, ScalarRhsF<decltype(f)>{f, b}, out, n, a); });
}

// x, y, out (n)
void axpby(int device, float alpha, const float* x, float beta, const float* y, float* out,
           int64_t n) {
  if (beta == 0.0f) {
    launch_map(device, ScaleF{alpha}, out, n, x);
  } else {
    launch_map(device, AxpbyF{alpha, beta}, out, n, x, y);
  }
}

// x, out (n)
void silu_forward(int device, const float* x, float* out, int64_t n) {
  launch_map(device, SiluF{}, out, n, x);
}

// x, dout, dx (n)
void silu_backward(int device, const float* x, const float* dout, float* dx, int64_t n) {
  launch_map(device, SiluBackwardF{}, dx, n, x, dout);
}

// g, u, out (n)
void swiglu_forward(int device, const float* g, const float* u, float* out, int64_t n) {
  launch_map(device, SwigluF{}, out, n, g, u);
}

// g, u, dout, dg, du (n)
void swiglu_backward(int device, const float* g, const float* u, const float* dout, float* dg,
                     float* du, int64_t n) {
  launch_map2(device, SwigluBackwardF{}, dg, du, n, g, u, dout);
}

// ---- reductions ----

// x (rows,cols) -> out (cols)
void sum_rows(int device, const float* x, float* out, int64_t rows, int64_t cols) {
  launch_sum_rows<false>(device, x, nullptr, out, rows, cols);
}

// x (rows,cols) -> out (rows)
void sum_cols(int device, const float* x, float* out, int64_t rows, int64_t cols) {
  launch_sum_cols<false>(device, x, nullptr, out, rows, cols);
}

// x, y (rows,cols) -> out (cols)
void sum_rows_product(int device, const float* x, const float* y, float* out, int64_t rows,
                      int64_t cols) {
  launch_sum_rows<true>(device, x, y, out, rows, cols);
}

// x, y (rows,cols) -> out (rows)
void sum_cols_product(int device, const float* x, const float* y, float* out, int64_t rows,
                      int64_t cols) {
  launch_sum_cols<true>(device, x, y, out, rows, cols);
}

// x (n) -> out (1)
void sum_all(int device, const float* x, float* out, int64_t n) {
  use_device(device);
  sum_all_kernel<<<1, kSumAllBlock>>>(x, out, n);  // n == 0 writes 0
  check_launch();
}

}  // namespace sy::core::cuda
