// Backward + data-parallel gradient all-reduce, three ways, under `mpirun -np N`:
//   none     backward alone (no communication): the lower bound
//   sync     backward, then GradientReducer::all_reduce (every bucket after backward)
//   overlap  begin_sync(world, loss), backward (buckets start from the gradient-ready hooks),
//            finish_sync
// The modes alternate step by step; every step starts after a barrier, and each rank times its
// own backward and reduction. Rank 0 prints its medians over the measured steps, in ms (results
// and the commands: docs/PARALLEL.md, "Gradient all-reduce overlap").
//
// Models: "bench-small" (configs/bench-small.yaml's decoder: V=8192 D=512 L=4 H=8 F=1024 E=8
// K=2, 62.9M parameters) on --batch x --seq random tokens per rank, or "mlp": --layers linear
// layers of --width with silu between, on --batch x --seq rows.
//   mpirun -np 2 overlap_bench [--model bench-small|mlp] [--steps 10] [--warmup 2] [--batch 1]
//                              [--seq 128] [--bucket-mb 25] [--layers 8] [--width 1024]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/common/error.h"
#include "core/nn/decoder.h"
#include "core/nn/layers.h"
#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"
#include "core/tensor/rng.h"
#include "parallel/comm/runtime.h"
#include "parallel/data/gradient_reducer.h"

namespace sy::bench {
namespace {

using Clock = std::chrono::steady_clock;
using core::Tensor;

struct Options {
  std::string model = "bench-small";
  int steps = 10, warmup = 2;
  int64_t batch = 1, seq = 128, layers = 8, width = 1024;
  double bucket_mb = 25;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; i += 2) {
    const std::string key = argv[i];
    SY_REQUIRE(ErrorKind::kUsage, i + 1 < argc, "overlap_bench: ", key, " needs a value");
    const std::string value = argv[i + 1];
    if (key == "--model") {
      o.model = value;
    } else if (key == "--steps") {
      o.steps = std::stoi(value);
    } else if (key == "--warmup") {
      o.warmup = std::stoi(value);
    } else if (key == "--batch") {
      o.batch = std::stoll(value);
    } else if (key == "--seq") {
      o.seq = std::stoll(value);
    } else if (key == "--layers") {
      o.layers = std::stoll(value);
    } else if (key == "--width") {
      o.width = std::stoll(value);
    } else if (key == "--bucket-mb") {
      o.bucket_mb = std::stod(value);
    } else {
      SY_FAIL(ErrorKind::kUsage, "overlap_bench: unknown option ", key);
    }
  }
  SY_REQUIRE(ErrorKind::kUsage, o.model == "bench-small" || o.model == "mlp",
             "overlap_bench: --model is bench-small or mlp, not ", o.model);
  return o;
}

// "mlp": x (N,W) -> silu(x W_1^T) -> ... -> W_L; loss sum(out^2) / N.
class Mlp : public core::nn::Module {
 public:
  Mlp(int64_t layers, int64_t width) {
    for (int64_t l = 0; l < layers; ++l) {
      layers_.push_back(&list_.emplace_back<core::nn::Linear>(width, width));
    }
    register_module("layers", &list_);
  }
  Tensor loss(const Tensor& x) const {
    Tensor h = x;
    for (size_t l = 0; l < layers_.size(); ++l) {
      h = layers_[l]->forward(h);
      if (l + 1 < layers_.size()) h = core::silu(h);
    }
    return core::scale(core::sum(core::mul(h, h)), 1.0f / static_cast<float>(x.dim(0)));
  }

