// Softmax, log-softmax and cross-entropy along the last axis on the CPU, numerically stable
// (each row is shifted by its maximum before exponentiating).
#pragma once

#include <cstdint>

namespace sy::core::cpu {

void softmax_forward(const float* x, float* y, int64_t rows, int64_t n);  // x, y (rows,n)
void softmax_backward(const float* y, const float* dy, float* dx, int64_t rows, int64_t n);
void log_softmax_forward(const float* x, float* y, int64_t rows, int64_t n);  // x, y (rows,n)
void log_softmax_backward(const float* y, const float* dy, float* dx, int64_t rows, int64_t n);

// logits (N,V), targets (N) with values in [0,V) or < 0 for ignored rows ->
// lse (N) the row log-sum-exps, returns the sum over kept rows of lse - logit[target] (in double).
double cross_entropy_forward(const float* logits, const int32_t* targets, float* lse, int64_t rows,
                             int64_t v);
// dlogits (N,V) = scale * (softmax(logits) - onehot(target)); ignored rows get zeros.
void cross_entropy_backward(const float* logits, const int32_t* targets, const float* lse,
                            float scale, float* dlogits, int64_t rows, int64_t v);

}  // namespace sy::core::cpu
