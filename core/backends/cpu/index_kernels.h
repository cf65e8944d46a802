// Row gathers and scatters by an index vector, embedding lookup, and top-k, on the CPU.
// Index values are checked by the ops before these run.
#pragma once

#include <cstdint>

namespace sy::core::cpu {

// out[i,:] = x[idx[i],:]                          x (N,D), idx (M) -> out (M,D)
void gather_rows(const float* x, const int32_t* idx, float* out, int64_t m, int64_t d);
// out[idx[i],:] += src[i,:]                       src (M,D), idx (M), out (N,D)
// Deterministic: threads split the D columns, each walks i in order.
void scatter_add_rows(const float* src, const int32_t* idx, float* out, int64_t m, int64_t d);

// Largest k of each row, in descending order, ties to the lower index.
// x (rows,n) -> values (rows,k), indices (rows,k)
void topk(const float* x, float* values, int32_t* indices, int64_t rows, int64_t n, int64_t k);
// out (rows,n) = 0 except out[r, indices[r,j]] += g[r,j]    g, indices (rows,k)
void topk_backward(const float* g, const int32_t* indices, float* out, int64_t rows, int64_t n,
                   int64_t k);

}  // namespace sy::core::cpu
