// GradientReducer over the world, overlapping backward: a small network runs forward and backward
// on different data per rank with the reducer armed before the backward and finished after, with
// buckets small enough for many of them. The result must equal (a) the synchronous all_reduce of
// the same local gradients (bit for bit on two ranks; MPI's blocking and nonblocking reduction
// trees may round differently beyond) and (b) the sum over ranks of every rank's local gradients
// computed separately (gathered and added here). Written for
// any world size; in a 1-rank world the reducer must leave the gradients as they are.
#include "parallel/data/gradient_reducer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/common/error.h"
#include "core/nn/module.h"
#include "core/ops/elementwise.h"
#include "core/ops/matmul.h"
#include "core/ops/reduce.h"
#include "core/tensor/rng.h"
#include "parallel/comm/communicator.h"
#include "tests/dist/dist_world.h"

namespace sy::parallel {
namespace {

using core::Tensor;
using testing::dist_world;

constexpr int64_t kDims[] = {6, 8, 5, 8, 7, 4};  // widths: input, 4 hidden, output
constexpr int kLayers = 5;
constexpr int64_t kRows = 3;  // rows of x per micro-batch

// h_k = silu((h_{k-1} W_k^T) * g_k) for k = 1..5 (no silu on the last), W_k (d_k, d_{k-1}),
// g_k (d_k); "side" (4, 6) adds x W_side^T to the output when asked. Loss: sum(out^2) / 2.
// Parameter order: w1 g1 w2 g2 side w3 g3 w4 g4 w5 g5, so side sits in the middle of the buckets.
class Net : public core::nn::Module {
 public:
  Net() {
    core::Rng rng(7);  // the same initial values on every rank
    for (int k = 1; k <= kLayers; ++k) {
      w_.push_back(add_param(name('w', k), {kDims[k], kDims[k - 1]}, rng));
      g_.push_back(add_param(name('g', k), {kDims[k]}, rng));
      if (k == 2) side_ = add_param("side", {kDims[kLayers], kDims[0]}, rng);
    }
  }

  Tensor loss(const Tensor& x, bool use_side) const {
    Tensor h = x;
    for (int k = 0; k < kLayers; ++k) {
      h = core::mul(core::matmul(h, w_[k], false, true), g_[k]);
      if (k + 1 < kLayers) h = core::silu(h);
    }
    if (use_side) h = core::add(h, core::matmul(x, side_, false, true));
    return core::scale(core::sum(core::mul(h, h)), 0.5f);
  }

 private:
  static std::string name(char kind, int k) { return std::string(1, kind) + std::to_string(k); }
  Tensor add_param(const std::string& name, const core::Shape& shape, core::Rng& rng) {
    return register_parameter(name, rng.normal(shape, 0.0f, 0.5f));
  }

