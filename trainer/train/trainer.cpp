#include "trainer/train/trainer.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <optional>
#include <vector>

#include "core/common/error.h"
#include "core/nn/decoder.h"
#include "core/ops/elementwise.h"
#include "parallel/comm/checked_communicator.h"
#include "parallel/data/gradient_reducer.h"
#include "parallel/expert/token_dispatcher.h"
#include "parallel/grid/process_grid.h"
#include "parallel/pipeline/pipeline_executor.h"
#include "parallel/pipeline/schedule.h"
#include "trainer/checkpoint/checkpoint.h"
#include "trainer/config/config_loader.h"
#include "trainer/data/sampler.h"
#include "trainer/data/token_shard.h"
#include "trainer/export/hf_import.h"
#include "trainer/inference/model_loader.h"
#include "trainer/optim/adamw.h"
#include "trainer/optim/grad_clip.h"
#include "trainer/optim/lr_schedule.h"
#include "trainer/train/evaluate.h"
#include "trainer/train/hardware_peak.h"
#include "trainer/train/metrics.h"
#include "trainer/train/model_builder.h"
#include "trainer/train/model_parts.h"
#include "trainer/train/run_log.h"
#include "trainer/train/training_stage.h"

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

TrainResult train(const Config& config, parallel::Communicator& launched_world) {
  const auto started = Clock::now();
  // parallel.debug_comm: every group's calls are checked against its other ranks.
  std::unique_ptr<parallel::CheckedCommunicator> checked;
  if (config.parallel.debug_comm) {
    checked = std::make_unique<parallel::CheckedCommunicator>(launched_world, "world");
  }
  parallel::Communicator& world = checked ? *checked : launched_world;
  // The layout is checked on every rank before any other work.
  const parallel::ProcessGrid grid = parallel::ProcessGrid::create(
      world, config.parallel.dp, config.parallel.ep, config.parallel.pp);
  if (checked) {
    for (auto [group, label] : {std::pair{&grid.dp_comm(), "dp"},
                                {&grid.ep_comm(), "ep"},
                                {&grid.expert_dp_comm(), "expert-dp"},
                                {&grid.pp_comm(), "pp"}}) {
      static_cast<parallel::CheckedCommunicator*>(group)->set_label(label);
    }
  }
  const bool root = world.rank() == 0;
  parallel::Communicator& dp_comm = grid.dp_comm();
  const std::filesystem::path run_dir(config.run.dir);
  if (root) {
    std::filesystem::create_directories(run_dir);
    std::ofstream resolved(run_dir / "config.resolved.yaml");
    resolved << to_yaml(config);
  }
  world.barrier();
  const bool progress = config.log.progress == ProgressMode::kOn ||
                        (config.log.progress == ProgressMode::kAuto && stdout_is_terminal());
  RunLog log(run_dir.string(), world.rank(), progress);

  const TokenShard train_shard = load_shard(config.data.train, config, "data.train");
  std::unique_ptr<TokenShard> val_shard;
  if (!config.data.val.empty()) {
    val_shard = std::make_unique<TokenShard>(load_shard(config.data.val, config, "data.val"));
  }
  const BatchSampler sampler(train_shard, config.train.seq_len,
                             static_cast<uint64_t>(config.run.seed));

  // Pipeline parallelism: this rank holds its stage's layers. Expert parallelism: it holds one
  // shard of every MoE layer's experts and reaches the others through the dispatcher over its
  // ep group (the ranks of its stage with the same expert replica).
  core::nn::DecoderOptions options = decoder_options(config);
  const parallel::StagePartition partition = stage_partition(config);
  const int stage = grid.coords().pp_stage;
  options.first_layer = partition.begin(stage);
  options.last_layer = partition.end(stage);
  std::unique_ptr<parallel::TokenDispatcher> dispatcher;
  if (grid.ep() > 1 && options.moe_enabled) {
    dispatcher =
        std::make_unique<parallel::TokenDispatcher>(grid.ep_comm(), options.router.num_experts);
    options.expert_shard = dispatcher->shard();
  }
  const ParameterFilter held_elsewhere = parameters_held_elsewhere(options);
  core::nn::Decoder model(options);
  model.set_expert_exchange(dispatcher.get());
  core::Rng init_rng(static_cast<uint64_t>(config.run.seed) ^ kInitStream);
  model.init(init_rng, static_cast<float>(config.model.init_std));
  const uint64_t router_seed = static_cast<uint64_t>(config.run.seed) ^ kRouterStream;
  const std::vector<core::nn::NamedParameter> params = model.named_parameters();
  AdamW optimizer(params, adamw_options(config));
  // Replicated parameters are averaged over the dp group; expert shards over the ranks holding
  // the same shard (the expert-data-parallel group), which with ep = 1 is the dp group again.
  const ParameterSplit split = split_parameters(params);
  parallel::GradientReducer replicated_reducer(split.replicated);
  parallel::GradientReducer expert_reducer(split.experts);
  const LrSchedule schedule = lr_schedule(config);

  const ParameterCounts counts = count_parameters(config);
  const double flops_per_token = training_flops_per_token(config);
  double peak_flops = measure_matmul_peak_flops();
  const int64_t micro_batches = config.micro_batches_per_step();
  // This rank's contiguous share of every step's micro-batches.
  const int64_t local_micro_batches = micro_batches / grid.dp();
  const int64_t first_micro = grid.coords().dp_index * local_micro_batches;
  const int64_t mb = config.train.micro_batch_size, t = config.train.seq_len;
  log.info("switchyard train: " + config.run.dir + " | params " + std::to_string(counts.total) +
           " total, " + std::to_string(counts.active) + " active | " +
           std::to_string(micro_batches) + " micro-batches of " + std::to_string(mb) + "x" +
           std::to_string(t) + " per step | data " + config.data.train + " (" +
           std::to_string(train_shard.size()) + " tokens) | " + std::to_string(world.size()) +
           " rank(s), dp " + std::to_string(grid.dp()) + " ep " + std::to_string(grid.ep()) +
           " pp " + std::to_string(grid.pp()));
  if (grid.pp() > 1) {
    log.info("pipeline stage " + std::to_string(stage) + ": layers [" +
             std::to_string(options.first_layer) + ", " + std::to_string(options.stage_end()) +
             "), schedule " + std::string(enum_name(config.parallel.pipeline_schedule)));
  }
  // The tokenizer this run's data was made with (recorded for eval, generate and export).
  log.info("tokenizer: " + tokenizer_spec(config));

  int64_t first_step = 0, tokens_seen = 0;
  if (const auto source = resume_source(config)) {
    const LoadedCheckpoint ck = load_checkpoint(*source, model, &optimizer, held_elsewhere);
    first_step = ck.state.step;
    tokens_seen = ck.state.tokens_seen;
    log.info("resumed from " + ck.file + " at step " + std::to_string(first_step));
  } else if (!config.model.init_from.empty()) {
    // A fresh run starting from pretrained weights (a resumed checkpoint wins over init_from).
    init_from_hf(config.model.init_from, config, model, held_elsewhere);
    log.info("initialised from " + config.model.init_from);
  }
  const auto save = [&](int64_t steps_done) {
    CheckpointState st;
    st.step = steps_done;
    st.tokens_seen = tokens_seen;
    st.data_position["next_step"] = steps_done;  // the sampler is a function of the step
    st.config_yaml = to_yaml(config);
    const std::string dir =
        save_checkpoint_collective(config.run.dir, model, optimizer, st,
                                   config.checkpoint.keep_last, config.checkpoint.keep_every, grid);
    if (root) log.info("saved checkpoint " + dir);
  };

  std::optional<MetricsWriter> metrics;
  if (root) metrics.emplace((run_dir / "metrics.jsonl").string(), first_step);
  SignalScope signals;
  TrainResult result;
  result.steps = first_step;
  // The step: this stage's schedule over this rank's micro-batches (with one stage, forward and
  // backward alternate: plain gradient accumulation).
  const std::vector<parallel::PipelineAction> actions =
      parallel::make_schedule(std::string(enum_name(config.parallel.pipeline_schedule)))
          ->actions(stage, grid.pp(), local_micro_batches);
  parallel::PipelineExecutor executor(grid.pp_comm(), grid.pp_prev(), grid.pp_next());
  TrainingStage work(model, sampler, mb, micro_batches, first_micro, router_seed);
  for (int64_t step = first_step; step < config.train.steps; ++step) {
    const auto t0 = Clock::now();
    model.zero_grad();
    StepMetrics m;
    work.begin_step(step);
    // Gradients: the sum over ranks of the local sums (an expert's local sum already covers the
    // tokens its ep group sent it), all-reduced in buckets while the step's last backward runs.
    const parallel::PipelineTiming timing =
        executor.run(actions, work, [&](const core::Tensor& backward_root) {
          replicated_reducer.begin_sync(dp_comm, backward_root);
          expert_reducer.begin_sync(grid.expert_dp_comm(), backward_root);
        });
    replicated_reducer.finish_sync();
    expert_reducer.finish_sync();
    m.reduce_exposed_ms = 1000.0 * (replicated_reducer.last_sync().exposed_seconds +
                                    expert_reducer.last_sync().exposed_seconds);
    // Every rank adds its micro-batches (dp) and its layers (pp); the last stages add the ce.
    StepTotals totals = work.totals();
    totals.all_reduce(world);
    m.ce = totals.ce / micro_batches, m.aux = totals.aux / micro_batches;
    m.z = totals.z / micro_batches;
    m.loss = m.ce + config.moe.aux_loss_coef * m.aux + config.moe.z_loss_coef * m.z;
    // The global norm counts every parameter once: replicated ones once per stage, each expert
    // shard on the one rank of its ep group that holds it, summed over the stages.
    double expert_square = grad_square_sum(split.experts);
    grid.ep_comm().all_reduce(&expert_square, 1, parallel::ReduceOp::kSum);
    double square = grad_square_sum(split.replicated) + expert_square;
    grid.pp_comm().all_reduce(&square, 1, parallel::ReduceOp::kSum);
    m.grad_norm = std::sqrt(square);
    clip_grads_to_norm(params, m.grad_norm, config.optim.grad_clip);
    SY_REQUIRE(ErrorKind::kNumerical, std::isfinite(m.loss) && std::isfinite(m.grad_norm), "step ",
               step + 1, ": non-finite loss (", m.loss, ") or gradient norm (", m.grad_norm,
               "); lower optim.lr or check the data");
    m.lr = schedule.at(step);
    optimizer.step(m.lr);

    tokens_seen += config.tokens_per_step();
    m.step = step + 1;
    m.tokens = tokens_seen;
    m.step_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    m.tokens_per_s = config.tokens_per_step() / (m.step_ms / 1000.0);
    // The job's peak: this rank's measured peak times the ranks (each computes a share).
    const auto mfu = [&] { return m.tokens_per_s * flops_per_token / (peak_flops * world.size()); };
    m.mfu = mfu();
    if (m.mfu > 1.0) {
      // The peak was measured while the machine was busier than now: measure again, keep the best.
      peak_flops = std::max(peak_flops, measure_matmul_peak_flops());
      m.mfu = mfu();
    }
    if (dispatcher) {
      // The exchange's traffic on the busiest rank of the dp group (all wait for it).
      const parallel::ExchangeTraffic traffic = dispatcher->traffic();
      double busiest[2] = {static_cast<double>(traffic.bytes_sent), traffic.seconds};
      dp_comm.all_reduce(busiest, 2, parallel::ReduceOp::kMax);
      m.expert_parallel = true;
      m.all_to_all_bytes = static_cast<int64_t>(busiest[0]);
      m.all_to_all_ms = busiest[1] * 1000.0;
      dispatcher->reset_traffic();
    }
    if (totals.layer_passes > 0) {
      m.max_expert_load = totals.max_load_sum / totals.layer_passes;
      m.router_entropy = totals.entropy_sum / totals.layer_passes;
      m.dropped_fraction = static_cast<double>(totals.dropped) / totals.assignments;
      m.tokens_per_expert = totals.per_expert;
    }
    if (grid.pp() > 1) {
      // The share of the step each rank spent waiting for its neighbours, averaged over ranks.
      double waited = timing.seconds > 0 ? timing.wait_seconds / timing.seconds : 0.0;
      world.all_reduce(&waited, 1, parallel::ReduceOp::kSum);
      m.pipeline = true;
      m.bubble_fraction = waited / world.size();
    }
    m.peak_rss_mib = peak_rss_mib();
    result.steps = m.step;
    result.final_loss = m.loss;

    const bool last = m.step == config.train.steps;
    if (m.step % config.log.every == 0 || last) {
      if (metrics) metrics->write(m);
      log.info(format_step_line(m, first_step, config.train.steps,
                                std::chrono::duration<double>(Clock::now() - started).count()));
    } else {
      log.progress(m.step, config.train.steps);
    }
    if (checked) checked->verify_step();
    // A signal may reach only some ranks: agree on it so every rank saves and stops together.
    int64_t stop = g_stop_signal;
    world.all_reduce(&stop, 1, parallel::ReduceOp::kMax);
    const bool save_now = config.checkpoint.every > 0 && m.step % config.checkpoint.every == 0;
    if (save_now || last || stop != 0) save(m.step);
    if (stop != 0 && !last) {
      SY_FAIL(ErrorKind::kPreempted, "stopped by signal ", stop,
              " after saving the checkpoint of step ", m.step, "; rerun to resume");
    }
    const bool eval_now = config.train.eval_every > 0 && m.step % config.train.eval_every == 0;
    // Evaluation runs on the first expert replica of every stage (rank 0 alone with data
    // parallelism only): its ranks exchange tokens and activations for the same windows.
    const bool evaluates = grid.coords().expert_replica == 0;
    if (evaluates && val_shard && (eval_now || last)) {
      const EvalResult e = evaluate(model, *val_shard, t, config.train.eval_windows, mb,
                                    grid.pp_comm(), grid.pp_prev(), grid.pp_next());
      result.val_ce = e.mean_ce;
      char buf[160];
      std::snprintf(buf, sizeof(buf), "eval step %lld | val ce %.4f over %lld windows of %lld",
                    static_cast<long long>(m.step), e.mean_ce, static_cast<long long>(e.windows),
                    static_cast<long long>(t));
      log.info(buf);
    }
    if (dispatcher) dispatcher->reset_traffic();  // evaluation's exchanges are not a step's
  }
  return result;
}

