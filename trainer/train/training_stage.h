// TrainingStage: what this rank computes for one micro-batch of a training step, as the pipeline
// executor asks for it (with one stage, for every micro-batch in turn).
//
// Micro-batch m of this rank is the step's global micro-batch first_micro + m: its data and its
// router noise are functions of (seed, step, global micro-batch) alone, so every layout computes
// the same numbers for it.
#pragma once

#include <cstdint>
#include <vector>

#include "core/nn/decoder.h"
#include "parallel/pipeline/pipeline_executor.h"
#include "trainer/data/sampler.h"
#include "trainer/train/step_stats.h"

namespace sy::trainer {

class TrainingStage final : public parallel::StageWork {
 public:
  // model: this rank's stage of the decoder. micro_batches: the step's total M (the loss of each
  // is scaled by 1/M). router_seed: the router-noise stream's key.
  TrainingStage(const core::nn::Decoder& model, const BatchSampler& sampler,
                int64_t micro_batch_size, int64_t micro_batches, int64_t first_micro,
                uint64_t router_seed);

  // Starts a step: clears the totals.
  void begin_step(int64_t step);
  parallel::StageOutputs forward(int64_t micro, const core::Tensor& input) override;
  core::Shape input_shape(int64_t micro) const override;
  const StepTotals& totals() const { return totals_; }

 private:
  const core::nn::Decoder& model_;
  const BatchSampler& sampler_;
  int64_t micro_batch_size_, micro_batches_, first_micro_;
  uint64_t router_seed_;
  int64_t step_ = 0;
  StepTotals totals_;
  std::vector<int32_t> inputs_, targets_;
};

}  // namespace sy::trainer
