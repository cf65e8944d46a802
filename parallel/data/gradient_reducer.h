// Data-parallel gradient averaging: gradients of replicated parameters are summed across the
// data-parallel group in fixed-size buckets (one all-reduce per bucket instead of one per tensor).
//
// Every rank must pass the same parameters in the same order. A parameter without a gradient on
// this rank (an expert that got no token here) takes part with zeros, so all ranks issue the same
// calls and end with defined, identical gradients.
#pragma once

#include <cstdint>
#include <vector>

#include "core/nn/module.h"
#include "parallel/comm/communicator.h"

namespace sy::parallel {

class GradientReducer {
 public:
  // bucket_bytes: the all-reduce size (25 MiB by default, like PyTorch DDP).
  GradientReducer(std::vector<core::nn::NamedParameter> params, int64_t bucket_bytes = 25 << 20);

  // grad <- sum over the group's ranks of grad, for every parameter. A no-op on one rank.
  void all_reduce(Communicator& group);

  int64_t num_buckets() const { return static_cast<int64_t>(buckets_.size()); }
  int64_t bytes_per_step() const { return total_elements_ * 4; }

 private:
  struct Bucket {
    size_t first, last;  // parameters [first, last)
    int64_t elements;
  };
  std::vector<core::nn::NamedParameter> params_;
  std::vector<Bucket> buckets_;
  std::vector<float> staging_;
  int64_t total_elements_ = 0;
};

}  // namespace sy::parallel
