#include "parallel/pipeline/stage_partition.h"

#include <algorithm>
#include <limits>
#include <sstream>

#include "core/common/error.h"

namespace sy::parallel {

StagePartition balance_stages(const std::vector<double>& layer_costs, int stages, double embed_cost,
                              double head_cost) {
  const int64_t n = static_cast<int64_t>(layer_costs.size());
  SY_REQUIRE(ErrorKind::kUsage, stages >= 1 && stages <= n, "parallel.pp = ", stages,
             " stages for ", n, " layers: every stage needs at least one layer");
  // cost(i, j): layers [i, j) plus the embedding (i = 0) and the head (j = n).
  std::vector<double> prefix(static_cast<size_t>(n) + 1, 0.0);
  for (int64_t l = 0; l < n; ++l) prefix[l + 1] = prefix[l] + layer_costs[static_cast<size_t>(l)];
  const auto cost = [&](int64_t i, int64_t j) {
    return prefix[j] - prefix[i] + (i == 0 ? embed_cost : 0.0) + (j == n ? head_cost : 0.0);
  };
  // best[s][j]: the smallest maximum stage cost of layers [0, j) in s stages; cut[s][j] its last
  // stage's first layer. O(stages * n^2), n is the layer count.
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<std::vector<double>> best(static_cast<size_t>(stages) + 1,
                                        std::vector<double>(static_cast<size_t>(n) + 1, inf));
  std::vector<std::vector<int64_t>> cut(best.size(), std::vector<int64_t>(best[0].size(), 0));
  best[0][0] = 0.0;
  for (int s = 1; s <= stages; ++s) {
    for (int64_t j = s; j <= n; ++j) {
      for (int64_t i = s - 1; i < j; ++i) {
        const double v = std::max(best[s - 1][i], cost(i, j));
        if (v < best[s][j]) best[s][j] = v, cut[s][j] = i;
      }
    }
  }
  StagePartition p;
  p.first.assign(static_cast<size_t>(stages) + 1, n);
  int64_t j = n;
  for (int s = stages; s >= 1; --s) {
    p.first[static_cast<size_t>(s)] = j;
    j = cut[s][j];
  }
  p.first[0] = 0;
  return p;
}

StagePartition parse_stage_layers(const std::string& counts, int stages, int64_t num_layers,
                                  const char* key) {
  StagePartition p;
  p.first.push_back(0);
  std::stringstream in(counts);
  for (std::string item; std::getline(in, item, ',');) {
    char* end = nullptr;
    const long long v = std::strtoll(item.c_str(), &end, 10);
    SY_REQUIRE(ErrorKind::kUsage, !item.empty() && end != item.c_str() && *end == '\0' && v >= 1,
               key, " = '", counts, "': '", item, "' is not a positive layer count");
    p.first.push_back(p.first.back() + v);
  }
  SY_REQUIRE(ErrorKind::kUsage, p.stages() == stages, key, " = '", counts, "' gives ", p.stages(),
             " stages, but parallel.pp = ", stages);
  SY_REQUIRE(ErrorKind::kUsage, p.first.back() == num_layers, key, " = '", counts, "' adds up to ",
             p.first.back(), " layers, but model.num_layers = ", num_layers);
  return p;
}

}  // namespace sy::parallel
