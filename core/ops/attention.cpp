// The attention op: shape checks, the fused CPU kernels, and a backward pass that recomputes the
// softmax from the saved log-sum-exp instead of keeping the (Tq,Tk) probabilities.
#include "core/ops/attention.h"

#include "core/autograd/node.h"
#include "core/backends/cpu/attention_kernels.h"
#include "core/ops/op_utils.h"

namespace sy::core {

SY_REGISTER_OP(kAttentionOp, "attention");

namespace {

// q (B,Tq,H,hd), k v (B,Tk,Hkv,hd) -> their dimensions, or an error naming the shapes.
cpu::AttentionDims check_dims(const Tensor& q, const Tensor& k, const Tensor& v) {
  SY_CHECK(q.ndim() == 4 && k.ndim() == 4 && v.ndim() == 4,
           "attention: q, k, v must be (B,T,H,hd), got q ", q.describe(), ", k ", k.describe(),
           ", v ", v.describe());
  SY_CHECK(k.shape() == v.shape(), "attention: k and v shapes differ: k ", k.describe(), ", v ",
           v.describe());
  SY_CHECK(q.dim(0) == k.dim(0) && q.dim(3) == k.dim(3),
           "attention: q (B,Tq,H,hd) and k (B,Tk,Hkv,hd) differ in B or hd: q ", q.describe(),
           ", k ", k.describe());
  SY_CHECK(q.dim(3) > 0, "attention: head width hd must be positive, got q ", q.describe());
  SY_CHECK(k.dim(2) > 0 && q.dim(2) % k.dim(2) == 0, "attention: query heads H (q ", q.describe(),
           ") must be a multiple of kv heads Hkv (k ", k.describe(), ")");
  SY_CHECK(k.dim(1) >= q.dim(1), "attention: fewer keys than queries (Tk < Tq): q ", q.describe(),
           ", k ", k.describe());
  cpu::AttentionDims d;
  d.batch = q.dim(0);
  d.q_len = q.dim(1);
  d.kv_len = k.dim(1);
  d.heads = q.dim(2);
  d.kv_heads = k.dim(2);
  d.head_dim = q.dim(3);
  return d;
}

}  // namespace

// q (B,Tq,H,hd), k v (B,Tk,Hkv,hd) -> out (B,Tq,H,hd)
Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v) {
  detail::require_f32("attention", {&q, &k, &v});
  detail::require_same_device("attention", {&q, &k, &v});
  detail::require_cpu("attention", {&q, &k, &v});
  const cpu::AttentionDims d = check_dims(q, k, v);
  Tensor out = Tensor::empty(q.shape());
  Tensor lse = Tensor::empty(Shape{d.batch, d.heads, d.q_len});  // (B,H,Tq)
  cpu::attention_forward(d, q.f32(), k.f32(), v.f32(), out.f32(), lse.f32());
  const bool need = should_record({&q, &k, &v});
  return record(kAttentionOp, out, {q, k, v},
                [d, q = need ? q.detach() : Tensor(), k = need ? k.detach() : Tensor(),
                 v = need ? v.detach() : Tensor(), out = need ? out.detach() : Tensor(),
                 lse = need ? lse : Tensor()](const Tensor& g) {
                  // g (B,Tq,H,hd) -> dq (B,Tq,H,hd), dk dv (B,Tk,Hkv,hd)
                  Tensor dq = Tensor::empty(q.shape());
                  Tensor dk = Tensor::empty(k.shape());
                  Tensor dv = Tensor::empty(v.shape());
                  cpu::attention_backward(d, q.f32(), k.f32(), v.f32(), out.f32(), lse.f32(),
                                          g.f32(), dq.f32(), dk.f32(), dv.f32());
                  return std::vector<Tensor>{dq, dk, dv};
                });
}

}  // namespace sy::core
