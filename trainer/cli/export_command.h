// `switchyard export SRC OUTDIR`: a checkpoint (or an export) as a Hugging Face Mixtral directory
// (docs/EXPORT.md).
#pragma once

#include <cstdint>
#include <string>

namespace sy::trainer {

// argv[0] is "export"; returns the process exit code. Bad options throw sy::Error(kUsage), an
// unreadable SRC or tokenizer sy::Error(kBadInput).
int run_export_command(int argc, char** argv);

// "5GB" -> 5000000000: an integer with an optional unit B, KB, MB, GB (powers of 1000) or KiB,
// MiB, GiB (powers of 1024), as transformers' max_shard_size. kUsage naming the text otherwise.
uint64_t parse_byte_size(const std::string& text);

}  // namespace sy::trainer
