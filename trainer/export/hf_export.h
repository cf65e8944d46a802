// Exporting a model as a Hugging Face Mixtral directory (shared/MODEL.md, "Export format";
// docs/EXPORT.md):
//
//   OUTDIR/config.json                       MixtralConfig keys + the "switchyard" object
//   OUTDIR/generation_config.json            bos/eos ids and Switchyard's sampling defaults
//   OUTDIR/model.safetensors                 every tensor of hf_tensor_layout(), {"format":"pt"}
//     or model-0000i-of-0000n.safetensors + model.safetensors.index.json   beyond max_shard_bytes
//   OUTDIR/tokenizer.model                   the SentencePiece model, or
//   OUTDIR/switchyard_tokenizer.json         {"type": "byte", ...} for the byte tokenizer
//   OUTDIR/switchyard_check.safetensors      (optional) input ids and the logits Switchyard
//   computes
//
// The directory appears atomically: it is written as OUTDIR.tmp, fsynced, then renamed. The files
// are a function of the config's model and moe sections, the weights, the tokenizer and the step
// only, so exporting an imported export reproduces it byte for byte.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/nn/decoder.h"
#include "trainer/config/config.h"

namespace sy::trainer {

inline constexpr uint64_t kDefaultMaxShardBytes = 5'000'000'000;  // transformers' "5GB"

struct HfExportOptions {
  // Split the weights into shards when their total size exceeds this many bytes; each shard holds
  // at most this much unless a single tensor is larger.
  uint64_t max_shard_bytes = kDefaultMaxShardBytes;
  bool bfloat16 = false;      // store the weights as BF16 (torch_dtype "bfloat16") instead of F32
  bool check_logits = false;  // also write switchyard_check.safetensors
  bool overwrite = false;     // replace an existing non-empty OUTDIR instead of refusing
  int64_t step = 0;           // recorded as switchyard.step
};

struct HfExportResult {
  std::vector<std::string> files;  // the files written, relative to OUTDIR, sorted
  int64_t tensors = 0;
  int64_t parameters = 0;
  uint64_t tensor_bytes = 0;  // the weights' data bytes over all shards
  int shards = 1;
  std::vector<std::string> warnings;  // why it will not load unchanged as MixtralForCausalLM
};

// Exports `model` (built from `config`) with `tokenizer` ("byte" or a SentencePiece .model path)
// to out_dir. Errors: kUsage when out_dir exists and is not empty (without overwrite); kBadInput
// naming the tokenizer when it cannot be read or its vocabulary exceeds model.vocab_size;
// kInternal for I/O failures (OUTDIR.tmp is removed, OUTDIR untouched).
HfExportResult export_hf(const Config& config, const core::nn::Decoder& model,
                         const std::string& tokenizer, const std::string& out_dir,
                         const HfExportOptions& options = {});

// The fixed token ids of switchyard_check.safetensors: (7 i + 3) mod V for i < min(16, max pos).
std::vector<int32_t> check_logits_ids(const Config& config);

}  // namespace sy::trainer
