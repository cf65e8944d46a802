#include "core/ops/elementwise.h"

#include "core/autograd/node.h"
#include "core/backends/cpu/elementwise_kernels.h"
#include "core/ops/op_utils.h"
#include "core/ops/reduce.h"

namespace sy::core {

SY_REGISTER_OP(kAddOp, "add");
SY_REGISTER_OP(kSubOp, "sub");
SY_REGISTER_OP(kMulOp, "mul");
SY_REGISTER_OP(kScaleOp, "scale");
SY_REGISTER_OP(kSiluOp, "silu");
SY_REGISTER_OP(kSwigluOp, "swiglu");

namespace {

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
Tensor binary(cpu::BinaryOp op, const char* name, const Tensor& a, const Tensor& b, Broadcast kind) {
  detail::require_f32(name, {&a, &b});
  detail::require_same_device(name, {&a, &b});
  detail::require_cpu(name, {&a, &b});
  Tensor out = Tensor::empty(a.shape());
  const int64_t n = a.numel();
  switch (kind) {
    case Broadcast::kSame: cpu::binary_same(op, a.f32(), b.f32(), out.f32(), n); break;
    case Broadcast::kRow: {
      const int64_t cols = b.numel();
      cpu::binary_row(op, a.f32(), b.f32(), out.f32(), cols ? n / cols : 0, cols);
      break;
    }
    case Broadcast::kColumn: {
      const int64_t rows = b.numel();
      cpu::binary_col(op, a.f32(), b.f32(), out.f32(), rows, rows ? n / rows : 0);
      break;
    }
    case Broadcast::kScalar: {
      Tensor expanded = Tensor::full(Shape{1}, b.to_vector()[0]);
      cpu::binary_row(op, a.f32(), expanded.f32(), out.f32(), n, 1);
      break;
    }
  }
  return out;
}

// Reduces a gradient g shaped like a down to b's shape (the adjoint of the broadcast).
Tensor reduce_to(const Tensor& g, const Tensor& b, Broadcast kind) {
  switch (kind) {
    case Broadcast::kSame: return g;
    case Broadcast::kRow: {
      Tensor out = Tensor::empty(b.shape());
      const int64_t cols = b.numel();
      cpu::sum_rows(g.f32(), out.f32(), cols ? g.numel() / cols : 0, cols);
      return out;
    }
    case Broadcast::kColumn: {
      Tensor out = Tensor::empty(b.shape());
      const int64_t rows = b.numel();
      cpu::sum_cols(g.f32(), out.f32(), rows, rows ? g.numel() / rows : 0);
      return out;
    }
    case Broadcast::kScalar:
      return Tensor::full(b.shape(), static_cast<float>(cpu::sum_all(g.f32(), g.numel())));
  }
  return {};
}

// The gradient of b in a * b: sum over the broadcast of g * a.
Tensor reduce_product_to(const Tensor& g, const Tensor& a, const Tensor& b, Broadcast kind) {
  switch (kind) {
    case Broadcast::kSame: return binary(cpu::BinaryOp::kMul, "mul", g, a, Broadcast::kSame);
    case Broadcast::kRow: {
      Tensor out = Tensor::empty(b.shape());
      const int64_t cols = b.numel();
      cpu::sum_rows_product(g.f32(), a.f32(), out.f32(), cols ? g.numel() / cols : 0, cols);
      return out;
    }
    case Broadcast::kColumn: {
      Tensor out = Tensor::empty(b.shape());
      const int64_t rows = b.numel();
      cpu::sum_cols_product(g.f32(), a.f32(), out.f32(), rows, rows ? g.numel() / rows : 0);
      return out;
    }
    case Broadcast::kScalar: {
      Tensor ga = binary(cpu::BinaryOp::kMul, "mul", g, a, Broadcast::kSame);
      return Tensor::full(b.shape(), static_cast<float>(cpu::sum_all(ga.f32(), ga.numel())));
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
  return record(kMulOp, out, {a, b},
                [a = need ? a.detach() : Tensor(), b = need ? b.detach() : Tensor(), kind](
                    const Tensor& g) {
                  // d/da = g * b (broadcast); d/db = sum over the broadcast of g * a.
                  Tensor ga = binary(cpu::BinaryOp::kMul, "mul", g, b, kind);
                  return std::vector<Tensor>{ga, reduce_product_to(g, a, b, kind)};
                });
}

Tensor scale(const Tensor& x, float s) {
  detail::require_f32("scale", {&x});
  detail::require_cpu("scale", {&x});
  Tensor out = Tensor::empty(x.shape());
  cpu::axpby(s, x.f32(), 0.0f, nullptr, out.f32(), x.numel());
  return record(kScaleOp, out, {x}, [s](const Tensor& g) {
    return std::vector<Tensor>{scale(g, s)};
  });
}

Tensor silu(const Tensor& x) {
  detail::require_f32("silu", {&x});
  detail::require_cpu("silu", {&x});
  Tensor out = Tensor::empty(x.shape());
  cpu::silu_forward(x.f32(), out.f32(), x.numel());
  return record(kSiluOp, out, {x}, [x = x.detach()](const Tensor& g) {
    Tensor dx = Tensor::empty(x.shape());
    cpu::silu_backward(x.f32(), g.f32(), dx.f32(), x.numel());
    return std::vector<Tensor>{dx};
  });
}

Tensor swiglu(const Tensor& gate, const Tensor& up) {
  detail::require_f32("swiglu", {&gate, &up});
  detail::require_cpu("swiglu", {&gate, &up});
  check_shape(up, gate.shape(), "swiglu: up must match gate");
  Tensor out = Tensor::empty(gate.shape());
  cpu::swiglu_forward(gate.f32(), up.f32(), out.f32(), gate.numel());
  return record(kSwigluOp, out, {gate, up}, [gate = gate.detach(), up = up.detach()](
                                                const Tensor& g) {
    Tensor dgate = Tensor::empty(gate.shape());
    Tensor dup = Tensor::empty(up.shape());
    cpu::swiglu_backward(gate.f32(), up.f32(), g.f32(), dgate.f32(), dup.f32(), gate.numel());
    return std::vector<Tensor>{dgate, dup};
  });
}

void add_(Tensor& dst, const Tensor& src) { axpy_(dst, 1.0f, src); }

void axpy_(Tensor& dst, float alpha, const Tensor& src) {
  detail::require_f32("axpy_", {&dst, &src});
  detail::require_cpu("axpy_", {&dst, &src});
  check_shape(src, dst.shape(), "axpy_: src must match dst");
  cpu::axpby(alpha, src.f32(), 1.0f, dst.f32(), dst.f32(), dst.numel());
}

}  // namespace sy::core
