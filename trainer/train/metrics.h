// One training step's measurements and the metrics.jsonl file they go to.
//
// metrics.jsonl holds one JSON object per logged step (rank 0 writes it). Floats are printed with
// 9 significant digits, the full precision of float32, so two runs can be compared bit for bit.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace sy::trainer {

struct StepMetrics {
  int64_t step = 0;                         // 1-based: the number of optimizer steps done
  int64_t tokens = 0;                       // tokens seen so far
  double loss = 0, ce = 0, aux = 0, z = 0;  // means over the step's micro-batches
  double lr = 0, grad_norm = 0;
  double tokens_per_s = 0, step_ms = 0, mfu = 0;
  // MoE routing, over every MoE layer and micro-batch of the step.
  double max_expert_load = 0;  // the busiest expert's assignments / the mean per expert
  double dropped_fraction = 0;
  double router_entropy = 0;
  std::vector<int64_t> tokens_per_expert;  // (E) summed over layers
  // Expert parallelism (written only when expert_parallel): the token all-to-all of the step,
  // forward and backward, on the dp group's busiest rank.
  bool expert_parallel = false;
  int64_t all_to_all_bytes = 0;  // bytes that rank sent to other ranks
  double all_to_all_ms = 0;      // time it spent in the exchanges (including waiting for peers)
  // Pipeline parallelism (written only when pipeline): the share of the step the ranks spent
  // waiting for their neighbours, averaged over ranks.
  bool pipeline = false;
  double bubble_fraction = 0;
  double peak_rss_mib = 0;  // this process's peak resident memory so far
  // Gradient all-reduce time not hidden behind backward (waiting after it), on this rank.
  double reduce_exposed_ms = 0;
};

std::string to_json_line(const StepMetrics& m);

class MetricsWriter {
 public:
  // Opens path for appending after keeping only the lines whose "step" <= keep_through_step
  // (the truncation a resumed run needs; pass 0 for a fresh run, which empties the file).
  MetricsWriter(const std::string& path, int64_t keep_through_step);
  ~MetricsWriter();
  MetricsWriter(const MetricsWriter&) = delete;
  MetricsWriter& operator=(const MetricsWriter&) = delete;

  void write(const StepMetrics& m);

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
};

}  // namespace sy::trainer