  std::vector<Tensor> w_, g_;
  Tensor side_;
};

// Rank-dependent inputs, different per micro-batch.
Tensor input(int micro) {
  core::Rng rng(100 + 17 * static_cast<uint64_t>(dist_world().rank()) + micro);
  return rng.normal({kRows, kDims[0]});
}

// Every parameter's gradient as floats; an undefined gradient reads as zeros and is flagged.
struct Grads {
  std::vector<std::vector<float>> values;
  std::vector<bool> defined;
};

Grads snapshot(const Net& net) {
  Grads out;
  for (const core::nn::NamedParameter& p : net.named_parameters()) {
    const Tensor& g = p.tensor.grad();
    out.defined.push_back(g.defined());
    out.values.push_back(g.defined() ? g.to_vector()
                                     : std::vector<float>(static_cast<size_t>(p.tensor.numel())));
  }
  return out;
}

// The sum over ranks of each rank's `local` gradients: gathered, then added in rank order.
std::vector<std::vector<float>> sum_over_ranks(const Grads& local) {
  Communicator& w = dist_world();
  std::vector<std::vector<float>> out;
  for (const std::vector<float>& v : local.values) {
    const int64_t n = static_cast<int64_t>(v.size());
    std::vector<float> all(v.size() * static_cast<size_t>(w.size()));
    w.all_gather(v.data(), all.data(), n);
    std::vector<float> sum(v.size(), 0.0f);
    for (int r = 0; r < w.size(); ++r) {
      for (int64_t i = 0; i < n; ++i) sum[i] += all[r * n + i];
    }
    out.push_back(sum);
  }
  return out;
}

// How the reducer is armed before the last backward: with the loss (unreached parameters are
// ready at once) or without (they wait for finish_sync).
enum class Arm { kWithLoss, kWithoutLoss };

// Runs one micro-batch per use_side entry (use_side[m]: micro-batch m uses side) from zeroed
// gradients; the reducer, when given, is armed before the last backward and finished after it.
void run(Net& net, const std::vector<bool>& use_side, GradientReducer* reducer,
         Arm arm = Arm::kWithLoss) {
  net.zero_grad();
  for (size_t m = 0; m < use_side.size(); ++m) {
    Tensor loss = net.loss(input(static_cast<int>(m)), use_side[m]);
    if (reducer != nullptr && m + 1 == use_side.size()) {
      reducer->begin_sync(dist_world(), arm == Arm::kWithLoss ? loss : Tensor());
    }
    loss.backward();
  }
  if (reducer != nullptr) reducer->finish_sync();
}

// The case: local gradients, the synchronous reduction, and the overlapped one, compared.
// Returns the overlapped reducer's stats.
GradientReducer::SyncStats check_case(const std::vector<bool>& use_side, int64_t bucket_bytes,
                                      Arm arm = Arm::kWithLoss) {
  Net net;
  const std::vector<core::nn::NamedParameter> params = net.named_parameters();
  GradientReducer reducer(params, bucket_bytes);
  const int n = dist_world().size();

  run(net, use_side, nullptr);
  const Grads local = snapshot(net);
  const std::vector<std::vector<float>> expected = sum_over_ranks(local);

  run(net, use_side, nullptr);
  reducer.all_reduce(dist_world());
  const Grads sync = snapshot(net);
  EXPECT_EQ(reducer.last_sync().overlapped, 0);

  run(net, use_side, &reducer, arm);
  const Grads overlapped = snapshot(net);
  EXPECT_FALSE(reducer.armed());

  for (size_t i = 0; i < params.size(); ++i) {
    const std::string& name = params[i].name;
    if (n == 1) {  // one rank: untouched, missing gradients stay missing
      EXPECT_EQ(overlapped.defined[i], local.defined[i]) << name;
    } else {
      EXPECT_TRUE(overlapped.defined[i]) << name << ": every gradient is defined afterwards";
    }
    if (n <= 2) {  // a + b either way; beyond, MPI's blocking and nonblocking trees may differ
      EXPECT_EQ(overlapped.values[i], sync.values[i]) << name << ": overlapped vs synchronous";
    }
    for (size_t j = 0; j < expected[i].size(); ++j) {
      const float want = expected[i][j];
      const float tolerance = 1e-5f * (1.0f + std::fabs(want));
      EXPECT_NEAR(sync.values[i][j], want, tolerance)
          << name << "[" << j << "]: synchronous against the sum of the local gradients";
      EXPECT_NEAR(overlapped.values[i][j], want, tolerance)
          << name << "[" << j << "]: overlapped against the sum of the local gradients";
    }
    EXPECT_FALSE(params[i].tensor.has_grad_ready_hook()) << name << ": hook left behind";
  }
  const GradientReducer::SyncStats stats = reducer.last_sync();
  if (n == 1) {
    EXPECT_EQ(stats.bytes, 0);
    EXPECT_EQ(stats.buckets, 0);
  } else {
    EXPECT_EQ(stats.bytes, reducer.bytes_per_step());
    EXPECT_EQ(stats.buckets, reducer.num_buckets());
  }
  return stats;
}

// The world communicator, recording each all_reduce_async: its count, whether w1 (the first
// parameter, whose gradient backward finishes last) had a gradient yet, and test() calls.
class RecordingCommunicator final : public Communicator {
 public:
  RecordingCommunicator(Communicator& inner, const Tensor& w1) : inner_(inner), w1_(w1) {}

  struct Call {
    int64_t count;
    bool w1_done;
  };
  std::vector<Call> calls;
  int64_t tests = 0;

  std::unique_ptr<PendingCollective> all_reduce_async(float* data, int64_t count,
                                                      ReduceOp op) override {
    calls.push_back({count, w1_.grad().defined()});
    return std::make_unique<Counted>(inner_.all_reduce_async(data, count, op), tests);
  }

