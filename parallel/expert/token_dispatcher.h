// TokenDispatcher: the ExpertExchange of expert parallelism, over the expert-parallel group.
//
// Rank p of a group of P holds experts [p*E/P, (p+1)*E/P). Each direction is three steps:
//   dispatch: prepare  exchange every rank's per-expert row counts (one small all-reduce), plan
//                      the rows each peer sends and receives and the local reordering
//             exchange all_to_all_rows: the rows of peer q's experts go to q
//             finish   reorder the received rows from (source rank, local expert) order into
//                      (local expert, source rank) order: one contiguous group per local expert
//   combine:  prepare  the inverse reordering, back to (source rank, local expert) order
//             exchange the reverse all_to_all_rows
//             finish   nothing: each rank gets its rows back in the order it sent them
// Backward runs the same exchanges reversed (all_to_all_rows and index_select are
// differentiable). The traffic counter covers both passes of every exchange.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/nn/moe/expert_exchange.h"
#include "parallel/comm/communicator.h"
#include "parallel/expert/all_to_all_op.h"

namespace sy::parallel {

class TokenDispatcher final : public core::nn::ExpertExchange {
 public:
  // `group` (the grid's ep_comm) must outlive the dispatcher and every graph it takes part in.
  // E must be divisible by the group's size.
  TokenDispatcher(Communicator& group, int64_t num_experts);

  // The experts held by rank `rank` of a group of `size` (E divisible by size).
  static core::nn::ExpertShard shard_of(int rank, int size, int64_t num_experts);

  core::Tensor dispatch(const core::Tensor& xs, const std::vector<int64_t>& counts,
                        std::vector<int64_t>* local_counts) override;
  core::Tensor combine(const core::Tensor& yr) override;

  const core::nn::ExpertShard& shard() const { return shard_; }
  // Bytes sent and seconds spent in the exchanges since the last reset.
  ExchangeTraffic traffic() const { return *traffic_; }
  void reset_traffic() { *traffic_ = {}; }

 private:
  // How the rows of one dispatch move.
  struct Plan {
    std::vector<int64_t> send_rows, recv_rows;  // (P) rows to / from each peer
    std::vector<int64_t> local_counts;          // (E/P) received rows per local expert
    // Received rows in (local expert, source) order: expert_major[i] is the (source, local
    // expert) order row that goes to position i; source_major is its inverse. Empty when the
    // two orders agree (one rank, or one expert per rank).
    std::vector<int32_t> expert_major, source_major;
  };
  Plan prepare(const std::vector<int64_t>& counts);

  Communicator& group_;
  int64_t num_experts_;
  core::nn::ExpertShard shard_;
  std::shared_ptr<ExchangeTraffic> traffic_;
  Plan plan_;
  bool dispatched_ = false;
};

}  // namespace sy::parallel