void print_dry_run(const Config& config, parallel::Communicator& world) {
  const parallel::ProcessGrid grid = parallel::ProcessGrid::create(
      world, config.parallel.dp, config.parallel.ep, config.parallel.pp);
  const std::string layout = grid.describe_all();
  if (world.rank() != 0) return;
  const ParameterCounts counts = count_parameters(config);
  const parallel::StagePartition partition = stage_partition(config);
  const int64_t local_micro = config.micro_batches_per_step() / grid.dp();
  const auto schedule =
      parallel::make_schedule(std::string(enum_name(config.parallel.pipeline_schedule)));
  std::printf("layout: world %d = dp %d x pp %d, ep %d\n%s", world.size(), grid.dp(), grid.pp(),
              grid.ep(), layout.c_str());
  std::printf("parameters: %lld total, %lld active per token\n",
              static_cast<long long>(counts.total), static_cast<long long>(counts.active));
  std::printf("micro-batches per step: %d (%lld per dp rank) of %dx%d tokens\n",
              config.micro_batches_per_step(), static_cast<long long>(local_micro),
              config.train.micro_batch_size, config.train.seq_len);
  if (grid.pp() > 1) {
    std::printf("pipeline: %s schedule, expected bubble %.1f%% of a step ((pp-1)/(m+pp-1))\n",
                schedule->name().c_str(),
                100.0 * parallel::expected_bubble_fraction(grid.pp(), local_micro));
  }
  // Per rank: weights, gradients and two AdamW moments in float32 (experts divided over ep), plus
  // activations saved for backward, roughly 34 floats per token per unit of width per layer
  // (attention, norms, FFN inputs, the K expert passes) and the logits, for each micro-batch the
  // schedule keeps in flight.
  const double tokens = static_cast<double>(config.train.micro_batch_size) * config.train.seq_len;
  for (int s = 0; s < grid.pp(); ++s) {
    const ParameterCounts stage =
        count_stage_parameters(config, partition.begin(s), partition.end(s));
    int64_t moe_layers = 0;
    for (int64_t l = partition.begin(s); l < partition.end(s); ++l) {
      moe_layers += config.is_moe_layer(static_cast<int>(l)) ? 1 : 0;
    }
    const double state_bytes = 16.0 * static_cast<double>(stage.per_rank(grid.ep()));
    const bool head = s == grid.pp() - 1;
    const double activation_bytes =
        4.0 * tokens *
        (34.0 * config.model.hidden_size *
             static_cast<double>(partition.end(s) - partition.begin(s)) +
         2.0 * config.moe.top_k * config.expert_intermediate_size() *
             static_cast<double>(moe_layers) +
         (head ? 2.0 * config.model.vocab_size : 0.0));
    const int64_t in_flight =
        parallel::peak_in_flight(schedule->actions(s, grid.pp(), local_micro));
    std::printf(
        "stage %d: layers [%lld, %lld), %lld parameters held per rank; memory per rank "
        "(estimate): %.1f MiB model + optimizer state, %.1f MiB activations (%lld micro-batch%s "
        "in flight)\n",
        s, static_cast<long long>(partition.begin(s)), static_cast<long long>(partition.end(s)),
        static_cast<long long>(stage.per_rank(grid.ep())), state_bytes / (1 << 20),
        activation_bytes * static_cast<double>(in_flight) / (1 << 20),
        static_cast<long long>(in_flight), in_flight == 1 ? "" : "es");
  }
}

}  // namespace sy::trainer
