// CPU kernels for fused causal grouped-query attention: blocks of query rows against all their
// visible keys, score blocks through BLAS, a vectorised softmax, and a recomputing backward pass.
#include "core/backends/cpu/attention_kernels.h"

#include <omp.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <vector>

#include "core/backends/cpu/gemm.h"
#include "core/backends/cpu/parallel_for.h"

namespace sy::core::cpu {

namespace {

// Query rows per block: a block's scores (kBlockRows x Tk floats) stay in the L2 cache.
constexpr int64_t kBlockRows = 64;

// exp(x) to within ~2 ulp (Cephes' expf polynomial), branch-free and inline so `omp simd` loops
// vectorise it (libm's expf only vectorises under -ffast-math). x is clamped to [-87, 88]: below
// it returns ~1e-38 rather than a denormal or 0, which no softmax here can tell apart.
inline float fast_exp(float x) {
  x = std::min(std::max(x, -87.0f), 88.0f);
  constexpr float kShifter = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  const float t = x * 1.44269504088896341f + kShifter;
  const float n = t - kShifter;  // round(x / ln 2)
  const int32_t ni = std::bit_cast<int32_t>(t) - std::bit_cast<int32_t>(kShifter);
  const float r = (x - n * 0.693359375f) - n * -2.12194440e-4f;  // x - n ln 2, |r| <= ln2 / 2
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float exp_r = p * r * r + r + 1.0f;
  return exp_r * std::bit_cast<float>((ni + 127) << 23);  // * 2^n
}

// Row strides, causal offset and score scale shared by every head; rows of a head are strided
// because the tensors are (B,T,H,hd).
struct HeadView {
  int64_t q_stride, kv_stride;  // H*hd, Hkv*hd
  int64_t offset;               // Tk - Tq: the absolute position of query row 0
  float scale;                  // 1/sqrt(hd)
};

HeadView head_view(const AttentionDims& d) {
  return {d.heads * d.head_dim, d.kv_heads * d.head_dim, d.kv_len - d.q_len,
          1.0f / std::sqrt(static_cast<float>(d.head_dim))};
}

// Threads for a call: one when nested in another parallel region or when the work (about
// B*H*Tq*Tk*hd multiply-adds) is too small to pay for a fork/join. Regions run with all of them
// even when there are fewer tasks: an active region keeps BLAS single-threaded, which for these
// small products beats BLAS's own threading by far.
int thread_count(const AttentionDims& d) {
  const bool small = d.batch * d.heads * d.q_len * d.kv_len * d.head_dim <= kParallelGrain;
  return small || omp_in_parallel() ? 1 : std::max(1, omp_get_max_threads());
}

// The softmax of one block of score rows, in place.
// s (rows, nk) row-major: row r holds query (r0 + r)'s scaled scores against keys 0..nk-1; row r
// sees keys 0..offset+r0+r. Writes probabilities (0 past the causal limit) and lse (rows).
void softmax_rows(float* s, int64_t rows, int64_t nk, int64_t first_valid, float* lse) {
  for (int64_t r = 0; r < rows; ++r) {
    float* row = s + r * nk;
    const int64_t valid = first_valid + r;  // keys 0..valid-1 are visible
    float m = -std::numeric_limits<float>::infinity();
#pragma omp simd reduction(max : m)
    for (int64_t j = 0; j < valid; ++j) m = std::max(m, row[j]);
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (int64_t j = 0; j < valid; ++j) {
      const float e = fast_exp(row[j] - m);
      row[j] = e;
      sum += e;
    }
    const float inv = 1.0f / sum;
#pragma omp simd
    for (int64_t j = 0; j < valid; ++j) row[j] *= inv;
    std::fill(row + valid, row + nk, 0.0f);
    lse[r] = m + std::log(sum);
  }
}

// The backward pass's inputs and dQ output, shared by every block.
struct BackwardArgs {
  const AttentionDims& d;
  HeadView hv;
  const float *q, *k, *v, *out, *lse, *dout;
  float* dq;
};

// The backward pass for one block of query rows of head h in batch b: writes dQ for those rows
// and adds their contributions to dK, dV of the keys they see.
// dk, dv: the kv head's (Tk,hd) gradients with row stride dkv_stride. scratch: P, dS
// (kBlockRows x Tk each) and Di (kBlockRows).
void backward_block(const BackwardArgs& a, int64_t b, int64_t h, int64_t block, float* dk,
                    float* dv, int64_t dkv_stride, float* scratch) {
  const AttentionDims& d = a.d;
  const HeadView& hv = a.hv;
  const int64_t hd = d.head_dim, kvh = h / (d.heads / d.kv_heads);
  const int64_t r0 = block * kBlockRows;
  const int64_t rows = std::min(kBlockRows, d.q_len - r0);
  const int64_t nk = hv.offset + r0 + rows;                  // keys visible to the block's last row
  float* p = scratch;                                        // (rows,nk)
  float* ds = p + std::min(kBlockRows, d.q_len) * d.kv_len;  // (rows,nk)
  float* di = ds + std::min(kBlockRows, d.q_len) * d.kv_len;  // (rows)

  const int64_t row0 = (b * d.q_len + r0) * d.heads + h;
  const float* qb = a.q + row0 * hd;  // (rows,hd) stride H*hd, as are ob, dob, dqb
  const float* ob = a.out + row0 * hd;
  const float* dob = a.dout + row0 * hd;
  float* dqb = a.dq + row0 * hd;
  const float* kb = a.k + (b * d.kv_len * d.kv_heads + kvh) * hd;  // (nk,hd) stride Hkv*hd
  const float* vb = a.v + (b * d.kv_len * d.kv_heads + kvh) * hd;  // (nk,hd) stride Hkv*hd
  const float* lb = a.lse + (b * d.heads + h) * d.q_len + r0;      // (rows)

  // S (rows,nk) = Q K^T * scale, into p; dP (rows,nk) = dO V^T, into ds.
  gemm(false, true, rows, nk, hd, hv.scale, qb, hv.q_stride, kb, hv.kv_stride, 0.0f, p, nk);
  gemm(false, true, rows, nk, hd, 1.0f, dob, hv.q_stride, vb, hv.kv_stride, 0.0f, ds, nk);
  for (int64_t r = 0; r < rows; ++r) {
    // Di = rowsum(dO * O)
    const float* o_row = ob + r * hv.q_stride;
    const float* do_row = dob + r * hv.q_stride;
    float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
    for (int64_t c = 0; c < hd; ++c) acc += o_row[c] * do_row[c];
    di[r] = acc;
  }
  for (int64_t r = 0; r < rows; ++r) {
    float* p_row = p + r * nk;
    float* ds_row = ds + r * nk;
    const int64_t valid = hv.offset + r0 + r + 1;
    const float l = lb[r], dr = di[r];
    // P = exp(S - lse), dS = P * (dP - Di); both 0 past the row's causal limit.
#pragma omp simd
    for (int64_t j = 0; j < valid; ++j) {
      const float pj = fast_exp(p_row[j] - l);
      p_row[j] = pj;
      ds_row[j] = pj * (ds_row[j] - dr);
    }
    std::fill(p_row + valid, p_row + nk, 0.0f);
    std::fill(ds_row + valid, ds_row + nk, 0.0f);
  }
  // dQ (rows,hd) = dS K * scale; dK (nk,hd) += dS^T Q * scale; dV (nk,hd) += P^T dO.
  gemm(false, false, rows, hd, nk, hv.scale, ds, nk, kb, hv.kv_stride, 0.0f, dqb, hv.q_stride);
  gemm(true, false, nk, hd, rows, hv.scale, ds, nk, qb, hv.q_stride, 1.0f, dk, dkv_stride);
  gemm(true, false, nk, hd, rows, 1.0f, p, nk, dob, hv.q_stride, 1.0f, dv, dkv_stride);
}

}  // namespace

// q (B,Tq,H,hd), k v (B,Tk,Hkv,hd) -> out (B,Tq,H,hd), lse (B,H,Tq)
void attention_forward(const AttentionDims& d, const float* q, const float* k, const float* v,
                       float* out, float* lse) {
  const int64_t hd = d.head_dim, group = d.heads / d.kv_heads;
  const int64_t blocks = (d.q_len + kBlockRows - 1) / kBlockRows;
  const int64_t tasks = d.batch * d.heads * blocks;  // (query block, b, h)
  if (tasks == 0) return;
  const HeadView hv = head_view(d);
  const int threads = thread_count(d);
  // Per-thread scores: kBlockRows x Tk floats, allocated once per call.
  const int64_t scratch_size = std::min(kBlockRows, d.q_len) * d.kv_len;
  std::vector<float> scratch(static_cast<size_t>(threads * scratch_size));

  // Later blocks see more keys; dynamic scheduling balances the causal triangle.
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (threads > 1)
  for (int64_t task = 0; task < tasks; ++task) {
    // Largest blocks (the last, which see the most keys) first, for a better balance.
    const int64_t block = blocks - 1 - task / (d.batch * d.heads);
    const int64_t h = task % d.heads;
    const int64_t b = (task / d.heads) % d.batch;
    const int64_t kvh = h / group;
    const int64_t r0 = block * kBlockRows;
    const int64_t rows = std::min(kBlockRows, d.q_len - r0);
    const int64_t nk = hv.offset + r0 + rows;  // keys visible to the block's last row
    float* s = scratch.data() + omp_get_thread_num() * scratch_size;

    const float* qb = q + ((b * d.q_len + r0) * d.heads + h) * hd;  // (rows,hd) stride H*hd
    const float* kb = k + (b * d.kv_len * d.kv_heads + kvh) * hd;   // (nk,hd) stride Hkv*hd
    const float* vb = v + (b * d.kv_len * d.kv_heads + kvh) * hd;   // (nk,hd) stride Hkv*hd
    float* ob = out + ((b * d.q_len + r0) * d.heads + h) * hd;      // (rows,hd) stride H*hd
    float* lb = lse + (b * d.heads + h) * d.q_len + r0;             // (rows)

    // S (rows,nk) = Q K^T * scale; P = softmax(S) under the causal mask; O (rows,hd) = P V.
    gemm(false, true, rows, nk, hd, hv.scale, qb, hv.q_stride, kb, hv.kv_stride, 0.0f, s, nk);
    softmax_rows(s, rows, nk, hv.offset + r0 + 1, lb);
    gemm(false, false, rows, hd, nk, 1.0f, s, nk, vb, hv.kv_stride, 0.0f, ob, hv.q_stride);
  }
}

// dout (B,Tq,H,hd) -> dq (B,Tq,H,hd), dk dv (B,Tk,Hkv,hd)
void attention_backward(const AttentionDims& d, const float* q, const float* k, const float* v,
                        const float* out, const float* lse, const float* dout, float* dq, float* dk,
                        float* dv) {
  const BackwardArgs a{d, head_view(d), q, k, v, out, lse, dout, dq};
  const int64_t hd = d.head_dim, group = d.heads / d.kv_heads;
  const int64_t blocks = (d.q_len + kBlockRows - 1) / kBlockRows;
  const int64_t pairs = d.batch * d.kv_heads;  // (b, kv head): each owns its dK, dV rows
  const int64_t kv_stride = a.hv.kv_stride;
  if (pairs == 0) return;
  const int threads = thread_count(d);
  // Per-thread P, dS (kBlockRows x Tk each) and Di (kBlockRows), allocated once per call.
  const int64_t scratch_size = 2 * std::min(kBlockRows, d.q_len) * d.kv_len + kBlockRows;
  std::vector<float> scratch(static_cast<size_t>(threads * scratch_size));

  // One (b, kv head) pair per task unless that leaves threads idle: fewer pairs than threads, or
  // a ragged last round that costs more than a quarter of the work.
  if (pairs % threads == 0 || pairs >= 4 * threads) {
    // Each pair's query heads' blocks run in order on one thread, which accumulates straight
    // into the pair's dK, dV rows.
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (threads > 1)
    for (int64_t pair = 0; pair < pairs; ++pair) {
      const int64_t kvh = pair % d.kv_heads, b = pair / d.kv_heads;
      float* dkb = dk + (b * d.kv_len * d.kv_heads + kvh) * hd;  // (Tk,hd) stride Hkv*hd
      float* dvb = dv + (b * d.kv_len * d.kv_heads + kvh) * hd;
      for (int64_t t = 0; t < d.kv_len; ++t) {
        std::fill(dkb + t * kv_stride, dkb + t * kv_stride + hd, 0.0f);
        std::fill(dvb + t * kv_stride, dvb + t * kv_stride + hd, 0.0f);
      }
      float* thread_scratch = scratch.data() + omp_get_thread_num() * scratch_size;
      for (int64_t h = kvh * group; h < (kvh + 1) * group; ++h) {
        for (int64_t block = 0; block < blocks; ++block) {
          backward_block(a, b, h, block, dkb, dvb, kv_stride, thread_scratch);
        }
      }
    }
    return;
  }

  // Otherwise pair by pair, split each pair's (query head, block) items over the threads. Each
  // thread accumulates into its own dK, dV (Tk,hd); the partials are then summed in thread order.
  // Static schedules keep the result independent of timing.
  const int64_t partial_size = d.kv_len * hd;
  std::vector<float> partials(static_cast<size_t>(threads * 2 * partial_size));
  const int64_t items = group * blocks;
  for (int64_t pair = 0; pair < pairs; ++pair) {
    const int64_t kvh = pair % d.kv_heads, b = pair / d.kv_heads;
    float* dkb = dk + (b * d.kv_len * d.kv_heads + kvh) * hd;  // (Tk,hd) stride Hkv*hd
    float* dvb = dv + (b * d.kv_len * d.kv_heads + kvh) * hd;
#pragma omp parallel num_threads(threads)
    {
      const int tid = omp_get_thread_num();
      float* dk_part = partials.data() + tid * 2 * partial_size;  // (Tk,hd) contiguous
      float* dv_part = dk_part + partial_size;
      std::fill(dk_part, dk_part + 2 * partial_size, 0.0f);
      float* thread_scratch = scratch.data() + tid * scratch_size;
#pragma omp for schedule(static, 1)
      for (int64_t item = 0; item < items; ++item) {
        const int64_t h = kvh * group + item / blocks, block = item % blocks;
        backward_block(a, b, h, block, dk_part, dv_part, hd, thread_scratch);
      }
      // (implicit barrier) dK, dV rows = sum over the team of the partials.
      const int team = omp_get_num_threads();
#pragma omp for schedule(static)
      for (int64_t t = 0; t < d.kv_len; ++t) {
        float* dk_row = dkb + t * kv_stride;
        float* dv_row = dvb + t * kv_stride;
        std::fill(dk_row, dk_row + hd, 0.0f);
        std::fill(dv_row, dv_row + hd, 0.0f);
        for (int i = 0; i < team; ++i) {
          const float* dk_src = partials.data() + i * 2 * partial_size + t * hd;
          const float* dv_src = dk_src + partial_size;
#pragma omp simd
          for (int64_t c = 0; c < hd; ++c) {
            dk_row[c] += dk_src[c];
            dv_row[c] += dv_src[c];
          }
        }
      }
    }
  }
}

}  // namespace sy::core::cpu
