#include "core/ops/elementwise.h"

#include "core/autograd/node.h"
#include "core/backends/cpu/elementwise_kernels.h"
#include "core/ops/op_utils.h"
#include "core/ops/reduce.h"

#ifdef SY_HAS_CUDA
#include "core/backends/cuda/cuda_kernels.h"
#endif

namespace sy::core {

SY_REGISTER_OP(kAddOp, "add");
SY_REGISTER_OP(kSubOp, "sub");
SY_REGISTER_OP(kMulOp, "mul");
SY_REGISTER_OP(kScaleOp, "scale");
SY_REGISTER_OP(kSiluOp, "silu");
SY_REGISTER_OP(kSwigluOp, "swiglu");

namespace {

// ---- device dispatch ----
// Each run_* helper runs the CPU or the CUDA kernel for the device its tensors live on (one
// device: the ops check it); outputs are allocated there by the caller.

#ifdef SY_HAS_CUDA
cuda::BinaryOp cuda_op(cpu::BinaryOp op) {
  switch (op) {
    case cpu::BinaryOp::kAdd:
      return cuda::BinaryOp::kAdd;
    case cpu::BinaryOp::kSub:
      return cuda::BinaryOp::kSub;
    case cpu::BinaryOp::kMul:
      return cuda::BinaryOp::kMul;
  }
  return cuda::BinaryOp::kAdd;
}

// The CUDA ordinal of t's device, or -1 when t is on the CPU.
int gpu_of(const Tensor& t) { return t.device().is_cuda() ? t.device().index : -1; }
#endif

// A fresh float32 tensor of `shape` on like's device.
Tensor empty_on(const Shape& shape, const Tensor& like) {
  return Tensor::empty(shape, DType::kF32, like.device());
}

// out[i] = a[i] op b[i]                        a, b, out (n)
void run_binary_same(cpu::BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  const int64_t n = out.numel();
#ifdef SY_HAS_CUDA
  if (const int gpu = gpu_of(out); gpu >= 0) {
    cuda::binary_same(gpu, cuda_op(op), a.f32(), b.f32(), out.f32(), n);
    return;
  }
#endif
  cpu::binary_same(op, a.f32(), b.f32(), out.f32(), n);
}

// out[r,c] = a[r,c] op b[c]                    a, out (rows,cols); b (cols)
void run_binary_row(cpu::BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out,
                    int64_t rows, int64_t cols) {
#ifdef SY_HAS_CUDA
  if (const int gpu = gpu_of(out); gpu >= 0) {
    cuda::binary_row(gpu, cuda_op(op), a.f32(), b.f32(), out.f32(), rows, cols);
    return;
  }
#endif
  cpu::binary_row(op, a.f32(), b.f32(), out.f32(), rows, cols);
}

// out[r,c] = a[r,c] op b[r]                    a, out (rows,cols); b (rows)
void run_binary_col(cpu::BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out,
                    int64_t rows, int64_t cols) {
#ifdef SY_HAS_CUDA
  if (const int gpu = gpu_of(out); gpu >= 0) {
    cuda::binary_col(gpu, cuda_op(op), a.f32(), b.f32(), out.f32(), rows, cols);
    return;
  }
#endif
  cpu::binary_col(op, a.f32(), b.f32(), out.f32(), rows, cols);
}

// out[i] = a[i] op b[0]                        a, out (n); b one element
void run_binary_scalar(cpu::BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  const int64_t n = out.numel();
#ifdef SY_HAS_CUDA
  if (const int gpu = gpu_of(out); gpu >= 0) {
    cuda::binary_scalar(gpu, cuda_op(op), a.f32(), b.f32(), out.f32(), n);  // b read on device
    return;
  }
#endif
  Tensor expanded = Tensor::full(Shape{1}, b.to_vector()[0]);
  cpu::binary_row(op, a.f32(), expanded.f32(), out.f32(), n, 1);
}

// out = alpha * x + beta * y                   x, y, out (n); y is not read (may be null) when
//                                              beta == 0; out may be y
void run_axpby(float alpha, const Tensor& x, float beta, const Tensor* y, const Tensor& out) {
  const float* yp = beta == 0.0f ? nullptr : y->f32();
#ifdef SY_HAS_CUDA
  if (const int gpu = gpu_of(out); gpu >= 0) {
    cuda::axpby(gpu, alpha, x.f32(), beta, yp, out.f32(), out.numel());
    return;
  }
#endif
  cpu::axpby(alpha, x.f32(), beta, yp, out.f32(), out.numel());
}

// out[c] = sum_r x[r,c] (* y[r,c])             x, y (rows,cols) -> out (cols); y may be null
void run_sum_rows(const Tensor& x, const Tensor* y, const Tensor& out, int64_t rows, int64_t cols) {
#ifdef SY_HAS_CUDA
  if (const int gpu = gpu_of(out); gpu >= 0) {
    if (y == nullptr) {
      cuda::sum_rows(gpu, x.f32(), out.f32(), rows, cols);
    } else {
      cuda::sum_rows_product(gpu, x.f32(), y->f32(), out.f32(), rows, cols);
    }
    return;
  }
#endif
  if (y == nullptr) {
    cpu::sum_rows(x.f32(), out.f32(), rows, cols);
  } else {
    cpu::sum_rows_product(x.f32(), y->f32(), out.f32(), rows, cols);
  }
}

// out[r] = sum_c x[r,c] (* y[r,c])             x, y (rows,cols) -> out (rows); y may be null
void run_sum_cols(const Tensor& x, const Tensor* y, const Tensor& out, int64_t rows, int64_t cols) {
#ifdef SY_HAS_CUDA
  if (const int gpu = gpu_of(out); gpu >= 0) {
    if (y == nullptr) {
      cuda::sum_cols(gpu, x.f32(), out.f32(), rows, cols);
    } else {
      cuda::sum_cols_product(gpu, x.f32(), y->f32(), out.f32(), rows, cols);
    }
    return;
  }
#endif
  if (y == nullptr) {
    cpu::sum_cols(x.f32(), out.f32(), rows, cols);
  } else {
    cpu::sum_cols_product(x.f32(), y->f32(), out.f32(), rows, cols);
  }
}

// The sum of x's elements as a tensor of `shape` (one element) on x's device.   x (n)
Tensor run_sum_all(const Tensor& x, const Shape& shape) {
#ifdef SY_HAS_CUDA
  if (const int gpu = gpu_of(x); gpu >= 0) {
    Tensor out = empty_on(shape, x);
    cuda::sum_all(gpu, x.f32(), out.f32(), x.numel());
    return out;
  }
#endif
  return Tensor::full(shape, static_cast<float>(cpu::sum_all(x.f32(), x.numel())));
}

// x, out (n)
void run_silu_forward(const Tensor& x, const Tensor& out) {
#ifdef SY_HAS_CUDA
  if (const int gpu = gpu_of(out); gpu >= 0) {
    cuda::silu_forward(gpu, x.f32(), out.f32(), x.numel());
    return;
  }
#endif
  cpu::silu_forward(x.f32(), out.f32(), x.numel());
}

// x, dout, dx (n)
void run_silu_backward(const Tensor& x, const Tensor& dout, const Tensor& dx) {
#ifdef SY_HAS_CUDA
  if (const int gpu = gpu_of(dx); gpu >= 0) {
    cuda::silu_backward(gpu, x.f32(), dout.f32(), dx.f32(), x.numel());
    return;
  }
#endif
  cpu::silu_backward(x.f32(), dout.f32(), dx.f32(), x.numel());
}

// g, u, out (n)
void run_swiglu_forward(const Tensor& g, const Tensor& u, const Tensor& out) {
#ifdef SY_HAS_CUDA
  if (const int gpu = gpu_of(out); gpu >= 0) {
    cuda::swiglu_forward(gpu, g.f32(), u.f32(), out.f32(), g.numel());
    return;
  }
#endif
  cpu::swiglu_forward(g.f32(), u.f32(), out.f32(), g.numel());
}

// g, u, dout, dg, du (n)
void run_swiglu_backward(const Tensor& g, const Tensor& u, const Tensor& dout, const Tensor& dg,
                         const Tensor& du) {
#ifdef SY_HAS_CUDA
  if (const int gpu = gpu_of(dg); gpu >= 0) {
    cuda::swiglu_backward(gpu, g.f32(), u.f32(), dout.f32(), dg.f32(), du.f32(), g.numel());
    return;
  }
#endif
  cpu::swiglu_backward(g.f32(), u.f32(), dout.f32(), dg.f32(), du.f32(), g.numel());
}

// ---- broadcasting ----

enum class Broadcast { kSame, kRow, kColumn, kScalar };

Broadcast classify(const char* op, const Tensor& a, const Tensor& b) {
  const Shape& sa = a.shape();
  const Shape& sb = b.shape();
  if (sa == sb) return Broadcast::kSame;
  if (sb.numel() == 1) return Broadcast::kScalar;
  if (sb.ndim() <= sa.ndim()) {
    bool row = sb.ndim() > 0;
    for (int i = 1; i <= sb.ndim() && row; ++i) row = sb.dim(-i) == sa.dim(-i);
    if (row) return Broadcast::kRow;
  }
  if (sb.ndim() == sa.ndim() && sb.last() == 1 && sb.without_last() == sa.without_last()) {
    return Broadcast::kColumn;
  }
  SY_FAIL(ErrorKind::kInternal, op, ": cannot broadcast ", sb.to_string(), " against ",
          sa.to_string(), " (supported: same shape, trailing dims, (...,1), one element)");
}

// out = a op b with b broadcast as classified.
Tensor binary(cpu::BinaryOp op, const char* name, const Tensor& a, const Tensor& b,
              Broadcast kind) {
  detail::require_f32(name, {&a, &b});
  detail::require_same_device(name, {&a, &b});
  Tensor out = empty_on(a.shape(), a);
  const int64_t n = a.numel();
  switch (kind) {
    case Broadcast::kSame:
      run_binary_same(op, a, b, out);
      break;
    case Broadcast::kRow: {
      const int64_t cols = b.numel();
      run_binary_row(op, a, b, out, cols ? n / cols : 0, cols);
      break;
    }
    case Broadcast::kColumn: {
      const int64_t rows = b.numel();
      run_binary_col(op, a, b, out, rows, rows ? n / rows : 0);
      break;
    }
    case Broadcast::kScalar:
      run_binary_scalar(op, a, b, out);
      break;
  }
  return out;
}

// Reduces a gradient g shaped like a down to b's shape (the adjoint of the broadcast).
Tensor reduce_to(const Tensor& g, const Tensor& b, Broadcast kind) {
  switch (kind) {
    case Broadcast::kSame:
      return g;
    case Broadcast::kRow: {
      Tensor out = empty_on(b.shape(), g);
      const int64_t cols = b.numel();
      run_sum_rows(g, nullptr, out, cols ? g.numel() / cols : 0, cols);
      return out;
    }
    case Broadcast::kColumn: {
      Tensor out = empty_on(b.shape(), g);
      const int64_t rows = b.numel();
      run_sum_cols(g, nullptr, out, rows, rows ? g.numel() / rows : 0);
      return out;
    }
    case Broadcast::kScalar:
      return run_sum_all(g, b.shape());
  }
  return {};
}

// The gradient of b in a * b: sum over the broadcast of g * a.
Tensor reduce_product_to(const Tensor& g, const Tensor& a, const Tensor& b, Broadcast kind) {
  switch (kind) {
    case Broadcast::kSame:
      return binary(cpu::BinaryOp::kMul, "mul", g, a, Broadcast::kSame);
    case Broadcast::kRow: {
      Tensor out = empty_on(b.shape(), g);
      const int64_t cols = b.numel();
      run_sum_rows(g, &a, out, cols ? g.numel() / cols : 0, cols);
      return out;
    }
    case Broadcast::kColumn: {
      Tensor out = empty_on(b.shape(), g);
      const int64_t rows = b.numel();
      run_sum_cols(g, &a, out, rows, rows ? g.numel() / rows : 0);
      return out;
    }
    case Broadcast::kScalar: {
      Tensor ga = binary(cpu::BinaryOp::kMul, "mul", g, a, Broadcast::kSame);
      return run_sum_all(ga, b.shape());
    }
  }
  return {};
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
  const Broadcast kind = classify("add", a, b);
  Tensor out = binary(cpu::BinaryOp::kAdd, "add", a, b, kind);
  return record(kAddOp, out, {a, b}, [b = b.detach(), kind](const Tensor& g) {
    return std::vector<Tensor>{g, reduce_to(g, b, kind)};
  });
}

Tensor sub(const Tensor& a, const Tensor& b) {
  const Broadcast kind = classify("sub", a, b);
  Tensor out = binary(cpu::BinaryOp::kSub, "sub", a, b, kind);
  return record(kSubOp, out, {a, b}, [b = b.detach(), kind](const Tensor& g) {
    return std::vector<Tensor>{g, scale(reduce_to(g, b, kind), -1.0f)};
  });
}

Tensor mul(const Tensor& a, const Tensor& b) {
  const Broadcast kind = classify("mul", a, b);
  Tensor out = binary(cpu::BinaryOp::kMul, "mul", a, b, kind);
  const bool need = should_record(a, b);
  return record(
      kMulOp, out, {a, b},
      [a = need ? a.detach() : Tensor(), b = need ? b.detach() : Tensor(), kind](const Tensor& g) {
        // d/da = g * b (broadcast); d/db = sum over the broadcast of g * a.
        Tensor ga = binary(cpu::BinaryOp::kMul, "mul", g, b, kind);
        return std::vector<Tensor>{ga, reduce_product_to(g, a, b, kind)};
      });
}

Tensor scale(const Tensor& x, float s) {
  detail::require_f32("scale", {&x});
  Tensor out = empty_on(x.shape(), x);
  run_axpby(s, x, 0.0f, nullptr, out);
  return record(kScaleOp, out, {x},
                [s](const Tensor& g) { return std::vector<Tensor>{scale(g, s)}; });
}

Tensor silu(const Tensor& x) {
  detail::require_f32("silu", {&x});
  Tensor out = empty_on(x.shape(), x);
  run_silu_forward(x, out);
  return record(kSiluOp, out, {x}, [x = x.detach()](const Tensor& g) {
    detail::require_same_device("silu backward", {&x, &g});
    Tensor dx = empty_on(x.shape(), x);
    run_silu_backward(x, g, dx);
    return std::vector<Tensor>{dx};
  });
}

Tensor swiglu(const Tensor& gate, const Tensor& up) {
  detail::require_f32("swiglu", {&gate, &up});
  detail::require_same_device("swiglu", {&gate, &up});
  check_shape(up, gate.shape(), "swiglu: up must match gate");
  Tensor out = empty_on(gate.shape(), gate);
  run_swiglu_forward(gate, up, out);
  return record(kSwigluOp, out, {gate, up},
                [gate = gate.detach(), up = up.detach()](const Tensor& g) {
                  detail::require_same_device("swiglu backward", {&gate, &g});
                  Tensor dgate = empty_on(gate.shape(), gate);
                  Tensor dup = empty_on(up.shape(), up);
                  run_swiglu_backward(gate, up, g, dgate, dup);
                  return std::vector<Tensor>{dgate, dup};
                });
}

void add_(Tensor& dst, const Tensor& src) { axpy_(dst, 1.0f, src); }

void axpy_(Tensor& dst, float alpha, const Tensor& src) {
  detail::require_f32("axpy_", {&dst, &src});
  detail::require_same_device("axpy_", {&dst, &src});
  check_shape(src, dst.shape(), "axpy_: src must match dst");
  run_axpby(alpha, src, 1.0f, &dst, dst);
}

}  // namespace sy::core
