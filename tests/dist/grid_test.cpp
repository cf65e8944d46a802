// ProcessGrid under the world of this run: coordinates and the members of every group, checked by
// exchanging world ranks inside each group, against hand-written tables for the layouts of 2 and
// 4 ranks and against the documented formula for every layout of the world size; layout errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/common/error.h"
#include "parallel/comm/runtime.h"
#include "parallel/grid/process_grid.h"
#include "tests/dist/dist_world.h"

namespace sy::parallel {
namespace {

using testing::dist_world;
using Groups = std::vector<std::vector<int>>;

// The world ranks of `comm`, in its rank order, learnt by exchanging them.
std::vector<int> members(Communicator& comm, int world_rank) {
  std::vector<float> all(comm.size());
  const float mine = static_cast<float>(world_rank);
  comm.all_gather(&mine, all.data(), 1);
  return std::vector<int>(all.begin(), all.end());
}

std::vector<int> group_of(const Groups& groups, int rank) {
  for (const auto& g : groups) {
    if (std::find(g.begin(), g.end(), rank) != g.end()) return g;
  }
  return {};
}

struct Layout {
  int dp, ep, pp;
  Groups dp_groups, ep_groups, expert_dp_groups, pp_groups;
};

// Hand-written: rank = stage * dp + dp_index; ep blocks of consecutive dp indices; expert-dp
// groups of equal dp_index % ep; pp groups of equal dp_index across stages.
const std::vector<Layout>& tables() {
  static const std::vector<Layout> all = {
      {2, 1, 1, {{0, 1}}, {{0}, {1}}, {{0, 1}}, {{0}, {1}}},
      {2, 2, 1, {{0, 1}}, {{0, 1}}, {{0}, {1}}, {{0}, {1}}},
      {1, 1, 2, {{0}, {1}}, {{0}, {1}}, {{0}, {1}}, {{0, 1}}},
      {4, 2, 1, {{0, 1, 2, 3}}, {{0, 1}, {2, 3}}, {{0, 2}, {1, 3}}, {{0}, {1}, {2}, {3}}},
      {4, 1, 1, {{0, 1, 2, 3}}, {{0}, {1}, {2}, {3}}, {{0, 1, 2, 3}}, {{0}, {1}, {2}, {3}}},
      {2, 1, 2, {{0, 1}, {2, 3}}, {{0}, {1}, {2}, {3}}, {{0, 1}, {2, 3}}, {{0, 2}, {1, 3}}},
      {2, 2, 2, {{0, 1}, {2, 3}}, {{0, 1}, {2, 3}}, {{0}, {1}, {2}, {3}}, {{0, 2}, {1, 3}}},
      {4,
       2,
       2,
       {{0, 1, 2, 3}, {4, 5, 6, 7}},
       {{0, 1}, {2, 3}, {4, 5}, {6, 7}},
       {{0, 2}, {1, 3}, {4, 6}, {5, 7}},
       {{0, 4}, {1, 5}, {2, 6}, {3, 7}}},
  };
  return all;
}

TEST(DistGrid, HandWrittenLayouts) {
  Communicator& w = dist_world();
  const int me = w.rank();
  int checked = 0;
  for (const Layout& t : tables()) {
    if (t.dp * t.pp != w.size()) continue;
    SCOPED_TRACE("dp " + std::to_string(t.dp) + " ep " + std::to_string(t.ep) + " pp " +
                 std::to_string(t.pp));
    ProcessGrid g = ProcessGrid::create(w, t.dp, t.ep, t.pp);
    EXPECT_EQ(members(g.dp_comm(), me), group_of(t.dp_groups, me));
    EXPECT_EQ(members(g.ep_comm(), me), group_of(t.ep_groups, me));
    EXPECT_EQ(members(g.expert_dp_comm(), me), group_of(t.expert_dp_groups, me));
    EXPECT_EQ(members(g.pp_comm(), me), group_of(t.pp_groups, me));
    ++checked;
  }
  if (checked == 0) GTEST_SKIP() << "no table for " << w.size() << " ranks";
}

// Every (dp, ep, pp) with dp * pp == world size and ep | dp, against the formula.
TEST(DistGrid, EveryLayoutOfThisWorld) {
  Communicator& w = dist_world();
  const int n = w.size();
  const int me = w.rank();
  for (int dp = 1; dp <= n; ++dp) {
    if (n % dp != 0) continue;
    const int pp = n / dp;
    for (int ep = 1; ep <= dp; ++ep) {
      if (dp % ep != 0) continue;
      SCOPED_TRACE("dp " + std::to_string(dp) + " ep " + std::to_string(ep) + " pp " +
                   std::to_string(pp));
      ProcessGrid g = ProcessGrid::create(w, dp, ep, pp);
      const Coordinates c = g.coords();
      EXPECT_EQ(c.dp_index, me % dp);
      EXPECT_EQ(c.pp_stage, me / dp);
      EXPECT_EQ(c.ep_index, c.dp_index % ep);
      EXPECT_EQ(c.expert_replica, c.dp_index / ep);
      EXPECT_EQ(ProcessGrid::world_rank(c.dp_index, c.pp_stage, dp), me);
      EXPECT_EQ(g.rank(), me);
      EXPECT_EQ(g.world_size(), n);

      std::vector<int> want_dp, want_ep, want_edp, want_pp;
      for (int d = 0; d < dp; ++d) want_dp.push_back(ProcessGrid::world_rank(d, c.pp_stage, dp));
      for (int e = 0; e < ep; ++e) {
        want_ep.push_back(ProcessGrid::world_rank(c.expert_replica * ep + e, c.pp_stage, dp));
      }
      for (int j = 0; j < dp / ep; ++j) {
        want_edp.push_back(ProcessGrid::world_rank(j * ep + c.ep_index, c.pp_stage, dp));
      }
      for (int s = 0; s < pp; ++s) want_pp.push_back(ProcessGrid::world_rank(c.dp_index, s, dp));
      EXPECT_EQ(members(g.dp_comm(), me), want_dp);
      EXPECT_EQ(members(g.ep_comm(), me), want_ep);
      EXPECT_EQ(members(g.expert_dp_comm(), me), want_edp);
      EXPECT_EQ(members(g.pp_comm(), me), want_pp);

      EXPECT_EQ(g.pp_prev(), c.pp_stage > 0 ? c.pp_stage - 1 : -1);
      EXPECT_EQ(g.pp_next(), c.pp_stage + 1 < pp ? c.pp_stage + 1 : -1);
      EXPECT_EQ(g.pp_prev_world(), c.pp_stage > 0 ? me - dp : -1);
      EXPECT_EQ(g.pp_next_world(), c.pp_stage + 1 < pp ? me + dp : -1);
      EXPECT_EQ(g.is_first_stage(), c.pp_stage == 0);
      EXPECT_EQ(g.is_last_stage(), c.pp_stage == pp - 1);

      // describe(): this rank's line; describe_all(): every rank's, in rank order.
      const std::string line = "rank " + std::to_string(me) + " host " + hostname() + ": dp " +
                               std::to_string(c.dp_index) + "/" + std::to_string(dp) + " ep " +
                               std::to_string(c.ep_index) + "/" + std::to_string(ep) + " pp " +
                               std::to_string(c.pp_stage) + "/" + std::to_string(pp);
      EXPECT_EQ(g.describe(), line);
      const std::string all = g.describe_all();
      EXPECT_EQ(std::count(all.begin(), all.end(), '\n'), n);
      EXPECT_NE(all.find(line + "\n"), std::string::npos) << all;
    }
  }
}

// Every rank raises the same error; the count of ranks that raised it is exchanged to check.
template <typename F>
void expect_error_on_every_rank(ErrorKind kind, const std::vector<std::string>& words, F&& make) {
  Communicator& w = dist_world();
  int64_t raised = 0;
  try {
    make();
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    for (const std::string& word : words) {
      EXPECT_NE(std::string(e.what()).find(word), std::string::npos) << e.what();
    }
    raised = 1;
  }
  w.all_reduce(&raised, 1, ReduceOp::kSum);
  EXPECT_EQ(raised, w.size());
}

TEST(DistGrid, WorldSizeMismatchIsDistributedErrorOnEveryRank) {
  Communicator& w = dist_world();
  const int n = w.size();
  const std::string world = "world size " + std::to_string(n);
  expect_error_on_every_rank(ErrorKind::kDistributed,
                             {"parallel.dp (" + std::to_string(n) + ")", "parallel.pp (2)", world},
                             [&] { ProcessGrid::create(w, n, 1, 2); });
  expect_error_on_every_rank(ErrorKind::kDistributed,
                             {"parallel.dp (" + std::to_string(2 * n) + ")", world},
                             [&] { ProcessGrid::create(w, 2 * n, 1, 1); });
}

TEST(DistGrid, EpMustDivideDp) {
  Communicator& w = dist_world();
  expect_error_on_every_rank(ErrorKind::kUsage, {"parallel.ep"},
                             [&] { ProcessGrid::create(w, w.size(), w.size() + 1, 1); });
  expect_error_on_every_rank(ErrorKind::kUsage, {"must all be >= 1"},
                             [&] { ProcessGrid::create(w, w.size(), 0, 1); });
}

TEST(DistGrid, RanksThatDisagreeOnTheLayout) {
  Communicator& w = dist_world();
  if (w.size() % 2 != 0) GTEST_SKIP() << "needs an even world";
  // Rank 0 alone asks for ep = 2: the world size matches everywhere, the layouts do not.
  const int ep = w.rank() == 0 ? 2 : 1;
  expect_error_on_every_rank(ErrorKind::kDistributed, {"disagree", "parallel.ep"},
                             [&] { ProcessGrid::create(w, w.size(), ep, 1); });
}

}  // namespace
}  // namespace sy::parallel