  int rank() const override { return inner_.rank(); }
  int size() const override { return inner_.size(); }
  std::string name() const override { return "recording"; }
  void all_reduce(float* d, int64_t n, ReduceOp op) override { inner_.all_reduce(d, n, op); }
  void all_reduce(double* d, int64_t n, ReduceOp op) override { inner_.all_reduce(d, n, op); }
  void all_reduce(int64_t* d, int64_t n, ReduceOp op) override { inner_.all_reduce(d, n, op); }
  void broadcast(void* d, int64_t bytes, int root) override { inner_.broadcast(d, bytes, root); }
  void all_gather(const float* s, float* r, int64_t n) override { inner_.all_gather(s, r, n); }
  void reduce_scatter(const float* s, float* r, int64_t n) override {
    inner_.reduce_scatter(s, r, n);
  }
  void all_to_all_v(const float* s, const std::vector<int64_t>& sc, const std::vector<int64_t>& so,
                    float* r, const std::vector<int64_t>& rc,
                    const std::vector<int64_t>& ro) override {
    inner_.all_to_all_v(s, sc, so, r, rc, ro);
  }
  void send(const float* d, int64_t n, int dest, int tag) override { inner_.send(d, n, dest, tag); }
  void recv(float* d, int64_t n, int src, int tag) override { inner_.recv(d, n, src, tag); }
  void barrier() override { inner_.barrier(); }
  std::unique_ptr<Communicator> split(int color, int key) override {
    return inner_.split(color, key);
  }

 private:
  class Counted final : public PendingCollective {
   public:
    Counted(std::unique_ptr<PendingCollective> inner, int64_t& tests)
        : inner_(std::move(inner)), tests_(tests) {}
    bool test() override {
      ++tests_;
      return inner_->test();
    }
    void wait() override { inner_->wait(); }

   private:
    std::unique_ptr<PendingCollective> inner_;
    int64_t& tests_;
  };

