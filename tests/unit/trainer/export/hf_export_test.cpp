// Export and import of Hugging Face Mixtral directories: config and weights round trip bit for
// bit, export -> import -> export reproduces every file byte for byte, sharding with an index,
// the tensor names of dense and MoE layers, BF16, the tokenizer files, load_model on an export,
// and the atomic publication of OUTDIR.
#include "trainer/export/hf_export.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/error.h"
#include "tests/unit/trainer/export/export_test_util.h"
#include "trainer/checkpoint/safetensors.h"
#include "trainer/common/json.h"
#include "trainer/data/tokenizer.h"
#include "trainer/export/hf_config.h"
#include "trainer/export/hf_import.h"
#include "trainer/inference/model_loader.h"

// In sy::trainer::testing, so test_util.h's and export_test_util.h's helpers need no using.
namespace sy::trainer::testing {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

class HfExportTest : public ::testing::TestWithParam<TinyKind> {};

INSTANTIATE_TEST_SUITE_P(Kinds, HfExportTest,
                         ::testing::Values(TinyKind::kMixtral, TinyKind::kDenseMoe),
                         [](const auto& param_info) {
                           return param_info.param == TinyKind::kMixtral ? "Mixtral" : "DenseMoe";
                         });

TEST_P(HfExportTest, ImportReproducesTheConfigAndEveryParameterBitForBit) {
  const Config c = tiny_export_config(GetParam());
  const auto model = seeded_model(c, 7);
  const std::string out = (fresh_dir() / "export").string();
  HfExportOptions options;
  options.step = 42;
  const HfExportResult r = export_hf(c, *model, "byte", out, options);
  EXPECT_EQ(r.shards, 1);
  EXPECT_EQ(r.warnings.empty(), GetParam() == TinyKind::kMixtral);

  HfExportInfo info;
  const Config back = config_from_hf(out, &info);
  EXPECT_EQ(back.model, c.model);
  EXPECT_EQ(back.moe, c.moe);
  EXPECT_EQ(back.train.seq_len, c.train.seq_len);
  EXPECT_EQ(back.data.tokenizer, "byte");
  EXPECT_EQ(info.step, 42);
  EXPECT_EQ(info.eos_token_id, ByteTokenizer::kEotId);
  EXPECT_EQ(info.torch_dtype, "float32");

  const auto imported = seeded_model(back, 99);  // different values everywhere
  const auto before = parameter_values(*imported);
  import_hf_weights(out, *imported);
  const auto want = parameter_values(*model);
  int noise = 0;
  for (const auto& [name, values] : parameter_values(*imported)) {
    if (is_export_excluded(name)) {  // not exported: keeps the importing model's value
      EXPECT_EQ(values, before.at(name)) << name;
      ++noise;
      continue;
    }
    ASSERT_EQ(values.size(), want.at(name).size()) << name;
    EXPECT_EQ(0, std::memcmp(values.data(), want.at(name).data(), values.size() * 4)) << name;
  }
  EXPECT_EQ(noise, GetParam() == TinyKind::kDenseMoe ? 1 : 0);
}

TEST_P(HfExportTest, ExportImportExportIsByteIdentical) {
  const Config c = tiny_export_config(GetParam());
  const auto model = seeded_model(c, 11);
  const fs::path dir = fresh_dir();
  HfExportOptions options;
  options.step = 5;
  options.check_logits = true;
  export_hf(c, *model, "byte", (dir / "a").string(), options);

  const LoadedModel m = load_model((dir / "a").string());  // the path eval and generate take
  EXPECT_TRUE(m.from_export);
  EXPECT_EQ(m.step, 5);
  options.step = m.step;
  export_hf(m.config, *m.model, tokenizer_spec(m.config), (dir / "b").string(), options);

  const auto a = directory_files(dir / "a"), b = directory_files(dir / "b");
  std::set<std::string> names;
  for (const auto& [name, bytes] : a) names.insert(name);
  EXPECT_EQ(names,
            (std::set<std::string>{"config.json", "generation_config.json", "model.safetensors",
                                   "switchyard_check.safetensors", "switchyard_tokenizer.json"}));
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, bytes] : a) {
    EXPECT_TRUE(b.count(name) && b.at(name) == bytes) << name << " differs";
  }
  EXPECT_FALSE(fs::exists(dir / "a.tmp"));
}

