// MpiCommunicator: the Communicator over an MPI communicator (MPI's C API).
//
// Every MPI call's return code is checked: the communicator's error handler is set to
// MPI_ERRORS_RETURN, and a failing call becomes sy::Error(kDistributed, "MPI_Allreduce failed on
// rank R (host H): <MPI's error string>"), R being the rank in MPI_COMM_WORLD. Element counts are
// int64 here but int in MPI: all_reduce, all_reduce_async and broadcast send larger buffers in
// chunks, the other calls raise kDistributed when a count or offset does not fit in an int. Bad
// arguments (a rank out of range, negative counts, vectors of the wrong length) are kInternal
// errors.
//
// all_reduce_async is MPI_Iallreduce (one per chunk of 2^30 elements), its handle MPI_Testall /
// MPI_Waitall over those requests. Open MPI has no progress thread for CPU collectives: a
// nonblocking all-reduce advances only inside MPI calls (test(), wait(), any other call). A
// handle destroyed before it completed waits for it (errors ignored), except while an exception
// unwinds: then it is abandoned, since the peers may never join; abort_world ends the job.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "parallel/comm/communicator.h"

namespace sy::parallel {

class MpiCommunicator final : public Communicator {
 public:
  // Wraps `comm` (which must not be MPI_COMM_NULL) and sets MPI_ERRORS_RETURN on it. An owned
  // communicator is freed by the destructor (skipped when MPI is already finalized).
  MpiCommunicator(MPI_Comm comm, bool owned);
  ~MpiCommunicator() override;
  MpiCommunicator(const MpiCommunicator&) = delete;
  MpiCommunicator& operator=(const MpiCommunicator&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string name() const override { return "mpi"; }
  MPI_Comm comm() const { return comm_; }

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
  // Collective over this communicator; the new one is owned by the returned object.
  std::unique_ptr<Communicator> split(int color, int key) override;

 private:
  void all_reduce_chunked(void* data, int64_t count, MPI_Datatype type, int64_t elem_bytes,
                          ReduceOp op);

  MPI_Comm comm_;
  bool owned_;
  int rank_ = 0;
  int size_ = 0;
};

// Turns an MPI return code into sy::Error(kDistributed) naming `call` ("MPI_Allreduce"), this
// process's world rank and host, and MPI's error string. MPI_SUCCESS returns normally.
void check_mpi(int rc, const char* call);

}  // namespace sy::parallel
