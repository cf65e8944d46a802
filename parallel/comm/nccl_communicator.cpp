// NcclCommunicator: each Communicator call mapped onto NCCL on the communicator's stream, then a
// wait that polls NCCL's asynchronous errors. See nccl_communicator.h for the rules.
#include "parallel/comm/nccl_communicator.h"

#include <cuda_runtime.h>
#include <nccl.h>

#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/backends/cuda/cuda_check.h"
#include "core/common/error.h"
#include "parallel/comm/runtime.h"

// Calls NCCL function `fn` with the remaining arguments and checks its result, naming `fn`.
#define SY_NCCL_CHECK(fn, ...) check(fn(__VA_ARGS__), #fn)

namespace sy::parallel {
namespace {

ncclRedOp_t to_nccl(ReduceOp op) { return op == ReduceOp::kSum ? ncclSum : ncclMax; }

size_t to_size(int64_t value, const char* call, const char* what) {
  SY_CHECK(value >= 0, call, ": negative ", what, " ", value);
  return static_cast<size_t>(value);
}

// What rank 0 broadcasts to the others at create(): the id, or ok = 0 when it could not make one.
struct BootstrapMessage {
  int32_t ok;
  ncclUniqueId id;
};

}  // namespace

// --- CollectiveHandle ---------------------------------------------------------------------------

CollectiveHandle::~CollectiveHandle() {
  if (event_ != nullptr) cudaEventDestroy(event_);  // released once the work completes
}

bool CollectiveHandle::test() {
  if (event_ == nullptr) return true;
  if (!comm_->query(event_, call_)) return false;
  cudaEventDestroy(std::exchange(event_, nullptr));
  return true;
}

void CollectiveHandle::wait() {
  if (event_ == nullptr) return;
  comm_->wait_for(event_, call_);
  cudaEventDestroy(std::exchange(event_, nullptr));
}

// --- NcclCommunicator: setup and teardown -------------------------------------------------------

std::unique_ptr<NcclCommunicator> NcclCommunicator::create(Communicator& bootstrap, int device) {
  SY_CHECK(device >= 0, "NcclCommunicator::create: negative device ", device);
  SY_CUDA_CHECK(cudaSetDevice(device));
  BootstrapMessage message;
  std::memset(&message, 0, sizeof(message));
  ncclResult_t id_result = ncclSuccess;
  if (bootstrap.rank() == 0) {
    id_result = ncclGetUniqueId(&message.id);
    message.ok = id_result == ncclSuccess ? 1 : 0;
  }
  // Rank 0 sends even when it failed, so that no rank is left waiting in the broadcast.
  bootstrap.broadcast(&message, sizeof(message), 0);
  SY_REQUIRE(ErrorKind::kDistributed, message.ok == 1, "ncclGetUniqueId failed on rank 0",
             id_result != ncclSuccess ? ": " : "",
             id_result != ncclSuccess ? ncclGetErrorString(id_result) : "");

  std::unique_ptr<NcclCommunicator> out(new NcclCommunicator(device));
  out->rank_ = bootstrap.rank();  // for error messages until the communicator exists
  out->size_ = bootstrap.size();
  ncclComm_t comm = nullptr;
  out->check(ncclCommInitRank(&comm, bootstrap.size(), message.id, bootstrap.rank()),
             "ncclCommInitRank");
  out->comm_ = comm;
  out->init_resources();
  return out;
}

void NcclCommunicator::init_resources() {
  SY_NCCL_CHECK(ncclCommUserRank, comm_, &rank_);
  SY_NCCL_CHECK(ncclCommCount, comm_, &size_);
  SY_CUDA_CHECK(cudaSetDevice(device_));
  SY_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  SY_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&barrier_word_), sizeof(int)));
  SY_CUDA_CHECK(cudaMemset(barrier_word_, 0, sizeof(int)));
}

