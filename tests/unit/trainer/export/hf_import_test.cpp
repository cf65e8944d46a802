// Import validation: every way an export directory can be wrong (a missing, unexpected or
// misshapen tensor, a bad dtype, a bad config.json key or type, a broken index, missing files, a
// model that does not match) is ErrorKind::kBadInput naming the file and the tensor or key, and
// leaves the model untouched.
#include "trainer/export/hf_import.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/common/error.h"
#include "tests/unit/trainer/export/export_test_util.h"
#include "trainer/checkpoint/safetensors.h"
#include "trainer/common/json.h"
#include "trainer/export/hf_export.h"
#include "trainer/inference/model_loader.h"

// In sy::trainer::testing, so test_util.h's and export_test_util.h's helpers need no using.
namespace sy::trainer::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
namespace fs = std::filesystem;
using Tensors = std::vector<std::pair<std::string, core::Tensor>>;

class HfImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = tiny_export_config(TinyKind::kDenseMoe);
    dir_ = (fresh_dir() / "export").string();
    export_hf(config_, *seeded_model(config_, 1), "byte", dir_);
    model_ = seeded_model(config_, 2);
  }

  std::string file(const std::string& name) const { return dir_ + "/" + name; }

  // Rewrites model.safetensors after `edit` changes its tensors.
  void edit_weights(const std::function<void(Tensors&)>& edit) const {
    const SafetensorsFile f = read_safetensors(file(kHfWeightsFile));
    Tensors tensors;
    for (const std::string& n : f.names()) tensors.emplace_back(n, f.tensor(n));
    edit(tensors);
    write_safetensors(file(kHfWeightsFile), tensors, {{"format", "pt"}});
  }
  void replace_weight(const std::string& name, core::Tensor value) const {
    edit_weights([&](Tensors& ts) {
      for (auto& [n, t] : ts) {
        if (n == name) t = value;
      }
    });
  }
  // Rewrites config.json after `edit` changes it.
  void edit_config(const std::function<void(Json&)>& edit) const {
    Json j = read_json_file(file(kHfConfigFile));
    edit(j);
    write_text_file_durably(file(kHfConfigFile), write_json(j));
  }
  void edit_switchyard(const std::function<void(Json&)>& edit) const {
    edit_config([&](Json& j) {
      Json sw = *j.find("switchyard");
      edit(sw);
      j.set("switchyard", sw);
    });
  }
  // The message of the kBadInput error importing throws; the model must be unchanged.
  std::string import_error() const {
    const auto before = parameter_values(*model_);
    const std::string m =
        error_message(ErrorKind::kBadInput, [&] { import_hf_weights(dir_, *model_); });
    EXPECT_EQ(parameter_values(*model_), before) << "a failed import changed the model";
    return m;
  }

  Config config_;
  std::string dir_;
  std::unique_ptr<core::nn::Decoder> model_;
};

TEST_F(HfImportTest, MissingTensor) {
  const std::string name = "model.layers.1.block_sparse_moe.experts.2.w3.weight";
  edit_weights(
      [&](Tensors& ts) { std::erase_if(ts, [&](const auto& t) { return t.first == name; }); });
  EXPECT_THAT(import_error(),
              AllOf(HasSubstr(file(kHfWeightsFile)), HasSubstr("missing tensor"), HasSubstr(name)));
}

TEST_F(HfImportTest, UnexpectedTensor) {
  const std::string name = "model.layers.0.self_attn.rotary_emb.inv_freq";
  edit_weights([&](Tensors& ts) { ts.emplace_back(name, core::Tensor::zeros({4})); });
  EXPECT_THAT(import_error(), AllOf(HasSubstr(file(kHfWeightsFile)), HasSubstr("unexpected tensor"),
                                    HasSubstr(name)));
  // The noisy router's noise weights are not part of an export either.
  edit_weights([&](Tensors& ts) {
    std::erase_if(ts, [&](const auto& t) { return t.first == name; });
    ts.emplace_back("model.layers.1.block_sparse_moe.noise.weight", core::Tensor::zeros({4, 16}));
  });
  EXPECT_THAT(import_error(), HasSubstr("unexpected tensor \"model.layers.1.block_sparse_moe."
                                        "noise.weight\""));
}