 private:
  core::nn::ModuleList list_;
  std::vector<core::nn::Linear*> layers_;
};

core::nn::DecoderOptions bench_small() {
  core::nn::DecoderOptions o;
  o.vocab_size = 8192;
  o.hidden_size = 512;
  o.num_layers = 4;
  o.num_heads = o.num_kv_heads = 8;
  o.intermediate_size = o.expert_intermediate_size = 1024;
  o.router.num_experts = 8;
  o.router.top_k = 2;
  return o;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

int run(int argc, char** argv) {
  parallel::Runtime runtime(&argc, &argv);
  parallel::Communicator& world = runtime.world();
  const Options o = parse(argc, argv);

  std::unique_ptr<core::nn::Decoder> decoder;
  std::unique_ptr<Mlp> mlp;
  core::Rng init(1234);
  if (o.model == "bench-small") {
    decoder = std::make_unique<core::nn::Decoder>(bench_small());
    decoder->init(init, 0.02f);
  } else {
    mlp = std::make_unique<Mlp>(o.layers, o.width);
    const float stddev = 1.0f / std::sqrt(static_cast<float>(o.width));
    for (const core::nn::NamedParameter& p : mlp->named_parameters()) {
      Tensor weight = p.tensor;
      weight.copy_(init.normal(weight.shape(), 0.0f, stddev));
    }
  }
  core::nn::Module& model = decoder ? static_cast<core::nn::Module&>(*decoder) : *mlp;
  const std::vector<core::nn::NamedParameter> params = model.named_parameters();
  parallel::GradientReducer reducer(params, static_cast<int64_t>(o.bucket_mb * (1 << 20)));

  std::mt19937 gen(77 + static_cast<unsigned>(world.rank()));
  core::Rng data_rng(99 + static_cast<uint64_t>(world.rank()));
  const auto loss = [&]() {
    if (mlp) return mlp->loss(data_rng.normal({o.batch * o.seq, o.width}));
    std::uniform_int_distribution<int32_t> token(0, 8191);
    std::vector<int32_t> ids(static_cast<size_t>(o.batch * o.seq)), targets(ids.size());
    for (size_t i = 0; i < ids.size(); ++i) ids[i] = token(gen), targets[i] = token(gen);
    core::Rng router(5);
    return decoder
        ->loss(Tensor::from_ints(ids, {o.batch, o.seq}),
               Tensor::from_ints(targets, {o.batch, o.seq}), &router, /*training=*/true)
        .loss;
  };

  const char* modes[] = {"none", "sync", "overlap"};
  std::vector<double> backward[3], reduce[3], total[3], hook[3];
  int64_t fewest_started = reducer.num_buckets();  // in backward, over the measured steps
  for (int step = 0; step < o.warmup + o.steps; ++step) {
    for (int m = 0; m < 3; ++m) {
      model.zero_grad();
      Tensor l = loss();
      world.barrier();
      const Clock::time_point t0 = Clock::now();
      if (m == 2) reducer.begin_sync(world, l);  // timed: it walks the graph
      l.backward();
      const Clock::time_point t1 = Clock::now();
      if (m == 1) reducer.all_reduce(world);
      if (m == 2) reducer.finish_sync();
      const Clock::time_point t2 = Clock::now();
      if (step < o.warmup) continue;
      backward[m].push_back(ms_between(t0, t1));
      reduce[m].push_back(ms_between(t1, t2));
      total[m].push_back(ms_between(t0, t2));
      hook[m].push_back(m == 2 ? reducer.last_sync().hook_seconds * 1e3 : 0.0);
      if (m == 2) fewest_started = std::min(fewest_started, reducer.last_sync().overlapped);
    }
  }
  if (world.rank() == 0) {
    int64_t elements = 0;
    for (const core::nn::NamedParameter& p : params) elements += p.tensor.numel();
    std::printf(
        "overlap_bench: model %s, %lld parameters (%.1f MiB of gradients), %lld buckets "
        "of <= %.1f MiB, %d ranks, %lld x %lld tokens or rows per rank, %d steps "
        "(+%d warm-up), OMP_NUM_THREADS=%s\n",
        o.model.c_str(), static_cast<long long>(elements), elements * 4.0 / (1 << 20),
        static_cast<long long>(reducer.num_buckets()), o.bucket_mb, world.size(),
        static_cast<long long>(o.batch), static_cast<long long>(o.seq), o.steps, o.warmup,
        std::getenv("OMP_NUM_THREADS") ? std::getenv("OMP_NUM_THREADS") : "-");
    std::printf("%-8s %14s %18s %24s %12s\n", "mode", "backward_ms", "reduce_after_ms",
                "backward+reduce_ms", "in_hooks_ms");
    for (int m = 0; m < 3; ++m) {
      std::printf("%-8s %14.1f %18.1f %24.1f %12.1f\n", modes[m], median(backward[m]),
                  median(reduce[m]), median(total[m]), median(hook[m]));
    }
    std::printf("overlap: at least %lld of %lld buckets started during backward in every step\n",
                static_cast<long long>(fewest_started),
                static_cast<long long>(reducer.num_buckets()));
  }
  return 0;
}

}  // namespace
}  // namespace sy::bench

int main(int argc, char** argv) {
  try {
    return sy::bench::run(argc, argv);
  } catch (const sy::Error& e) {
    std::fprintf(stderr, "overlap_bench: %s\n", e.what());
    sy::parallel::abort_world(e.exit_code());
  }
}
