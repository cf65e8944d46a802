// MpiCommunicator: each Communicator call mapped onto one MPI call (or a few, for chunking), with
// every return code checked. See mpi_communicator.h for the error and count rules.
#include "parallel/comm/mpi_communicator.h"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "core/common/error.h"
#include "parallel/comm/runtime.h"

namespace sy::parallel {
namespace {

// all_reduce and broadcast move buffers larger than this many elements in several calls.
constexpr int64_t kMaxChunk = int64_t{1} << 30;

// MPI may reject a null buffer even for a zero count; such calls pass a local scratch word.
struct Scratch {
  alignas(8) char bytes[8];
};

void* nonnull(const void* p, Scratch& scratch) {
  return const_cast<void*>(p != nullptr ? p : scratch.bytes);
}

MPI_Op to_mpi(ReduceOp op) { return op == ReduceOp::kSum ? MPI_SUM : MPI_MAX; }

// An int64 count or offset as MPI's int; kDistributed when it does not fit.
int to_int(int64_t value, const char* call, const char* what) {
  SY_CHECK(value >= 0, call, ": negative ", what, " ", value);
  SY_REQUIRE(ErrorKind::kDistributed, value <= INT_MAX, call, ": ", what, " ", value,
             " does not fit in MPI's int count (at most ", INT_MAX,
             "); split the exchange into smaller ones");
  return static_cast<int>(value);
}

std::vector<int> to_ints(const std::vector<int64_t>& values, const char* call, const char* what) {
  std::vector<int> out(values.size());
  for (size_t i = 0; i < values.size(); ++i) out[i] = to_int(values[i], call, what);
  return out;
}

// The requests of one all_reduce_async (one per chunk). Completed requests become
// MPI_REQUEST_NULL; done_ is set once all have.
class MpiPendingCollective final : public PendingCollective {
 public:
  // call: what started the requests, for error messages ("MPI_Iallreduce", "MPI_Isend").
  explicit MpiPendingCollective(const char* call) : call_(call) {}
  MpiPendingCollective(const MpiPendingCollective&) = delete;
  MpiPendingCollective& operator=(const MpiPendingCollective&) = delete;
  ~MpiPendingCollective() override {
    if (done_ || std::uncaught_exceptions() > 0) return;
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) {
      MPI_Waitall(static_cast<int>(requests_.size()), requests_.data(), MPI_STATUSES_IGNORE);
    }
  }

  std::vector<MPI_Request>& requests() { return requests_; }

  bool test() override {
    if (done_) return true;
    int flag = 0;
    check(MPI_Testall(count(), requests_.data(), &flag, statuses()), "MPI_Testall");
    done_ = flag != 0;
    return done_;
  }

  void wait() override {
    if (done_) return;
    check(MPI_Waitall(count(), requests_.data(), statuses()), "MPI_Waitall");
    done_ = true;
  }

 private:
  int count() const { return static_cast<int>(requests_.size()); }
  MPI_Status* statuses() {
    statuses_.resize(requests_.size());
    return statuses_.data();
  }
  // MPI_ERR_IN_STATUS: the failed request's own code says what went wrong.
  void check(int rc, const char* call) {
    if (rc == MPI_ERR_IN_STATUS) {
      for (const MPI_Status& s : statuses_) {
        if (s.MPI_ERROR != MPI_SUCCESS && s.MPI_ERROR != MPI_ERR_PENDING) {
          check_mpi(s.MPI_ERROR, call_);
        }
      }
    }
    check_mpi(rc, call);
  }

  const char* call_;
  std::vector<MPI_Request> requests_;
  std::vector<MPI_Status> statuses_;
  bool done_ = false;
};

// The buffer of a zero-count MPI_Iallreduce: MPI may reject null, and a nonblocking call's buffer
// must outlive the call, so it is not a local.
Scratch g_zero_count_buffer;

}  // namespace