  Communicator& inner_;
  Tensor w1_;
};

constexpr int64_t kSmallBuckets = 64 * 4;  // 64 floats: several parameters share some buckets

TEST(DistGradientReducer, SmallBucketsAreMany) {
  Net net;
  EXPECT_GE(GradientReducer(net.named_parameters(), kSmallBuckets).num_buckets(), 5);
  EXPECT_EQ(GradientReducer(net.named_parameters(), 4).num_buckets(), 11);  // one per parameter
  EXPECT_EQ(GradientReducer(net.named_parameters()).num_buckets(), 1);
}

TEST(DistGradientReducer, EveryParameterUsedStartsEveryBucketDuringBackward) {
  for (const int64_t bucket_bytes : {kSmallBuckets, int64_t{4}, int64_t{25} << 20}) {
    SCOPED_TRACE(::testing::Message() << "bucket_bytes " << bucket_bytes);
    const GradientReducer::SyncStats stats = check_case({true}, bucket_bytes);
    if (dist_world().size() > 1) {
      EXPECT_EQ(stats.overlapped, stats.buckets);
    }
  }
}

TEST(DistGradientReducer, ParameterUnusedOnOneRankOnly) {
  // Rank 1 leaves "side" out. Armed without the loss, its bucket (and every later one) cannot
  // start during that rank's backward while the other ranks start all of theirs, and the
  // collectives still match up in order. Armed with the loss, side counts as ready at once.
  const bool uses_side = dist_world().rank() != 1;
  for (const int64_t bucket_bytes : {kSmallBuckets, int64_t{4}}) {
    for (const Arm arm : {Arm::kWithoutLoss, Arm::kWithLoss}) {
      SCOPED_TRACE(::testing::Message()
                   << "bucket_bytes " << bucket_bytes << ", with loss " << (arm == Arm::kWithLoss));
      const GradientReducer::SyncStats stats = check_case({uses_side}, bucket_bytes, arm);
      if (dist_world().size() > 1) {
        if (uses_side || arm == Arm::kWithLoss) {
          EXPECT_EQ(stats.overlapped, stats.buckets);
        } else {
          EXPECT_LT(stats.overlapped, stats.buckets);
          EXPECT_GT(stats.overlapped, 0);  // the buckets before side's still started early
        }
      }
    }
  }
}

// Bucket sizes in floats for 64-float buckets, in start order: the parameters backwards
// (g5 w5 g4 | w4 g3 | w3 side | g2 w2 g1 | w1) = 4+28+7, 56+8, 40+24, 5+40+8, 48.
const std::vector<int64_t> kSmallBucketCounts = {39, 64, 64, 53, 48};

TEST(DistGradientReducer, BucketsStartInReverseParameterOrderDuringBackward) {
  if (dist_world().size() == 1) GTEST_SKIP() << "nothing is reduced on one rank";
  for (const bool uses_side : {true, dist_world().rank() != 1}) {
    Net net;
    const std::vector<core::nn::NamedParameter> params = net.named_parameters();
    ASSERT_EQ(params[0].name, "w1");
    RecordingCommunicator recording(dist_world(), params[0].tensor);
    GradientReducer reducer(params, kSmallBuckets);
    net.zero_grad();
    Tensor loss = net.loss(input(0), uses_side);
    reducer.begin_sync(recording);  // without the loss: side holds its bucket back
    loss.backward();
    const size_t started_in_backward = recording.calls.size();
    const int64_t tests_in_backward = recording.tests;
    reducer.finish_sync();

    ASSERT_EQ(recording.calls.size(), kSmallBucketCounts.size());
    for (size_t b = 0; b < kSmallBucketCounts.size(); ++b) {
      EXPECT_EQ(recording.calls[b].count, kSmallBucketCounts[b]) << "bucket " << b;
    }
    // The last layers' bucket started while the first layer's gradient was still to come.
    EXPECT_FALSE(recording.calls[0].w1_done);
    EXPECT_GT(tests_in_backward, 0);  // the hooks drove progress
    // Without side, its bucket (2) waits for finish_sync, and so do the ones after it.
    EXPECT_EQ(started_in_backward, uses_side ? kSmallBucketCounts.size() : size_t{2});
    EXPECT_EQ(reducer.last_sync().overlapped, static_cast<int64_t>(started_in_backward));
  }
}

TEST(DistGradientReducer, ParameterUnusedEverywhereGetsZeros) {
  check_case({false}, kSmallBuckets, Arm::kWithoutLoss);
  check_case({false}, kSmallBuckets, Arm::kWithLoss);
  if (dist_world().size() == 1) return;
  Net net;
  GradientReducer reducer(net.named_parameters(), kSmallBuckets);
  run(net, {false}, &reducer);
  for (const core::nn::NamedParameter& p : net.named_parameters()) {
    if (p.name != "side") continue;
    ASSERT_TRUE(p.tensor.grad().defined());
    for (float v : p.tensor.grad().to_vector()) EXPECT_EQ(v, 0.0f);
  }
}

TEST(DistGradientReducer, MicroBatchAccumulationArmsOnlyTheLastBackward) {
  // Two micro-batches; side is used by the first only (on every rank), so in the armed backward
  // its hook never runs and its accumulated gradient is packed by finish_sync.
  for (const Arm arm : {Arm::kWithoutLoss, Arm::kWithLoss}) {
    check_case({true, true}, kSmallBuckets, arm);
    check_case({true, false}, kSmallBuckets, arm);
    check_case({dist_world().rank() % 2 == 0, dist_world().rank() % 2 == 1}, int64_t{4}, arm);
  }
}

TEST(DistGradientReducer, ArmingRulesAndHookRemoval) {
  Net net;
  const std::vector<core::nn::NamedParameter> params = net.named_parameters();
  const bool several = dist_world().size() > 1;
  {
    GradientReducer reducer(params, kSmallBuckets);
    EXPECT_THROW(reducer.finish_sync(), Error);
    reducer.begin_sync(dist_world());
    EXPECT_TRUE(reducer.armed());
    EXPECT_EQ(params[0].tensor.has_grad_ready_hook(), several);  // none on one rank
    EXPECT_THROW(reducer.begin_sync(dist_world()), Error);
    if (several) {  // a second reducer over the same parameters cannot arm
      GradientReducer other(params, kSmallBuckets);
      EXPECT_THROW(other.begin_sync(dist_world()), Error);
    }
  }  // destroyed while armed (nothing in flight): the hooks go with it
  for (const core::nn::NamedParameter& p : params) EXPECT_FALSE(p.tensor.has_grad_ready_hook());
  net.loss(input(0), true).backward();  // would call into the destroyed reducer otherwise
}

TEST(DistGradientReducer, ArmedForTwoBackwardsIsAnError) {
  if (dist_world().size() == 1) GTEST_SKIP() << "nothing is armed on one rank";
  Net net;
  GradientReducer reducer(net.named_parameters(), kSmallBuckets);
  reducer.begin_sync(dist_world());
  net.loss(input(0), true).backward();
  // The same on every rank: the first hook of the second backward raises, before any collective.
  EXPECT_THROW(net.loss(input(1), true).backward(), Error);
  reducer.finish_sync();
}

TEST(DistGradientReducer, OneRankGroupIsANoOp) {
  Net net;
  GradientReducer reducer(net.named_parameters(), kSmallBuckets);
  std::unique_ptr<Communicator> single = make_single_communicator();
  net.loss(input(0), false).backward();
  const Grads before = snapshot(net);
  reducer.all_reduce(*single);
  reducer.begin_sync(*single);
  EXPECT_FALSE(net.named_parameters()[0].tensor.has_grad_ready_hook());
  reducer.finish_sync();
  const Grads after = snapshot(net);
  EXPECT_EQ(after.values, before.values);
  EXPECT_EQ(after.defined, before.defined);  // side's gradient is still missing
  EXPECT_EQ(reducer.last_sync().bytes, 0);
}

}  // namespace
}  // namespace sy::parallel
