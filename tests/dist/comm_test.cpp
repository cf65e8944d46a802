// Collectives and point-to-point calls of the world communicator against known values: every rank
// contributes rank-dependent data and checks what it receives. Written for any world size; under
// no launcher the world is the 1-rank communicator and the same tests check its identities.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "core/common/error.h"
#include "parallel/comm/communicator.h"
#include "tests/dist/dist_world.h"

namespace sy::parallel {
namespace {

using testing::dist_mpi;
using testing::dist_world;

// Element i of rank r: r * scale + i (exact in every type for the sizes used here).
template <typename T>
void check_all_reduce(T scale) {
  Communicator& w = dist_world();
  const int n = w.size();
  const int64_t count = 37;
  std::vector<T> sum(count), max(count);
  for (int64_t i = 0; i < count; ++i) {
    sum[i] = max[i] = static_cast<T>(w.rank()) * scale + static_cast<T>(i);
  }
  w.all_reduce(sum.data(), count, ReduceOp::kSum);
  w.all_reduce(max.data(), count, ReduceOp::kMax);
  const int rank_sum_int = n * (n - 1) / 2;  // 0 + 1 + ... + (n-1)
  const T rank_sum = static_cast<T>(rank_sum_int);
  for (int64_t i = 0; i < count; ++i) {
    EXPECT_EQ(sum[i], rank_sum * scale + static_cast<T>(n) * static_cast<T>(i)) << "element " << i;
    EXPECT_EQ(max[i], static_cast<T>(n - 1) * scale + static_cast<T>(i)) << "element " << i;
  }
}

TEST(DistComm, WorldMatchesLauncher) {
  EXPECT_EQ(dist_world().name(), dist_mpi() ? "mpi" : "single");
  EXPECT_GE(dist_world().rank(), 0);
  EXPECT_LT(dist_world().rank(), dist_world().size());
}

TEST(DistComm, AllReduceFloat) { check_all_reduce<float>(100.0f); }
TEST(DistComm, AllReduceDouble) { check_all_reduce<double>(1e6); }
// A scale above 2^32 checks that all 64 bits travel.
TEST(DistComm, AllReduceInt64) { check_all_reduce<int64_t>(int64_t{1} << 40); }

TEST(DistComm, AllReduceMaxOfNegativeValues) {
  Communicator& w = dist_world();
  double v = -1.0 - w.rank();
  w.all_reduce(&v, 1, ReduceOp::kMax);
  EXPECT_EQ(v, -1.0);
}

TEST(DistComm, AllReduceZeroCount) {
  EXPECT_NO_THROW(dist_world().all_reduce(static_cast<float*>(nullptr), 0, ReduceOp::kSum));
}

// Element i of rank r in async buffer k: r + 10 k + i % 7 (exact in float).
std::vector<float> async_values(int rank, int k, int64_t count) {
  std::vector<float> v(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) v[i] = static_cast<float>(rank + 10 * k + i % 7);
  return v;
}

void expect_async_sum(const std::vector<float>& got, int k) {
  const int n = dist_world().size();
  const int rank_sum = n * (n - 1) / 2;
  for (size_t i = 0; i < got.size(); ++i) {
    const float want = static_cast<float>(rank_sum + n * (10 * k + static_cast<int>(i % 7)));
    if (got[i] != want) {
      ADD_FAILURE() << "buffer " << k << " element " << i << ": " << got[i] << ", want " << want;
      return;
    }
  }
}

TEST(DistComm, AllReduceAsyncKnownValues) {
  Communicator& w = dist_world();
  std::vector<float> sum = async_values(w.rank(), 0, 37);
  std::vector<float> max = async_values(w.rank(), 0, 37);
  std::unique_ptr<PendingCollective> s = w.all_reduce_async(sum.data(), 37, ReduceOp::kSum);
  std::unique_ptr<PendingCollective> m = w.all_reduce_async(max.data(), 37, ReduceOp::kMax);
  s->wait();
  m->wait();
  m->wait();  // a no-op once complete
  EXPECT_TRUE(s->test());
  expect_async_sum(sum, 0);
  for (int64_t i = 0; i < 37; ++i) EXPECT_EQ(max[i], static_cast<float>(w.size() - 1 + i % 7));
}

TEST(DistComm, AllReduceAsyncSeveralInFlight) {
  // Four in flight (one of 4 MiB, past the eager limit), a blocking all-reduce issued among them,
  // then completed out of issue order: the last by test() polling, the others by wait().
  Communicator& w = dist_world();
  const std::vector<int64_t> counts = {5, int64_t{1} << 20, 0, 1000};
  std::vector<std::vector<float>> data;
  std::vector<std::unique_ptr<PendingCollective>> pending;
  for (size_t k = 0; k < counts.size(); ++k) {
    data.push_back(async_values(w.rank(), static_cast<int>(k), counts[k]));
    pending.push_back(w.all_reduce_async(data[k].data(), counts[k], ReduceOp::kSum));
    if (k == 1) {
      int64_t blocking = w.rank() + 1;
      w.all_reduce(&blocking, 1, ReduceOp::kSum);
      EXPECT_EQ(blocking, int64_t{w.size()} * (w.size() + 1) / 2);
    }
  }
  while (!pending[3]->test()) {
  }
  EXPECT_TRUE(pending[3]->test());  // stays true
  for (int k = 2; k >= 0; --k) pending[static_cast<size_t>(k)]->wait();
  for (size_t k = 0; k < counts.size(); ++k) expect_async_sum(data[k], static_cast<int>(k));
}

TEST(DistComm, AllReduceAsyncZeroCount) {
  std::unique_ptr<PendingCollective> p = dist_world().all_reduce_async(nullptr, 0, ReduceOp::kSum);
  p->wait();
  EXPECT_TRUE(p->test());
}

TEST(DistComm, AllReduceAsyncHandleDestroyedBeforeWait) {
  // MPI: the destructor waits, so the buffer holds the result afterwards.
  std::vector<float> data = async_values(dist_world().rank(), 3, 64);
  dist_world().all_reduce_async(data.data(), 64, ReduceOp::kSum).reset();
  expect_async_sum(data, 3);
}

TEST(DistComm, AllReduceAsyncRejectsBadArguments) {
  // Raised before any MPI call, on every rank alike.
  float x = 0;
  EXPECT_THROW(dist_world().all_reduce_async(&x, -1, ReduceOp::kSum), Error);
  EXPECT_THROW(dist_world().all_reduce_async(nullptr, 3, ReduceOp::kSum), Error);
}

TEST(DistComm, BroadcastFromLastRank) {
  Communicator& w = dist_world();
  const int root = w.size() - 1;  // a non-zero root whenever there are two ranks or more
  char text[32] = {};
  std::snprintf(text, sizeof(text), "from rank %d", w.rank());
  w.broadcast(text, sizeof(text), root);
  EXPECT_EQ(std::string(text), "from rank " + std::to_string(root));

  std::vector<int64_t> values = {w.rank() * 7, -5, w.rank()};
  w.broadcast(values.data(), static_cast<int64_t>(values.size() * sizeof(int64_t)), 0);
  EXPECT_EQ(values, (std::vector<int64_t>{0, -5, 0}));
}

TEST(DistComm, AllGather) {
  Communicator& w = dist_world();
  const int n = w.size();
  const int64_t count = 3;
  std::vector<float> send(count), recv(n * count, -1.0f);
  for (int64_t i = 0; i < count; ++i) send[i] = static_cast<float>(w.rank() * 10 + i);
  w.all_gather(send.data(), recv.data(), count);
  for (int r = 0; r < n; ++r) {
    for (int64_t i = 0; i < count; ++i) {
      EXPECT_EQ(recv[r * count + i], static_cast<float>(r * 10 + i)) << "block " << r;
    }
  }
}

TEST(DistComm, ReduceScatter) {
  Communicator& w = dist_world();
  const int n = w.size();
  const int64_t count = 4;
  std::vector<float> send(n * count), recv(count, -1.0f);
  // Element i of block b on rank s: s + 100 b + i. Rank r receives sum over s of block r.
  for (int b = 0; b < n; ++b) {
    for (int64_t i = 0; i < count; ++i) {
      send[b * count + i] = static_cast<float>(w.rank() + 100 * b + i);
    }
  }
  w.reduce_scatter(send.data(), recv.data(), count);
  for (int64_t i = 0; i < count; ++i) {
    const int64_t rank_sum = n * (n - 1) / 2;
    EXPECT_EQ(recv[i], static_cast<float>(rank_sum + n * (100 * w.rank() + i)));
  }
}

// Floats rank s sends to rank d: none to the last rank (which so receives nothing at all) and
// (s + 2 d) % 3 to the others, so some ranks send nothing to some peers.
int64_t a2a_count(int s, int d, int n) { return d == n - 1 ? 0 : (s + 2 * d) % 3; }
float a2a_value(int s, int d, int64_t k) { return static_cast<float>(1000 * s + 100 * d + k); }

TEST(DistComm, AllToAllVWithZeroCounts) {
  Communicator& w = dist_world();
  const int n = w.size();
  const int me = w.rank();
  // Blocks are laid out with a one-element gap after each, so offsets must be honoured.
  std::vector<int64_t> send_counts(n), send_offsets(n), recv_counts(n), recv_offsets(n);
  int64_t send_total = 0, recv_total = 0;
  for (int r = 0; r < n; ++r) {
    send_counts[r] = a2a_count(me, r, n);
    send_offsets[r] = send_total;
    send_total += send_counts[r] + 1;
    recv_counts[r] = a2a_count(r, me, n);
    recv_offsets[r] = recv_total;
    recv_total += recv_counts[r] + 1;
  }
  std::vector<float> send(send_total, -7.0f);
  for (int r = 0; r < n; ++r) {
    for (int64_t k = 0; k < send_counts[r]; ++k) send[send_offsets[r] + k] = a2a_value(me, r, k);
  }
  const bool receives_nothing =
      std::accumulate(recv_counts.begin(), recv_counts.end(), int64_t{0}) == 0;
  EXPECT_EQ(receives_nothing, me == n - 1);
  std::vector<float> recv(recv_total, -9.0f);
  // The rank that receives nothing passes a null buffer.
  w.all_to_all_v(send.data(), send_counts, send_offsets, receives_nothing ? nullptr : recv.data(),
                 recv_counts, recv_offsets);
  for (int r = 0; r < n; ++r) {
    for (int64_t k = 0; k < recv_counts[r]; ++k) {
      EXPECT_EQ(recv[recv_offsets[r] + k], a2a_value(r, me, k)) << "from rank " << r;
    }
    EXPECT_EQ(recv[recv_offsets[r] + recv_counts[r]], -9.0f) << "gap after rank " << r;
  }
}

TEST(DistComm, AllToAllVChecksArguments) {
  Communicator& w = dist_world();
  std::vector<int64_t> wrong(w.size() + 1, 0);
  std::vector<int64_t> right(w.size(), 0);
  float buf = 0;
  EXPECT_THROW(w.all_to_all_v(&buf, wrong, right, &buf, right, right), Error);
}

void ring(int64_t count, int tag) {
  Communicator& w = dist_world();
  const int n = w.size();
  const int next = (w.rank() + 1) % n;
  const int prev = (w.rank() + n - 1) % n;
  std::vector<float> out(count), in(count, -1.0f);
  for (int64_t i = 0; i < count; ++i) out[i] = static_cast<float>(w.rank() * 3 + i % 1000);
  // Even ranks send first and odd ranks receive first, so large (rendezvous) messages cannot
  // deadlock.
  if (w.rank() % 2 == 0) {
    w.send(out.data(), count, next, tag);
    w.recv(in.data(), count, prev, tag);
  } else {
    w.recv(in.data(), count, prev, tag);
    w.send(out.data(), count, next, tag);
  }
  for (int64_t i = 0; i < count; ++i) {
    if (in[i] != static_cast<float>(prev * 3 + i % 1000)) {
      ADD_FAILURE() << "element " << i << " from rank " << prev << ": " << in[i];
      break;
    }
  }
}

TEST(DistComm, SendRecvRing) {
  if (dist_world().size() == 1) GTEST_SKIP() << "no peer in a 1-rank world";
  ring(5, 3);
  ring(int64_t{1} << 20, 4);  // 4 MiB: past the eager limit
}

TEST(DistComm, SendToSelfIsAnError) {
  Communicator& w = dist_world();
  float x = 1;
  EXPECT_THROW(w.send(&x, 1, w.rank(), 0), Error);
  EXPECT_THROW(w.recv(&x, 1, w.rank(), 0), Error);
  EXPECT_THROW(w.send(&x, 1, w.size(), 0), Error);
}

TEST(DistComm, SplitByParityInReverseOrder) {
  Communicator& w = dist_world();
  const int n = w.size();
  const int me = w.rank();
  std::unique_ptr<Communicator> half = w.split(me % 2, -me);
  std::vector<int> members;  // world ranks of my parity, highest first (key = -rank)
  for (int r = n - 1; r >= 0; --r) {
    if (r % 2 == me % 2) members.push_back(r);
  }
  ASSERT_EQ(half->size(), static_cast<int>(members.size()));
  EXPECT_EQ(members[half->rank()], me);
  std::vector<float> gathered(half->size());
  const float mine = static_cast<float>(me);
  half->all_gather(&mine, gathered.data(), 1);
  for (int i = 0; i < half->size(); ++i) EXPECT_EQ(gathered[i], static_cast<float>(members[i]));

  // A split of a split: one group per rank.
  std::unique_ptr<Communicator> alone = half->split(half->rank(), 0);
  EXPECT_EQ(alone->size(), 1);
  EXPECT_EQ(alone->rank(), 0);
  int64_t v = 42;
  alone->all_reduce(&v, 1, ReduceOp::kSum);
  EXPECT_EQ(v, 42);
  w.barrier();
}

TEST(DistComm, CountsBeyondIntAreDistributedErrors) {
  if (!dist_mpi()) GTEST_SKIP() << "MPI's int counts only";
  Communicator& w = dist_world();
  const int64_t huge = int64_t{3} << 30;  // > INT_MAX; raised before any MPI call, on every rank
  float x = 0;
  try {
    w.all_gather(&x, &x, huge);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kDistributed);
    EXPECT_NE(std::string(e.what()).find("does not fit"), std::string::npos) << e.what();
  }
  std::vector<int64_t> counts(w.size(), 0), offsets(w.size(), 0);
  counts[0] = huge;
  try {
    w.all_to_all_v(&x, counts, offsets, &x, offsets, offsets);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kDistributed);
    EXPECT_NE(std::string(e.what()).find("MPI_Alltoallv"), std::string::npos) << e.what();
  }
  w.barrier();
}

}  // namespace
}  // namespace sy::parallel