void check_mpi(int rc, const char* call) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING + 1] = {};
  int length = 0;
  if (MPI_Error_string(rc, text, &length) != MPI_SUCCESS) {
    std::snprintf(text, sizeof(text), "MPI error code %d", rc);
  }
  int initialized = 0;
  int finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  int world_rank = -1;
  if (initialized && !finalized) MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
  SY_FAIL(ErrorKind::kDistributed, call, " failed on rank ", world_rank, " (host ", hostname(),
          "): ", text);
}

MpiCommunicator::MpiCommunicator(MPI_Comm comm, bool owned) : comm_(comm), owned_(owned) {
  SY_CHECK(comm != MPI_COMM_NULL, "MpiCommunicator over MPI_COMM_NULL");
  check_mpi(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
  check_mpi(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
  check_mpi(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
}

MpiCommunicator::~MpiCommunicator() {
  if (!owned_ || comm_ == MPI_COMM_NULL) return;
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Comm_free(&comm_);  // a failure here cannot be reported; ignore it
}

void MpiCommunicator::all_reduce_chunked(void* data, int64_t count, MPI_Datatype type,
                                         int64_t elem_bytes, ReduceOp op) {
  SY_CHECK(count >= 0, "all_reduce: negative count ", count);
  Scratch scratch;
  char* bytes = static_cast<char*>(nonnull(data, scratch));
  int64_t done = 0;
  do {  // at least one call, so a zero-count all_reduce is still a collective on every rank
    const int64_t n = std::min(kMaxChunk, count - done);
    check_mpi(MPI_Allreduce(MPI_IN_PLACE, bytes + done * elem_bytes, static_cast<int>(n), type,
                            to_mpi(op), comm_),
              "MPI_Allreduce");
    done += n;
  } while (done < count);
}

void MpiCommunicator::all_reduce(float* data, int64_t count, ReduceOp op) {
  all_reduce_chunked(data, count, MPI_FLOAT, sizeof(float), op);
}

void MpiCommunicator::all_reduce(double* data, int64_t count, ReduceOp op) {
  all_reduce_chunked(data, count, MPI_DOUBLE, sizeof(double), op);
}

void MpiCommunicator::all_reduce(int64_t* data, int64_t count, ReduceOp op) {
  all_reduce_chunked(data, count, MPI_INT64_T, sizeof(int64_t), op);
}

std::unique_ptr<PendingCollective> MpiCommunicator::all_reduce_async(float* data, int64_t count,
                                                                     ReduceOp op) {
  SY_CHECK(count >= 0, "all_reduce_async: negative count ", count);
  SY_CHECK(count == 0 || data != nullptr, "all_reduce_async: null buffer for ", count, " elements");
  auto pending = std::make_unique<MpiPendingCollective>("MPI_Iallreduce");
  float* p = count > 0 ? data : reinterpret_cast<float*>(g_zero_count_buffer.bytes);
  int64_t done = 0;
  do {  // at least one call, so a zero count is still a collective on every rank
    const int64_t n = std::min(kMaxChunk, count - done);
    MPI_Request request = MPI_REQUEST_NULL;
    check_mpi(MPI_Iallreduce(MPI_IN_PLACE, p + done, static_cast<int>(n), MPI_FLOAT, to_mpi(op),
                             comm_, &request),
              "MPI_Iallreduce");
    pending->requests().push_back(request);
    done += n;
  } while (done < count);
  return pending;
}

void MpiCommunicator::broadcast(void* data, int64_t bytes, int root) {
  SY_CHECK(root >= 0 && root < size_, "broadcast: root ", root, " is not a rank of a ", size_,
           "-rank communicator");
  SY_CHECK(bytes >= 0, "broadcast: negative byte count ", bytes);
  Scratch scratch;
  char* p = static_cast<char*>(nonnull(data, scratch));
  int64_t done = 0;
  do {
    const int64_t n = std::min(kMaxChunk, bytes - done);
    check_mpi(MPI_Bcast(p + done, static_cast<int>(n), MPI_BYTE, root, comm_), "MPI_Bcast");
    done += n;
  } while (done < bytes);
}

void MpiCommunicator::all_gather(const float* send, float* recv, int64_t count) {
  const int n = to_int(count, "MPI_Allgather", "count");
  Scratch s1, s2;
  check_mpi(MPI_Allgather(nonnull(send, s1), n, MPI_FLOAT, nonnull(recv, s2), n, MPI_FLOAT, comm_),
            "MPI_Allgather");
}

void MpiCommunicator::reduce_scatter(const float* send, float* recv, int64_t count) {
  const int n = to_int(count, "MPI_Reduce_scatter_block", "count");
  Scratch s1, s2;
  check_mpi(
      MPI_Reduce_scatter_block(nonnull(send, s1), nonnull(recv, s2), n, MPI_FLOAT, MPI_SUM, comm_),
      "MPI_Reduce_scatter_block");
}

void MpiCommunicator::all_to_all_v(const float* send, const std::vector<int64_t>& send_counts,
                                   const std::vector<int64_t>& send_offsets, float* recv,
                                   const std::vector<int64_t>& recv_counts,
                                   const std::vector<int64_t>& recv_offsets) {
  check_all_to_all_v_args(size_, send_counts, send_offsets, recv_counts, recv_offsets);
  const char* call = "MPI_Alltoallv";
  const std::vector<int> sc = to_ints(send_counts, call, "send count");
  const std::vector<int> so = to_ints(send_offsets, call, "send offset");
  const std::vector<int> rc = to_ints(recv_counts, call, "receive count");
  const std::vector<int> ro = to_ints(recv_offsets, call, "receive offset");
  Scratch s1, s2;
  check_mpi(MPI_Alltoallv(nonnull(send, s1), sc.data(), so.data(), MPI_FLOAT, nonnull(recv, s2),
                          rc.data(), ro.data(), MPI_FLOAT, comm_),
            call);
}

void MpiCommunicator::send(const float* data, int64_t count, int dest, int tag) {
  check_peer(/*sending=*/true, rank_, size_, dest, tag);
  const int n = to_int(count, "MPI_Send", "count");
  Scratch scratch;
  check_mpi(MPI_Send(nonnull(data, scratch), n, MPI_FLOAT, dest, tag, comm_), "MPI_Send");
}

std::unique_ptr<PendingCollective> MpiCommunicator::send_async(const float* data, int64_t count,
                                                               int dest, int tag) {
  check_peer(/*sending=*/true, rank_, size_, dest, tag);
  const int n = to_int(count, "MPI_Isend", "count");
  auto pending = std::make_unique<MpiPendingCollective>("MPI_Isend");
  MPI_Request request = MPI_REQUEST_NULL;
  // A zero-count send still needs a valid buffer that outlives the call.
  check_mpi(MPI_Isend(nonnull(data, g_zero_count_buffer), n, MPI_FLOAT, dest, tag, comm_, &request),
            "MPI_Isend");
  pending->requests().push_back(request);
  return pending;
}

void MpiCommunicator::recv(float* data, int64_t count, int source, int tag) {
  check_peer(/*sending=*/false, rank_, size_, source, tag);
  const int n = to_int(count, "MPI_Recv", "count");
  MPI_Status status;
  Scratch scratch;
  check_mpi(MPI_Recv(nonnull(data, scratch), n, MPI_FLOAT, source, tag, comm_, &status),
            "MPI_Recv");
  int received = 0;
  check_mpi(MPI_Get_count(&status, MPI_FLOAT, &received), "MPI_Get_count");
  SY_REQUIRE(ErrorKind::kDistributed, received == n, "MPI_Recv from rank ", source, " tag ", tag,
             ": expected ", n, " floats, got ", received);
}

void MpiCommunicator::barrier() { check_mpi(MPI_Barrier(comm_), "MPI_Barrier"); }

std::unique_ptr<Communicator> MpiCommunicator::split(int color, int key) {
  SY_CHECK(color >= 0, "split: color ", color, " must be >= 0");
  MPI_Comm out = MPI_COMM_NULL;
  check_mpi(MPI_Comm_split(comm_, color, key, &out), "MPI_Comm_split");
  return std::make_unique<MpiCommunicator>(out, /*owned=*/true);
}

}  // namespace sy::parallel
