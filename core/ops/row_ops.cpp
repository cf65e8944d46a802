#include "core/ops/row_ops.h"

#include <cmath>

#include "core/autograd/node.h"
#include "core/backends/cpu/elementwise_kernels.h"
#include "core/backends/cpu/parallel_for.h"
#include "core/ops/op_utils.h"

namespace sy::core {

SY_REGISTER_OP(kLogsumexpOp, "logsumexp");
SY_REGISTER_OP(kNormalizeRowsOp, "normalize_rows");
SY_REGISTER_OP(kSoftplusOp, "softplus");
SY_REGISTER_OP(kSumRowsOp, "sum_rows");

namespace {

void check_input(const char* op, const Tensor& x) {
  detail::require_f32(op, {&x});
  detail::require_cpu(op, {&x});
  SY_CHECK(x.ndim() >= 1, op, ": needs at least one axis, got ", x.describe());
}

}  // namespace

Tensor logsumexp(const Tensor& x) {
  check_input("logsumexp", x);
  const int64_t n = x.shape().last(), rows = x.shape().rows();
  Tensor out = Tensor::empty(x.shape().without_last());
  const float* xp = x.f32();
  float* op = out.f32();
#pragma omp parallel for schedule(static) if (rows * n > cpu::kParallelGrain)
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = xp + r * n;
    float m = -INFINITY;
    for (int64_t i = 0; i < n; ++i) m = std::max(m, xr[i]);
    float s = 0.0f;
    for (int64_t i = 0; i < n; ++i) s += std::exp(xr[i] - m);
    op[r] = m + std::log(s);
  }
  return record(kLogsumexpOp, out, {x},
                [x = x.detach(), out = out.detach(), rows, n](const Tensor& g) {
                  // d lse / d x_i = softmax(x)_i = exp(x_i - lse)
                  Tensor dx = Tensor::empty(x.shape());
                  const float *xv = x.f32(), *lv = out.f32(), *gv = g.f32();
                  float* dv = dx.f32();
                  for (int64_t r = 0; r < rows; ++r) {
                    for (int64_t i = 0; i < n; ++i)
                      dv[r * n + i] = gv[r] * std::exp(xv[r * n + i] - lv[r]);
                  }
                  return std::vector<Tensor>{dx};
                });
}

Tensor normalize_rows(const Tensor& x) {
  check_input("normalize_rows", x);
  const int64_t n = x.shape().last(), rows = x.shape().rows();
  Tensor out = Tensor::empty(x.shape());
  Tensor sums = Tensor::empty(Shape{rows});
  const float* xp = x.f32();
  float *op = out.f32(), *sp = sums.f32();
  for (int64_t r = 0; r < rows; ++r) {
    float s = 0.0f;
    for (int64_t i = 0; i < n; ++i) s += xp[r * n + i];
    SY_CHECK(s != 0.0f, "normalize_rows: row ", r, " sums to zero");
    sp[r] = s;
    for (int64_t i = 0; i < n; ++i) op[r * n + i] = xp[r * n + i] / s;
  }
  return record(kNormalizeRowsOp, out, {x}, [out = out.detach(), sums, rows, n](const Tensor& g) {
    // y = x / s: dx_i = (g_i - sum_j g_j y_j) / s
    Tensor dx = Tensor::empty(out.shape());
    const float *yv = out.f32(), *gv = g.f32(), *sv = sums.f32();
    float* dv = dx.f32();
    for (int64_t r = 0; r < rows; ++r) {
      float dot = 0.0f;
      for (int64_t i = 0; i < n; ++i) dot += gv[r * n + i] * yv[r * n + i];
      for (int64_t i = 0; i < n; ++i) dv[r * n + i] = (gv[r * n + i] - dot) / sv[r];
    }
    return std::vector<Tensor>{dx};
  });
}

Tensor softplus(const Tensor& x) {
  detail::require_f32("softplus", {&x});
  detail::require_cpu("softplus", {&x});
  Tensor out = Tensor::empty(x.shape());
  const float* xp = x.f32();
  float* op = out.f32();
  const int64_t n = x.numel();
  // log(1 + e^x) = max(x, 0) + log1p(e^-|x|): no overflow for large x, no loss for small.
#pragma omp parallel for simd schedule(static) if (n > cpu::kParallelGrain)
  for (int64_t i = 0; i < n; ++i)
    op[i] = std::max(xp[i], 0.0f) + std::log1p(std::exp(-std::abs(xp[i])));
  return record(kSoftplusOp, out, {x}, [x = x.detach()](const Tensor& g) {
    Tensor dx = Tensor::empty(x.shape());
    const float *xv = x.f32(), *gv = g.f32();
    float* dv = dx.f32();
    for (int64_t i = 0, m = x.numel(); i < m; ++i) dv[i] = gv[i] / (1.0f + std::exp(-xv[i]));
    return std::vector<Tensor>{dx};
  });
}

Tensor sum_rows(const Tensor& x) {
  check_input("sum_rows", x);
  const int64_t rows = x.dim(0), width = rows == 0 ? 0 : x.numel() / rows;
  Shape out_shape =
      x.ndim() == 1 ? Shape{} : Shape(std::vector<int64_t>(x.shape().begin() + 1, x.shape().end()));
  Tensor out = Tensor::empty(out_shape);
  cpu::sum_rows(x.f32(), out.f32(), rows, width);
  return record(kSumRowsOp, out, {x}, [shape = x.shape(), rows, width](const Tensor& g) {
    Tensor dx = Tensor::zeros(shape);
    cpu::binary_row(cpu::BinaryOp::kAdd, dx.f32(), g.f32(), dx.f32(), rows, width);
    return std::vector<Tensor>{dx};
  });
}

}  // namespace sy::core
