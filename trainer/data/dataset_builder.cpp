// The prep pipeline (dataset_builder.h): documents, split, tokenizer, shards and side files.
#include "trainer/data/dataset_builder.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string_view>

#include "core/common/error.h"
#include "core/tensor/rng.h"
#include "trainer/data/sampler.h"
#include "trainer/data/token_shard.h"
#include "trainer/data/tokenizer.h"

namespace sy::trainer {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

// Writes `text` to `path` through a temporary file renamed into place.
void write_text_file(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) throw Error(ErrorKind::kInternal, "cannot write " + tmp);
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) throw Error(ErrorKind::kInternal, "cannot rename " + tmp + ": " + ec.message());
}

std::string prep_json(const PrepOptions& o, const PrepResult& r) {
  std::ostringstream js;
  char hash[32];
  std::snprintf(hash, sizeof(hash), "%016llx", static_cast<unsigned long long>(r.tokenizer_hash));
  js << "{\n  \"tokenizer\": " << json_string(r.tokenizer)
     << ",\n  \"vocab_size\": " << r.vocab_size << ",\n  \"eot_id\": " << r.eot_id
     << ",\n  \"tokenizer_hash\": \"" << hash << "\",\n  \"seed\": " << o.seed
     << ",\n  \"val_fraction\": " << o.val_fraction
     << ",\n  \"documents\": {\"train\": " << r.train.documents << ", \"val\": " << r.val.documents
     << "},\n  \"tokens\": {\"train\": " << r.train.tokens << ", \"val\": " << r.val.tokens
     << "},\n  \"languages\": {";
  bool first = true;
  for (const auto& [lang, c] : r.languages) {
    js << (first ? "\n    " : ",\n    ") << json_string(lang) << ": {\"documents\": " << c.documents
       << ", \"tokens\": " << c.tokens << "}";
    first = false;
  }
  js << "\n  },\n  \"invalid_utf8\": " << r.corpus.invalid_utf8
     << ",\n  \"empty_documents_dropped\": " << r.corpus.empty_dropped
     << ",\n  \"seconds\": " << r.total_seconds << ",\n  \"files\": [";
  for (size_t i = 0; i < r.files.size(); ++i) {
    js << (i ? ",\n    " : "\n    ") << json_string(r.files[i]);
  }
  js << "\n  ]\n}\n";
  return js.str();
}

}  // namespace

std::vector<int64_t> shuffled_order(int64_t n, uint64_t seed) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
  constexpr uint32_t kTag = 0x70726570;  // "prep": keeps these counters apart from the sampler's
  for (int64_t i = n - 1; i > 0; --i) {
    const auto u = static_cast<uint64_t>(i);
    const auto w = core::Rng::philox(
        {static_cast<uint32_t>(u), static_cast<uint32_t>(u >> 32), 0u, kTag}, seed);
    const uint64_t bits = static_cast<uint64_t>(w[0]) | (static_cast<uint64_t>(w[1]) << 32);
    const auto j = static_cast<int64_t>(mul_hi64(bits, u + 1));
    std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(j)]);
  }
  return order;
}

