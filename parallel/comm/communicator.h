// Communicator: the collectives and point-to-point calls the parallel layer needs, over one group
// of ranks. Implementations: MPI (mpi_communicator.h), and a single-rank one for plain runs.
//
// Every call is made by every rank of the group in the same order (collectives), and a failure
// is a sy::Error of kind kDistributed naming the call, never a hang or an abort.
//
// Nonblocking all-reduce (all_reduce_async -> PendingCollective):
// - The call starts the collective and returns a handle. Until the handle's wait() returned, or
//   its test() returned true, the buffer must be neither read nor written nor freed.
// - Issue order: every rank issues its collectives, blocking and nonblocking together, in the
//   same order. Completion order is free: handles may be tested and waited in any order, and
//   several may be in flight at once.
// - Progress: a transport without a progress thread (Open MPI on CPU) moves a collective forward
//   only inside calls into it; test() is such a call, so calling it now and then during other
//   work is what makes the work overlap.
// - A handle must not outlive its communicator. Complete every handle before destroying it; what
//   destroying an incomplete one does is each implementation's (MPI: waits, or, while an
//   exception unwinds, abandons it; NCCL: does not wait).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sy::parallel {

enum class ReduceOp { kSum, kMax };

// A collective (or a send) in flight, from Communicator::all_reduce_async or send_async.
class PendingCollective {
 public:
  virtual ~PendingCollective() = default;
  // Never blocks: true once the collective is complete on this rank (the buffer then holds the
  // result), false while it is in flight. Drives the transport's progress (above). Errors:
  // kDistributed, like the blocking calls. True again on every later call.
  virtual bool test() = 0;
  // Blocks until the collective is complete; returns at once when it already is.
  virtual void wait() = 0;
};

class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string name() const = 0;  // "mpi", "single"

  // In place over `count` elements: every rank ends with the reduction of all ranks' buffers.
  virtual void all_reduce(float* data, int64_t count, ReduceOp op) = 0;
  virtual void all_reduce(double* data, int64_t count, ReduceOp op) = 0;
  virtual void all_reduce(int64_t* data, int64_t count, ReduceOp op) = 0;
  // The float all_reduce, nonblocking (rules above): starts it and returns its handle. A zero
  // count is still a collective. The default runs the blocking all_reduce and returns a handle
  // that is already complete (the single-rank communicator keeps it: nothing to wait for).
  virtual std::unique_ptr<PendingCollective> all_reduce_async(float* data, int64_t count,
                                                              ReduceOp op);
  // root's `count` bytes are copied to every rank.
  virtual void broadcast(void* data, int64_t bytes, int root) = 0;
  // send (count) from every rank -> recv (size * count), rank r's block at r * count.
  virtual void all_gather(const float* send, float* recv, int64_t count) = 0;
  // send (size * count) -> recv (count): block r of the sum over ranks goes to rank r.
  virtual void reduce_scatter(const float* send, float* recv, int64_t count) = 0;
  // Variable all-to-all: send_counts[r] floats from send (at send_offsets[r]) go to rank r,
  // recv_counts[r] floats from rank r arrive at recv_offsets[r]. Zero counts are normal.
  virtual void all_to_all_v(const float* send, const std::vector<int64_t>& send_counts,
                            const std::vector<int64_t>& send_offsets, float* recv,
                            const std::vector<int64_t>& recv_counts,
                            const std::vector<int64_t>& recv_offsets) = 0;
  virtual void send(const float* data, int64_t count, int dest, int tag) = 0;
  // send, nonblocking: starts it and returns its handle; `data` must stay untouched until the
  // handle completes. Pipeline stages send this way so that a send never waits for its receiver
  // (which may be waiting for this rank). The default is the blocking send and a completed handle.
  virtual std::unique_ptr<PendingCollective> send_async(const float* data, int64_t count, int dest,
                                                        int tag);
  virtual void recv(float* data, int64_t count, int source, int tag) = 0;
  virtual void barrier() = 0;
  // MPI_Comm_split: ranks with the same color form a new group, ordered by key.
  virtual std::unique_ptr<Communicator> split(int color, int key) = 0;
};

// Argument checks shared by the implementations (kInternal errors, the same words everywhere):
// a send's or receive's peer is another rank of the group and its tag is >= 0; all_to_all_v has
// one count and one offset per rank.
void check_peer(bool sending, int rank, int size, int peer, int tag);
void check_all_to_all_v_args(int size, const std::vector<int64_t>& send_counts,
                             const std::vector<int64_t>& send_offsets,
                             const std::vector<int64_t>& recv_counts,
                             const std::vector<int64_t>& recv_offsets);

// A group of one rank: collectives are identities. Used when the process was not started by a
// launcher, so a plain `switchyard train` needs no MPI at all.
std::unique_ptr<Communicator> make_single_communicator();

}  // namespace sy::parallel