NcclCommunicator::~NcclCommunicator() {
  // Nothing here can be reported; errors are ignored. Abort (local, never waits for peers) after
  // an error or while an exception unwinds: the peers may never reach their destroy.
  int previous_device = -1;
  cudaGetDevice(&previous_device);
  cudaSetDevice(device_);
  if (comm_ != nullptr) {
    if (failed_ || std::uncaught_exceptions() > 0) {
      ncclCommAbort(comm_);
    } else {
      ncclCommDestroy(comm_);
    }
  }
  if (barrier_word_ != nullptr) cudaFree(barrier_word_);
  if (stream_ != nullptr) cudaStreamDestroy(stream_);
  if (previous_device >= 0 && previous_device != device_) cudaSetDevice(previous_device);
}

// --- Error checks and waiting -------------------------------------------------------------------

void NcclCommunicator::fail(const char* call, const std::string& detail) {
  failed_ = true;
  SY_FAIL(ErrorKind::kDistributed, call, " failed on rank ", rank_, " of ", size_, " (device ",
          device_, ", host ", hostname(), "): ", detail);
}

void NcclCommunicator::check(ncclResult_t result, const char* call) {
  if (result == ncclSuccess) return;
  std::string detail = ncclGetErrorString(result);
  const char* last = ncclGetLastError(comm_);  // comm_ may be null: NCCL's last global error
  if (last != nullptr && last[0] != '\0') detail += std::string(": ") + last;
  fail(call, detail);
}

void NcclCommunicator::check_device_ptr(const void* ptr, int64_t count, const char* call,
                                        const char* what) const {
  if (count == 0) return;
  SY_CHECK(ptr != nullptr, call, ": null ", what, " for ", count, " elements");
  cudaPointerAttributes attributes;
  const cudaError_t status = cudaPointerGetAttributes(&attributes, ptr);
  if (status != cudaSuccess) cudaGetLastError();  // not sticky: clear it
  const bool device_memory =
      status == cudaSuccess &&
      (attributes.type == cudaMemoryTypeManaged ||
       (attributes.type == cudaMemoryTypeDevice && attributes.device == device_));
  SY_CHECK(device_memory, call, ": ", what, " is not memory of GPU ", device_,
           " (NcclCommunicator takes device buffers, e.g. from cudaMalloc)");
}

bool NcclCommunicator::query(cudaEvent_t event, const char* call) {
  const cudaError_t status = event != nullptr ? cudaEventQuery(event) : cudaStreamQuery(stream_);
  if (status == cudaSuccess) return true;
  if (status != cudaErrorNotReady) {
    fail(call, std::string("CUDA error while waiting: ") + cudaGetErrorString(status));
  }
  ncclResult_t async_error = ncclSuccess;
  SY_NCCL_CHECK(ncclCommGetAsyncError, comm_, &async_error);
  check(async_error, call);
  return false;
}

void NcclCommunicator::wait_for(cudaEvent_t event, const char* call) {
  while (!query(event, call)) std::this_thread::yield();
}

// --- Collectives --------------------------------------------------------------------------------

void NcclCommunicator::all_reduce_typed(void* data, int64_t count, ncclDataType_t type,
                                        ReduceOp op) {
  const size_t n = to_size(count, "ncclAllReduce", "count");
  check_device_ptr(data, count, "ncclAllReduce", "buffer");
  SY_NCCL_CHECK(ncclAllReduce, data, data, n, type, to_nccl(op), comm_, stream_);
  wait_for(nullptr, "ncclAllReduce");
}

void NcclCommunicator::all_reduce(float* data, int64_t count, ReduceOp op) {
  all_reduce_typed(data, count, ncclFloat, op);
}

void NcclCommunicator::all_reduce(double* data, int64_t count, ReduceOp op) {
  all_reduce_typed(data, count, ncclDouble, op);
}

void NcclCommunicator::all_reduce(int64_t* data, int64_t count, ReduceOp op) {
  all_reduce_typed(data, count, ncclInt64, op);
}

