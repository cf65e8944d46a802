#include "trainer/inference/model_loader.h"

#include <filesystem>

#include "core/common/error.h"
#include "trainer/checkpoint/checkpoint.h"
#include "trainer/checkpoint/checkpoint_inspect.h"
#include "trainer/config/config_loader.h"
#include "trainer/train/model_builder.h"

namespace sy::trainer {

LoadedModel load_model(const std::string& path) {
  SY_REQUIRE(ErrorKind::kUsage, std::filesystem::exists(path), "checkpoint '", path,
             "' does not exist");
  const CheckpointSummary summary = inspect_checkpoint(path);
  SY_REQUIRE(ErrorKind::kBadInput, summary.ok(), "checkpoint ", summary.file, " failed ",
             summary.failures(), " integrity checks (run switchyard inspect ", path, ")");
  LoadedModel out;
  out.config = parse_config(summary.config_yaml, summary.file + ":/config", {});
  out.model = std::make_unique<core::nn::Decoder>(decoder_options(out.config));
  const LoadedCheckpoint ck = load_checkpoint(path, *out.model, nullptr);
  out.file = ck.file;
  out.step = ck.state.step;
  return out;
}

std::unique_ptr<Tokenizer> load_tokenizer(const Config& config) {
  const std::string& t = config.data.tokenizer;
  if (t == "byte") return std::make_unique<ByteTokenizer>();
  if (!t.empty()) return std::make_unique<SentencePieceTokenizer>(t);
  const auto beside = std::filesystem::path(config.data.train).parent_path() / "tokenizer.model";
  if (std::filesystem::exists(beside)) return std::make_unique<SentencePieceTokenizer>(beside.string());
  return std::make_unique<ByteTokenizer>();
}

}  // namespace sy::trainer
