#include "trainer/generate/generator.h"

#include <chrono>

#include "core/common/error.h"

namespace sy::trainer {

GenerateResult generate(const core::nn::Decoder& model, const Tokenizer& tokenizer,
                        const std::string& prompt, const GenerateOptions& options) {
  SY_REQUIRE(ErrorKind::kUsage, tokenizer.vocab_size() <= model.options().vocab_size,
             "the tokenizer's vocabulary (", tokenizer.vocab_size(),
             ") is larger than the model's (", model.options().vocab_size, ")");
  std::vector<int32_t> ids = tokenizer.encode(prompt);
  if (ids.empty()) ids.push_back(tokenizer.eot_id());
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<core::nn::KvCache> caches =
      model.make_caches(static_cast<int64_t>(ids.size()) + options.max_new_tokens);
  core::Rng rng(options.seed);
  core::Tensor logits = model.next_token_logits(
      core::Tensor::from_ints(ids, {1, static_cast<int64_t>(ids.size())}), caches);
  GenerateResult r;
  std::vector<int32_t> produced;
  for (int64_t i = 0; i < options.max_new_tokens; ++i) {
    const int32_t next = sample_token(logits.to_vector(), options.sampling, rng);
    ++r.new_tokens;
    if (next == tokenizer.eot_id()) break;
    produced.push_back(next);
    if (i + 1 < options.max_new_tokens) {
      logits = model.next_token_logits(core::Tensor::from_ints({next}, {1, 1}), caches);
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.tokens_per_s = seconds > 0 ? static_cast<double>(r.new_tokens) / seconds : 0.0;
  r.text = tokenizer.decode(produced);
  return r;
}

}  // namespace sy::trainer
