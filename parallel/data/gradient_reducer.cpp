// GradientReducer: reverse-order buckets, gradient-ready hooks that start a bucket's all-reduce
// once all its parameters are final (in bucket order), and finish_sync that completes the rest.
// See gradient_reducer.h for the protocol and the rules.
#include "parallel/data/gradient_reducer.h"

#include <algorithm>
#include <cstring>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/autograd/engine.h"
#include "core/common/error.h"

namespace sy::parallel {
namespace {

double seconds_between(std::chrono::steady_clock::time_point a,
                       std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

}  // namespace

GradientReducer::GradientReducer(std::vector<core::nn::NamedParameter> params, int64_t bucket_bytes)
    : params_(std::move(params)),
      bucket_of_(params_.size()),
      offset_of_(params_.size()),
      ready_(params_.size(), 0) {
  std::unordered_set<const core::TensorImpl*> seen;
  for (const core::nn::NamedParameter& p : params_) {
    SY_CHECK(p.tensor.defined() && p.tensor.is_cpu() && p.tensor.dtype() == core::DType::kF32,
             "GradientReducer: parameter ", p.name, " is ", p.tensor.describe(),
             "; only CPU float32 parameters are supported");
    SY_CHECK(seen.insert(p.tensor.impl()).second, "GradientReducer: parameter ", p.name,
             " is passed twice");
  }
  // Walk the parameters backwards, closing a bucket when the next one would overflow it.
  const int64_t limit = std::max<int64_t>(1, bucket_bytes / 4);
  size_t last = params_.size();
  int64_t elements = 0;
  for (size_t i = params_.size(); i-- > 0;) {
    const int64_t n = params_[i].tensor.numel();
    total_elements_ += n;
    if (elements > 0 && elements + n > limit) {
      buckets_.push_back({i + 1, last, elements, {}, 0, nullptr});
      last = i + 1;
      elements = 0;
    }
    elements += n;
  }
  if (last > 0) buckets_.push_back({0, last, elements, {}, 0, nullptr});
  for (size_t b = 0; b < buckets_.size(); ++b) {
    int64_t at = 0;
    for (size_t i = buckets_[b].last; i-- > buckets_[b].first;) {
      bucket_of_[i] = b;
      offset_of_[i] = at;
      at += params_[i].tensor.numel();
    }
  }
}

GradientReducer::~GradientReducer() { remove_hooks(); }

void GradientReducer::begin_sync(Communicator& group, const core::Tensor& loss) {
  SY_CHECK(group_ == nullptr,
           "GradientReducer::begin_sync: already armed; call finish_sync after the backward");
  const bool distributed = group.size() > 1;
  if (distributed) {
    for (const core::nn::NamedParameter& p : params_) {
      SY_CHECK(!p.tensor.has_grad_ready_hook(), "GradientReducer::begin_sync: parameter ", p.name,
               " already has a gradient-ready hook (another reducer armed over it?)");
    }
  }
  group_ = &group;
  stats_ = SyncStats{};
  began_ = Clock::now();
  if (!distributed) return;  // one rank: the sum is the gradient itself

  for (Bucket& b : buckets_) {
    if (b.staging.empty()) b.staging.resize(static_cast<size_t>(b.elements));
    b.waiting = static_cast<int64_t>(b.last - b.first);
    b.handle.reset();
  }
  std::fill(ready_.begin(), ready_.end(), 0);
  next_start_ = next_test_ = 0;
  for (size_t i = 0; i < params_.size(); ++i) {
    core::Tensor& t = params_[i].tensor;
    t.set_grad_ready_hook([this, i] { on_grad_ready(i); });
  }
  hooks_set_ = true;
  if (loss.defined()) {
    const std::vector<core::TensorImpl*> leaves = core::reachable_leaves(loss);
    const std::unordered_set<const core::TensorImpl*> reached(leaves.begin(), leaves.end());
    for (size_t i = 0; i < params_.size(); ++i) {
      if (reached.count(params_[i].tensor.impl()) == 0) mark_ready(i);
    }
    start_buckets(/*all=*/false);
  }
}

void GradientReducer::mark_ready(size_t param) {
  SY_CHECK(!ready_[param], "GradientReducer: the gradient of ", params_[param].name,
           " was completed twice in one sync; arm (begin_sync) only before the last backward, "
           "with the loss that backward starts from");
  ready_[param] = 1;
  --buckets_[bucket_of_[param]].waiting;
}

void GradientReducer::on_grad_ready(size_t param) {
  const Clock::time_point t0 = Clock::now();
  mark_ready(param);
  start_buckets(/*all=*/false);
  // One test() on the oldest bucket in flight advances every request in MPI.
  while (next_test_ < next_start_ && buckets_[next_test_].handle->test()) ++next_test_;
  stats_.hook_seconds += seconds_between(t0, Clock::now());
}

void GradientReducer::start_buckets(bool all) {
  while (next_start_ < buckets_.size() && (all || buckets_[next_start_].waiting == 0)) {
    Bucket& b = buckets_[next_start_];
    pack(b, b.staging.data());
    b.handle = group_->all_reduce_async(b.staging.data(), b.elements, ReduceOp::kSum);
    ++stats_.buckets;
    if (!all) ++stats_.overlapped;
    ++next_start_;
  }
}

void GradientReducer::finish_sync() {
  SY_CHECK(group_ != nullptr, "GradientReducer::finish_sync without begin_sync");
  const Clock::time_point t0 = Clock::now();
  if (group_->size() > 1) {
    remove_hooks();
    start_buckets(/*all=*/true);
    for (Bucket& b : buckets_) {
      b.handle->wait();
      b.handle.reset();
      unpack(b, b.staging.data());
    }
    stats_.bytes = bytes_per_step();
  }
  group_ = nullptr;
  const Clock::time_point end = Clock::now();
  stats_.exposed_seconds = seconds_between(t0, end);
  stats_.total_seconds = seconds_between(began_, end);
  last_ = stats_;
}

void GradientReducer::all_reduce(Communicator& group) {
  SY_CHECK(group_ == nullptr, "GradientReducer::all_reduce while armed; call finish_sync");
  const Clock::time_point t0 = Clock::now();
  stats_ = SyncStats{};
  if (group.size() > 1) {
    if (sync_staging_.empty()) {
      int64_t largest = 0;
      for (const Bucket& b : buckets_) largest = std::max(largest, b.elements);
      sync_staging_.resize(static_cast<size_t>(largest));
    }
    for (const Bucket& b : buckets_) {
      pack(b, sync_staging_.data());
      group.all_reduce(sync_staging_.data(), b.elements, ReduceOp::kSum);
      unpack(b, sync_staging_.data());
    }
    stats_.bytes = bytes_per_step();
    stats_.buckets = num_buckets();
  }
  stats_.exposed_seconds = stats_.total_seconds = seconds_between(t0, Clock::now());
  last_ = stats_;
}

void GradientReducer::pack(const Bucket& b, float* staging) {
  // Missing gradients as zeros. Every gradient of b is final here: packing happens from the hook
  // of b's last parameter, or after the backward (finish_sync, all_reduce).
  for (size_t i = b.first; i < b.last; ++i) {
    float* to = staging + offset_of_[i];
    const core::Tensor& g = params_[i].tensor.grad();
    const int64_t n = params_[i].tensor.numel();
    if (g.defined()) {
      std::memcpy(to, g.f32(), static_cast<size_t>(n) * 4);
    } else {
      std::fill_n(to, n, 0.0f);
    }
  }
}

void GradientReducer::unpack(const Bucket& b, const float* staging) {
  for (size_t i = b.first; i < b.last; ++i) {
    core::Tensor& p = params_[i].tensor;
    if (!p.grad().defined()) p.set_grad(core::Tensor::empty(p.shape()));
    std::memcpy(p.grad().f32(), staging + offset_of_[i], static_cast<size_t>(p.numel()) * 4);
  }
}

void GradientReducer::remove_hooks() {
  if (!hooks_set_) return;
  for (core::nn::NamedParameter& p : params_) p.tensor.set_grad_ready_hook(nullptr);
  hooks_set_ = false;
}

}  // namespace sy::parallel