TEST_F(HfImportTest, WrongShape) {
  replace_weight("model.layers.2.mlp.down_proj.weight", core::Tensor::zeros({16, 23}));
  EXPECT_THAT(
      import_error(),
      AllOf(HasSubstr(file(kHfWeightsFile)), HasSubstr("model.layers.2.mlp.down_proj.weight"),
            HasSubstr("(16,23)"), HasSubstr("(16,24)"), HasSubstr("config.json")));
}

TEST_F(HfImportTest, IntegerDtype) {
  replace_weight("model.norm.weight", core::Tensor::from_ints(std::vector<int32_t>(16, 1), {16}));
  EXPECT_THAT(import_error(), AllOf(HasSubstr("model.norm.weight"), HasSubstr("I32")));
}

TEST_F(HfImportTest, CorruptWeightsFile) {
  const std::string bytes = read_file(file(kHfWeightsFile));
  write_file(file(kHfWeightsFile), bytes.substr(0, bytes.size() - 10));
  EXPECT_THAT(import_error(), HasSubstr(file(kHfWeightsFile)));
}

TEST_F(HfImportTest, BadConfigKeysAndTypes) {
  const std::string cfg = file(kHfConfigFile);
  const Json original = read_json_file(cfg);
  struct Case {
    std::function<void(Json&)> edit;
    std::string key, what;
  };
  const std::vector<Case> cases = {
      {[](Json& j) { j.set("hidden_size", Json::string("16")); }, "hidden_size",
       "expected an integer, got a string"},
      {[](Json& j) { j.set("hidden_size", Json::number(16.0)); }, "hidden_size",
       "expected an integer, got a number"},
      {[](Json& j) { j.erase("num_local_experts"); }, "num_local_experts", "missing key"},
      {[](Json& j) { j.set("model_type", Json::string("llama")); }, "model_type", "mixtral"},
      {[](Json& j) { j.set("rope_theta", Json::string("1e4")); }, "rope_theta",
       "expected a number"},
      {[](Json& j) { j.set("rms_norm_eps", Json::number(0)); }, "rms_norm_eps", "must be >"},
      {[](Json& j) { j.set("tie_word_embeddings", Json::integer(0)); }, "tie_word_embeddings",
       "expected a boolean"},
      {[](Json& j) { j.set("num_key_value_heads", Json::integer(3)); }, "num_key_value_heads",
       "does not divide"},
      {[](Json& j) { j.set("num_experts_per_tok", Json::integer(5)); }, "num_experts_per_tok",
       "exceeds"},
      {[](Json& j) { j.set("vocab_size", Json::integer(-1)); }, "vocab_size", "outside"},
      {[](Json& j) { j.set("hidden_act", Json::string("gelu")); }, "hidden_act", "gelu"},
      {[](Json& j) { j.set("head_dim", Json::integer(16)); }, "head_dim", "differs"},
      {[](Json& j) { j.set("sliding_window", Json::integer(8)); }, "sliding_window",
       "not supported"},
      {[](Json& j) { j.set("switchyard", Json::array()); }, "switchyard", "expected an object"},
  };
  for (const Case& c : cases) {
    Json j = original;
    c.edit(j);
    write_text_file_durably(cfg, write_json(j));
    EXPECT_THAT(import_error(),
                AllOf(HasSubstr(cfg), HasSubstr("\"" + c.key + "\""), HasSubstr(c.what)))
        << c.key;
    EXPECT_THAT(error_message(ErrorKind::kBadInput, [&] { config_from_hf(dir_); }),
                HasSubstr(c.key));
  }
}

TEST_F(HfImportTest, BadSwitchyardObject) {
  const std::string cfg = file(kHfConfigFile);
  edit_switchyard([](Json& sw) { sw.set("experts_per_layer", Json::integer(2)); });
  EXPECT_THAT(import_error(), AllOf(HasSubstr(cfg), HasSubstr("switchyard.experts_per_layer"),
                                    HasSubstr("unknown key")));
  edit_switchyard([](Json& sw) {
    sw.erase("experts_per_layer");
    sw.set("router", Json::string("hash"));
  });
  EXPECT_THAT(import_error(), AllOf(HasSubstr("switchyard.router"), HasSubstr("noisy_topk")));
  edit_switchyard([](Json& sw) {
    sw.set("router", Json::string("softmax"));
    sw.set("format_version", Json::integer(99));
  });
  EXPECT_THAT(import_error(), AllOf(HasSubstr("switchyard.format_version"), HasSubstr("newer")));
  edit_switchyard([](Json& sw) {
    sw.set("format_version", Json::integer(1));
    sw.set("moe_intermediate_size", Json::integer(10));
  });
  EXPECT_THAT(import_error(), AllOf(HasSubstr("switchyard.moe_intermediate_size"),
                                    HasSubstr("intermediate_size = 12")));
}

