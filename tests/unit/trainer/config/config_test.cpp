// Tests of the configuration loader's happy paths: defaults, overrides, to_yaml round trips, the
// derived helpers, and every shipped configs/*.yaml. Error cases are in config_errors_test.cpp.
#include "trainer/config/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/common/error.h"
#include "tests/unit/trainer/test_util.h"
#include "trainer/config/config_loader.h"

namespace sy::trainer {
namespace {

using ::testing::HasSubstr;
using testing::source_path;

// The smallest valid file: only the required keys.
constexpr const char* kMinimal = testing::kMinimalConfig;

Config parse(const std::string& text, const std::vector<std::string>& overrides = {}) {
  return parse_config(text, "x.yaml", overrides);
}

TEST(Config, RequiredKeysOnlyGetsEveryDefault) {
  const Config c = parse(kMinimal);
  EXPECT_EQ(c.run.dir, "runs/default");
  EXPECT_EQ(c.run.seed, 1234);
  EXPECT_EQ(c.model.vocab_size, 260);
  EXPECT_EQ(c.model.num_kv_heads, 4) << "num_kv_heads defaults to num_heads";
  EXPECT_EQ(c.model.rope_theta, 10000.0);
  EXPECT_EQ(c.model.rms_norm_eps, 1e-5);
  EXPECT_EQ(c.model.max_position_embeddings, 4096);
  EXPECT_FALSE(c.model.tie_word_embeddings);
  EXPECT_EQ(c.model.init_std, 0.02);
  EXPECT_EQ(c.model.init_from, "");
  EXPECT_TRUE(c.moe.enabled);
  EXPECT_EQ(c.moe.num_experts, 8);
  EXPECT_EQ(c.moe.top_k, 2);
  EXPECT_EQ(c.moe.every, 1);
  EXPECT_EQ(c.moe.first_layer, 0);
  EXPECT_EQ(c.moe.capacity_factor, 0.0);
  EXPECT_EQ(c.moe.drop_policy, DropPolicy::kProbs);
  EXPECT_TRUE(c.moe.normalize_topk);
  EXPECT_EQ(c.moe.router, RouterKind::kSoftmax);
  EXPECT_EQ(c.moe.aux_loss_coef, 0.01);
  EXPECT_EQ(c.moe.z_loss_coef, 0.001);
  EXPECT_EQ(c.moe.intermediate_size, 0);
  EXPECT_EQ(c.parallel, ParallelConfig{});
  EXPECT_EQ(c.parallel.pipeline_schedule, PipelineSchedule::k1f1b);
  EXPECT_EQ(c.train.eval_every, 0);
  EXPECT_EQ(c.train.eval_windows, 16);
  EXPECT_EQ(c.optim.lr, 0.001);
  EXPECT_EQ(c.optim.min_lr, 0.0);
  EXPECT_EQ(c.optim.warmup_steps, 0);
  EXPECT_EQ(c.optim.schedule, LrScheduleKind::kCosine);
  EXPECT_EQ(c.optim.weight_decay, 0.1);
  EXPECT_EQ(c.optim.beta1, 0.9);
  EXPECT_EQ(c.optim.beta2, 0.95);
  EXPECT_EQ(c.optim.eps, 1e-8);
  EXPECT_EQ(c.optim.grad_clip, 1.0);
  EXPECT_EQ(c.data.train, "data/x.bin");
  EXPECT_EQ(c.data.val, "");
  EXPECT_EQ(c.data.tokenizer, "");
  EXPECT_EQ(c.checkpoint, CheckpointConfig{});
  EXPECT_EQ(c.checkpoint.resume, "auto");
  EXPECT_EQ(c.checkpoint.keep_last, 3);
  EXPECT_EQ(c.log.every, 1);
  EXPECT_EQ(c.log.progress, ProgressMode::kAuto);
}

TEST(Config, OverridesWinOverTheFileAndLaterOverridesWin) {
  const Config c =
      parse(kMinimal, {"train.steps=99", "optim.lr=5e-4", "optim.schedule=constant",
                       "model.tie_word_embeddings=true", "data.val=v.bin", "run.dir=runs/a b",
                       "run.seed=7", "run.seed=8", "moe.capacity_factor=1.25",
                       "parallel.pipeline_schedule=gpipe", " checkpoint.resume = none"});
  EXPECT_EQ(c.train.steps, 99);
  EXPECT_EQ(c.optim.lr, 5e-4);
  EXPECT_EQ(c.optim.schedule, LrScheduleKind::kConstant);
  EXPECT_TRUE(c.model.tie_word_embeddings);
  EXPECT_EQ(c.data.val, "v.bin");
  EXPECT_EQ(c.run.dir, "runs/a b");
  EXPECT_EQ(c.run.seed, 8);
  EXPECT_EQ(c.moe.capacity_factor, 1.25);
  EXPECT_EQ(c.parallel.pipeline_schedule, PipelineSchedule::kGpipe);
  EXPECT_EQ(c.checkpoint.resume, "none");
}

TEST(Config, OverrideOfNumHeadsMovesTheKvDefaultAlong) {
  EXPECT_EQ(parse(kMinimal, {"model.num_heads=8"}).model.num_kv_heads, 8);
  EXPECT_EQ(parse(kMinimal, {"model.num_kv_heads=1"}).model.num_kv_heads, 1);
}

TEST(Config, OverrideWithAnEmptyValueClearsAString) {
  const Config c = parse(std::string(kMinimal) + "  val: v.bin\n", {"data.val="});
  EXPECT_EQ(c.data.val, "");
}

TEST(Config, ScalarSpellings) {
  // Floats accept integers and exponents; booleans their YAML spellings; strings anything scalar.
  const Config c = parse(std::string(kMinimal) +
                         "  val: \"null\"\n  tokenizer: 123\n"
                         "moe:\n  aux_loss_coef: 0\n  z_loss_coef: +1e-4\n  normalize_topk: False\n"
                         "  enabled: TRUE\n  capacity_factor: -1\n"
                         "run:\n  seed: +9000000000\n");
  EXPECT_EQ(c.data.val, "null");
  EXPECT_EQ(c.data.tokenizer, "123");
  EXPECT_EQ(c.moe.aux_loss_coef, 0.0);
  EXPECT_EQ(c.moe.z_loss_coef, 1e-4);
  EXPECT_FALSE(c.moe.normalize_topk);
  EXPECT_TRUE(c.moe.enabled);
  EXPECT_EQ(c.moe.capacity_factor, -1.0);
  EXPECT_EQ(c.run.seed, 9000000000LL);
}

TEST(Config, EmptySectionsAndCommentsAreFine) {
  const Config c = parse(std::string("# a comment\nrun:\nlog:\n") + kMinimal + "moe: {}\n");
  EXPECT_EQ(c.run, RunConfig{});
  EXPECT_EQ(c.log, LogConfig{});
  EXPECT_EQ(c.moe, MoeConfig{});
}

TEST(Config, ToYamlWritesEveryKeyAndRoundTrips) {
  const Config c = parse(kMinimal);
  const std::string yaml = to_yaml(c);
  for (const char* line :
       {"run:\n", "  dir: \"runs/default\"\n", "  seed: 1234\n", "  num_kv_heads: 4\n",
        "  rms_norm_eps: 1e-05\n", "moe:\n", "  drop_policy: probs\n",
        "  pipeline_schedule: 1f1b\n", "  eval_windows: 16\n", "  schedule: cosine\n",
        "  eps: 1e-08\n", "  resume: \"auto\"\n", "  progress: auto\n", "  init_from: \"\"\n"}) {
    EXPECT_THAT(yaml, HasSubstr(line));
  }
  EXPECT_EQ(parse_config(yaml, "resolved.yaml", {}), c);
}

TEST(Config, ToYamlRoundTripsEveryNonDefaultValue) {
  Config c = parse(kMinimal);
  c.run.dir = "runs/we \"ird\": #path\\ with \ttab, colon: and ünïcode";
  c.run.seed = 0;
  c.model.num_kv_heads = 2;
  c.model.rope_theta = 1.0 / 3.0;
  c.model.rms_norm_eps = 1.234567890123e-7;
  c.model.tie_word_embeddings = true;
  c.model.init_std = 0.1 + 0.2;
  c.model.init_from = " leading and trailing spaces ";
  c.moe.enabled = false;
  c.moe.num_experts = 4;
  c.moe.top_k = 1;
  c.moe.every = 2;
  c.moe.first_layer = 1;
  c.moe.capacity_factor = 1.25;
  c.moe.drop_policy = DropPolicy::kPosition;
  c.moe.normalize_topk = false;
  c.moe.router = RouterKind::kNoisyTopk;
  c.moe.aux_loss_coef = 3e-3;
  c.moe.z_loss_coef = 0;
  c.moe.intermediate_size = 48;
  c.parallel = {.dp = 2,
                .ep = 2,
                .pp = 2,
                .pipeline_schedule = PipelineSchedule::kGpipe,
                .stage_layers = "1,1",
                .debug_comm = true};
  c.train.eval_every = 5;
  c.train.eval_windows = 3;
  c.optim = {.lr = 3e-3,
             .min_lr = 1e-5,
             .warmup_steps = 5,
             .schedule = LrScheduleKind::kConstant,
             .weight_decay = 0,
             .beta1 = 0.8,
             .beta2 = 0.999,
             .eps = 1e-6,
             .grad_clip = -1};
  c.data = {.train = "-dash.bin", .val = "yes", .tokenizer = "~"};
  c.checkpoint = {
      .every = 5, .resume = "runs/x/checkpoints/step_00000005", .keep_last = 1, .keep_every = 100};
  c.log = {.every = 7, .progress = ProgressMode::kOff};
  validate_config(c);
  const std::string yaml = to_yaml(c);
  const Config back = parse_config(yaml, "resolved.yaml", {});
  EXPECT_EQ(back, c) << yaml;
  EXPECT_EQ(to_yaml(back), yaml);
}

TEST(Config, DerivedHelpers) {
  Config c = parse(kMinimal, {"model.num_layers=6", "moe.every=2", "moe.first_layer=1"});
  EXPECT_EQ(c.head_dim(), 8);
  EXPECT_EQ(c.expert_intermediate_size(), 64);
  c.moe.intermediate_size = 96;
  EXPECT_EQ(c.expert_intermediate_size(), 96);
  const std::vector<bool> expected = {false, true, false, true, false, true};
  for (int l = 0; l < 6; ++l) EXPECT_EQ(c.is_moe_layer(l), expected[l]) << "layer " << l;
  EXPECT_FALSE(c.is_moe_layer(7));
  EXPECT_EQ(c.num_moe_layers(), 3);
  c.moe.enabled = false;
  EXPECT_FALSE(c.is_moe_layer(1));
  EXPECT_EQ(c.num_moe_layers(), 0);
  EXPECT_EQ(c.micro_batches_per_step(), 2);
  EXPECT_EQ(c.tokens_per_step(), 8 * 32);
  Config big = c;
  big.train.global_batch_size = 1 << 20;
  big.train.seq_len = 1 << 16;
  EXPECT_EQ(big.tokens_per_step(), int64_t{1} << 36);
}

TEST(Config, EnumNames) {
  EXPECT_EQ(enum_name(PipelineSchedule::k1f1b), "1f1b");
  EXPECT_EQ(enum_name(DropPolicy::kPosition), "position");
  EXPECT_EQ(enum_name(RouterKind::kNoisyTopk), "noisy_topk");
  EXPECT_EQ(enum_name(LrScheduleKind::kConstant), "constant");
  EXPECT_EQ(enum_name(ProgressMode::kOff), "off");
}

TEST(Config, LoadConfigReadsAFileAndAppliesOverrides) {
  const std::string path = (testing::fresh_dir() / "exp.yaml").string();
  testing::write_file(path, kMinimal);
  const Config c = load_config(path, {"train.steps=3"});
  EXPECT_EQ(c.train.steps, 3);
  EXPECT_EQ(c, parse(kMinimal, {"train.steps=3"}));
  // Errors name the path given.
  testing::write_file(path, std::string(kMinimal) + "  vall: v.bin\n");
  EXPECT_THAT(testing::error_message(ErrorKind::kUsage, [&] { load_config(path, {}); }),
              HasSubstr(path + ":16: data.vall: unknown key; did you mean 'val'?"));
}

// configs/`name`, loaded without overrides.
Config shipped(const std::string& name) { return load_config(source_path("configs/" + name), {}); }

// The model and expert sizes a shipped configuration states.
struct ModelShape {
  int64_t vocab_size, hidden_size, num_layers, num_heads, num_kv_heads, intermediate_size,
      num_experts, top_k;
};

void expect_model_shape(const Config& c, const ModelShape& want) {
  EXPECT_EQ(c.model.vocab_size, want.vocab_size);
  EXPECT_EQ(c.model.hidden_size, want.hidden_size);
  EXPECT_EQ(c.model.num_layers, want.num_layers);
  EXPECT_EQ(c.model.num_heads, want.num_heads);
  EXPECT_EQ(c.model.num_kv_heads, want.num_kv_heads);
  EXPECT_EQ(c.model.intermediate_size, want.intermediate_size);
  EXPECT_EQ(c.moe.num_experts, want.num_experts);
  EXPECT_EQ(c.moe.top_k, want.top_k);
}

class ShippedConfig : public ::testing::TestWithParam<const char*> {};

TEST_P(ShippedConfig, LoadsValidatesAndRoundTrips) {
  const Config c = shipped(GetParam());
  validate_config(c);
  EXPECT_EQ(parse_config(to_yaml(c), "resolved.yaml", {}), c);
  EXPECT_GT(c.train.steps, 0);
}

INSTANTIATE_TEST_SUITE_P(Configs, ShippedConfig,
                         ::testing::Values("tiny.yaml", "small.yaml", "bench-small.yaml",
                                           "mixtral-8x7b.yaml"),
                         [](const ::testing::TestParamInfo<const char*>& param_info) {
                           std::string name = param_info.param;
                           name = name.substr(0, name.find('.'));
                           for (char& ch : name) ch = (ch == '-') ? '_' : ch;
                           return name;
                         });

TEST(ShippedConfigs, TheExampleInTheReferenceIsValid) {
  const std::string text = testing::read_file(source_path("docs/CONFIG.md"));
  const auto begin = text.find("```yaml\n", text.find("## Example"));
  ASSERT_NE(begin, std::string::npos);
  const auto body = begin + 8;
  const std::string yaml = text.substr(body, text.find("```", body) - body);
  const Config c = parse_config(yaml, "CONFIG.md", {});
  EXPECT_EQ(c.moe.every, 2);
  EXPECT_EQ(c.num_moe_layers(), 2);
}

TEST(ShippedConfigs, TinyShape) {
  const Config c = shipped("tiny.yaml");
  // vocab, hidden, layers, heads, kv heads, intermediate, experts, top-k
  expect_model_shape(c, {260, 32, 2, 4, 2, 64, 4, 2});
  EXPECT_EQ(c.train.seq_len, 32);
  EXPECT_EQ(c.train.micro_batch_size, 4);
  EXPECT_EQ(c.train.global_batch_size, 8);
  EXPECT_EQ(c.train.steps, 20);
  EXPECT_EQ(c.optim.lr, 3e-3);
  EXPECT_EQ(c.optim.warmup_steps, 5);
  EXPECT_EQ(c.data.train, "data/fortunes/train.bin");
  EXPECT_EQ(c.data.val, "data/fortunes/val.bin");
}

TEST(ShippedConfigs, BenchSmallShapeIsExact) {
  const Config c = shipped("bench-small.yaml");
  // vocab, hidden, layers, heads, kv heads, intermediate, experts, top-k
  expect_model_shape(c, {8192, 512, 4, 8, 8, 1024, 8, 2});
  EXPECT_EQ(c.expert_intermediate_size(), 1024);
  EXPECT_EQ(c.num_moe_layers(), 4);
  EXPECT_EQ(c.train.seq_len, 256);
  EXPECT_EQ(c.train.micro_batch_size, 8);
  EXPECT_EQ(c.train.global_batch_size, 8);
}

TEST(ShippedConfigs, MixtralShape) {
  const Config c = shipped("mixtral-8x7b.yaml");
  // vocab, hidden, layers, heads, kv heads, intermediate, experts, top-k
  expect_model_shape(c, {32000, 4096, 32, 32, 8, 14336, 8, 2});
  EXPECT_EQ(c.head_dim(), 128);
  EXPECT_EQ(c.model.rope_theta, 1e6);
  EXPECT_EQ(c.model.rms_norm_eps, 1e-5);
  EXPECT_EQ(c.model.max_position_embeddings, 32768);
  EXPECT_FALSE(c.model.tie_word_embeddings);
  EXPECT_TRUE(c.moe.normalize_topk);
  EXPECT_EQ(c.num_moe_layers(), 32);
}

}  // namespace
}  // namespace sy::trainer