std::unique_ptr<PendingCollective> NcclCommunicator::all_reduce_async(float* data, int64_t count,
                                                                      ReduceOp op) {
  const size_t n = to_size(count, "ncclAllReduce", "count");
  check_device_ptr(data, count, "ncclAllReduce", "buffer");
  // stream_ is non-blocking, so it does not wait for the default stream by itself.
  cudaEvent_t produced = nullptr;
  SY_CUDA_CHECK(cudaEventCreateWithFlags(&produced, cudaEventDisableTiming));
  struct Destroy {
    cudaEvent_t e;
    ~Destroy() { cudaEventDestroy(e); }  // released once the wait below is satisfied
  } destroy_produced{produced};
  SY_CUDA_CHECK(cudaEventRecord(produced, cudaStreamLegacy));
  SY_CUDA_CHECK(cudaStreamWaitEvent(stream_, produced, 0));
  cudaEvent_t done = nullptr;
  SY_CUDA_CHECK(cudaEventCreateWithFlags(&done, cudaEventDisableTiming));
  auto handle = std::make_unique<CollectiveHandle>(this, done, "ncclAllReduce");  // owns `done`
  SY_NCCL_CHECK(ncclAllReduce, data, data, n, ncclFloat, to_nccl(op), comm_, stream_);
  SY_CUDA_CHECK(cudaEventRecord(done, stream_));
  return handle;
}

void NcclCommunicator::broadcast(void* data, int64_t bytes, int root) {
  SY_CHECK(root >= 0 && root < size_, "broadcast: root ", root, " is not a rank of a ", size_,
           "-rank communicator");
  const size_t n = to_size(bytes, "ncclBroadcast", "byte count");
  check_device_ptr(data, bytes, "ncclBroadcast", "buffer");
  SY_NCCL_CHECK(ncclBroadcast, data, data, n, ncclChar, root, comm_, stream_);
  wait_for(nullptr, "ncclBroadcast");
}

void NcclCommunicator::all_gather(const float* send, float* recv, int64_t count) {
  const size_t n = to_size(count, "ncclAllGather", "count");
  check_device_ptr(send, count, "ncclAllGather", "send buffer");
  check_device_ptr(recv, count, "ncclAllGather", "receive buffer");
  SY_NCCL_CHECK(ncclAllGather, send, recv, n, ncclFloat, comm_, stream_);
  wait_for(nullptr, "ncclAllGather");
}

void NcclCommunicator::reduce_scatter(const float* send, float* recv, int64_t count) {
  const size_t n = to_size(count, "ncclReduceScatter", "count");
  check_device_ptr(send, count, "ncclReduceScatter", "send buffer");
  check_device_ptr(recv, count, "ncclReduceScatter", "receive buffer");
  SY_NCCL_CHECK(ncclReduceScatter, send, recv, n, ncclFloat, ncclSum, comm_, stream_);
  wait_for(nullptr, "ncclReduceScatter");
}

