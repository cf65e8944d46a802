#include "trainer/train/training_stage.h"

#include "core/ops/elementwise.h"

namespace sy::trainer {

TrainingStage::TrainingStage(const core::nn::Decoder& model, const BatchSampler& sampler,
                             int64_t micro_batch_size, int64_t micro_batches, int64_t first_micro,
                             uint64_t router_seed)
    : model_(model),
      sampler_(sampler),
      micro_batch_size_(micro_batch_size),
      micro_batches_(micro_batches),
      first_micro_(first_micro),
      router_seed_(router_seed),
      inputs_(static_cast<size_t>(micro_batch_size * sampler.seq_len())),
      targets_(inputs_.size()) {}

void TrainingStage::begin_step(int64_t step) {
  step_ = step;
  totals_ = {};
}

core::Shape TrainingStage::input_shape(int64_t) const {
  return {micro_batch_size_, sampler_.seq_len(), model_.options().hidden_size};
}

parallel::StageOutputs TrainingStage::forward(int64_t micro, const core::Tensor& input) {
  const int64_t global = first_micro_ + micro, t = sampler_.seq_len();
  const auto& o = model_.options();
  // Only the stages that read them need the ids (first) and targets (last).
  if (o.has_embedding() || o.has_head()) {
    sampler_.sample(step_, global, micro_batch_size_, inputs_.data(), targets_.data());
  }
  core::Rng router_rng;
  router_rng.set_state(
      {router_seed_, (static_cast<uint64_t>(step_) * micro_batches_ + global) << 32});
  const core::Tensor stage_input =
      o.has_embedding() ? core::Tensor::from_ints(inputs_, {micro_batch_size_, t}) : input;
  const core::Tensor targets =
      o.has_head() ? core::Tensor::from_ints(targets_, {micro_batch_size_, t}) : core::Tensor();
  const core::nn::DecoderLoss l = model_.stage_loss(stage_input, targets, &router_rng, true);
  if (l.ce.defined()) totals_.ce += l.ce.item();
  totals_.aux += l.aux;
  totals_.z += l.z;
  for (const auto& s : l.moe_stats) totals_.add_routing(s);
  parallel::StageOutputs out;
  out.activation = l.activation;
  // The step's gradient is the mean over micro-batches.
  if (l.loss.defined()) out.loss = core::scale(l.loss, 1.0f / static_cast<float>(micro_batches_));
  return out;
}

}  // namespace sy::trainer
