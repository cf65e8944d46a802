// From the experiment configuration to the core model: options, parameter counts and FLOPs.
#pragma once

#include <cstdint>

#include "core/nn/decoder.h"
#include "parallel/pipeline/stage_partition.h"
#include "trainer/config/config.h"

namespace sy::trainer {

// The whole model's options (no expert shard, every layer).
core::nn::DecoderOptions decoder_options(const Config& config);

// The layers of each pipeline stage: parallel.stage_layers, or a split of the layers balanced by
// their training FLOPs, the LM head's counted on the last stage.
parallel::StagePartition stage_partition(const Config& config);

struct ParameterCounts {
  int64_t total = 0;    // every parameter
  int64_t active = 0;   // what one token uses: experts counted K of E times, embeddings excluded
  int64_t experts = 0;  // the experts' share of total (what expert parallelism shards)
  // What one rank holds when the experts are sharded over ep ranks.
  int64_t per_rank(int ep) const { return total - experts + experts / ep; }
};
ParameterCounts count_parameters(const Config& config);
// What a pipeline stage holding layers [first, end) holds (the embedding with layer 0, the final
// norm and head with the last layer).
ParameterCounts count_stage_parameters(const Config& config, int64_t first, int64_t end);

// Training FLOPs per token (forward + backward): 6 * active parameters + causal attention
// 6 * L * T * D (score and value products, halved by the causal mask, times three for backward).
double training_flops_per_token(const Config& config);

}  // namespace sy::trainer
