// Which contiguous layers each pipeline stage holds.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sy::parallel {

// Stage s holds layers [first[s], first[s+1]); first has stages+1 entries, first[0] = 0.
struct StagePartition {
  std::vector<int64_t> first;
  int stages() const { return static_cast<int>(first.size()) - 1; }
  int64_t begin(int stage) const { return first[static_cast<size_t>(stage)]; }
  int64_t end(int stage) const { return first[static_cast<size_t>(stage) + 1]; }
};

// Splits layers with the given relative costs (one per layer) into `stages` non-empty contiguous
// ranges minimising the most expensive stage; head_cost is added to the last stage, embed_cost to
// the first. Ties prefer earlier boundaries. kUsage when stages > layers.
StagePartition balance_stages(const std::vector<double>& layer_costs, int stages, double embed_cost,
                              double head_cost);

// An explicit split: per-stage layer counts as "2,3,3" (the value of `key`, for messages); they
// must be positive, one per stage, and add up to num_layers (kUsage otherwise).
StagePartition parse_stage_layers(const std::string& counts, int stages, int64_t num_layers,
                                  const char* key);

}  // namespace sy::parallel
