// `switchyard prep`: option parsing and the summary; the pipeline is trainer/data/dataset_builder.
#include "trainer/cli/prep_command.h"

#include <charconv>
#include <cstdio>
#include <string>
#include <string_view>

#include "core/common/error.h"
#include "trainer/data/dataset_builder.h"

namespace sy::trainer {

namespace {

constexpr const char* kPrepUsage =
    "usage: switchyard prep (--input TEXT_FILE... | --fortunes) --out DIR\n"
    "                       [--tokenizer byte|sentencepiece] [--vocab-size V]\n"
    "                       [--val-fraction F] [--seed S]\n"
    "\n"
    "Turns text into token shards: DIR/train.bin, DIR/val.bin (llm.c .bin layout with\n"
    "Switchyard metadata), DIR/tokenizer.model (sentencepiece), DIR/documents.tsv (split,\n"
    "index, language, offset, tokens, source per document) and DIR/prep.json.\n"
    "\n"
    "options:\n"
    "  --input FILE...       text files; fortune-format files (documents separated by '%'\n"
    "                        lines) give one document per fortune, others one per file\n"
    "  --fortunes            add every installed fortune collection, language from its folder\n"
    "  --fortunes-dir DIR    where to look for them (default /usr/share/games/fortunes)\n"
    "  --include-offensive   also use the collections under off/ folders\n"
    "  --out DIR             output directory (created if missing)\n"
    "  --tokenizer T         byte (default; vocab 260) or sentencepiece (BPE trained on the\n"
    "                        train split)\n"
    "  --vocab-size V        sentencepiece vocabulary size (default 4096)\n"
    "  --val-fraction F      fraction of documents held out for validation (default 0.01)\n"
    "  --seed S              shuffle and tokenizer-training seed (default 1234)\n"
    "  --verbose             show SentencePiece's training log\n"
    "  --help                print this message\n";

template <typename T>
T parse_number(std::string_view option, std::string_view text) {
  T value{};
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  SY_REQUIRE(ErrorKind::kUsage, ec == std::errc() && ptr == end && !text.empty(), "prep: ", option,
             " expects a number, got '", text, "'");
  return value;
}

}  // namespace

int run_prep_command(int argc, char** argv) {
  PrepOptions o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string inline_value;
    bool has_inline = false;
    if (arg.starts_with("--") && arg.find('=') != std::string::npos) {
      inline_value = arg.substr(arg.find('=') + 1);
      arg = arg.substr(0, arg.find('='));
      has_inline = true;
    }
    auto value = [&]() -> std::string {
      if (has_inline) return inline_value;
      SY_REQUIRE(ErrorKind::kUsage, i + 1 < argc, "prep: ", arg, " needs a value");
      return argv[++i];
    };
    auto no_value = [&]() {
      SY_REQUIRE(ErrorKind::kUsage, !has_inline, "prep: ", arg, " takes no value");
    };
    if (arg == "--help" || arg == "-h") {
      std::fputs(kPrepUsage, stdout);
      return 0;
    } else if (arg == "--input") {
      const size_t before = o.inputs.size();
      if (has_inline) o.inputs.push_back(inline_value);
      while (i + 1 < argc && !std::string_view(argv[i + 1]).starts_with("--")) {
        o.inputs.emplace_back(argv[++i]);
      }
      SY_REQUIRE(ErrorKind::kUsage, o.inputs.size() > before, "prep: --input needs a file");
    } else if (arg == "--out") {
      o.out_dir = value();
    } else if (arg == "--tokenizer") {
      o.tokenizer = value();
    } else if (arg == "--vocab-size") {
      o.vocab_size = parse_number<int64_t>(arg, value());
      SY_REQUIRE(ErrorKind::kUsage, o.vocab_size > 0, "prep: --vocab-size must be positive");
    } else if (arg == "--val-fraction") {
      o.val_fraction = parse_number<double>(arg, value());
    } else if (arg == "--seed") {
      o.seed = parse_number<uint64_t>(arg, value());
    } else if (arg == "--fortunes") {
      no_value();
      o.fortunes = true;
    } else if (arg == "--fortunes-dir") {
      o.fortunes_dir = value();
      o.fortunes = true;
    } else if (arg == "--include-offensive") {
      no_value();
      o.include_offensive = true;
    } else if (arg == "--verbose") {
      no_value();
      o.verbose = true;
    } else if (arg.starts_with("-")) {
      SY_FAIL(ErrorKind::kUsage, "prep: unknown option '", arg, "' (see switchyard prep --help)");
    } else {
      SY_FAIL(ErrorKind::kUsage, "prep: unexpected argument '", arg,
              "' (input files follow --input)");
    }
  }

  const PrepResult r = build_dataset(o);
  std::printf("prep: %lld files, %lld documents (train %lld, val %lld)\n",
              static_cast<long long>(r.corpus.files),
              static_cast<long long>(r.train.documents + r.val.documents),
              static_cast<long long>(r.train.documents), static_cast<long long>(r.val.documents));
  std::printf("prep: tokens train %lld, val %lld; tokenizer %s, vocab %lld, eot %d\n",
              static_cast<long long>(r.train.tokens), static_cast<long long>(r.val.tokens),
              r.tokenizer.c_str(), static_cast<long long>(r.vocab_size), r.eot_id);
  std::string langs;
  for (const auto& [lang, c] : r.languages) {
    langs += (langs.empty() ? "" : ", ") + lang + " " + std::to_string(c.documents) + " docs/" +
             std::to_string(c.tokens) + " tokens";
  }
  std::printf("prep: languages: %s\n", langs.c_str());
  std::printf("prep: invalid UTF-8 sequences replaced: %lld\n",
              static_cast<long long>(r.corpus.invalid_utf8));
  std::printf("prep: %.2f s (read %.2f, tokenizer %.2f, encode+write %.2f) -> %s\n",
              r.total_seconds, r.read_seconds, r.tokenizer_seconds, r.encode_seconds,
              o.out_dir.c_str());
  return 0;
}

}  // namespace sy::trainer
