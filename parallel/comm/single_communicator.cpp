// The single-rank communicator: the world of a process that was not started by an MPI launcher.
// Collectives over one rank are identities or copies; there is no peer to send to or receive from.
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/common/error.h"
#include "parallel/comm/communicator.h"

namespace sy::parallel {
namespace {

class SingleCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string name() const override { return "single"; }

  void all_reduce(float* data, int64_t count, ReduceOp) override { check_count(data, count); }
  void all_reduce(double* data, int64_t count, ReduceOp) override { check_count(data, count); }
  void all_reduce(int64_t* data, int64_t count, ReduceOp) override { check_count(data, count); }

  void broadcast(void* data, int64_t bytes, int root) override {
    SY_CHECK(root == 0, "broadcast: root ", root, " is not a rank of a 1-rank communicator");
    check_count(data, bytes);
  }

  void all_gather(const float* send, float* recv, int64_t count) override {
    check_count(send, count);
    copy(send, recv, count);
  }

  void reduce_scatter(const float* send, float* recv, int64_t count) override {
    check_count(send, count);
    copy(send, recv, count);
  }

  void all_to_all_v(const float* send, const std::vector<int64_t>& send_counts,
                    const std::vector<int64_t>& send_offsets, float* recv,
                    const std::vector<int64_t>& recv_counts,
                    const std::vector<int64_t>& recv_offsets) override {
    check_all_to_all_v_args(1, send_counts, send_offsets, recv_counts, recv_offsets);
    SY_CHECK(send_counts[0] == recv_counts[0], "all_to_all_v: rank 0 sends ", send_counts[0],
             " floats to itself but expects ", recv_counts[0]);
    SY_CHECK(send_counts[0] >= 0 && send_offsets[0] >= 0 && recv_offsets[0] >= 0,
             "all_to_all_v: negative count or offset");
    if (send_counts[0] > 0) {
      copy(send + send_offsets[0], recv + recv_offsets[0], send_counts[0]);
    }
  }

  void send(const float*, int64_t, int dest, int) override {
    SY_FAIL(ErrorKind::kInternal, "send to rank ", dest,
            " on a 1-rank communicator: a rank cannot send to itself");
  }

  void recv(float*, int64_t, int source, int) override {
    SY_FAIL(ErrorKind::kInternal, "recv from rank ", source,
            " on a 1-rank communicator: a rank cannot receive from itself");
  }

  void barrier() override {}

  std::unique_ptr<Communicator> split(int color, int) override {
    SY_CHECK(color >= 0, "split: color ", color, " must be >= 0");
    return std::make_unique<SingleCommunicator>();
  }

 private:
  static void check_count(const void* data, int64_t count) {
    SY_CHECK(count >= 0, "negative element count ", count);
    SY_CHECK(count == 0 || data != nullptr, "null buffer for ", count, " elements");
  }

  static void copy(const float* from, float* to, int64_t count) {
    if (count > 0 && from != to) {
      std::memmove(to, from, static_cast<size_t>(count) * sizeof(float));
    }
  }
};

}  // namespace

std::unique_ptr<Communicator> make_single_communicator() {
  return std::make_unique<SingleCommunicator>();
}

}  // namespace sy::parallel
