// CheckedCommunicator: the debug mode of parallel.debug_comm. It wraps a Communicator and turns a
// mismatch between the ranks' calls, which would otherwise hang or silently mix data up, into a
// kDistributed error naming the first call that differs:
//  - before every blocking collective, the group compares the call's signature (its number in
//    this group's sequence, the kind of call, its element count; the root for broadcasts) and
//    stops on a difference: "call #12 on group dp: rank 0 all_reduce(f32, 40), rank 1 barrier"
//    (nonblocking all-reduces, started from backward hooks at rank-dependent moments, are only
//    recorded: a blocking check there could itself deadlock);
//  - every point-to-point message is preceded by a header (the sender's message number to that
//    peer, the count, the tag) that the receiver checks against its own call;
//  - verify_step(), once per training step, compares the hash of each rank's sequence of
//    collectives since the last check across the group, and, for every pair of ranks, the hash
//    of what one sent with what the other received, and names the first difference.
// Groups made by split() are checked too, and verify_step() on the communicator a grid was built
// from covers all of them. The checks cost a small all-reduce per call: a debugging aid, off by
// default.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "parallel/comm/communicator.h"

namespace sy::parallel {

class CheckedCommunicator final : public Communicator {
 public:
  // Wraps `inner` (not owned; it must outlive this object), naming the group `label` in messages.
  CheckedCommunicator(Communicator& inner, std::string label);
  ~CheckedCommunicator() override;
  CheckedCommunicator(const CheckedCommunicator&) = delete;
  CheckedCommunicator& operator=(const CheckedCommunicator&) = delete;

  int rank() const override { return inner_->rank(); }
  int size() const override { return inner_->size(); }
  std::string name() const override { return inner_->name() + "+checked"; }

  void all_reduce(float* data, int64_t count, ReduceOp op) override;
  void all_reduce(double* data, int64_t count, ReduceOp op) override;
  void all_reduce(int64_t* data, int64_t count, ReduceOp op) override;
  std::unique_ptr<PendingCollective> all_reduce_async(float* data, int64_t count,
                                                      ReduceOp op) override;
  void broadcast(void* data, int64_t bytes, int root) override;
  void all_gather(const float* send, float* recv, int64_t count) override;
  void reduce_scatter(const float* send, float* recv, int64_t count) override;
  void all_to_all_v(const float* send, const std::vector<int64_t>& send_counts,
                    const std::vector<int64_t>& send_offsets, float* recv,
                    const std::vector<int64_t>& recv_counts,
                    const std::vector<int64_t>& recv_offsets) override;
  void send(const float* data, int64_t count, int dest, int tag) override;
  std::unique_ptr<PendingCollective> send_async(const float* data, int64_t count, int dest,
                                                int tag) override;
  void recv(float* data, int64_t count, int source, int tag) override;
  void barrier() override;
  // The new group is checked as well, labelled "<label>/<color>".
  std::unique_ptr<Communicator> split(int color, int key) override;

  // Collective over this group and then, in creation order, over every group split from it
  // (every rank has made the same splits): compares the sequences since the last verify_step.
  void verify_step();
  // Relabels a group for messages ("dp", "ep", ...); the grid names its groups after splitting.
  void set_label(std::string label) { label_ = std::move(label); }

 private:
  struct Registry;
  // Wraps `owned` when given (a split's new group), else `inner`.
  CheckedCommunicator(std::unique_ptr<Communicator> owned, Communicator* inner, std::string label,
                      std::shared_ptr<Registry> registry);

  // The pre-check of a collective: kind (a short name), count, and an extra value (the root);
  // then records it.
  void check_collective(const char* kind, int64_t count, int64_t extra = 0);
  // The signature of the next collective: its number in the sequence, kind, count and extra.
  uint64_t call_hash(int64_t kind_id, int64_t count, int64_t extra) const;
  // Adds a call to this group's sequence without checking it.
  void record_collective(const char* kind, int64_t count, int64_t extra);
  void verify_group();
  // Adds a message to `dest` to the sequence; returns its number among the messages to dest.
  int64_t record_send(int dest, int64_t count, int tag);

  std::unique_ptr<Communicator> owned_;
  Communicator* inner_;
  std::string label_;
  std::shared_ptr<Registry> registry_;
  int64_t calls_ = 0;                            // collectives issued on this group so far
  uint64_t collective_hash_ = 0;                 // of the collectives since the last verify
  std::vector<int64_t> sent_, received_;         // messages to / from each peer, ever
  std::vector<uint64_t> send_hash_, recv_hash_;  // of the messages since the last verify
};

}  // namespace sy::parallel