TEST_P(HfExportTest, ShardsBeyondTheLimitWithAnIndex) {
  const Config c = tiny_export_config(GetParam());
  const auto model = seeded_model(c, 3);
  const fs::path dir = fresh_dir();
  HfExportOptions options;
  options.max_shard_bytes = 6000;
  const HfExportResult r = export_hf(c, *model, "byte", (dir / "x").string(), options);
  ASSERT_GT(r.shards, 2);
  EXPECT_FALSE(fs::exists(dir / "x" / kHfWeightsFile));

  const Json index = read_json_file((dir / "x" / kHfIndexFile).string());
  EXPECT_EQ(index.find("metadata")->find("total_size")->as_int(),
            static_cast<int64_t>(r.tensor_bytes));
  const Json& map = *index.find("weight_map");
  std::set<std::string> mapped, files;
  for (const auto& [tensor, file] : map.members()) {
    mapped.insert(tensor);
    files.insert(file.as_string());
  }
  std::set<std::string> layout;
  for (const HfTensorSpec& s : hf_tensor_layout(c)) layout.insert(s.name);
  EXPECT_EQ(mapped, layout);
  ASSERT_EQ(files.size(), static_cast<size_t>(r.shards));
  char first[64];
  std::snprintf(first, sizeof(first), "model-00001-of-%05d.safetensors", r.shards);
  EXPECT_EQ(*files.begin(), first);
  for (const std::string& f : files) {
    const SafetensorsFile sf = read_safetensors((dir / "x" / f).string());
    EXPECT_EQ(sf.metadata().at("format"), "pt");
    uint64_t bytes = 0;
    for (const std::string& n : sf.names()) bytes += sf.entry(n).end - sf.entry(n).begin;
    EXPECT_TRUE(bytes <= options.max_shard_bytes || sf.names().size() == 1) << f << " " << bytes;
  }

  const auto imported = seeded_model(config_from_hf((dir / "x").string()), 1);
  import_hf_weights((dir / "x").string(), *imported);
  const auto want = parameter_values(*model);
  for (const auto& [name, values] : parameter_values(*imported)) {
    if (!is_export_excluded(name)) {
      EXPECT_EQ(values, want.at(name)) << name;
    }
  }
}

TEST(HfExport, DenseAndMoeLayersUseTheContractNames) {
  const Config c = tiny_export_config(TinyKind::kDenseMoe);
  const auto model = seeded_model(c, 2);
  const std::string out = (fresh_dir() / "e").string();
  export_hf(c, *model, "byte", out);
  const SafetensorsFile f = read_safetensors(out + "/model.safetensors");
  EXPECT_EQ(f.metadata(), (std::map<std::string, std::string>{{"format", "pt"}}));
  const std::vector<std::string> names = f.names();
  const auto has = [&](const std::string& n) {
    return std::find(names.begin(), names.end(), n) != names.end();
  };
  for (const char* n :
       {"model.embed_tokens.weight", "model.norm.weight", "lm_head.weight",
        "model.layers.0.mlp.gate_proj.weight", "model.layers.0.mlp.up_proj.weight",
        "model.layers.0.mlp.down_proj.weight", "model.layers.1.block_sparse_moe.gate.weight",
        "model.layers.1.block_sparse_moe.experts.3.w1.weight",
        "model.layers.1.block_sparse_moe.experts.3.w2.weight",
        "model.layers.1.block_sparse_moe.experts.3.w3.weight",
        "model.layers.2.mlp.down_proj.weight", "model.layers.2.self_attn.k_proj.weight",
        "model.layers.2.post_attention_layernorm.weight"}) {
    EXPECT_TRUE(has(n)) << n;
  }
  for (const std::string& n : names) {
    EXPECT_THAT(n, ::testing::Not(HasSubstr("noise"))) << "noise weights are not exported";
  }
  EXPECT_FALSE(has("model.layers.0.block_sparse_moe.gate.weight"));
  EXPECT_FALSE(has("model.layers.1.mlp.gate_proj.weight"));
  EXPECT_EQ(names.size(), hf_tensor_layout(c).size());
  // Shapes: D = 16, dense F = 24, expert F = 12, Hkv * hd = 8.
  EXPECT_EQ(f.entry("model.layers.0.mlp.down_proj.weight").shape, (std::vector<int64_t>{16, 24}));
  EXPECT_EQ(f.entry("model.layers.1.block_sparse_moe.experts.0.w2.weight").shape,
            (std::vector<int64_t>{16, 12}));
  EXPECT_EQ(f.entry("model.layers.1.block_sparse_moe.gate.weight").shape,
            (std::vector<int64_t>{4, 16}));
  EXPECT_EQ(f.entry("model.layers.2.self_attn.v_proj.weight").shape, (std::vector<int64_t>{8, 16}));

  const Json cfg = read_json_file(out + "/config.json");
  EXPECT_EQ(cfg.find("intermediate_size")->as_int(), 12);  // HF's key is the expert width
  EXPECT_EQ(cfg.find("switchyard")->find("dense_intermediate_size")->as_int(), 24);
  EXPECT_EQ(cfg.find("switchyard")->find("router")->as_string(), "noisy_topk");
  const std::vector<std::string> issues = mixtral_compatibility_issues(c);
  EXPECT_EQ(issues.size(), 4u);  // dense layers, normalize_topk, noisy router, capacity
}

