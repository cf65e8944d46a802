// Global-norm gradient clipping.
#pragma once

#include <vector>

#include "core/nn/module.h"

namespace sy::trainer {

// The L2 norm over every parameter's gradient (accumulated in double; missing gradients count 0).
double global_grad_norm(const std::vector<core::nn::NamedParameter>& params);
// Scales every gradient by max_norm / (norm + 1e-6) when norm > max_norm (max_norm <= 0: never).
// Returns the norm before clipping.
double clip_grad_norm(const std::vector<core::nn::NamedParameter>& params, double max_norm);

}  // namespace sy::trainer