TEST_F(HfImportTest, MalformedOrMissingConfigJson) {
  const std::string cfg = file(kHfConfigFile);
  write_file(cfg, "{\n  \"vocab_size\": 64,\n  \"hidden_size\": 16,,\n}\n");
  EXPECT_THAT(import_error(), AllOf(HasSubstr(cfg), HasSubstr("line 3")));
  write_file(cfg, "{\"a\": 1, \"a\": 2}");
  EXPECT_THAT(import_error(), HasSubstr("duplicate key \"a\""));
  write_file(cfg, "[1, 2]");
  EXPECT_THAT(import_error(), AllOf(HasSubstr(cfg), HasSubstr("expected a JSON object")));
  fs::remove(cfg);
  EXPECT_THAT(import_error(), AllOf(HasSubstr(cfg), HasSubstr("no such file")));
  EXPECT_THAT(
      error_message(ErrorKind::kBadInput, [&] { import_hf_weights(dir_ + "/nothing", *model_); }),
      HasSubstr("not a directory"));
}

TEST_F(HfImportTest, NoWeightsFile) {
  fs::remove(file(kHfWeightsFile));
  EXPECT_THAT(import_error(),
              AllOf(HasSubstr(dir_), HasSubstr(kHfWeightsFile), HasSubstr(kHfIndexFile)));
}

TEST_F(HfImportTest, BrokenIndex) {
  const std::string sharded = (fresh_dir() / "sharded").string();
  HfExportOptions options;
  options.max_shard_bytes = 6000;
  export_hf(config_, *seeded_model(config_, 1), "byte", sharded, options);
  dir_ = sharded;
  const std::string index = file(kHfIndexFile);
  const Json original = read_json_file(index);
  const auto with_map = [&](const std::function<void(Json&)>& edit) {
    Json j = original;
    Json map = *j.find("weight_map");
    edit(map);
    j.set("weight_map", map);
    write_text_file_durably(index, write_json(j));
  };
  const std::string norm = "model.norm.weight";
  const std::string norm_file = original.find("weight_map")->find(norm)->as_string();
  std::string other;  // another shard
  for (const auto& [tensor, f] : original.find("weight_map")->members()) {
    if (f.as_string() != norm_file) other = f.as_string();
  }
  ASSERT_FALSE(other.empty()) << "expected several shards";

  with_map([&](Json& m) { m.set(norm, Json::string(other)); });
  EXPECT_THAT(import_error(), AllOf(HasSubstr(index), HasSubstr(norm), HasSubstr(other),
                                    HasSubstr("does not hold it")));
  with_map([&](Json& m) { m.erase(norm); });
  EXPECT_THAT(import_error(), AllOf(HasSubstr(file(norm_file)), HasSubstr(norm),
                                    HasSubstr("not in the weight_map")));
  with_map([&](Json& m) { m.set(norm, Json::string("../" + norm_file)); });
  EXPECT_THAT(import_error(), AllOf(HasSubstr(index), HasSubstr("not a file name")));
  with_map([&](Json& m) { m.set(norm, Json::integer(1)); });
  EXPECT_THAT(import_error(), AllOf(HasSubstr(index), HasSubstr(norm)));
  with_map([](Json&) {});
  fs::remove(file(other));
  EXPECT_THAT(import_error(), AllOf(HasSubstr(file(other)), HasSubstr("no such file")));
  write_text_file_durably(index, "{\"metadata\": {}}");
  EXPECT_THAT(import_error(), AllOf(HasSubstr(index), HasSubstr("weight_map")));
}