PrepResult build_dataset(const PrepOptions& o) {
  const auto t_start = Clock::now();
  SY_REQUIRE(ErrorKind::kUsage, !o.out_dir.empty(), "prep: --out DIR is required");
  SY_REQUIRE(ErrorKind::kUsage, !o.inputs.empty() || o.fortunes,
             "prep: give --input FILE... and/or --fortunes");
  SY_REQUIRE(ErrorKind::kUsage, o.tokenizer == "byte" || o.tokenizer == "sentencepiece",
             "prep: --tokenizer must be byte or sentencepiece, got '", o.tokenizer, "'");
  SY_REQUIRE(ErrorKind::kUsage, o.val_fraction >= 0.0 && o.val_fraction < 1.0,
             "prep: --val-fraction must be in [0, 1), got ", o.val_fraction);
  SY_REQUIRE(
      ErrorKind::kUsage,
      o.tokenizer != "byte" || o.vocab_size == 0 || o.vocab_size == ByteTokenizer::kVocabSize,
      "prep: the byte tokenizer's vocab size is ", ByteTokenizer::kVocabSize, "; --vocab-size ",
      o.vocab_size, " applies to sentencepiece only");

  PrepResult r;
  r.tokenizer = o.tokenizer;
  std::vector<CorpusFile> files;
  for (const std::string& path : o.inputs) files.push_back(CorpusFile{path, "und"});
  if (o.fortunes) {
    const auto found = discover_fortunes(o.fortunes_dir, o.include_offensive);
    SY_REQUIRE(ErrorKind::kBadInput, !found.empty(), "prep: no fortune files under ",
               o.fortunes_dir, " (Debian packages fortunes, fortunes-de, ...)");
    files.insert(files.end(), found.begin(), found.end());
  }
  std::vector<Document> docs;
  for (const CorpusFile& f : files) {
    read_documents(f.path, f.language, &docs, &r.corpus);
    r.files.push_back(f.path);
  }
  const auto n = static_cast<int64_t>(docs.size());
  SY_REQUIRE(ErrorKind::kBadInput, n > 0, "prep: the input files hold no documents");
  const int64_t n_val =
      o.val_fraction > 0.0
          ? std::max<int64_t>(1, std::llround(static_cast<double>(n) * o.val_fraction))
          : 0;
  SY_REQUIRE(ErrorKind::kUsage, n_val < n, "prep: ", n, " document(s) cannot be split into ", n_val,
             " for validation and at least one for training (lower --val-fraction)");
  std::error_code ec;
  fs::create_directories(o.out_dir, ec);
  SY_REQUIRE(ErrorKind::kUsage, !ec && fs::is_directory(o.out_dir, ec), "prep: --out ", o.out_dir,
             ": cannot create the directory", ec ? ": " + ec.message() : "");
  // Split: the first n_val documents of the shuffled order are the validation set.
  const std::vector<int64_t> order = shuffled_order(n, o.seed);
  r.read_seconds = seconds_since(t_start);

  const auto t_tok = Clock::now();
  std::unique_ptr<Tokenizer> tokenizer;
  if (o.tokenizer == "byte") {
    tokenizer = std::make_unique<ByteTokenizer>();
    fs::remove(fs::path(o.out_dir) / "tokenizer.model", ec);  // stale from an earlier run
  } else {
    std::vector<std::string_view> lines;
    for (int64_t k = n_val; k < n; ++k) {
      const std::string_view text = docs[static_cast<size_t>(order[static_cast<size_t>(k)])].text;
      size_t pos = 0;
      while (pos < text.size()) {
        const size_t end = std::min(text.find('\n', pos), text.size());
        if (end > pos) lines.push_back(text.substr(pos, end - pos));
        pos = end + 1;
      }
    }
    SentencePieceOptions spo;
    spo.vocab_size = o.vocab_size > 0 ? o.vocab_size : 4096;
    spo.seed = static_cast<uint32_t>(o.seed);
    spo.verbose = o.verbose;
    const std::string model_path = (fs::path(o.out_dir) / "tokenizer.model").string();
    train_sentencepiece(lines, spo, model_path);
    tokenizer = std::make_unique<SentencePieceTokenizer>(model_path);
  }
  r.vocab_size = tokenizer->vocab_size();
  r.eot_id = tokenizer->eot_id();
  r.tokenizer_hash = tokenizer->hash();
  r.tokenizer_seconds = seconds_since(t_tok);

  const auto t_enc = Clock::now();
  std::vector<std::vector<int32_t>> encoded(static_cast<size_t>(n));
  std::vector<std::string> errors(static_cast<size_t>(n));  // no exception may leave the loop
#pragma omp parallel for schedule(dynamic, 64)
  for (int64_t i = 0; i < n; ++i) {
    try {
      encoded[static_cast<size_t>(i)] = tokenizer->encode(docs[static_cast<size_t>(i)].text);
    } catch (const std::exception& e) {
      errors[static_cast<size_t>(i)] = e.what();
    }
  }
  for (int64_t i = 0; i < n; ++i) {
    SY_REQUIRE(ErrorKind::kBadInput, errors[static_cast<size_t>(i)].empty(), "prep: document from ",
               docs[static_cast<size_t>(i)].source, ": ", errors[static_cast<size_t>(i)]);
  }
  const ShardMeta meta{r.vocab_size, r.eot_id, r.tokenizer_hash};
  std::ostringstream tsv;
  tsv << "split\tindex\tlanguage\toffset\ttokens\tsource\n";
  for (const bool val : {false, true}) {
    const int64_t begin = val ? 0 : n_val, end = val ? n_val : n;
    SplitCounts& counts = val ? r.val : r.train;
    std::vector<uint32_t> tokens;
    for (int64_t k = begin; k < end; ++k) {
      const auto d = static_cast<size_t>(order[static_cast<size_t>(k)]);
      const std::vector<int32_t>& ids = encoded[d];
      tsv << (val ? "val" : "train") << '\t' << (k - begin) << '\t' << docs[d].language << '\t'
          << tokens.size() << '\t' << ids.size() << '\t' << docs[d].source << '\n';
      tokens.insert(tokens.end(), ids.begin(), ids.end());
      tokens.push_back(static_cast<uint32_t>(r.eot_id));
      SplitCounts& lang = r.languages[docs[d].language];
      ++lang.documents;
      lang.tokens += static_cast<int64_t>(ids.size()) + 1;
    }
    counts.documents = end - begin;
    counts.tokens = static_cast<int64_t>(tokens.size());
    SY_REQUIRE(ErrorKind::kUsage, counts.tokens <= 0x7fffffff, "prep: the ", val ? "val" : "train",
               " split holds ", counts.tokens, " tokens, more than one shard's int32 count allows");
    write_token_shard((fs::path(o.out_dir) / (val ? "val.bin" : "train.bin")).string(), tokens,
                      meta);
  }
  r.encode_seconds = seconds_since(t_enc);
  write_text_file((fs::path(o.out_dir) / "documents.tsv").string(), tsv.str());
  r.total_seconds = seconds_since(t_start);
  write_text_file((fs::path(o.out_dir) / "prep.json").string(), prep_json(o, r));
  return r;
}

}  // namespace sy::trainer
