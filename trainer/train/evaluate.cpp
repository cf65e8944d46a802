#include "trainer/train/evaluate.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "core/autograd/grad_mode.h"
#include "core/common/error.h"
#include "trainer/data/sampler.h"

namespace sy::trainer {

namespace {

// The tag of the batch starting at window `first`: its ordinal, within MPI's guaranteed 32767
// (messages between two stages arrive in order, so a repeat cannot be confused).
int batch_tag(int64_t first, int64_t batch_size) {
  return static_cast<int>((first / batch_size) % 32768);
}

}  // namespace

EvalResult evaluate(const core::nn::Decoder& model, const TokenShard& shard, int64_t seq_len,
                    int64_t max_windows, int64_t batch_size) {
  const std::unique_ptr<parallel::Communicator> alone = parallel::make_single_communicator();
  return evaluate(model, shard, seq_len, max_windows, batch_size, *alone, -1, -1);
}

EvalResult evaluate(const core::nn::Decoder& model, const TokenShard& shard, int64_t seq_len,
                    int64_t max_windows, int64_t batch_size, parallel::Communicator& pp, int prev,
                    int next) {
  core::NoGradGuard no_grad;
  const int64_t available = num_windows(shard, seq_len);
  SY_REQUIRE(ErrorKind::kBadInput, available > 0, "data file ", shard.path(), " holds ",
             shard.size(), " tokens: fewer than one evaluation window of ", seq_len + 1);
  EvalResult r;
  r.seq_len = seq_len;
  r.windows = max_windows > 0 ? std::min(max_windows, available) : available;
  double total = 0;
  for (int64_t first = 0; first < r.windows; first += batch_size) {
    const int64_t count = std::min(batch_size, r.windows - first);
    std::vector<int32_t> in(static_cast<size_t>(count * seq_len)), tg(in.size());
    eval_windows(shard, seq_len, first, count, in.data(), tg.data());
    const core::Tensor targets = core::Tensor::from_ints(tg, {count, seq_len});
    core::Tensor input;
    if (prev < 0) {
      input = core::Tensor::from_ints(in, {count, seq_len});
    } else {
      input = core::Tensor::empty({count, seq_len, model.options().hidden_size});
      pp.recv(input.f32(), input.numel(), prev, batch_tag(first, batch_size));
    }
    const core::nn::DecoderLoss l = model.stage_loss(input, targets, nullptr, false);
    if (next >= 0) {
      // Forward only, in batch order: each stage receives batch b before it sends it, so the
      // blocking sends cannot wait on each other in a cycle.
      pp.send(l.activation.f32(), l.activation.numel(), next, batch_tag(first, batch_size));
    } else {
      // Each window has seq_len targets, so the batch's mean CE times count sums window means.
      total += static_cast<double>(l.ce.item()) * count;
    }
  }
  pp.broadcast(&total, sizeof(total), pp.size() - 1);
  r.mean_ce = total / static_cast<double>(r.windows);
  r.tokens = r.windows * seq_len;
  return r;
}

}  // namespace sy::trainer
