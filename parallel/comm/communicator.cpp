// The Communicator's default all_reduce_async: the blocking call, then a completed handle.
#include "parallel/comm/communicator.h"

#include <cstdint>
#include <memory>

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

}  // namespace sy::parallel
