// The Communicator's default all_reduce_async: the blocking call, then a completed handle.
#include "parallel/comm/communicator.h"

#include <cstdint>
#include <memory>

#include "core/common/error.h"

namespace sy::parallel {
namespace {

class CompletedCollective final : public PendingCollective {
 public:
  bool test() override { return true; }
  void wait() override {}
};

}  // namespace

std::unique_ptr<PendingCollective> Communicator::all_reduce_async(float* data, int64_t count,
                                                                  ReduceOp op) {
  all_reduce(data, count, op);
  return std::make_unique<CompletedCollective>();
}

std::unique_ptr<PendingCollective> Communicator::send_async(const float* data, int64_t count,
                                                            int dest, int tag) {
  send(data, count, dest, tag);
  return std::make_unique<CompletedCollective>();
}

void check_peer(bool sending, int rank, int size, int peer, int tag) {
  const char* what = sending ? "send" : "recv";
  SY_CHECK(peer >= 0 && peer < size && peer != rank, what, ": rank ", rank,
           sending ? " cannot send to rank " : " cannot receive from rank ", peer, " of a ", size,
           "-rank communicator");
  SY_CHECK(tag >= 0, what, ": negative tag ", tag);
}

void check_all_to_all_v_args(int size, const std::vector<int64_t>& send_counts,
                             const std::vector<int64_t>& send_offsets,
                             const std::vector<int64_t>& recv_counts,
                             const std::vector<int64_t>& recv_offsets) {
  const size_t n = static_cast<size_t>(size);
  SY_CHECK(send_counts.size() == n && send_offsets.size() == n && recv_counts.size() == n &&
               recv_offsets.size() == n,
           "all_to_all_v: counts and offsets need one entry per rank (", n, "), got ",
           send_counts.size(), ", ", send_offsets.size(), ", ", recv_counts.size(), ", ",
           recv_offsets.size());
}

}  // namespace sy::parallel
