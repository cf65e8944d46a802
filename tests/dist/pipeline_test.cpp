// Pipeline parallelism over the world of this run (1, 2 or 4 ranks as 1, 2 or 4 stages, and 4
// ranks as 2 stages x dp 2): the executor, under both schedules, gives every gradient of the
// 1-rank model (mean over micro-batches of the loss, aux and z of every stage included); 1F1B
// keeps at most pp - stage micro-batches in flight, GPipe all of them.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "core/nn/decoder.h"
#include "core/ops/elementwise.h"
#include "parallel/data/gradient_reducer.h"
#include "parallel/grid/process_grid.h"
#include "parallel/pipeline/pipeline_executor.h"
#include "parallel/pipeline/schedule.h"
#include "parallel/pipeline/stage_partition.h"
#include "tests/dist/dist_world.h"
#include "tests/dist/gradient_match.h"

namespace sy::parallel {
namespace {

using core::Tensor;
using testing::dist_world;

constexpr int64_t kMicroBatches = 4, kBatch = 2, kSeq = 6, kLayers = 4;

core::nn::DecoderOptions model_options() {
  core::nn::DecoderOptions o;
  o.vocab_size = 32, o.hidden_size = 16, o.num_layers = kLayers, o.num_heads = 2;
  o.num_kv_heads = 1, o.intermediate_size = 24, o.expert_intermediate_size = 12;
  o.router.num_experts = 4, o.router.top_k = 2;
  o.router.kind = core::nn::RouterKind::kNoisyTopK;
  o.moe_first_layer = 1;                           // layer 0 dense: a stage may have no MoE layer
  o.aux_loss_coef = 0.05f, o.z_loss_coef = 0.01f;  // large enough to matter in the gradients
  return o;
}

Tensor ids(int64_t micro, int64_t salt) {
  std::vector<int32_t> v(kBatch * kSeq);
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = static_cast<int32_t>((micro * 37 + salt * 11 + static_cast<int64_t>(i) * 7) % 32);
  return Tensor::from_ints(v, {kBatch, kSeq});
}

core::Rng noise(int64_t micro) {
  core::Rng r;
  r.set_state({55, static_cast<uint64_t>(micro) << 32});
  return r;
}

// This rank's stage: micro-batch m of this rank is global micro-batch first + m.
class TestStage final : public StageWork {
 public:
  TestStage(const core::nn::Decoder& model, int64_t first) : model_(model), first_(first) {}
  StageOutputs forward(int64_t micro, const Tensor& input) override {
    const int64_t global = first_ + micro;
    core::Rng rng = noise(global);
    const auto& o = model_.options();
    const core::nn::DecoderLoss l =
        model_.stage_loss(o.has_embedding() ? ids(global, 0) : input, ids(global, 1), &rng, true);
    StageOutputs out{l.activation, Tensor()};
    if (l.loss.defined()) out.loss = core::scale(l.loss, 1.0f / kMicroBatches);
    return out;
  }
  core::Shape input_shape(int64_t) const override { return {kBatch, kSeq, 16}; }

 private:
  const core::nn::Decoder& model_;
  int64_t first_;
};

void check_pipeline(int dp, const std::string& schedule_name) {
  Communicator& w = dist_world();
  const int pp = w.size() / dp;
  const ProcessGrid grid = ProcessGrid::create(w, dp, 1, pp);
  const int stage = grid.coords().pp_stage;

  core::nn::Decoder reference(model_options());
  reference.init(core::Rng(3), 0.3f);
  for (int64_t m = 0; m < kMicroBatches; ++m) {
    core::Rng rng = noise(m);
    core::scale(reference.loss(ids(m, 0), ids(m, 1), &rng, true).loss, 1.0f / kMicroBatches)
        .backward();
  }
  const auto want = testing::parameters_by_name(reference);

  core::nn::DecoderOptions o = model_options();
  const StagePartition partition = balance_stages(std::vector<double>(kLayers, 1.0), pp, 0, 0);
  o.first_layer = partition.begin(stage), o.last_layer = partition.end(stage);
  core::nn::Decoder model(o);
  model.init(core::Rng(3), 0.3f);
  const int64_t local = kMicroBatches / dp;
  TestStage work(model, grid.coords().dp_index * local);
  const auto schedule = make_schedule(schedule_name);
  PipelineExecutor executor(grid.pp_comm(), grid.pp_prev(), grid.pp_next());
  GradientReducer reducer(model.named_parameters(), /*bucket_bytes=*/4096);
  const PipelineTiming timing =
      executor.run(schedule->actions(stage, pp, local), work,
                   [&](const Tensor& root) { reducer.begin_sync(grid.dp_comm(), root); });
  reducer.finish_sync();

  if (schedule_name == "1f1b") {
    EXPECT_LE(timing.peak_in_flight, std::min<int64_t>(pp - stage, local));
  } else {
    EXPECT_EQ(timing.peak_in_flight, local);
  }
  testing::expect_gradients_match(model, want, 1e-5, " on stage " + std::to_string(stage));
}

TEST(Pipeline, EveryStageGetsTheOneRankGradientsUnderBothSchedules) {
  const int n = dist_world().size();
  for (const char* schedule : {"1f1b", "gpipe"}) {
    for (int dp = 1; dp <= n; dp *= 2) {
      if (n % dp != 0 || n / dp > kLayers) continue;
      SCOPED_TRACE(std::string(schedule) + " dp " + std::to_string(dp) + " pp " +
                   std::to_string(n / dp));
      check_pipeline(dp, schedule);
    }
  }
}

}  // namespace
}  // namespace sy::parallel
