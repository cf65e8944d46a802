#include "trainer/train/trainer.h"

#include <unistd.h>

#include <csignal>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>
#include <vector>

#include "core/common/error.h"
#include "core/nn/decoder.h"
#include "core/ops/elementwise.h"
#include "trainer/checkpoint/checkpoint.h"
#include "trainer/config/config_loader.h"
#include "trainer/data/sampler.h"
#include "trainer/data/token_shard.h"
#include "trainer/optim/adamw.h"
#include "trainer/optim/grad_clip.h"
#include "trainer/optim/lr_schedule.h"
#include "trainer/train/evaluate.h"
#include "trainer/train/hardware_peak.h"
#include "trainer/train/metrics.h"
#include "trainer/train/model_builder.h"
#include "trainer/train/run_log.h"

namespace sy::trainer {

namespace {

using Clock = std::chrono::steady_clock;

// Separate streams so adding one kind of randomness never shifts another.
constexpr uint64_t kInitStream = 0x696e6974ull;    // "init"
constexpr uint64_t kRouterStream = 0x726f7574ull;  // "rout"

TokenShard load_shard(const std::string& path, const Config& config, const char* key) {
  SY_REQUIRE(ErrorKind::kUsage, std::filesystem::exists(path), key, ": data file '", path,
             "' does not exist (prepare one with `switchyard prep`)");
  TokenShard shard = TokenShard::load(path);
  SY_REQUIRE(ErrorKind::kBadInput,
             !shard.has_switchyard_meta() || shard.meta().vocab_size <= config.model.vocab_size,
             "data file ", path, ": its tokenizer's vocabulary (", shard.meta().vocab_size,
             ") is larger than model.vocab_size (", config.model.vocab_size, ")");
  shard.check_vocab(config.model.vocab_size);
  return shard;
}

AdamWOptions adamw_options(const Config& c) {
  AdamWOptions o;
  o.beta1 = c.optim.beta1, o.beta2 = c.optim.beta2, o.eps = c.optim.eps;
  o.weight_decay = c.optim.weight_decay;
  return o;
}

LrSchedule lr_schedule(const Config& c) {
  return {c.optim.lr, c.optim.min_lr, c.optim.warmup_steps, c.train.steps,
          c.optim.schedule == LrScheduleKind::kConstant ? LrShape::kConstant : LrShape::kCosine};
}

// Sums the routing statistics of every MoE layer of every micro-batch of a step.
struct RoutingTotals {
  std::vector<int64_t> per_expert;
  int64_t assignments = 0, dropped = 0;
  double max_load_sum = 0, entropy_sum = 0;
  int64_t layer_passes = 0;

