#include "parallel/expert/token_dispatcher.h"

#include <chrono>

#include "core/common/error.h"
#include "core/ops/index_ops.h"

namespace sy::parallel {

namespace {

core::Tensor reorder(const core::Tensor& rows, const std::vector<int32_t>& order) {
  if (order.empty()) return rows;
  return core::index_select(rows,
                            core::Tensor::from_ints(order, {static_cast<int64_t>(order.size())}));
}

}  // namespace

TokenDispatcher::TokenDispatcher(Communicator& group, int64_t num_experts)
    : group_(group),
      num_experts_(num_experts),
      shard_(shard_of(group.rank(), group.size(), num_experts)),
      traffic_(std::make_shared<ExchangeTraffic>()) {}

core::nn::ExpertShard TokenDispatcher::shard_of(int rank, int size, int64_t num_experts) {
  SY_REQUIRE(ErrorKind::kUsage, size >= 1 && num_experts % size == 0,
             "moe.num_experts = ", num_experts, " cannot be split evenly over parallel.ep = ", size,
             " ranks (ep must divide the number of experts)");
  const int64_t per_rank = num_experts / size;
  return {rank * per_rank, per_rank};
}

TokenDispatcher::Plan TokenDispatcher::prepare(const std::vector<int64_t>& counts) {
  const int p = group_.size(), me = group_.rank();
  const int64_t e_count = num_experts_, local = shard_.count;
  SY_CHECK(static_cast<int64_t>(counts.size()) == e_count, "dispatch: ", counts.size(),
           " expert counts for ", e_count, " experts");
  // all_counts[s * E + e]: rows rank s routes to expert e (an all-gather by summing rows).
  std::vector<int64_t> all_counts(static_cast<size_t>(p * e_count), 0);
  std::copy(counts.begin(), counts.end(), all_counts.begin() + me * e_count);
  group_.all_reduce(all_counts.data(), static_cast<int64_t>(all_counts.size()), ReduceOp::kSum);
  const auto count = [&](int s, int64_t e) {
    return all_counts[static_cast<size_t>(s * e_count + e)];
  };

  Plan plan;
  plan.send_rows.assign(static_cast<size_t>(p), 0);
  plan.recv_rows.assign(static_cast<size_t>(p), 0);
  plan.local_counts.assign(static_cast<size_t>(local), 0);
  for (int q = 0; q < p; ++q) {
    for (int64_t j = 0; j < local; ++j) {
      plan.send_rows[static_cast<size_t>(q)] += count(me, q * local + j);
      plan.recv_rows[static_cast<size_t>(q)] += count(q, shard_.first + j);
      plan.local_counts[static_cast<size_t>(j)] += count(q, shard_.first + j);
    }
  }
  if (p > 1 && local > 1) {
    // block_start[s * local + j]: where source s's rows for local expert j start, source-major.
    std::vector<int64_t> block_start(static_cast<size_t>(p * local));
    int64_t at = 0;
    for (int s = 0; s < p; ++s) {
      for (int64_t j = 0; j < local; ++j) {
        block_start[static_cast<size_t>(s * local + j)] = at;
        at += count(s, shard_.first + j);
      }
    }
    plan.expert_major.reserve(static_cast<size_t>(at));
    for (int64_t j = 0; j < local; ++j) {
      for (int s = 0; s < p; ++s) {
        const int64_t start = block_start[static_cast<size_t>(s * local + j)];
        for (int64_t r = 0; r < count(s, shard_.first + j); ++r) {
          plan.expert_major.push_back(static_cast<int32_t>(start + r));
        }
      }
    }
    plan.source_major.resize(plan.expert_major.size());
    for (size_t i = 0; i < plan.expert_major.size(); ++i) {
      plan.source_major[static_cast<size_t>(plan.expert_major[i])] = static_cast<int32_t>(i);
    }
  }
  return plan;
}

core::Tensor TokenDispatcher::dispatch(const core::Tensor& xs, const std::vector<int64_t>& counts,
                                       std::vector<int64_t>* local_counts) {
  SY_CHECK(xs.ndim() == 2, "dispatch: xs must be (M,D), got ", xs.describe());
  const auto t0 = std::chrono::steady_clock::now();
  plan_ = prepare(counts);
  traffic_->seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  dispatched_ = true;
  *local_counts = plan_.local_counts;
  const core::Tensor received =
      all_to_all_rows(xs, plan_.send_rows, plan_.recv_rows, group_, traffic_);
  return reorder(received, plan_.expert_major);
}

core::Tensor TokenDispatcher::combine(const core::Tensor& yr) {
  SY_CHECK(dispatched_, "combine without a dispatch before it");
  dispatched_ = false;
  const core::Tensor source_major = reorder(yr, plan_.source_major);
  return all_to_all_rows(source_major, plan_.recv_rows, plan_.send_rows, group_, traffic_);
}

}  // namespace sy::parallel
