#include "trainer/cli/generate_command.h"

#include <cstdio>

#include "core/common/error.h"
#include "trainer/cli/options.h"
#include "trainer/generate/generator.h"
#include "trainer/inference/model_loader.h"

namespace sy::trainer {

namespace {

constexpr const char* kGenerateUsage =
    "usage: switchyard generate --checkpoint PATH [--prompt TEXT] [--max-new-tokens N]\n"
    "                           [--temperature X] [--top-k K] [--top-p P] [--seed S]\n"
    "\n"
    "Samples a continuation of TEXT (default: a new document) from a trained model, one token\n"
    "at a time over a KV cache, until end-of-text or N tokens (default 200). Temperature 0 is\n"
    "greedy; defaults: temperature 0.8, top-k 0 (off), top-p 0.95, seed 1.\n";

}  // namespace

int run_generate_command(int argc, char** argv) {
  const Options o("generate", argc, argv,
                  {"--checkpoint", "--prompt", "--max-new-tokens", "--temperature", "--top-k",
                   "--top-p", "--seed"});
  if (o.has("--help")) {
    std::fputs(kGenerateUsage, stdout);
    return 0;
  }
  GenerateOptions g;
  g.max_new_tokens = o.get_int("--max-new-tokens", 200);
  g.seed = static_cast<uint64_t>(o.get_int("--seed", 1));
  g.sampling.temperature = o.get_double("--temperature", 0.8);
  g.sampling.top_k = o.get_int("--top-k", 0);
  g.sampling.top_p = o.get_double("--top-p", 0.95);
  SY_REQUIRE(ErrorKind::kUsage, g.max_new_tokens >= 1, "generate: --max-new-tokens must be >= 1");
  SY_REQUIRE(ErrorKind::kUsage, g.sampling.temperature >= 0,
             "generate: --temperature must be >= 0");
  SY_REQUIRE(ErrorKind::kUsage, g.sampling.top_p > 0 && g.sampling.top_p <= 1,
             "generate: --top-p must be in (0, 1]");
  SY_REQUIRE(ErrorKind::kUsage, g.sampling.top_k >= 0, "generate: --top-k must be >= 0");
  const LoadedModel m = load_model(o.require("--checkpoint"));
  const auto tokenizer = load_tokenizer(m.config);
  const std::string prompt = o.get("--prompt");
  const GenerateResult r = generate(*m.model, *tokenizer, prompt, g);
  std::printf("%s%s\n", prompt.c_str(), r.text.c_str());
  std::fprintf(stderr, "[generate] %lld tokens at %.1f tokens/s from %s (step %lld)\n",
               static_cast<long long>(r.new_tokens), r.tokens_per_s, m.file.c_str(),
               static_cast<long long>(m.step));
  return 0;
}

}  // namespace sy::trainer