  void add(const core::nn::MoeStats& s) {
    if (per_expert.empty()) per_expert.assign(s.tokens_per_expert.size(), 0);
    int64_t max_count = 0;
    for (size_t e = 0; e < s.tokens_per_expert.size(); ++e) {
      per_expert[e] += s.tokens_per_expert[e];
      max_count = std::max(max_count, s.tokens_per_expert[e]);
    }
    const double mean = static_cast<double>(s.assignments) / s.tokens_per_expert.size();
    max_load_sum += mean > 0 ? max_count / mean : 0.0;
    entropy_sum += s.entropy;
    assignments += s.assignments;
    dropped += s.dropped;
    ++layer_passes;
  }
};

bool stdout_is_terminal() { return isatty(fileno(stdout)) != 0; }

// SIGTERM / SIGINT / SIGUSR1 (a scheduler's preemption notice) ask for a checkpoint and exit 75
// at the next step boundary.
volatile std::sig_atomic_t g_stop_signal = 0;
void on_stop_signal(int signal) { g_stop_signal = signal; }

struct SignalScope {
  SignalScope() {
    for (int s : {SIGTERM, SIGINT, SIGUSR1}) previous[s] = std::signal(s, on_stop_signal);
  }
  ~SignalScope() {
    for (int s : {SIGTERM, SIGINT, SIGUSR1}) std::signal(s, previous[s]);
  }
  using Handler = void (*)(int);
  Handler previous[NSIG] = {};
};

// Where a run resumes from: checkpoint.resume = auto (the run's newest complete checkpoint, if
// any), none, or a path.
std::optional<std::string> resume_source(const Config& config) {
  if (config.checkpoint.resume == "none") return std::nullopt;
  if (config.checkpoint.resume == "auto") return find_latest_checkpoint(config.run.dir);
  SY_REQUIRE(ErrorKind::kUsage, std::filesystem::exists(config.checkpoint.resume),
             "checkpoint.resume: '", config.checkpoint.resume, "' does not exist");
  return config.checkpoint.resume;
}

}  // namespace

TrainResult train(const Config& config) {
  const auto started = Clock::now();
  const std::filesystem::path run_dir(config.run.dir);
  std::filesystem::create_directories(run_dir);
  {
    std::ofstream resolved(run_dir / "config.resolved.yaml");
    resolved << to_yaml(config);
  }
  const bool progress = config.log.progress == ProgressMode::kOn ||
                        (config.log.progress == ProgressMode::kAuto && stdout_is_terminal());
  RunLog log(run_dir.string(), 0, progress);

  const TokenShard train_shard = load_shard(config.data.train, config, "data.train");
  std::unique_ptr<TokenShard> val_shard;
  if (!config.data.val.empty()) {
    val_shard = std::make_unique<TokenShard>(load_shard(config.data.val, config, "data.val"));
  }
  const BatchSampler sampler(train_shard, config.train.seq_len, static_cast<uint64_t>(config.run.seed));

  core::nn::Decoder model(decoder_options(config));
  core::Rng init_rng(static_cast<uint64_t>(config.run.seed) ^ kInitStream);
  model.init(init_rng, static_cast<float>(config.model.init_std));
  core::Rng router_rng(static_cast<uint64_t>(config.run.seed) ^ kRouterStream);
  const std::vector<core::nn::NamedParameter> params = model.named_parameters();
  AdamW optimizer(params, adamw_options(config));
  const LrSchedule schedule = lr_schedule(config);

  const ParameterCounts counts = count_parameters(config);
  const double flops_per_token = training_flops_per_token(config);
  double peak_flops = measure_matmul_peak_flops();
  const int64_t micro_batches = config.micro_batches_per_step();
  const int64_t mb = config.train.micro_batch_size, t = config.train.seq_len;
  log.info("switchyard train: " + config.run.dir + " | params " + std::to_string(counts.total) +
           " total, " + std::to_string(counts.active) + " active | " +
           std::to_string(micro_batches) + " micro-batches of " + std::to_string(mb) + "x" +
           std::to_string(t) + " per step | data " + config.data.train + " (" +
           std::to_string(train_shard.size()) + " tokens)");

  int64_t first_step = 0, tokens_seen = 0;
  if (const auto source = resume_source(config)) {
    const LoadedCheckpoint ck = load_checkpoint(*source, model, &optimizer);
    first_step = ck.state.step;
    tokens_seen = ck.state.tokens_seen;
    if (const auto it = ck.state.rngs.find("router_noise"); it != ck.state.rngs.end()) {
      router_rng.set_state(it->second);
    }
    log.info("resumed from " + ck.file + " at step " + std::to_string(first_step));
  }
  const auto save = [&](int64_t steps_done) {
    CheckpointState st;
    st.step = steps_done;
    st.tokens_seen = tokens_seen;
    st.rngs["router_noise"] = router_rng.state();
    st.data_position["next_step"] = steps_done;  // the sampler is a function of the step
    st.config_yaml = to_yaml(config);
    const std::string dir = save_checkpoint(config.run.dir, model, optimizer, st,
                                            config.checkpoint.keep_last,
                                            config.checkpoint.keep_every);
    log.info("saved checkpoint " + dir);
  };

  MetricsWriter metrics((run_dir / "metrics.jsonl").string(), first_step);
  SignalScope signals;
  TrainResult result;
  result.steps = first_step;
  std::vector<int32_t> inputs(static_cast<size_t>(mb * t)), targets(inputs.size());
  for (int64_t step = first_step; step < config.train.steps; ++step) {
    const auto t0 = Clock::now();
    model.zero_grad();
    StepMetrics m;
    RoutingTotals routing;
    for (int64_t micro = 0; micro < micro_batches; ++micro) {
      sampler.sample(step, micro, mb, inputs.data(), targets.data());
      const core::nn::DecoderLoss l = model.loss(core::Tensor::from_ints(inputs, {mb, t}),
                                                 core::Tensor::from_ints(targets, {mb, t}),
                                                 &router_rng, /*training=*/true);
      // The step's gradient is the mean over micro-batches.
      core::scale(l.loss, 1.0f / static_cast<float>(micro_batches)).backward();
      m.loss += l.loss.item();
      m.ce += l.ce.item();
      m.aux += l.aux;
      m.z += l.z;
      for (const auto& s : l.moe_stats) routing.add(s);
    }
    m.loss /= micro_batches, m.ce /= micro_batches, m.aux /= micro_batches, m.z /= micro_batches;
    m.grad_norm = clip_grad_norm(params, config.optim.grad_clip);
    SY_REQUIRE(ErrorKind::kNumerical, std::isfinite(m.loss) && std::isfinite(m.grad_norm),
               "step ", step + 1, ": non-finite loss (", m.loss, ") or gradient norm (",
               m.grad_norm, "); lower optim.lr or check the data");
    m.lr = schedule.at(step);
    optimizer.step(m.lr);

    tokens_seen += config.tokens_per_step();
    m.step = step + 1;
    m.tokens = tokens_seen;
    m.step_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    m.tokens_per_s = config.tokens_per_step() / (m.step_ms / 1000.0);
    m.mfu = m.tokens_per_s * flops_per_token / peak_flops;
    if (m.mfu > 1.0) {
      // The peak was measured while the machine was busier than now: measure again, keep the best.
      peak_flops = std::max(peak_flops, measure_matmul_peak_flops());
      m.mfu = m.tokens_per_s * flops_per_token / peak_flops;
    }
    if (routing.layer_passes > 0) {
      m.max_expert_load = routing.max_load_sum / routing.layer_passes;
      m.router_entropy = routing.entropy_sum / routing.layer_passes;
      m.dropped_fraction = static_cast<double>(routing.dropped) / routing.assignments;
      m.tokens_per_expert = routing.per_expert;
    }
    result.steps = m.step;
    result.final_loss = m.loss;

    const bool last = m.step == config.train.steps;
    if (m.step % config.log.every == 0 || last) {
      metrics.write(m);
      log.info(format_step_line(m, first_step, config.train.steps,
                                std::chrono::duration<double>(Clock::now() - started).count()));
    } else {
      log.progress(m.step, config.train.steps);
    }
    const bool save_now = config.checkpoint.every > 0 && m.step % config.checkpoint.every == 0;
    if (save_now || last || g_stop_signal != 0) save(m.step);
    if (g_stop_signal != 0 && !last) {
      SY_FAIL(ErrorKind::kPreempted, "stopped by signal ", static_cast<int>(g_stop_signal),
              " after saving the checkpoint of step ", m.step, "; rerun to resume");
    }
    const bool eval_now = config.train.eval_every > 0 && m.step % config.train.eval_every == 0;
    if (val_shard && (eval_now || last)) {
      const EvalResult e = evaluate(model, *val_shard, t, config.train.eval_windows, mb);
      result.val_ce = e.mean_ce;
      char buf[160];
      std::snprintf(buf, sizeof(buf), "eval step %lld | val ce %.4f over %lld windows of %lld",
                    static_cast<long long>(m.step), e.mean_ce, static_cast<long long>(e.windows),
                    static_cast<long long>(t));
      log.info(buf);
    }
  }
  return result;
}

}  // namespace sy::trainer
