// load_model(): a checkpoint through the HDF5 reader, or an export through the Hugging Face
// importer; the tokenizer a config names.
#include "trainer/inference/model_loader.h"

#include <filesystem>

#include "core/common/error.h"
#include "trainer/checkpoint/checkpoint.h"
#include "trainer/checkpoint/checkpoint_inspect.h"
#include "trainer/config/config_loader.h"
#include "trainer/export/hf_import.h"
#include "trainer/train/model_builder.h"

namespace sy::trainer {

namespace {

LoadedModel load_export(const std::string& dir) {
  LoadedModel out;
  HfExportInfo info;
  out.config = config_from_hf(dir, &info);
  if (out.config.data.tokenizer.empty()) {
    out.config.data.tokenizer = (std::filesystem::path(dir) / kSpTokenizerFile).string();
  }
  out.model = std::make_unique<core::nn::Decoder>(decoder_options(out.config));
  import_hf_weights(dir, *out.model);
  out.file = dir;
  out.step = info.step;
  out.from_export = true;
  return out;
}

}  // namespace

LoadedModel load_model(const std::string& path) {
  SY_REQUIRE(ErrorKind::kUsage, std::filesystem::exists(path), "checkpoint '", path,
             "' does not exist");
  if (is_hf_directory(path)) return load_export(path);
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

std::string tokenizer_spec(const Config& config) {
  const std::string& t = config.data.tokenizer;
  if (!t.empty()) return t;
  const auto beside = std::filesystem::path(config.data.train).parent_path() / "tokenizer.model";
  if (std::filesystem::exists(beside)) return beside.string();
  return "byte";
}

std::unique_ptr<Tokenizer> load_tokenizer(const Config& config) {
  return open_tokenizer(tokenizer_spec(config));
}

}  // namespace sy::trainer