void NcclCommunicator::all_to_all_v(const float* send, const std::vector<int64_t>& send_counts,
                                    const std::vector<int64_t>& send_offsets, float* recv,
                                    const std::vector<int64_t>& recv_counts,
                                    const std::vector<int64_t>& recv_offsets) {
  check_all_to_all_v_args(size_, send_counts, send_offsets, recv_counts, recv_offsets);
  const size_t n = static_cast<size_t>(size_);
  int64_t send_total = 0;
  int64_t recv_total = 0;
  for (size_t r = 0; r < n; ++r) {
    to_size(send_counts[r], "all_to_all_v", "send count");
    to_size(send_offsets[r], "all_to_all_v", "send offset");
    to_size(recv_counts[r], "all_to_all_v", "receive count");
    to_size(recv_offsets[r], "all_to_all_v", "receive offset");
    send_total += send_counts[r];
    recv_total += recv_counts[r];
  }
  const size_t self = static_cast<size_t>(rank_);
  SY_CHECK(send_counts[self] == recv_counts[self], "all_to_all_v: rank ", rank_, " sends ",
           send_counts[self], " floats to itself but receives ", recv_counts[self]);
  check_device_ptr(send, send_total, "all_to_all_v", "send buffer");
  check_device_ptr(recv, recv_total, "all_to_all_v", "receive buffer");

  if (send_counts[self] > 0) {  // this rank's own block: a copy on the stream
    SY_CUDA_CHECK(cudaMemcpyAsync(recv + recv_offsets[self], send + send_offsets[self],
                                  static_cast<size_t>(send_counts[self]) * sizeof(float),
                                  cudaMemcpyDeviceToDevice, stream_));
  }
  // A group must be ended even when a call inside it failed: keep the first error, end, check.
  ncclResult_t result = ncclGroupStart();
  const char* failed_call = "ncclGroupStart";
  if (result == ncclSuccess) {
    for (size_t r = 0; r < n && result == ncclSuccess; ++r) {
      if (r == self) continue;
      const int peer = static_cast<int>(r);
      if (send_counts[r] > 0) {
        result = ncclSend(send + send_offsets[r], static_cast<size_t>(send_counts[r]), ncclFloat,
                          peer, comm_, stream_);
        failed_call = "ncclSend";
      }
      if (result == ncclSuccess && recv_counts[r] > 0) {
        result = ncclRecv(recv + recv_offsets[r], static_cast<size_t>(recv_counts[r]), ncclFloat,
                          peer, comm_, stream_);
        failed_call = "ncclRecv";
      }
    }
    const ncclResult_t end = ncclGroupEnd();
    if (result == ncclSuccess) {
      result = end;
      failed_call = "ncclGroupEnd";
    }
  }
  check(result, failed_call);
  wait_for(nullptr, "all_to_all_v");
}

void NcclCommunicator::send(const float* data, int64_t count, int dest, int tag) {
  check_peer(/*sending=*/true, rank_, size_, dest, tag);
  const size_t n = to_size(count, "ncclSend", "count");
  check_device_ptr(data, count, "ncclSend", "buffer");
  SY_NCCL_CHECK(ncclSend, data, n, ncclFloat, dest, comm_, stream_);
  wait_for(nullptr, "ncclSend");
}

void NcclCommunicator::recv(float* data, int64_t count, int source, int tag) {
  check_peer(/*sending=*/false, rank_, size_, source, tag);
  const size_t n = to_size(count, "ncclRecv", "count");
  check_device_ptr(data, count, "ncclRecv", "buffer");
  SY_NCCL_CHECK(ncclRecv, data, n, ncclFloat, source, comm_, stream_);
  wait_for(nullptr, "ncclRecv");
}

void NcclCommunicator::barrier() {
  SY_NCCL_CHECK(ncclAllReduce, barrier_word_, barrier_word_, 1, ncclInt32, ncclSum, comm_, stream_);
  wait_for(nullptr, "barrier (ncclAllReduce)");
}

std::unique_ptr<Communicator> NcclCommunicator::split(int color, int key) {
  SY_CHECK(color >= 0, "split: color ", color, " must be >= 0");
#if NCCL_VERSION_CODE >= NCCL_VERSION(2, 18, 0)
  std::unique_ptr<NcclCommunicator> out(new NcclCommunicator(device_));
  ncclComm_t comm = nullptr;
  SY_NCCL_CHECK(ncclCommSplit, comm_, color, key, &comm, nullptr);
  out->comm_ = comm;
  out->init_resources();
  return out;
#else
  (void)key;
  SY_FAIL(ErrorKind::kInternal, "split needs NCCL >= 2.18 (this build has ", NCCL_MAJOR, ".",
          NCCL_MINOR, ")");
#endif
}

}  // namespace sy::parallel