TEST(HfExport, MixtralConfigKeys) {
  const Config c = tiny_export_config(TinyKind::kMixtral);
  const std::string out = (fresh_dir() / "e").string();
  export_hf(c, *seeded_model(c, 1), "byte", out);
  const Json j = read_json_file(out + "/config.json");
  EXPECT_EQ(j.find("architectures")->items().at(0).as_string(), "MixtralForCausalLM");
  EXPECT_EQ(j.find("model_type")->as_string(), "mixtral");
  EXPECT_EQ(j.find("torch_dtype")->as_string(), "float32");
  EXPECT_EQ(j.find("hidden_act")->as_string(), "silu");
  EXPECT_FALSE(j.find("output_router_logits")->as_bool());
  EXPECT_FALSE(j.find("tie_word_embeddings")->as_bool());
  for (const char* key :
       {"vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
        "num_attention_heads", "num_key_value_heads", "num_local_experts", "num_experts_per_tok",
        "max_position_embeddings", "bos_token_id", "eos_token_id"}) {
    ASSERT_NE(j.find(key), nullptr) << key;
    EXPECT_EQ(j.find(key)->kind(), Json::Kind::kInt) << key;
  }
  for (const char* key : {"rope_theta", "rms_norm_eps", "router_aux_loss_coef"}) {
    EXPECT_EQ(j.find(key)->kind(), Json::Kind::kDouble) << key;
  }
  EXPECT_EQ(j.find("eos_token_id")->as_int(), 256);
  EXPECT_EQ(read_json_file(out + "/generation_config.json").find("eos_token_id")->as_int(), 256);
  EXPECT_EQ(read_json_file(out + "/switchyard_tokenizer.json").find("type")->as_string(), "byte");
  EXPECT_TRUE(mixtral_compatibility_issues(c).empty());
}

TEST(HfExport, Bfloat16WeightsImportAsTheRoundedValues) {
  const Config c = tiny_export_config(TinyKind::kMixtral);
  const auto model = seeded_model(c, 5);
  const std::string out = (fresh_dir() / "bf").string();
  HfExportOptions options;
  options.bfloat16 = true;
  export_hf(c, *model, "byte", out, options);
  HfExportInfo info;
  const auto imported = seeded_model(config_from_hf(out, &info), 6);
  EXPECT_EQ(info.torch_dtype, "bfloat16");
  EXPECT_EQ(read_safetensors(out + "/model.safetensors").entry("lm_head.weight").dtype,
            SafetensorsDType::kBF16);
  import_hf_weights(out, *imported);
  const auto want = parameter_values(*model);
  for (const auto& [name, values] : parameter_values(*imported)) {
    for (size_t i = 0; i < values.size(); ++i) {
      ASSERT_EQ(values[i], bf16_to_float(float_to_bf16(want.at(name)[i]))) << name << " " << i;
    }
  }
}

