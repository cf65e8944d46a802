#include "parallel/data/gradient_reducer.h"

#include <algorithm>
#include <cstring>

namespace sy::parallel {

GradientReducer::GradientReducer(std::vector<core::nn::NamedParameter> params, int64_t bucket_bytes)
    : params_(std::move(params)) {
  const int64_t limit = std::max<int64_t>(1, bucket_bytes / 4);
  size_t first = 0;
  int64_t elements = 0;
  for (size_t i = 0; i < params_.size(); ++i) {
    const int64_t n = params_[i].tensor.numel();
    total_elements_ += n;
    if (elements > 0 && elements + n > limit) {
      buckets_.push_back({first, i, elements});
      first = i;
      elements = 0;
    }
    elements += n;
  }
  if (elements > 0) buckets_.push_back({first, params_.size(), elements});
  int64_t largest = 0;
  for (const Bucket& b : buckets_) largest = std::max(largest, b.elements);
  staging_.resize(static_cast<size_t>(largest));
}

void GradientReducer::all_reduce(Communicator& group) {
  if (group.size() == 1) return;
  for (const Bucket& b : buckets_) {
    // Pack (missing gradients as zeros), reduce, unpack into defined gradients.
    int64_t at = 0;
    for (size_t i = b.first; i < b.last; ++i) {
      const core::Tensor& g = params_[i].tensor.grad();
      const int64_t n = params_[i].tensor.numel();
      if (g.defined()) {
        std::memcpy(staging_.data() + at, g.f32(), static_cast<size_t>(n) * 4);
      } else {
        std::fill_n(staging_.data() + at, n, 0.0f);
      }
      at += n;
    }
    group.all_reduce(staging_.data(), b.elements, ReduceOp::kSum);
    at = 0;
    for (size_t i = b.first; i < b.last; ++i) {
      core::Tensor& p = params_[i].tensor;
      if (!p.grad().defined()) p.set_grad(core::Tensor::empty(p.shape()));
      std::memcpy(p.grad().f32(), staging_.data() + at, static_cast<size_t>(p.numel()) * 4);
      at += p.numel();
    }
  }
}

}  // namespace sy::parallel