TEST_F(HfImportTest, ModelThatDoesNotMatchTheExport) {
  Config other = config_;
  other.model.hidden_size = 32;
  model_ = seeded_model(other, 3);
  EXPECT_THAT(import_error(), AllOf(HasSubstr(file(kHfConfigFile)), HasSubstr("different model")));
  other = config_;
  other.moe.first_layer = 0;  // layer 0 MoE instead of dense
  model_ = seeded_model(other, 3);
  EXPECT_THAT(import_error(),
              AllOf(HasSubstr("different model"), HasSubstr("model.layers.0.block_sparse_moe")));
}

TEST_F(HfImportTest, TiedEmbeddingsMayOmitTheHead) {
  edit_config([](Json& j) { j.set("tie_word_embeddings", Json::boolean(true)); });
  edit_weights([](Tensors& ts) {
    std::erase_if(ts, [](const auto& t) { return t.first == "lm_head.weight"; });
  });
  import_hf_weights(dir_, *model_);
  const auto v = parameter_values(*model_);
  EXPECT_EQ(v.at("lm_head.weight"), v.at("model.embed_tokens.weight"));
  edit_config([](Json& j) { j.set("tie_word_embeddings", Json::boolean(false)); });
  EXPECT_THAT(import_error(), HasSubstr("missing tensor \"lm_head.weight\""));
}

TEST_F(HfImportTest, ByteTokenizerFileIsChecked) {
  EXPECT_EQ(hf_tokenizer_spec(dir_), "byte");
  const std::string tok = file(kByteTokenizerFile);
  write_file(tok, "{\"type\": \"bpe\"}");
  EXPECT_THAT(error_message(ErrorKind::kBadInput, [&] { hf_tokenizer_spec(dir_); }),
              AllOf(HasSubstr(tok), HasSubstr("type")));
  write_file(tok, "{\"type\": \"byte\", \"vocab_size\": 300}");
  EXPECT_THAT(error_message(ErrorKind::kBadInput, [&] { config_from_hf(dir_); }),
              AllOf(HasSubstr(tok), HasSubstr("vocab_size")));
  fs::remove(tok);
  EXPECT_EQ(hf_tokenizer_spec(dir_), "");
}

TEST_F(HfImportTest, InitFromChecksTheArchitecture) {
  auto want = parameter_values(*seeded_model(config_, 1));  // what SetUp exported
  std::erase_if(want, [](const auto& kv) { return is_export_excluded(kv.first); });
  Config run = config_;  // training-only settings may differ
  run.moe.router = RouterKind::kSoftmax;
  run.moe.capacity_factor = 0;
  run.moe.aux_loss_coef = 0.5;
  run.model.init_std = 0.1;
  run.model.max_position_embeddings = 128;
  const auto model = seeded_model(run, 8);
  init_from_hf(dir_, run, *model);
  EXPECT_EQ(parameter_values(*model), want);
  EXPECT_TRUE(hf_architecture_mismatches(config_from_hf(dir_), run).empty());

  Config other = config_;
  other.model.rope_theta = 1000;
  other.moe.first_layer = 0;
  other.moe.normalize_topk = true;
  const std::string m =
      error_message(ErrorKind::kUsage, [&] { init_from_hf(dir_, other, *model_); });
  EXPECT_THAT(m, AllOf(HasSubstr("model.init_from"), HasSubstr(file(kHfConfigFile)),
                       HasSubstr("model.rope_theta: 500.0 in the export, 1000.0 in the run"),
                       HasSubstr("layer 0 is dense in the export, MoE in the run"),
                       HasSubstr("moe.normalize_topk: false in the export, true in the run")));
  EXPECT_THAT(
      error_message(ErrorKind::kUsage, [&] { init_from_hf(dir_ + "/nope", config_, *model_); }),
      AllOf(HasSubstr("model.init_from"), HasSubstr("does not exist")));
  write_file(file(kHfConfigFile), "{}");
  EXPECT_THAT(error_message(ErrorKind::kBadInput, [&] { init_from_hf(dir_, config_, *model_); }),
              HasSubstr("missing key \"model_type\""));
}

TEST_F(HfImportTest, LoadModelReportsBadExports) {
  replace_weight("lm_head.weight", core::Tensor::zeros({3}));
  EXPECT_THAT(error_message(ErrorKind::kBadInput, [&] { load_model(dir_); }),
              AllOf(HasSubstr(file(kHfWeightsFile)), HasSubstr("lm_head.weight")));
}

}  // namespace
}  // namespace sy::trainer::testing
