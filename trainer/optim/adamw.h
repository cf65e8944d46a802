// AdamW (Loshchilov & Hutter) with decoupled weight decay, in PyTorch's formulation:
//   p <- p * (1 - lr * wd)                                   (parameters with weight_decay only)
//   m <- b1 m + (1 - b1) g;   v <- b2 v + (1 - b2) g^2
//   p <- p - (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
// Moments are float32 tensors shaped like their parameters; t counts steps from 1.
#pragma once

#include <string>
#include <vector>

#include "core/nn/module.h"

namespace sy::trainer {

struct AdamWOptions {
  double beta1 = 0.9, beta2 = 0.95, eps = 1e-8, weight_decay = 0.1;
};

class AdamW {
 public:
  AdamW(std::vector<core::nn::NamedParameter> params, const AdamWOptions& options);

  // One update with learning rate lr from each parameter's grad(); parameters without a gradient
  // (an expert that received no token) still decay and keep their moments' decay in step.
  void step(double lr);
  int64_t steps() const { return step_; }

  // State for checkpoints: the moments by parameter name and the step count.
  struct Slot {
    core::nn::NamedParameter param;
    core::Tensor m, v;
  };
  const std::vector<Slot>& slots() const { return slots_; }
  std::vector<Slot>& mutable_slots() { return slots_; }
  void set_steps(int64_t steps) { step_ = steps; }

 private:
  AdamWOptions options_;
  std::vector<Slot> slots_;
  int64_t step_ = 0;
};

}  // namespace sy::trainer
