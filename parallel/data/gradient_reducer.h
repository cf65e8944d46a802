// Data-parallel gradient averaging: gradients of replicated parameters are summed across the
// data-parallel group in fixed-size buckets (one all-reduce per bucket instead of one per tensor),
// and, like PyTorch DDP, the all-reduces can run while backward is still computing the rest.
//
// Buckets follow the parameters in *reverse* order, the order backward finishes their gradients:
// bucket 0 holds the last parameters, filled up to bucket_bytes (a larger parameter gets a bucket
// of its own). For the overlapped form each bucket has its own staging buffer (all may be in
// flight at once; together they take as much memory as the gradients), allocated at the first
// begin_sync over several ranks.
//
// A step with M micro-batches, overlapped:
//   micro-batches 0 .. M-2: forward, backward      local accumulation, no communication
//   micro-batch M-1: loss = forward
//   reducer.begin_sync(dp_group, loss);            arms the gradient-ready hooks
//   loss.backward();                               a bucket whose parameters' gradients are all
//                                                  final is packed and its all-reduce started
//   reducer.finish_sync();                         the rest started, all waited, gradients written
// all_reduce(group) is the synchronous form: after backward, each bucket in turn is packed into
// one shared buffer, all-reduced with the blocking call and unpacked (no per-bucket buffers, and
// on Open MPI the blocking MPI_Allreduce is faster than MPI_Iallreduce: docs/PARALLEL.md).
//
// Parameters the backward does not reach (an expert that got no token in this micro-batch) have
// no hook call. Given the loss, begin_sync finds them (core::reachable_leaves) and counts them
// ready at once, so their buckets are not held back; without it they wait for finish_sync, and
// so, buckets starting in order, does every bucket from the first that holds one.
//
// Rules: every rank passes the same parameters in the same order, and a parameter without a
// gradient on this rank takes part with zeros, so all ranks issue the same collectives and end
// with defined, identical gradients. Buckets are started strictly in bucket order (bucket b only
// after 0 .. b-1) so that every rank issues its collectives in the same order even when a
// parameter is unused on some ranks; such a bucket may start during backward on one rank and in
// finish_sync on another. Every rank must use the same form (overlapped or synchronous) in a
// step: MPI does not match a nonblocking collective with a blocking one. Reducers armed at the
// same time need different communicators (separate splits, even over the same ranks): how their
// buckets interleave can differ between ranks. The hooks call test()
// on the oldest bucket in flight, which is what advances MPI (no progress thread) meanwhile.
// CPU float32 parameters only: staging is host memory.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/nn/module.h"
#include "parallel/comm/communicator.h"

namespace sy::parallel {

class GradientReducer {
 public:
  // What one sync (begin_sync .. finish_sync, or all_reduce) did, for the trainer's log. The cost
  // of the reduction to the step is hook_seconds + exposed_seconds; all_reduce reports its whole
  // time as exposed_seconds (= total_seconds) and no hook time.
  struct SyncStats {
    int64_t bytes = 0;           // bytes all-reduced (4 per parameter element; 0 on one rank)
    int64_t buckets = 0;         // all-reduces issued
    int64_t overlapped = 0;      // of those, started before finish_sync (during backward)
    double hook_seconds = 0;     // in the hooks, within backward: packing, starting, test()
    double exposed_seconds = 0;  // in finish_sync: starting the rest, waiting, unpacking
    double total_seconds = 0;    // from begin_sync to the end of finish_sync
  };

  // bucket_bytes: the all-reduce size (25 MiB by default, like PyTorch DDP).
  GradientReducer(std::vector<core::nn::NamedParameter> params, int64_t bucket_bytes = 25 << 20);
  // Removes the hooks if armed, and waits for buckets still in flight (see PendingCollective).
  ~GradientReducer();
  GradientReducer(const GradientReducer&) = delete;  // the hooks point at this object
  GradientReducer& operator=(const GradientReducer&) = delete;

  // Arms the gradient-ready hooks of every parameter for the next backward pass over `group`
  // (which must outlive finish_sync). `loss`, when given, is the tensor that backward starts
  // from: parameters it does not reach are ready at once (and buckets may start here). On a
  // 1-rank group nothing is armed and nothing copied. Raises kInternal when already armed, or
  // when a parameter already has a grad-ready hook.
  void begin_sync(Communicator& group, const core::Tensor& loss = core::Tensor());
  // grad <- sum over the group's ranks of grad, for every parameter (missing gradients are
  // created): starts the buckets not started yet, in order, waits for all, unpacks, disarms.
  void finish_sync();
  // The same sums after backward, synchronously (above). A no-op on one rank. Not while armed.
  void all_reduce(Communicator& group);

  bool armed() const { return group_ != nullptr; }
  int64_t num_buckets() const { return static_cast<int64_t>(buckets_.size()); }
  int64_t bytes_per_step() const { return total_elements_ * 4; }
  // Of the last finished sync.
  const SyncStats& last_sync() const { return last_; }

 private:
  using Clock = std::chrono::steady_clock;
  struct Bucket {
    size_t first, last;  // parameters [first, last), packed from last - 1 down to first
    int64_t elements;
    std::vector<float> staging;                 // elements, once allocated
    int64_t waiting = 0;                        // parameters not ready yet in this sync
    std::unique_ptr<PendingCollective> handle;  // in flight; after staging, so it goes first
  };

  // Counts `param` ready (kInternal if it already was in this sync).
  void mark_ready(size_t param);
  // The hook: mark_ready, start what can start, test() the oldest bucket in flight.
  void on_grad_ready(size_t param);
  // Starts buckets in order from next_start_: those with nothing waiting, or all when `all`.
  void start_buckets(bool all);
  // Bucket b's gradients (missing ones as zeros) -> staging (b.elements), and back.
  void pack(const Bucket& b, float* staging);
  void unpack(const Bucket& b, const float* staging);
  void remove_hooks();

  std::vector<core::nn::NamedParameter> params_;
  std::vector<Bucket> buckets_;
  std::vector<size_t> bucket_of_;   // parameter -> bucket
  std::vector<int64_t> offset_of_;  // parameter -> first element in its bucket's staging
  std::vector<char> ready_;         // parameter -> final in this sync (hook ran, or unreached)
  int64_t total_elements_ = 0;
  Communicator* group_ = nullptr;  // while armed
  bool hooks_set_ = false;
  size_t next_start_ = 0;  // buckets [0, next_start_) started in this sync
  size_t next_test_ = 0;   // buckets [0, next_test_) known complete
  Clock::time_point began_;
  SyncStats stats_, last_;
  std::vector<float> sync_staging_;  // all_reduce's: the largest bucket, once used
};

}  // namespace sy::parallel
