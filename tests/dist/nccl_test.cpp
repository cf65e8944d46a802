// NcclCommunicator on GPU buffers against known values, run as `mpirun -np 2` (or alone): every
// rank contributes rank-dependent data in cudaMalloc'd memory and checks what it receives. Every
// test skips when there is no GPU, or fewer GPUs than ranks (NCCL needs one GPU per rank); the
// condition is the same on every rank, so no rank is left alone in a collective.
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "core/backends/device_memory.h"
#include "core/common/error.h"
#include "parallel/comm/nccl_communicator.h"
#include "tests/dist/dist_world.h"

namespace sy::parallel {
namespace {

using testing::dist_world;

// A device array of T, filled from and read back to host vectors.
template <typename T>
class DeviceArray {
 public:
  explicit DeviceArray(const std::vector<T>& values) : count_(values.size()) {
    if (count_ == 0) return;
    EXPECT_EQ(cudaMalloc(reinterpret_cast<void**>(&ptr_), count_ * sizeof(T)), cudaSuccess);
    EXPECT_EQ(cudaMemcpy(ptr_, values.data(), count_ * sizeof(T), cudaMemcpyHostToDevice),
              cudaSuccess);
  }
  ~DeviceArray() {
    if (ptr_ != nullptr) cudaFree(ptr_);
  }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;

  T* get() { return ptr_; }
  std::vector<T> host() const {
    std::vector<T> out(count_);
    if (count_ > 0) {
      EXPECT_EQ(cudaMemcpy(out.data(), ptr_, count_ * sizeof(T), cudaMemcpyDeviceToHost),
                cudaSuccess);
    }
    return out;
  }

 private:
  size_t count_;
  T* ptr_ = nullptr;
};

class NcclTest : public ::testing::Test {
 protected:
  // The communicator is made by the first test that runs and shared by the others.
  static void TearDownTestSuite() { shared_comm.reset(); }  // before MPI_Finalize, CUDA teardown

  void SetUp() override {
    // The marker "NCCL tests skipped" is ctest's SKIP_REGULAR_EXPRESSION (tests/CMakeLists.txt).
    if (!sy::core::cuda_available()) GTEST_SKIP() << "NCCL tests skipped: no CUDA device";
    int devices = 0;
    ASSERT_EQ(cudaGetDeviceCount(&devices), cudaSuccess);
    if (devices < dist_world().size()) {
      GTEST_SKIP() << "NCCL tests skipped: " << dist_world().size()
                   << " ranks need as many GPUs, found " << devices;
    }
    if (shared_comm == nullptr) {
      shared_comm = NcclCommunicator::create(dist_world(), dist_world().rank());
    }
  }

  NcclCommunicator& comm() { return *shared_comm; }

