#include "trainer/cli/eval_command.h"

#include <algorithm>
#include <cstdio>

#include "core/common/error.h"
#include "trainer/cli/options.h"
#include "trainer/data/token_shard.h"
#include "trainer/inference/model_loader.h"
#include "trainer/train/evaluate.h"

namespace sy::trainer {

namespace {

constexpr const char* kEvalUsage =
    "usage: switchyard eval --checkpoint PATH --data FILE.bin [--seq-len T] [--windows N]\n"
    "                       [--batch B]\n"
    "\n"
    "Mean cross-entropy of the model over consecutive windows of a token shard: window w holds\n"
    "tokens [w*T, w*T+T] (inputs the first T, targets shifted by one). Prints one JSON line:\n"
    "  {\"mean_ce\": ..., \"windows\": N, \"seq_len\": T, \"tokens\": ...}\n"
    "--checkpoint: a run directory (its newest checkpoint), a checkpoint directory or file.\n"
    "--seq-len defaults to the model's train.seq_len; --windows to all of them.\n";

}  // namespace

int run_eval_command(int argc, char** argv) {
  const Options o("eval", argc, argv,
                  {"--checkpoint", "--data", "--seq-len", "--windows", "--batch"});
  if (o.has("--help")) {
    std::fputs(kEvalUsage, stdout);
    return 0;
  }
  const std::string checkpoint = o.require("--checkpoint");
  const std::string data = o.require("--data");
  const LoadedModel m = load_model(checkpoint);
  const TokenShard shard = TokenShard::load(data);
  shard.check_vocab(m.config.model.vocab_size);
  const int64_t seq_len = o.get_int("--seq-len", m.config.train.seq_len);
  SY_REQUIRE(ErrorKind::kUsage, seq_len >= 1, "eval: --seq-len must be positive");
  const EvalResult r = evaluate(*m.model, shard, seq_len, o.get_int("--windows", 0),
                                std::max<int64_t>(1, o.get_int("--batch", 8)));
  std::printf("{\"mean_ce\": %.9g, \"windows\": %lld, \"seq_len\": %lld, \"tokens\": %lld}\n",
              r.mean_ce, static_cast<long long>(r.windows), static_cast<long long>(r.seq_len),
              static_cast<long long>(r.tokens));
  return 0;
}

}  // namespace sy::trainer