TEST(HfExport, CopiesTheSentencePieceModel) {
  const fs::path dir = fresh_dir();
  std::vector<std::string> lines;
  for (int i = 0; i < 200; ++i) lines.push_back("the quick brown fox " + std::to_string(i * 37));
  const std::vector<std::string_view> views(lines.begin(), lines.end());
  SentencePieceOptions so;
  so.vocab_size = 300;
  train_sentencepiece(views, so, (dir / "sp.model").string());
  Config c = tiny_export_config(TinyKind::kMixtral);
  c.model.vocab_size = 320;
  export_hf(c, *seeded_model(c, 1), (dir / "sp.model").string(), (dir / "e").string());
  EXPECT_EQ(read_file(dir / "e" / "tokenizer.model"), read_file(dir / "sp.model"));
  EXPECT_FALSE(fs::exists(dir / "e" / kByteTokenizerFile));
  HfExportInfo info;
  const Config back = config_from_hf((dir / "e").string(), &info);
  EXPECT_EQ(back.data.tokenizer, (dir / "e" / "tokenizer.model").string());
  EXPECT_EQ(info.tokenizer, "sentencepiece");
  EXPECT_EQ(info.eos_token_id, SentencePieceTokenizer((dir / "sp.model").string()).eot_id());

  c.model.vocab_size = 64;  // smaller than the tokenizer's 300 pieces
  EXPECT_THAT(error_message(ErrorKind::kBadInput,
                            [&] {
                              export_hf(c, *seeded_model(c, 1), (dir / "sp.model").string(),
                                        (dir / "f").string());
                            }),
              HasSubstr("more than model.vocab_size"));
}

TEST(HfExport, RefusesANonEmptyOutdirUnlessOverwriting) {
  const Config c = tiny_export_config(TinyKind::kMixtral);
  const auto model = seeded_model(c, 1);
  const fs::path dir = fresh_dir();
  write_file(dir / "out" / "keep.txt", "x");
  EXPECT_THAT(error_message(ErrorKind::kUsage,
                            [&] { export_hf(c, *model, "byte", (dir / "out").string()); }),
              HasSubstr("not empty"));
  EXPECT_TRUE(fs::exists(dir / "out" / "keep.txt"));
  HfExportOptions options;
  options.overwrite = true;
  export_hf(c, *model, "byte", (dir / "out/").string(), options);
  EXPECT_FALSE(fs::exists(dir / "out" / "keep.txt"));
  EXPECT_TRUE(fs::exists(dir / "out" / "config.json"));
  EXPECT_FALSE(fs::exists(dir / "out.tmp"));
  fs::create_directories(dir / "empty");
  export_hf(c, *model, "byte", (dir / "empty").string());  // an empty folder is fine
  EXPECT_TRUE(fs::exists(dir / "empty" / "model.safetensors"));
}

TEST(HfExport, CheckLogitsAreTheModelsLogits) {
  const Config c = tiny_export_config(TinyKind::kDenseMoe);
  const auto model = seeded_model(c, 4);
  const std::string out = (fresh_dir() / "e").string();
  HfExportOptions options;
  options.check_logits = true;
  export_hf(c, *model, "byte", out, options);
  const SafetensorsFile f = read_safetensors(out + "/" + kCheckLogitsFile);
  const std::vector<int32_t> ids = check_logits_ids(c);
  EXPECT_EQ(f.tensor("input_ids").to_int_vector(), ids);
  const core::Tensor input = core::Tensor::from_ints(ids, {1, static_cast<int64_t>(ids.size())});
  EXPECT_EQ(f.tensor("logits").to_vector(),
            model->logits(input, nullptr, false, nullptr).to_vector());
}

}  // namespace
}  // namespace sy::trainer::testing
