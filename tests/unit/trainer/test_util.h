// Helpers shared by the trainer tests: temporary folders, whole files, the kind and message of a
// thrown sy::Error, the smallest valid configuration, and a tiny model with its optimizer.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "core/common/error.h"
#include "core/nn/decoder.h"
#include "trainer/optim/adamw.h"

namespace sy::trainer::testing {

// A fresh empty folder under the test temporary folder, named after the running test (or test
// suite, in SetUpTestSuite) and `tag`. The folders are removed when the test binary ends with every
// test passed, and kept after a failure, for a look.
std::filesystem::path fresh_dir(const std::string& tag = "");

// The bytes of the file at `path` ("" when it cannot be read).
std::string read_file(const std::filesystem::path& path);

// Writes `bytes` to `path`, replacing it, and makes the folders it lies in.
void write_file(const std::filesystem::path& path, const std::string& bytes);

// Runs f, which must throw a sy::Error of `kind`; returns its message ("" and a test failure
// when f throws nothing or an error of another kind).
std::string error_message(ErrorKind kind, const std::function<void()>& f);

// `relative` in the source tree: SY_SOURCE_DIR/relative.
std::string source_path(const std::string& relative);

// The smallest valid configuration file: only the required keys. config_errors_test.cpp refers to
// its line numbers (it has 15 lines; a line appended to it is line 16).
inline constexpr const char* kMinimalConfig = R"(model:
  vocab_size: 260
  hidden_size: 32
  num_layers: 2
  num_heads: 4
  intermediate_size: 64
train:
  steps: 10
  global_batch_size: 8
  micro_batch_size: 4
  seq_len: 32
optim:
  lr: 0.001
data:
  train: data/x.bin
)";

// A tiny MoE decoder (vocab 64, 2 heads sharing one KV head, 4 experts, top-2): every layer MoE.
core::nn::DecoderOptions tiny_decoder(int64_t layers = 2, int64_t hidden = 16);

// A model and its optimizer.
struct TinyModel {
  std::unique_ptr<core::nn::Decoder> model;
  std::unique_ptr<AdamW> opt;
};

// A model built with `options`, initialised from `seed` (std 0.05), and a default AdamW over it
// that has taken no step.
TinyModel make_tiny_model(uint64_t seed, const core::nn::DecoderOptions& options);

}  // namespace sy::trainer::testing
