#include "core/ops/matmul.h"

#include "core/autograd/node.h"
#include "core/backends/cpu/gemm.h"
#include "core/ops/op_utils.h"

#ifdef SY_HAS_CUDA
#include "core/backends/cuda/cuda_kernels.h"
#endif

namespace sy::core {

SY_REGISTER_OP(kMatmulOp, "matmul");

namespace {

struct GemmShape {
  int64_t batch, m, n, k;
};

GemmShape plan(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b) {
  SY_CHECK(b.ndim() == 2 || b.ndim() == 3, "matmul: b must be 2-D or 3-D, got ", b.describe());
  if (b.ndim() == 2) {
    SY_CHECK(a.ndim() >= 2 || (a.ndim() == 1 && !trans_a), "matmul: bad a ", a.describe());
    SY_CHECK(!trans_a || a.ndim() == 2, "matmul: trans_a needs a 2-D a, got ", a.describe());
    const int64_t bk = trans_b ? b.dim(1) : b.dim(0);
    const int64_t n = trans_b ? b.dim(0) : b.dim(1);
    const int64_t k = trans_a ? a.dim(0) : a.dim(-1);
    // M is the product of a's leading dims (a.numel() / K would divide by zero when K = 0).
    const int64_t m = trans_a ? a.dim(1) : a.shape().without_last().numel();
    SY_CHECK(k == bk, "matmul: inner dimensions differ: a ", a.describe(), (trans_a ? "^T" : ""),
             " b ", b.describe(), (trans_b ? "^T" : ""));
    return {1, m, n, k};
  }
  SY_CHECK(a.ndim() == 3 && a.dim(0) == b.dim(0), "matmul: batched product needs a (B,M,K) and ",
           "b (B,K,N), got ", a.describe(), " and ", b.describe());
  const int64_t m = trans_a ? a.dim(2) : a.dim(1), k = trans_a ? a.dim(1) : a.dim(2);
  const int64_t bk = trans_b ? b.dim(2) : b.dim(1), n = trans_b ? b.dim(1) : b.dim(2);
  SY_CHECK(k == bk, "matmul: inner dimensions differ: a ", a.describe(), " b ", b.describe());
  return {a.dim(0), m, n, k};
}

Shape output_shape(const Tensor& a, const Tensor& b, const GemmShape& g, bool trans_a) {
  if (b.ndim() == 3) return Shape{g.batch, g.m, g.n};
  if (trans_a || a.ndim() == 1) return Shape{g.m, g.n};
  return a.shape().with_dim(-1, g.n);
}

// out = op(a) op(b) on the tensors' device: a (batch, M,K or K,M), b (batch, K,N or N,K),
// out (batch,M,N), each contiguous (batch 1 for the 2-D and flattened cases).
void run_gemm(const GemmShape& g, bool trans_a, bool trans_b, const Tensor& a, const Tensor& b,
              const Tensor& out) {
#ifdef SY_HAS_CUDA
  if (out.device().is_cuda()) {
    cuda::gemm_batched(out.device().index, g.batch, trans_a, trans_b, g.m, g.n, g.k, 1.0f, a.f32(),
                       b.f32(), 0.0f, out.f32());
    return;
  }
#endif
  cpu::gemm_batched(g.batch, trans_a, trans_b, g.m, g.n, g.k, 1.0f, a.f32(), b.f32(), 0.0f,
                    out.f32());
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b) {
  detail::require_f32("matmul", {&a, &b});
  detail::require_same_device("matmul", {&a, &b});
  const GemmShape g = plan(a, b, trans_a, trans_b);
  Tensor out = Tensor::empty(output_shape(a, b, g, trans_a), DType::kF32, a.device());
  run_gemm(g, trans_a, trans_b, a, b, out);
  const bool need = should_record(a, b);
  return record(
      kMatmulOp, out, {a, b},
      [a = need ? a.detach() : Tensor(), b = need ? b.detach() : Tensor(), trans_a, trans_b,
       g](const Tensor& grad) {
        // With C = op(A) op(B):
        //   dA = dC op(B)^T      (or op(B) dC^T when A was transposed)
        //   dB = op(A)^T dC      (or dC^T op(A) when B was transposed)
        // Views flatten a's leading dims so every product is 2-D or batched.
        const bool batched = g.batch > 1 || b.ndim() == 3;
        const Shape a2 = batched ? a.shape() : (trans_a ? Shape{g.k, g.m} : Shape{g.m, g.k});
        const Shape c2 = batched ? grad.shape() : Shape{g.m, g.n};
        const Tensor av = a.alias(a2), dc = grad.alias(c2);
        Tensor da = trans_a ? matmul(b, dc, trans_b, true) : matmul(dc, b, false, !trans_b);
        Tensor db = trans_b ? matmul(dc, av, true, trans_a) : matmul(av, dc, !trans_a, false);
        return std::vector<Tensor>{da.alias(a.shape()), db};
      });
}

}  // namespace sy::core