  static std::unique_ptr<NcclCommunicator> shared_comm;
};

std::unique_ptr<NcclCommunicator> NcclTest::shared_comm;

// 0 + 1 + ... + (n - 1).
int rank_sum(int n) { return n * (n - 1) / 2; }

// Element i of rank r: r * scale + i (exact in every type for the sizes used here).
template <typename T>
void check_all_reduce(NcclCommunicator& c, T scale) {
  const int n = c.size();
  const int64_t count = 37;
  std::vector<T> values(count);
  for (int64_t i = 0; i < count; ++i) values[i] = static_cast<T>(c.rank()) * scale + T(i);
  DeviceArray<T> sum(values), max(values);
  c.all_reduce(sum.get(), count, ReduceOp::kSum);
  c.all_reduce(max.get(), count, ReduceOp::kMax);
  const std::vector<T> got_sum = sum.host(), got_max = max.host();
  for (int64_t i = 0; i < count; ++i) {
    EXPECT_EQ(got_sum[i], static_cast<T>(rank_sum(n)) * scale + static_cast<T>(n) * T(i))
        << "element " << i;
    EXPECT_EQ(got_max[i], static_cast<T>(n - 1) * scale + T(i)) << "element " << i;
  }
}

TEST_F(NcclTest, NameAndRanksMatchTheWorld) {
  EXPECT_EQ(comm().name(), "nccl");
  EXPECT_EQ(comm().rank(), dist_world().rank());
  EXPECT_EQ(comm().size(), dist_world().size());
}

TEST_F(NcclTest, AllReduceFloat) { check_all_reduce<float>(comm(), 100.0f); }
TEST_F(NcclTest, AllReduceDouble) { check_all_reduce<double>(comm(), 1e6); }
TEST_F(NcclTest, AllReduceInt64) { check_all_reduce<int64_t>(comm(), int64_t{1} << 40); }

TEST_F(NcclTest, AllReduceZeroCount) {
  EXPECT_NO_THROW(comm().all_reduce(static_cast<float*>(nullptr), 0, ReduceOp::kSum));
}

TEST_F(NcclTest, AllReduceAsyncThenWait) {
  const int n = comm().size();
  DeviceArray<float> data(std::vector<float>(1000, static_cast<float>(comm().rank() + 1)));
  std::unique_ptr<PendingCollective> handle =
      comm().all_reduce_async(data.get(), 1000, ReduceOp::kSum);
  handle->wait();
  handle->wait();  // a no-op the second time
  EXPECT_TRUE(handle->test());
  for (float v : data.host()) ASSERT_EQ(v, static_cast<float>(rank_sum(n + 1)));
}

TEST_F(NcclTest, AllReduceAsyncSeveralInFlightThroughTheBaseClass) {
  // Three in flight, completed by test() in reverse order of issue, through Communicator&.
  Communicator& base = comm();
  const int n = base.size();
  std::vector<std::unique_ptr<DeviceArray<float>>> data;
  std::vector<std::unique_ptr<PendingCollective>> handles;
  for (int k = 0; k < 3; ++k) {
    data.push_back(std::make_unique<DeviceArray<float>>(
        std::vector<float>(100 + k, static_cast<float>(comm().rank() + 10 * k))));
    handles.push_back(base.all_reduce_async(data.back()->get(), 100 + k, ReduceOp::kSum));
  }
  std::unique_ptr<PendingCollective> empty = base.all_reduce_async(nullptr, 0, ReduceOp::kSum);
  for (int k = 2; k >= 0; --k) {
    while (!handles[k]->test()) {
    }
  }
  empty->wait();
  for (int k = 0; k < 3; ++k) {
    for (float v : data[k]->host()) ASSERT_EQ(v, static_cast<float>(rank_sum(n) + n * 10 * k));
  }
}

TEST_F(NcclTest, BroadcastFromLastRank) {
  const int root = comm().size() - 1;
  std::vector<int64_t> values = {comm().rank() * 7, -5, comm().rank()};
  DeviceArray<int64_t> data(values);
  comm().broadcast(data.get(), static_cast<int64_t>(values.size() * sizeof(int64_t)), root);
  EXPECT_EQ(data.host(), (std::vector<int64_t>{root * 7, -5, root}));
}

TEST_F(NcclTest, AllGather) {
  const int n = comm().size();
  const int64_t count = 3;
  std::vector<float> mine(count);
  for (int64_t i = 0; i < count; ++i) mine[i] = static_cast<float>(comm().rank() * 10 + i);
  DeviceArray<float> send(mine);
  DeviceArray<float> recv(std::vector<float>(n * count, -1.0f));
  comm().all_gather(send.get(), recv.get(), count);
  const std::vector<float> got = recv.host();
  for (int r = 0; r < n; ++r) {
    for (int64_t i = 0; i < count; ++i) {
      EXPECT_EQ(got[r * count + i], static_cast<float>(r * 10 + i)) << "rank " << r;
    }
  }
}

TEST_F(NcclTest, ReduceScatter) {
  const int n = comm().size();
  const int64_t count = 4;
  std::vector<float> values(n * count);  // element j of rank r: r + j
  for (int64_t j = 0; j < n * count; ++j) values[j] = static_cast<float>(comm().rank() + j);
  DeviceArray<float> send(values);
  DeviceArray<float> recv(std::vector<float>(count, 0.0f));
  comm().reduce_scatter(send.get(), recv.get(), count);
  const std::vector<float> got = recv.host();
  for (int64_t i = 0; i < count; ++i) {
    const int64_t j = comm().rank() * count + i;
    EXPECT_EQ(got[i], static_cast<float>(rank_sum(n) + n * j)) << "element " << i;
  }
}

// Rank r sends r + 1 floats (value 100 * r + peer) to every peer, except nothing to rank 0; so
// rank 0 receives nothing at all and zero counts appear on every rank.
TEST_F(NcclTest, AllToAllVWithZeroCounts) {
  const int n = comm().size();
  const int me = comm().rank();
  std::vector<int64_t> send_counts(n), send_offsets(n), recv_counts(n), recv_offsets(n);
  std::vector<float> send_values;
  int64_t recv_total = 0;
  for (int peer = 0; peer < n; ++peer) {
    send_offsets[peer] = static_cast<int64_t>(send_values.size());
    send_counts[peer] = peer == 0 ? 0 : me + 1;
    for (int64_t i = 0; i < send_counts[peer]; ++i) send_values.push_back(100.0f * me + peer);
    recv_offsets[peer] = recv_total;
    recv_counts[peer] = me == 0 ? 0 : peer + 1;
    recv_total += recv_counts[peer];
  }
  DeviceArray<float> send(send_values);
  DeviceArray<float> recv(std::vector<float>(recv_total, -1.0f));
  comm().all_to_all_v(send.get(), send_counts, send_offsets, recv.get(), recv_counts, recv_offsets);
  const std::vector<float> got = recv.host();
  for (int peer = 0; peer < n; ++peer) {
    for (int64_t i = 0; i < recv_counts[peer]; ++i) {
      EXPECT_EQ(got[recv_offsets[peer] + i], 100.0f * peer + me) << "from rank " << peer;
    }
  }
}

TEST_F(NcclTest, SendRecvRing) {
  const int n = comm().size();
  if (n < 2) return;  // nobody to send to
  const int me = comm().rank();
  const int64_t count = 1 << 16;
  DeviceArray<float> out(std::vector<float>(count, static_cast<float>(me)));
  DeviceArray<float> in(std::vector<float>(count, -1.0f));
  const int next = (me + 1) % n;
  const int prev = (me + n - 1) % n;
  if (me % 2 == 0) {  // even ranks send first, odd ones receive first: no cycle of waits
    comm().send(out.get(), count, next, 0);
    comm().recv(in.get(), count, prev, 0);
  } else {
    comm().recv(in.get(), count, prev, 0);
    comm().send(out.get(), count, next, 0);
  }
  for (float v : in.host()) ASSERT_EQ(v, static_cast<float>(prev));
}

// One group with reversed keys: the new rank order is the reverse of the old one.
TEST_F(NcclTest, SplitReversesRanks) {
  const int n = comm().size();
  std::unique_ptr<Communicator> reversed = comm().split(0, n - 1 - comm().rank());
  ASSERT_EQ(reversed->size(), n);
  EXPECT_EQ(reversed->name(), "nccl");
  EXPECT_EQ(reversed->rank(), n - 1 - comm().rank());
  DeviceArray<float> value(std::vector<float>{static_cast<float>(reversed->rank())});
  reversed->all_reduce(value.get(), 1, ReduceOp::kMax);
  EXPECT_EQ(value.host()[0], static_cast<float>(n - 1));
}

TEST_F(NcclTest, Barrier) {
  EXPECT_NO_THROW(comm().barrier());
  EXPECT_NO_THROW(comm().barrier());
}

TEST_F(NcclTest, HostPointerIsAnInternalError) {
  float host = 1.0f;
  try {
    comm().all_reduce(&host, 1, ReduceOp::kSum);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInternal);
  }
}

}  // namespace
}  // namespace sy::parallel
