#include "trainer/train/evaluate.h"

#include <algorithm>
#include <vector>

#include "core/autograd/grad_mode.h"
#include "core/common/error.h"
#include "trainer/data/sampler.h"

namespace sy::trainer {

EvalResult evaluate(const core::nn::Decoder& model, const TokenShard& shard, int64_t seq_len,
                    int64_t max_windows, int64_t batch_size) {
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
    const core::Tensor ids = core::Tensor::from_ints(in, {count, seq_len});
    const core::Tensor targets = core::Tensor::from_ints(tg, {count, seq_len});
    // Each window has seq_len targets, so the batch's mean CE times count sums window means.
    total += static_cast<double>(model.loss(ids, targets, nullptr, false).ce.item()) * count;
  }
  r.mean_ce = total / static_cast<double>(r.windows);
  r.tokens = r.windows * seq_len;
  return r;
}

}  // namespace sy::trainer
