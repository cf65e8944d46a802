// Stage partitions: balanced by cost (the optimum, found by brute force for small cases), the
// head's weight on the last stage, explicit splits and their errors.
#include "parallel/pipeline/stage_partition.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

#include "core/common/error.h"

namespace sy::parallel {
namespace {

double max_stage_cost(const StagePartition& p, const std::vector<double>& c, double embed,
                      double head) {
  double worst = 0;
  for (int s = 0; s < p.stages(); ++s) {
    double v = (s == 0 ? embed : 0.0) + (s == p.stages() - 1 ? head : 0.0);
    for (int64_t l = p.begin(s); l < p.end(s); ++l) v += c[static_cast<size_t>(l)];
    worst = std::max(worst, v);
  }
  return worst;
}

// The best maximum over every split of n layers into k non-empty ranges.
double brute_force(const std::vector<double>& c, int k, double embed, double head) {
  const int64_t n = static_cast<int64_t>(c.size());
  double best = 1e300;
  StagePartition p;
  p.first.assign(static_cast<size_t>(k) + 1, n);
  p.first[0] = 0;
  std::function<void(int, int64_t)> go = [&](int s, int64_t from) {
    if (s == k) {
      best = std::min(best, max_stage_cost(p, c, embed, head));
      return;
    }
    for (int64_t to = from + 1; to <= n - (k - s - 1); ++to) {
      p.first[static_cast<size_t>(s)] = from;
      p.first[static_cast<size_t>(s) + 1] = s == k - 1 ? n : to;
      if (s == k - 1 && to != n) continue;
      go(s + 1, to);
    }
  };
  go(0, 0);
  return best;
}

TEST(StagePartition, BalancedSplitsAreOptimalContiguousAndNonEmpty) {
  const std::vector<std::vector<double>> cases = {
      {1, 1, 1, 1}, {1, 2, 3, 4, 5}, {5, 1, 1, 1, 1, 5}, {2, 2, 2, 2, 2, 2, 2, 2}, {1, 9, 1, 1}};
  for (const auto& c : cases) {
    for (int k = 1; k <= static_cast<int>(c.size()); ++k) {
      for (double head : {0.0, 3.0}) {
        const StagePartition p = balance_stages(c, k, 0.5, head);
        ASSERT_EQ(p.stages(), k);
        EXPECT_EQ(p.first.front(), 0);
        EXPECT_EQ(p.first.back(), static_cast<int64_t>(c.size()));
        for (int s = 0; s < k; ++s) EXPECT_LT(p.begin(s), p.end(s));
        EXPECT_DOUBLE_EQ(max_stage_cost(p, c, 0.5, head), brute_force(c, k, 0.5, head));
      }
    }
  }
  // Equal layers and a heavy head: the last stage takes fewer layers.
  const StagePartition p = balance_stages({1, 1, 1, 1, 1, 1}, 2, 0.0, 2.0);
  EXPECT_EQ(p.first, (std::vector<int64_t>{0, 4, 6}));
}

TEST(StagePartition, MoreStagesThanLayersIsAUsageError) {
  EXPECT_THROW(balance_stages({1, 1}, 3, 0, 0), Error);
}

TEST(StagePartition, ExplicitCountsAndTheirErrors) {
  EXPECT_EQ(parse_stage_layers("1,3", 2, 4, "parallel.stage_layers").first,
            (std::vector<int64_t>{0, 1, 4}));
  EXPECT_THROW(parse_stage_layers("1,2", 2, 4, "k"), Error);   // 3 layers, not 4
  EXPECT_THROW(parse_stage_layers("4", 2, 4, "k"), Error);     // one stage, not 2
  EXPECT_THROW(parse_stage_layers("0,4", 2, 4, "k"), Error);   // an empty stage
  EXPECT_THROW(parse_stage_layers("2,x", 2, 4, "k"), Error);   // not a number
  EXPECT_THROW(parse_stage_layers("2,,2", 3, 4, "k"), Error);  // an empty item
}

}  // namespace
}  // namespace sy::parallel
