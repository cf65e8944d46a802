// all_to_all_rows: a differentiable variable all-to-all of tensor rows over a Communicator.
//
//   x (S,D) with S = sum(send_rows) -> out (R,D) with R = sum(recv_rows)
//   rows [sum(send_rows[:p]), +send_rows[p]) of x go to rank p; out holds the rows from rank 0,
//   then rank 1, ..., recv_rows[p] of them from rank p.
// Backward is the reverse exchange (send_rows and recv_rows swapped), so every rank of the group
// must run both passes, in the same order as its peers (a collective in each direction).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/tensor/tensor.h"
#include "parallel/comm/communicator.h"

namespace sy::parallel {

// Traffic of the exchanges that share one counter: bytes this rank sent and the wall time spent
// inside the all-to-all calls, forward and backward.
struct ExchangeTraffic {
  int64_t bytes_sent = 0;
  double seconds = 0.0;
  int64_t calls = 0;
};

// `group` must outlive the graph (the backward pass uses it). `traffic`, when not null, is
// updated by both passes.
core::Tensor all_to_all_rows(const core::Tensor& x, const std::vector<int64_t>& send_rows,
                             const std::vector<int64_t>& recv_rows, Communicator& group,
                             std::shared_ptr<ExchangeTraffic> traffic = nullptr);

}  // namespace sy::parallel
