// `switchyard export`: option parsing, the summary and the compatibility warnings; the work is
// trainer/export.
#include "trainer/cli/export_command.h"

#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "core/common/error.h"
#include "trainer/data/tokenizer.h"
#include "trainer/export/hf_export.h"
#include "trainer/inference/model_loader.h"

namespace sy::trainer {

namespace {

constexpr const char* kExportUsage =
    "usage: switchyard export SRC OUTDIR [--max-shard-size SIZE] [--dtype float32|bfloat16]\n"
    "                         [--tokenizer byte|FILE.model] [--check-logits] [--force]\n"
    "\n"
    "Writes a model as a Hugging Face Mixtral directory (docs/EXPORT.md): config.json,\n"
    "generation_config.json, model.safetensors (or model-0000i-of-0000n.safetensors shards and\n"
    "model.safetensors.index.json beyond SIZE) and the tokenizer (tokenizer.model, or\n"
    "switchyard_tokenizer.json for the byte tokenizer). OUTDIR appears atomically (written as\n"
    "OUTDIR.tmp, then renamed). `model.init_from=OUTDIR` trains from it; eval and generate take\n"
    "it as --checkpoint.\n"
    "\n"
    "SRC: a run directory (its newest checkpoint), a checkpoint directory or file, or an export.\n"
    "\n"
    "options:\n"
    "  --max-shard-size SIZE  shard beyond SIZE bytes (units B, KB, MB, GB, KiB, MiB, GiB;\n"
    "                         default 5GB)\n"
    "  --dtype D              float32 (default; exact) or bfloat16 (rounded to nearest even)\n"
    "  --tokenizer T          the tokenizer to ship: byte or a SentencePiece .model (default:\n"
    "                         the one the model was trained with)\n"
    "  --check-logits         also write switchyard_check.safetensors: fixed input ids and the\n"
    "                         logits Switchyard computes for them (tests/reference/\n"
    "                         check_export.py compares other implementations against them)\n"
    "  --force                replace OUTDIR when it exists and is not empty\n"
    "  --help                 print this message\n"
    "\n"
    "A model that does not load unchanged as MixtralForCausalLM (dense layers, normalize_topk\n"
    "false, the noisy router, expert capacity, tied embeddings) is still exported, with a\n"
    "warning per reason.\n"
    "\n"
    "exit codes: 0 exported; 2 usage error or OUTDIR not empty; 3 unreadable SRC or tokenizer.\n";

}  // namespace

uint64_t parse_byte_size(const std::string& text) {
  static constexpr std::pair<const char*, uint64_t> kUnits[] = {{"", 1},
                                                                {"B", 1},
                                                                {"KB", 1000},
                                                                {"MB", 1000000},
                                                                {"GB", 1000000000},
                                                                {"KIB", uint64_t{1} << 10},
                                                                {"MIB", uint64_t{1} << 20},
                                                                {"GIB", uint64_t{1} << 30}};
  uint64_t n = 0;
  const char* end = text.data() + text.size();
  const auto [rest, ec] = std::from_chars(text.data(), end, n);
  std::string unit(rest, end);
  for (char& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (ec == std::errc() && rest != text.data()) {
    for (const auto& [name, scale] : kUnits) {
      if (unit == name && n > 0 && n <= UINT64_MAX / scale) return n * scale;
    }
  }
  SY_FAIL(ErrorKind::kUsage, "export: --max-shard-size: expected a positive size such as 5GB or ",
          "500MB, got '", text, "'");
}

int run_export_command(int argc, char** argv) {
  std::vector<std::string> positional;
  HfExportOptions options;
  std::string tokenizer;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto value = [&]() -> std::string {
      SY_REQUIRE(ErrorKind::kUsage, i + 1 < argc, "export: ", arg, " needs a value");
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") {
      std::fputs(kExportUsage, stdout);
      return 0;
    } else if (arg == "--max-shard-size") {
      options.max_shard_bytes = parse_byte_size(value());
    } else if (arg == "--dtype") {
      const std::string d = value();
      SY_REQUIRE(ErrorKind::kUsage, d == "float32" || d == "bfloat16",
                 "export: --dtype: expected float32 or bfloat16, got '", d, "'");
      options.bfloat16 = d == "bfloat16";
    } else if (arg == "--tokenizer") {
      tokenizer = value();
    } else if (arg == "--check-logits") {
      options.check_logits = true;
    } else if (arg == "--force") {
      options.overwrite = true;
    } else {
      SY_REQUIRE(ErrorKind::kUsage, !arg.starts_with("-") || arg == "-", "export: unknown option '",
                 arg, "' (see switchyard export --help)");
      positional.push_back(arg);
    }
  }
  SY_REQUIRE(ErrorKind::kUsage, positional.size() == 2,
             "export: expected SRC and OUTDIR (see switchyard export --help), got ",
             positional.size(), " argument(s)");
  const std::string& src = positional[0];
  const std::string& out = positional[1];

  const LoadedModel m = load_model(src);
  if (tokenizer.empty()) {
    tokenizer = tokenizer_spec(m.config);
    if (tokenizer == "byte" && m.config.data.tokenizer.empty() &&
        m.config.model.vocab_size != ByteTokenizer::kVocabSize) {
      std::fprintf(stderr,
                   "switchyard export: warning: no tokenizer.model beside data.train (%s): "
                   "shipping the byte tokenizer for a %d-token vocabulary; pass --tokenizer "
                   "FILE.model if the model was trained with SentencePiece\n",
                   m.config.data.train.c_str(), m.config.model.vocab_size);
    }
  }
  options.step = m.step;
  const HfExportResult r = export_hf(m.config, *m.model, tokenizer, out, options);
  if (!r.warnings.empty()) {
    std::fprintf(stderr,
                 "switchyard export: warning: %s will not load unchanged as "
                 "MixtralForCausalLM (Switchyard's import and load_model read it exactly):\n",
                 out.c_str());
    for (const std::string& w : r.warnings) std::fprintf(stderr, "  - %s\n", w.c_str());
  }
  std::string files;
  for (const std::string& f : r.files) files += (files.empty() ? "" : ", ") + f;
  std::printf(
      "exported %s (step %lld): %lld tensors, %lld parameters, %llu bytes in %d shard%s "
      "-> %s: %s\n",
      m.file.c_str(), static_cast<long long>(m.step), static_cast<long long>(r.tensors),
      static_cast<long long>(r.parameters), static_cast<unsigned long long>(r.tensor_bytes),
      r.shards, r.shards == 1 ? "" : "s", out.c_str(), files.c_str());
  return 0;
}

}  // namespace sy::trainer
