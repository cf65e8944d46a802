// NcclCommunicator: the Communicator over NCCL, for buffers in GPU memory (built only when CUDA
// and NCCL are found: SY_HAS_NCCL). Every pointer passed to it is device memory of its GPU
// (cudaMalloc'd or managed); host pointers are a kInternal error.
//
// Work is enqueued on the communicator's own non-blocking CUDA stream, and every call waits for
// it before returning, so the calls block like the MPI ones; all_reduce_async returns a handle
// (CollectiveHandle) to test or wait on instead. While waiting, NCCL's asynchronous error state is
// polled, so a failed peer or network surfaces as an error rather than a hang. Every NCCL call is
// checked: a failure becomes sy::Error(kDistributed, "ncclAllReduce failed on rank R of N (device
// D, host H): <NCCL's error string>: <ncclGetLastError>"), and the communicator is then aborted
// (ncclCommAbort) by its destructor instead of destroyed.
//
// send/recv: NCCL has no tags. The tag is checked (>= 0) and ignored; messages between one pair
// of ranks match in the order they are posted. split needs NCCL >= 2.18 (ncclCommSplit).
// Not thread-safe: one thread makes a communicator's calls, like MPI_THREAD_FUNNELED.
#pragma once

#include <cuda_runtime.h>
#include <nccl.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "parallel/comm/communicator.h"

namespace sy::parallel {

class NcclCommunicator;

// A collective in flight (all_reduce_async): test() queries, wait() blocks on a CUDA event recorded
// after it, both polling NCCL's asynchronous errors (a failure raises kDistributed). Must not
// outlive the communicator that made it; destroying it before completion does not wait (the
// buffer stays in use on the GPU until the collective ends).
class CollectiveHandle final : public PendingCollective {
 public:
  CollectiveHandle(NcclCommunicator* comm, cudaEvent_t event, const char* call)
      : comm_(comm), event_(event), call_(call) {}
  ~CollectiveHandle() override;
  CollectiveHandle(const CollectiveHandle&) = delete;
  CollectiveHandle& operator=(const CollectiveHandle&) = delete;

  bool test() override;
  // Blocks until the collective finished; a no-op once it has.
  void wait() override;

 private:
  NcclCommunicator* comm_;
  cudaEvent_t event_;  // null once complete
  const char* call_;
};

class NcclCommunicator final : public Communicator {
 public:
  // Collective over `bootstrap` (every rank calls it): rank 0 makes the NCCL unique id and
  // broadcasts it over `bootstrap`, then every rank selects GPU `device` and joins a NCCL
  // communicator with the same ranks. One GPU per rank: NCCL rejects two ranks on one device.
  static std::unique_ptr<NcclCommunicator> create(Communicator& bootstrap, int device);
  ~NcclCommunicator() override;
  NcclCommunicator(const NcclCommunicator&) = delete;
  NcclCommunicator& operator=(const NcclCommunicator&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string name() const override { return "nccl"; }
  int device() const { return device_; }
  ncclComm_t comm() const { return comm_; }
  cudaStream_t stream() const { return stream_; }

  void all_reduce(float* data, int64_t count, ReduceOp op) override;
  void all_reduce(double* data, int64_t count, ReduceOp op) override;
  void all_reduce(int64_t* data, int64_t count, ReduceOp op) override;
  // Enqueues ncclAllReduce on stream() after the work already queued on the default stream
  // (where core's kernels run, so gradients written there are complete) and returns at once; the
  // handle is a CollectiveHandle. `data` must stay untouched until it completed.
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
  void recv(float* data, int64_t count, int source, int tag) override;
  void barrier() override;
  // ncclCommSplit; the new communicator uses the same GPU and gets its own stream.
  std::unique_ptr<Communicator> split(int color, int key) override;

 private:
  friend class CollectiveHandle;

  explicit NcclCommunicator(int device) : device_(device) {}
  // Once comm_ is set: reads rank and size, makes the stream and the barrier word.
  void init_resources();
  void all_reduce_typed(void* data, int64_t count, ncclDataType_t type, ReduceOp op);
  // Raises kDistributed naming `call` unless `result` is ncclSuccess; marks the communicator
  // failed.
  void check(ncclResult_t result, const char* call);
  // kInternal unless `ptr` is device memory usable on this GPU (null is fine for zero counts).
  void check_device_ptr(const void* ptr, int64_t count, const char* call, const char* what) const;
  // Waits for `event` (or the whole stream when null), polling NCCL's asynchronous errors.
  void wait_for(cudaEvent_t event, const char* call);
  // One poll of `event`: true when it completed; raises a CUDA error or NCCL's asynchronous one.
  bool query(cudaEvent_t event, const char* call);
  [[noreturn]] void fail(const char* call, const std::string& detail);

  int device_;
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
  int* barrier_word_ = nullptr;  // one int on the device for barrier()
  int rank_ = 0;
  int size_ = 0;
  bool failed_ = false;  // an NCCL or CUDA error happened: abort instead of destroy
};

}  // namespace sy::parallel
