// Where an MoE layer's experts live, and how tokens reach them.
//
// On one rank every expert is local and tokens never move. Under expert parallelism each rank of
// an expert-parallel group of size P holds E/P consecutive experts (an ExpertShard), and an
// ExpertExchange (parallel/expert/token_dispatcher.h implements it over a Communicator) sends
// each routed token to the rank holding its expert and brings the result back:
//
//   xs (M,D), rows grouped by global expert, counts (E)
//     -> dispatch -> xr (R,D): the rows of this rank's experts from every rank of the group,
//                    grouped by local expert, local_counts (E/P)
//     -> the local experts, row group by row group -> yr (R,D)
//     -> combine  -> ys (M,D), in xs's row order
//
// dispatch and combine are differentiable (their backward passes run the reverse exchanges), and
// every rank of the group must call them the same number of times in the same order, including a
// rank that routes no token to another rank or receives none.
#pragma once

#include <cstdint>
#include <vector>

#include "core/tensor/tensor.h"

namespace sy::core::nn {

// The experts [first, first + count) of E held by this rank.
struct ExpertShard {
  int64_t first = 0;
  int64_t count = -1;  // -1: all experts (no sharding)

  bool holds_all(int64_t num_experts) const {
    return count < 0 || (first == 0 && count == num_experts);
  }
};

class ExpertExchange {
 public:
  virtual ~ExpertExchange() = default;

  // xs (M,D): rows grouped by global expert, counts[e] rows for expert e (E entries, sum M).
  // Returns xr (R,D) grouped by local expert; local_counts (E/P) receives the group sizes.
  virtual Tensor dispatch(const Tensor& xs, const std::vector<int64_t>& counts,
                          std::vector<int64_t>* local_counts) = 0;
  // yr (R,D): the local experts' outputs for the rows of the last dispatch, in its order.
  // Returns ys (M,D) in the order of that dispatch's xs.
  virtual Tensor combine(const Tensor& yr) = 0;
};

}  // namespace sy::core::nn
