// parallel.debug_comm's CheckedCommunicator over the world of this run: matching calls pass and
// verify; a rank issuing another collective, another count, a message of another length, or
// fewer receives than its peer sent is named in a kDistributed error instead of a hang or a
// silent mix-up. Mismatches need two ranks; on one rank only the passing cases run.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/common/error.h"
#include "parallel/comm/checked_communicator.h"
#include "tests/dist/dist_world.h"

namespace sy::parallel {
namespace {

using testing::dist_world;

// The message of the kDistributed error f throws ("" and a failure when it throws nothing).
template <typename F>
std::string distributed_error(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kDistributed) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

TEST(CheckedCommunicator, MatchingCallsPassAndVerify) {
  Communicator& w = dist_world();
  CheckedCommunicator c(w, "world");
  std::vector<float> v(5, 1.0f);
  c.all_reduce(v.data(), 5, ReduceOp::kSum);
  EXPECT_EQ(v[0], static_cast<float>(w.size()));
  double d = w.rank();
  c.all_reduce(&d, 1, ReduceOp::kMax);
  EXPECT_EQ(d, w.size() - 1);
  c.all_reduce_async(v.data(), 5, ReduceOp::kSum)->wait();
  int64_t root_value = w.rank() == 0 ? 42 : 0;
  c.broadcast(&root_value, sizeof(root_value), 0);
  EXPECT_EQ(root_value, 42);
  std::unique_ptr<Communicator> half = c.split(w.rank() % 2, w.rank());
  half->barrier();
  if (w.size() >= 2 && w.rank() < 2) {
    std::vector<float> msg(3, static_cast<float>(w.rank()));
    std::vector<float> in(3, -1.0f);
    // Ranks 0 and 1 of `c` swap messages: an async send each, then a receive.
    auto pending = c.send_async(msg.data(), 3, 1 - w.rank(), 7);
    c.recv(in.data(), 3, 1 - w.rank(), 7);
    pending->wait();
    EXPECT_EQ(in[0], static_cast<float>(1 - w.rank()));
  }
  c.verify_step();  // covers `half` too
  c.verify_step();  // and again with nothing in between
}

TEST(CheckedCommunicator, AnotherCountIsNamedBeforeTheCall) {
  Communicator& w = dist_world();
  if (w.size() < 2) GTEST_SKIP() << "a mismatch needs two ranks";
  CheckedCommunicator c(w, "world");
  std::vector<float> v(4, 0.0f);
  const int64_t count = w.rank() == 1 ? 3 : 4;
  const std::string msg = distributed_error([&] { c.all_reduce(v.data(), count, ReduceOp::kSum); });
  EXPECT_NE(msg.find("call #0"), std::string::npos) << msg;
  EXPECT_NE(msg.find("rank 1 call #0 all_reduce(f32) count 3"), std::string::npos) << msg;
  EXPECT_NE(msg.find("rank 0 call #0 all_reduce(f32) count 4"), std::string::npos) << msg;
}

TEST(CheckedCommunicator, AnotherCollectiveIsNamedBeforeTheCall) {
  Communicator& w = dist_world();
  if (w.size() < 2) GTEST_SKIP() << "a mismatch needs two ranks";
  CheckedCommunicator c(w, "world");
  const std::string msg = distributed_error([&] {
    if (w.rank() == 0) {
      c.barrier();
    } else {
      int64_t x = 1;
      c.all_reduce(&x, 1, ReduceOp::kSum);
    }
  });
  EXPECT_NE(msg.find("rank 0 call #0 barrier"), std::string::npos) << msg;
  EXPECT_NE(msg.find("rank 1 call #0 all_reduce(i64)"), std::string::npos) << msg;
}

TEST(CheckedCommunicator, AMessageOfAnotherLengthIsNamedByTheReceiver) {
  Communicator& w = dist_world();
  if (w.size() < 2) GTEST_SKIP() << "a mismatch needs two ranks";
  CheckedCommunicator c(w, "pp");
  std::vector<float> data(6, 1.0f);
  if (w.rank() == 0) {
    c.send(data.data(), 5, 1, 3);
  } else if (w.rank() == 1) {
    const std::string msg = distributed_error([&] { c.recv(data.data(), 6, 0, 3); });
    EXPECT_NE(msg.find("expected message #0 from rank 0 with 6 elements"), std::string::npos)
        << msg;
    EXPECT_NE(msg.find("sent message #0 with 5 elements"), std::string::npos) << msg;
    w.recv(data.data(), 5, 0, 3);  // drain the payload the check left in flight
  }
  w.barrier();
}

TEST(CheckedCommunicator, VerifyStepNamesMessagesSentButNotReceived) {
  Communicator& w = dist_world();
  if (w.size() < 2) GTEST_SKIP() << "a mismatch needs two ranks";
  CheckedCommunicator c(w, "pp");
  std::vector<float> data(2, 1.0f);
  if (w.rank() == 0) {
    c.send(data.data(), 2, 1, 9);
    c.send(data.data(), 2, 1, 9);
  } else if (w.rank() == 1) {
    c.recv(data.data(), 2, 0, 9);
  }
  const std::string msg = distributed_error([&] { c.verify_step(); });
  EXPECT_NE(msg.find("rank 0 sent rank 1 other messages than rank 1 received (2 sent, 1 received"),
            std::string::npos)
      << msg;
  if (w.rank() == 1) {  // drain the second message (header and payload)
    std::vector<float> header(6);
    w.recv(header.data(), 6, 0, 9);
    w.recv(data.data(), 2, 0, 9);
  }
  w.barrier();
}

// A nonblocking all-reduce is started at a rank-dependent moment (from a gradient-ready hook) and
// is only recorded, not checked before it starts: here rank 0 starts one on group a and then
// blocks on group b, the others block on b first. A blocking check on a would deadlock.
TEST(CheckedCommunicator, NonblockingStartsAreRecordedNotCheckedUpFront) {
  Communicator& w = dist_world();
  CheckedCommunicator c(w, "world");
  std::unique_ptr<Communicator> a = c.split(0, w.rank()), b = c.split(0, w.rank());
  std::vector<float> x(3, 1.0f), y(3, 1.0f);
  std::unique_ptr<PendingCollective> pending;
  if (w.rank() == 0) {
    pending = a->all_reduce_async(x.data(), 3, ReduceOp::kSum);
    b->all_reduce(y.data(), 3, ReduceOp::kSum);
  } else {
    b->all_reduce(y.data(), 3, ReduceOp::kSum);
    pending = a->all_reduce_async(x.data(), 3, ReduceOp::kSum);
  }
  pending->wait();
  EXPECT_EQ(x[0], static_cast<float>(w.size()));
  EXPECT_EQ(y[0], static_cast<float>(w.size()));
  c.verify_step();
}

}  // namespace
}  // namespace sy::parallel
