// Tests of the configuration loader's errors: every class of bad input is a kUsage error whose
// message names the location (file:line or the override) and the full key.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "core/common/error.h"
#include "tests/unit/trainer/test_util.h"
#include "trainer/config/config_loader.h"

namespace sy::trainer {
namespace {

using ::testing::HasSubstr;

// The smallest valid file (test_util.h). The tests below refer to its line numbers: it has 15
// lines, and a line appended to it is line 16.
constexpr const char* kMinimal = testing::kMinimalConfig;

// kMinimal with the (whole) line `from` replaced by `to` (which may hold several lines, or none).
std::string with(const std::string& from, const std::string& to) {
  std::string text = kMinimal;
  const auto pos = text.find(from + "\n");
  EXPECT_NE(pos, std::string::npos) << from;
  if (pos == std::string::npos) return text;
  return text.replace(pos, from.size() + 1, to.empty() ? "" : to + "\n");
}

// The message of the kUsage error that parsing `text` with `overrides` raises.
std::string error_of(const std::string& text, const std::vector<std::string>& overrides = {}) {
  try {
    parse_config(text, "x.yaml", overrides);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUsage) << e.what();
    EXPECT_EQ(e.exit_code(), 2);
    return e.what();
  }
  ADD_FAILURE() << "no error for:\n" << text;
  return "";
}

TEST(ConfigErrors, YamlSyntaxErrorNamesFileAndLine) {
  EXPECT_THAT(error_of("model:\n  vocab_size: 260\n hidden_size: 32\n"),
              HasSubstr("x.yaml:3:2: YAML syntax error"));
  EXPECT_THAT(error_of("model:\n  vocab_size: [1, 2\n  hidden_size: 3\n"), HasSubstr("x.yaml:3:"));
  EXPECT_THAT(error_of("model:\n  a: 1\n\tb: 2\n"), HasSubstr("x.yaml:3:1: YAML syntax error"));
  EXPECT_THAT(error_of("model: *undefined\n"), HasSubstr("x.yaml:1:"));
}

TEST(ConfigErrors, StructureErrors) {
  EXPECT_THAT(error_of("- a\n- b\n"), HasSubstr("x.yaml:1: expected a mapping of sections"));
  EXPECT_THAT(error_of(std::string(kMinimal) + "log: 5\n"),
              HasSubstr("x.yaml:16: log: expected a mapping of keys, got \"5\""));
  EXPECT_THAT(error_of(std::string(kMinimal) + "---\nlog: {}\n"),
              HasSubstr("x.yaml:17: expected a single YAML document"));
  EXPECT_THAT(error_of(std::string(kMinimal) + "[a, b]: 1\n"),
              HasSubstr("x.yaml:16: section names must be plain names"));
  EXPECT_THAT(error_of(std::string(kMinimal) + "  [a]: 1\n"),
              HasSubstr("x.yaml:16: data: keys must be plain names"));
}

TEST(ConfigErrors, UnknownSectionSuggestsTheClosest) {
  EXPECT_THAT(error_of(std::string(kMinimal) + "optimizer:\n  lr: 1\n"),
              HasSubstr("x.yaml:16: optimizer: unknown section; did you mean 'optim'?"));
  EXPECT_THAT(error_of(std::string(kMinimal) + "paralel:\n  dp: 1\n"),
              HasSubstr("x.yaml:16: paralel: unknown section; did you mean 'parallel'?"));
  EXPECT_THAT(error_of(std::string(kMinimal) + "seed: 5\n"),
              HasSubstr("x.yaml:16: seed: unknown section; did you mean 'run.seed'?"));
  EXPECT_THAT(error_of(std::string(kMinimal) + "zzzzzz: 5\n"),
              HasSubstr("unknown section; valid sections: run, model, moe, parallel, train, "
                        "optim, data, checkpoint, log"));
}

TEST(ConfigErrors, UnknownKeySuggestsTheClosest) {
  EXPECT_THAT(error_of(with("  num_heads: 4", "  num_head: 4")),
              HasSubstr("x.yaml:5: model.num_head: unknown key; did you mean 'num_heads'?"));
  EXPECT_THAT(error_of(with("  num_heads: 4", "  num_heads: 4\n  num_kv: 2")),
              HasSubstr("x.yaml:6: model.num_kv: unknown key; did you mean 'num_kv_heads'?"));
  EXPECT_THAT(error_of(with("  num_heads: 4", "  num_heads: 4\n  top_k: 2")),
              HasSubstr("x.yaml:6: model.top_k: unknown key; did you mean 'moe.top_k'?"));
  EXPECT_THAT(error_of(with("  lr: 0.001", "  lr: 0.001\n  momentum: 0.9")),
              HasSubstr("x.yaml:14: optim.momentum: unknown key; valid keys of 'optim': lr, "));
}

TEST(ConfigErrors, DuplicateKeysAndSections) {
  EXPECT_THAT(error_of(with("  num_heads: 4", "  num_heads: 4\n  num_heads: 8")),
              HasSubstr("x.yaml:6: model.num_heads: duplicate key (first given at x.yaml:5)"));
  EXPECT_THAT(error_of(std::string(kMinimal) + "model:\n  init_std: 0.1\n"),
              HasSubstr("x.yaml:16: model: duplicate section (first given at x.yaml:1)"));
  EXPECT_THAT(error_of(std::string(kMinimal) + "moe: {top_k: 1, top_k: 2}\n"),
              HasSubstr("x.yaml:16: moe.top_k: duplicate key"));
}

TEST(ConfigErrors, WrongTypes) {
  EXPECT_THAT(error_of(with("  num_heads: 4", "  num_heads: eight")),
              HasSubstr("x.yaml:5: model.num_heads: expected an integer, got \"eight\""));
  EXPECT_THAT(error_of(with("  steps: 10", "  steps: 1.5")),
              HasSubstr("x.yaml:8: train.steps: expected an integer, got \"1.5\""));
  EXPECT_THAT(error_of(with("  steps: 10", "  steps: 1e3")),
              HasSubstr("x.yaml:8: train.steps: expected an integer, got \"1e3\""));
  EXPECT_THAT(error_of(with("  steps: 10", "  steps: \"10\"")),
              HasSubstr("x.yaml:8: train.steps: expected an integer, got the quoted string"));
  EXPECT_THAT(error_of(with("  steps: 10", "  steps: true")),
              HasSubstr("x.yaml:8: train.steps: expected an integer, got \"true\""));
  EXPECT_THAT(error_of(with("  steps: 10", "  steps:")),
              HasSubstr("x.yaml:8: train.steps: expected an integer, got nothing"));
  EXPECT_THAT(error_of(with("  vocab_size: 260", "  vocab_size: 3000000000")),
              HasSubstr("x.yaml:2: model.vocab_size: integer 3000000000 is out of range"));
  EXPECT_THAT(error_of(with("  seq_len: 32", "  seq_len: -99999999999")),
              HasSubstr("x.yaml:11: train.seq_len: integer -99999999999 is out of range"));
  EXPECT_THAT(error_of(std::string(kMinimal) + "run:\n  seed: 99999999999999999999\n"),
              HasSubstr("x.yaml:17: run.seed: integer \"99999999999999999999\" is out of range"));
  EXPECT_THAT(error_of(with("  lr: 0.001", "  lr: fast")),
              HasSubstr("x.yaml:13: optim.lr: expected a finite number, got \"fast\""));
  EXPECT_THAT(error_of(with("  lr: 0.001", "  lr: .nan")),
              HasSubstr("x.yaml:13: optim.lr: expected a finite number"));
  EXPECT_THAT(error_of(with("  lr: 0.001", "  lr: inf")),
              HasSubstr("x.yaml:13: optim.lr: expected a finite number"));
  EXPECT_THAT(error_of(std::string(kMinimal) + "moe:\n  enabled: yes\n"),
              HasSubstr("x.yaml:17: moe.enabled: expected true or false, got \"yes\""));
  EXPECT_THAT(error_of(std::string(kMinimal) + "moe:\n  normalize_topk: 1\n"),
              HasSubstr("x.yaml:17: moe.normalize_topk: expected true or false, got \"1\""));
  EXPECT_THAT(error_of(with("  train: data/x.bin", "  train: [a.bin, b.bin]")),
              HasSubstr("x.yaml:15: data.train: expected a string, got a sequence"));
  EXPECT_THAT(error_of(with("  train: data/x.bin", "  train:\n    path: a.bin")),
              HasSubstr("x.yaml:15: data.train: expected a string, got a mapping"));
}

TEST(ConfigErrors, EnumValuesListTheAllowedOnes) {
  EXPECT_THAT(error_of(with("  lr: 0.001", "  lr: 0.001\n  schedule: linear")),
              HasSubstr("x.yaml:14: optim.schedule: expected one of cosine, constant; "
                        "got \"linear\""));
  EXPECT_THAT(error_of(kMinimal, {"parallel.pipeline_schedule=zb"}),
              HasSubstr("parallel.pipeline_schedule: expected one of gpipe, 1f1b"));
  EXPECT_THAT(error_of(kMinimal, {"moe.router=topk"}),
              HasSubstr("moe.router: expected one of softmax, noisy_topk"));
  EXPECT_THAT(error_of(kMinimal, {"moe.drop_policy=random"}),
              HasSubstr("moe.drop_policy: expected one of probs, position"));
  EXPECT_THAT(error_of(kMinimal, {"log.progress=yes"}),
              HasSubstr("log.progress: expected one of auto, on, off"));
}

TEST(ConfigErrors, RangeViolations) {
  EXPECT_THAT(error_of(with("  num_layers: 2", "  num_layers: 0")),
              HasSubstr("x.yaml:4: model.num_layers: must be >= 1, got 0"));
  EXPECT_THAT(error_of(with("  vocab_size: 260", "  vocab_size: 1")),
              HasSubstr("x.yaml:2: model.vocab_size: must be >= 2, got 1"));
  EXPECT_THAT(error_of(with("  lr: 0.001", "  lr: 0")),
              HasSubstr("x.yaml:13: optim.lr: must be > 0, got 0"));
  EXPECT_THAT(error_of(with("  lr: 0.001", "  lr: 0.001\n  beta2: 1.0")),
              HasSubstr("x.yaml:14: optim.beta2: must be in [0, 1), got 1"));
  EXPECT_THAT(error_of(with("  lr: 0.001", "  lr: 0.001\n  eps: 0")),
              HasSubstr("x.yaml:14: optim.eps: must be > 0, got 0"));
  EXPECT_THAT(error_of(with("  train: data/x.bin", "  train: \"\"")),
              HasSubstr("x.yaml:15: data.train: must not be empty"));
  EXPECT_THAT(error_of(kMinimal, {"run.seed=-1"}),
              HasSubstr("override 'run.seed=-1': run.seed: must be >= 0, got -1"));
  EXPECT_THAT(error_of(kMinimal, {"moe.num_experts=0"}),
              HasSubstr("override 'moe.num_experts=0': moe.num_experts: must be >= 1, got 0"));
  EXPECT_THAT(error_of(kMinimal, {"moe.every=0"}), HasSubstr("moe.every: must be >= 1, got 0"));
  EXPECT_THAT(error_of(kMinimal, {"moe.aux_loss_coef=-0.1"}),
              HasSubstr("moe.aux_loss_coef: must be >= 0, got -0.1"));
  EXPECT_THAT(error_of(kMinimal, {"checkpoint.keep_last=0"}),
              HasSubstr("checkpoint.keep_last: must be >= 1, got 0"));
  EXPECT_THAT(error_of(kMinimal, {"checkpoint.resume="}),
              HasSubstr("checkpoint.resume: must not be empty"));
  EXPECT_THAT(error_of(kMinimal, {"log.every=0"}), HasSubstr("log.every: must be >= 1, got 0"));
  EXPECT_THAT(error_of(kMinimal, {"parallel.dp=0"}), HasSubstr("parallel.dp: must be >= 1"));
  EXPECT_THAT(error_of(kMinimal, {"model.num_kv_heads=0"}),
              HasSubstr("model.num_kv_heads: must be >= 1, got 0"));
}

TEST(ConfigErrors, RequiredKeysMissing) {
  EXPECT_THAT(error_of(with("  steps: 10", "")),
              HasSubstr("x.yaml:7: train.steps: required key is missing"));
  EXPECT_THAT(error_of(with("  lr: 0.001", "  warmup_steps: 3")),
              HasSubstr("x.yaml:12: optim.lr: required key is missing"));
  const std::string no_data = std::string(kMinimal).substr(0, std::string(kMinimal).find("data:"));
  EXPECT_THAT(error_of(no_data),
              HasSubstr("x.yaml: data.train: required key is missing (the file has no 'data' "
                        "section)"));
  EXPECT_THAT(error_of(""), HasSubstr("x.yaml: model.vocab_size: required key is missing"));
  // An override can supply a required key the file lacks.
  EXPECT_EQ(parse_config(with("  steps: 10", ""), "x.yaml", {"train.steps=4"}).train.steps, 4);
}

TEST(ConfigErrors, CrossFieldViolationsNameBothKeys) {
  EXPECT_THAT(error_of(with("  num_heads: 4", "  num_heads: 4\n  num_kv_heads: 3")),
              HasSubstr("x.yaml:5: model.num_heads = 4 must be a multiple of "
                        "model.num_kv_heads = 3 (model.num_heads at x.yaml:5, "
                        "model.num_kv_heads at x.yaml:6)"));
  EXPECT_THAT(error_of(with("  hidden_size: 32", "  hidden_size: 30")),
              HasSubstr("x.yaml:3: model.hidden_size = 30 must be a multiple of "
                        "model.num_heads = 4"));
  EXPECT_THAT(error_of(with("  hidden_size: 32", "  hidden_size: 36")),
              HasSubstr("x.yaml:3: the head width model.hidden_size / model.num_heads = 9 "
                        "must be even"));
  EXPECT_THAT(
      error_of(with("  vocab_size: 260", "  vocab_size: 260\n  max_position_embeddings: 16")),
      HasSubstr("x.yaml:3: model.max_position_embeddings = 16 must be >= "
                "train.seq_len = 32"));
  EXPECT_THAT(error_of(kMinimal, {"train.seq_len=8192"}),
              HasSubstr("override 'train.seq_len=8192': model.max_position_embeddings = 4096 "
                        "must be >= "
                        "train.seq_len = 8192 (model.max_position_embeddings is the default, "
                        "train.seq_len at override 'train.seq_len=8192')"));
  EXPECT_THAT(error_of(kMinimal, {"moe.top_k=3", "moe.num_experts=2"}),
              HasSubstr("override 'moe.top_k=3': moe.top_k = 3 must be <= moe.num_experts = 2"));
  EXPECT_THAT(error_of(kMinimal, {"moe.first_layer=2"}),
              HasSubstr("moe.first_layer = 2 must be < model.num_layers = 2"));
  EXPECT_THAT(error_of(kMinimal, {"parallel.dp=2", "parallel.ep=4", "moe.num_experts=4"}),
              HasSubstr("parallel.dp = 2 must be a multiple of parallel.ep = 4"));
  EXPECT_THAT(error_of(kMinimal, {"parallel.dp=6", "parallel.ep=3", "train.global_batch_size=24"}),
              HasSubstr("moe.num_experts = 8 must be a multiple of parallel.ep = 3"));
  EXPECT_THAT(error_of(kMinimal, {"parallel.pp=3"}),
              HasSubstr("parallel.pp = 3 must be <= model.num_layers = 2"));
  EXPECT_THAT(error_of(kMinimal, {"parallel.dp=3"}),
              HasSubstr("x.yaml:9: train.global_batch_size = 8 must be a multiple of "
                        "train.micro_batch_size * parallel.dp = 4 * 3"));
  EXPECT_THAT(error_of(kMinimal, {"parallel.dp=3"}),
              HasSubstr("parallel.dp at override 'parallel.dp=3'"));
  EXPECT_THAT(error_of(kMinimal, {"optim.min_lr=0.01"}),
              HasSubstr("override 'optim.min_lr=0.01': optim.min_lr = 0.01 must be <= "
                        "optim.lr = 0.001"));
}

TEST(ConfigErrors, BadOverrides) {
  EXPECT_THAT(error_of(kMinimal, {"train.steps"}),
              HasSubstr("override 'train.steps': expected section.key=value"));
  EXPECT_THAT(error_of(kMinimal, {"steps=5"}),
              HasSubstr("override 'steps=5': 'steps': expected section.key=value; "
                        "did you mean 'train.steps'?"));
  EXPECT_THAT(error_of(kMinimal, {"train.stpes=5"}),
              HasSubstr("override 'train.stpes=5': train.stpes: unknown key; "
                        "did you mean 'steps'?"));
  EXPECT_THAT(error_of(kMinimal, {"trian.steps=5"}),
              HasSubstr("override 'trian.steps=5': trian.steps: unknown section 'trian'; "
                        "did you mean 'train'?"));
  EXPECT_THAT(error_of(kMinimal, {"train.steps.x=5"}),
              HasSubstr("override 'train.steps.x=5': train.steps.x: unknown key"));
  EXPECT_THAT(error_of(kMinimal, {"train.steps=abc"}),
              HasSubstr("override 'train.steps=abc': train.steps: expected an integer, "
                        "got \"abc\""));
  EXPECT_THAT(error_of(kMinimal, {"data.train=[a"}),
              HasSubstr("override 'data.train=[a': data.train: the value is not valid YAML"));
}

TEST(ConfigErrors, MissingOrUnreadableFile) {
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) /
                                    ("sy_config_errors_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  for (const std::string& path : {(dir / "nope.yaml").string(), dir.string()}) {
    try {
      load_config(path, {});
      ADD_FAILURE() << "no error for " << path;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kUsage);
      EXPECT_THAT(e.what(), HasSubstr("config file '" + path + "'"));
    }
  }
  std::filesystem::remove_all(dir);
}

TEST(ConfigErrors, ValidateConfigChecksConfigsBuiltInCode) {
  Config c = parse_config(kMinimal, "x.yaml", {});
  EXPECT_NO_THROW(validate_config(c));
  c.model.num_kv_heads = 3;
  try {
    validate_config(c);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUsage);
    EXPECT_THAT(e.what(), HasSubstr("model.num_heads = 4 must be a multiple of "
                                    "model.num_kv_heads = 3"));
  }
}

}  // namespace
}  // namespace sy::trainer
