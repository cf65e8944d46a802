// config.json <-> Config, the export tensor layout and the MixtralForCausalLM compatibility checks.
#include "trainer/export/hf_config.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <span>
#include <string_view>

#include "core/common/error.h"
#include "trainer/config/config_loader.h"

namespace sy::trainer {

namespace {

constexpr int kDefaultEvalSeqLen = 2048;  // train.seq_len of an export without train_seq_len

// Typed access to the members of one config.json object; errors name the file and the key
// ("switchyard.moe_every" inside the extension object).
class KeyReader {
 public:
  KeyReader(const Json& object, const std::string& path, const std::string& prefix)
      : object_(object), path_(path), prefix_(prefix) {}

  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    SY_FAIL(ErrorKind::kBadInput, path_, ": key \"", prefix_, key, "\": ", what);
  }

  // The value of a key, or nullptr when absent (or null, when null_is_absent).
  const Json* find(const std::string& key, bool required, bool null_is_absent = false) const {
    const Json* v = object_.find(key);
    if (v != nullptr && null_is_absent && v->is_null()) v = nullptr;
    if (v == nullptr && required) {
      SY_FAIL(ErrorKind::kBadInput, path_, ": missing key \"", prefix_, key, "\"");
    }
    return v;
  }
  const Json& typed(const std::string& key, const Json& v, Json::Kind kind) const {
    const bool ok = v.kind() == kind || (kind == Json::Kind::kDouble && v.is_number());
    if (!ok) {
      fail(key,
           std::string("expected ") + json_kind_name(kind) + ", got " + json_kind_name(v.kind()));
    }
    return v;
  }

  // An integer in [min, max]; `fallback` when absent (or null, when null_is_absent).
  int64_t integer(const std::string& key, bool required, int64_t fallback, int64_t min,
                  int64_t max = INT_MAX, bool null_is_absent = false) const {
    const Json* v = find(key, required, null_is_absent);
    if (v == nullptr) return fallback;
    const int64_t n = typed(key, *v, Json::Kind::kInt).as_int();
    if (n < min || n > max) {
      fail(key, "value " + std::to_string(n) + " is outside [" + std::to_string(min) + ", " +
                    std::to_string(max) + "]");
    }
    return n;
  }
  // A finite number > min (or >= min when !strict); `fallback` when absent.
  double number(const std::string& key, double fallback, double min, bool strict) const {
    const Json* v = find(key, false);
    if (v == nullptr) return fallback;
    const double d = typed(key, *v, Json::Kind::kDouble).as_double();
    if (strict ? !(d > min) : !(d >= min)) {
      fail(key, "value " + format_json_double(d) + " must be " + (strict ? "> " : ">= ") +
                    format_json_double(min));
    }
    return d;
  }
  bool boolean(const std::string& key, bool fallback) const {
    const Json* v = find(key, false);
    return v == nullptr ? fallback : typed(key, *v, Json::Kind::kBool).as_bool();
  }
  std::string string(const std::string& key, bool required, const std::string& fallback) const {
    const Json* v = find(key, required);
    return v == nullptr ? fallback : typed(key, *v, Json::Kind::kString).as_string();
  }
  template <typename E>
  E enumerated(const std::string& key, E fallback) const {
    const Json* v = find(key, false);
    if (v == nullptr) return fallback;
    const std::string& s = typed(key, *v, Json::Kind::kString).as_string();
    std::string allowed;
    for (size_t i = 0; i < EnumNames<E>::kNames.size(); ++i) {
      if (s == EnumNames<E>::kNames[i]) return static_cast<E>(i);
      allowed += std::string(i ? ", " : "") + std::string(EnumNames<E>::kNames[i]);
    }
    fail(key, "\"" + s + "\" is not one of " + allowed);
  }
  // Rejects members outside `known`.
  void only(std::span<const std::string_view> known) const {
    for (const auto& [key, value] : object_.members()) {
      if (std::find(known.begin(), known.end(), key) == known.end()) fail(key, "unknown key");
    }
  }

 private:
  const Json& object_;
  const std::string& path_;
  std::string prefix_;
};

// The keys of the "switchyard" object (docs/EXPORT.md).
constexpr std::string_view kSwitchyardKeys[] = {"format_version",
                                                "moe_enabled",
                                                "moe_every",
                                                "moe_first_layer",
                                                "dense_intermediate_size",
                                                "moe_intermediate_size",
                                                "normalize_topk",
                                                "router",
                                                "capacity_factor",
                                                "drop_policy",
                                                "z_loss_coef",
                                                "train_seq_len",
                                                "step",
                                                "tokenizer"};

}  // namespace

Json hf_config_json(const Config& c, const HfExportInfo& info) {
  const int kv = c.model.num_kv_heads > 0 ? c.model.num_kv_heads : c.model.num_heads;
  Json sw = Json::object();
  sw.set("format_version", Json::integer(kSwitchyardExportVersion))
      .set("moe_enabled", Json::boolean(c.moe.enabled))
      .set("moe_every", Json::integer(c.moe.every))
      .set("moe_first_layer", Json::integer(c.moe.first_layer))
      .set("dense_intermediate_size", Json::integer(c.model.intermediate_size))
      .set("moe_intermediate_size", Json::integer(c.moe.intermediate_size))
      .set("normalize_topk", Json::boolean(c.moe.normalize_topk))
      .set("router", Json::string(std::string(enum_name(c.moe.router))))
      .set("capacity_factor", Json::number(c.moe.capacity_factor))
      .set("drop_policy", Json::string(std::string(enum_name(c.moe.drop_policy))))
      .set("z_loss_coef", Json::number(c.moe.z_loss_coef))
      .set("train_seq_len", Json::integer(c.train.seq_len))
      .set("step", Json::integer(info.step))
      .set("tokenizer", Json::string(info.tokenizer));
  Json j = Json::object();
  j.set("architectures", Json::array({Json::string("MixtralForCausalLM")}))
      .set("attention_dropout", Json::number(0.0))
      .set("bos_token_id", Json::integer(info.bos_token_id))
      .set("eos_token_id", Json::integer(info.eos_token_id))
      .set("head_dim", Json::integer(c.head_dim()))
      .set("hidden_act", Json::string("silu"))
      .set("hidden_size", Json::integer(c.model.hidden_size))
      .set("initializer_range", Json::number(c.model.init_std))
      .set("intermediate_size", Json::integer(c.expert_intermediate_size()))
      .set("max_position_embeddings", Json::integer(c.model.max_position_embeddings))
      .set("model_type", Json::string("mixtral"))
      .set("num_attention_heads", Json::integer(c.model.num_heads))
      .set("num_experts_per_tok", Json::integer(c.moe.top_k))
      .set("num_hidden_layers", Json::integer(c.model.num_layers))
      .set("num_key_value_heads", Json::integer(kv))
      .set("num_local_experts", Json::integer(c.moe.num_experts))
      .set("output_router_logits", Json::boolean(false))
      .set("rms_norm_eps", Json::number(c.model.rms_norm_eps))
      .set("rope_theta", Json::number(c.model.rope_theta))
      .set("router_aux_loss_coef", Json::number(c.moe.aux_loss_coef))
      .set("router_jitter_noise", Json::number(0.0))
      .set("sliding_window", Json())
      .set("switchyard", std::move(sw))
      .set("tie_word_embeddings", Json::boolean(c.model.tie_word_embeddings))
      .set("torch_dtype", Json::string(info.torch_dtype))
      .set("use_cache", Json::boolean(true))
      .set("vocab_size", Json::integer(c.model.vocab_size));
  return j;
}

Config config_from_hf_json(const Json& root, const std::string& path, HfExportInfo* info) {
  SY_REQUIRE(ErrorKind::kBadInput, root.kind() == Json::Kind::kObject, path,
             ": expected a JSON object, got ", json_kind_name(root.kind()));
  const KeyReader r(root, path, "");
  const std::string model_type = r.string("model_type", true, "");
  if (model_type != "mixtral") r.fail("model_type", "\"" + model_type + "\" is not \"mixtral\"");
  if (const Json* a = r.find("architectures", false)) {
    r.typed("architectures", *a, Json::Kind::kArray);
    for (const Json& item : a->items()) r.typed("architectures", item, Json::Kind::kString);
  }
  const std::string act = r.string("hidden_act", false, "silu");
  if (act != "silu") r.fail("hidden_act", "\"" + act + "\" is not supported (only \"silu\")");

  Config c;
  ModelConfig& m = c.model;
  m.vocab_size = static_cast<int>(r.integer("vocab_size", true, 0, 1));
  m.hidden_size = static_cast<int>(r.integer("hidden_size", true, 0, 1));
  const int expert_width = static_cast<int>(r.integer("intermediate_size", true, 0, 1));
  m.num_layers = static_cast<int>(r.integer("num_hidden_layers", true, 0, 1));
  m.num_heads = static_cast<int>(r.integer("num_attention_heads", true, 0, 1));
  m.num_kv_heads =
      static_cast<int>(r.integer("num_key_value_heads", false, m.num_heads, 1, INT_MAX, true));
  m.rope_theta = r.number("rope_theta", 1e6, 0.0, true);
  m.rms_norm_eps = r.number("rms_norm_eps", 1e-5, 0.0, true);
  m.max_position_embeddings =
      static_cast<int>(r.integer("max_position_embeddings", false, 131072, 1));
  m.tie_word_embeddings = r.boolean("tie_word_embeddings", false);
  m.init_std = r.number("initializer_range", m.init_std, 0.0, false);
  c.moe.num_experts = static_cast<int>(r.integer("num_local_experts", true, 0, 1));
  c.moe.top_k = static_cast<int>(r.integer("num_experts_per_tok", true, 0, 1));
  c.moe.aux_loss_coef = r.number("router_aux_loss_coef", 0.001, 0.0, false);
  if (m.num_heads % m.num_kv_heads != 0) {
    r.fail("num_key_value_heads", std::to_string(m.num_kv_heads) + " does not divide " +
                                      "num_attention_heads = " + std::to_string(m.num_heads));
  }
  if (m.hidden_size % m.num_heads != 0 || c.head_dim() % 2 != 0) {
    r.fail("num_attention_heads", "hidden_size = " + std::to_string(m.hidden_size) + " / " +
                                      std::to_string(m.num_heads) +
                                      " heads must give an even head width");
  }
  const int64_t head_dim = r.integer("head_dim", false, c.head_dim(), 1, INT_MAX, true);
  if (head_dim != c.head_dim()) {
    r.fail("head_dim", std::to_string(head_dim) + " differs from hidden_size / " +
                           "num_attention_heads = " + std::to_string(c.head_dim()) +
                           " (Switchyard ties the head width to the model width)");
  }
  if (c.moe.top_k > c.moe.num_experts) {
    r.fail("num_experts_per_tok", std::to_string(c.moe.top_k) + " exceeds num_local_experts = " +
                                      std::to_string(c.moe.num_experts));
  }
  const int64_t window = r.integer("sliding_window", false, 0, 1, INT64_MAX, true);
  if (window > 0 && window < m.max_position_embeddings) {
    r.fail("sliding_window", "sliding-window attention (" + std::to_string(window) +
                                 " < max_position_embeddings) is not supported");
  }
  HfExportInfo got;
  got.bos_token_id = static_cast<int32_t>(r.integer("bos_token_id", false, 0, 0, INT_MAX, true));
  got.eos_token_id = static_cast<int32_t>(r.integer("eos_token_id", false, 0, 0, INT_MAX, true));
  got.torch_dtype = r.string("torch_dtype", false, "float32");
  got.tokenizer.clear();

  m.intermediate_size = expert_width;
  c.train.seq_len = std::min(m.max_position_embeddings, kDefaultEvalSeqLen);
  if (const Json* sw = r.find("switchyard", false)) {
    r.typed("switchyard", *sw, Json::Kind::kObject);
    const KeyReader s(*sw, path, "switchyard.");
    s.only(kSwitchyardKeys);
    const int64_t version = s.integer("format_version", true, 0, 1);
    if (version > kSwitchyardExportVersion) {
      s.fail("format_version", std::to_string(version) + " is newer than this build reads (" +
                                   std::to_string(kSwitchyardExportVersion) + ")");
    }
    got.has_switchyard = true;
    MoeConfig& e = c.moe;
    e.enabled = s.boolean("moe_enabled", e.enabled);
    e.every = static_cast<int>(s.integer("moe_every", false, e.every, 1));
    e.first_layer = static_cast<int>(s.integer("moe_first_layer", false, 0, 0, m.num_layers - 1));
    m.intermediate_size =
        static_cast<int>(s.integer("dense_intermediate_size", false, expert_width, 1));
    e.intermediate_size = static_cast<int>(s.integer("moe_intermediate_size", false, 0, 0));
    e.normalize_topk = s.boolean("normalize_topk", e.normalize_topk);
    e.router = s.enumerated("router", e.router);
    e.capacity_factor = s.number("capacity_factor", e.capacity_factor, -1e300, false);
    e.drop_policy = s.enumerated("drop_policy", e.drop_policy);
    e.z_loss_coef = s.number("z_loss_coef", e.z_loss_coef, 0.0, false);
    c.train.seq_len = static_cast<int>(
        s.integer("train_seq_len", false, c.train.seq_len, 1, m.max_position_embeddings));
    got.step = s.integer("step", false, 0, 0, INT64_MAX);
    got.tokenizer = s.string("tokenizer", false, "");
    if (!got.tokenizer.empty() && got.tokenizer != "byte" && got.tokenizer != "sentencepiece") {
      s.fail("tokenizer", "\"" + got.tokenizer + "\" is not \"byte\" or \"sentencepiece\"");
    }
    if (c.expert_intermediate_size() != expert_width) {
      s.fail("moe_intermediate_size",
             "the expert width it gives (" + std::to_string(c.expert_intermediate_size()) +
                 ") differs from intermediate_size = " + std::to_string(expert_width));
    }
  }

  // The remaining range and cross-field checks of the config schema, on a copy whose training
  // keys hold placeholders (config.json says nothing about training).
  Config check = c;
  check.train.steps = 1;
  check.train.global_batch_size = check.train.micro_batch_size = 1;
  check.optim.lr = 1e-3;
  check.data.train = "-";
  try {
    validate_config(check);
  } catch (const Error& e) {
    SY_FAIL(ErrorKind::kBadInput, path, ": describes a model Switchyard cannot build: ", e.what());
  }
  if (info != nullptr) *info = got;
  return c;
}

std::vector<HfTensorSpec> hf_tensor_layout(const Config& c) {
  const int64_t v = c.model.vocab_size, d = c.model.hidden_size, hd = c.head_dim();
  const int64_t h = c.model.num_heads;
  const int64_t kv = c.model.num_kv_heads > 0 ? c.model.num_kv_heads : h;
  const int64_t f = c.expert_intermediate_size(), fd = c.model.intermediate_size;
  std::vector<HfTensorSpec> out;
  out.push_back({"model.embed_tokens.weight", {v, d}});
  for (int l = 0; l < c.model.num_layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    out.push_back({p + "input_layernorm.weight", {d}});
    out.push_back({p + "self_attn.q_proj.weight", {h * hd, d}});
    out.push_back({p + "self_attn.k_proj.weight", {kv * hd, d}});
    out.push_back({p + "self_attn.v_proj.weight", {kv * hd, d}});
    out.push_back({p + "self_attn.o_proj.weight", {d, h * hd}});
    out.push_back({p + "post_attention_layernorm.weight", {d}});
    if (c.is_moe_layer(l)) {
      out.push_back({p + "block_sparse_moe.gate.weight", {c.moe.num_experts, d}});
      for (int e = 0; e < c.moe.num_experts; ++e) {
        const std::string x = p + "block_sparse_moe.experts." + std::to_string(e) + ".";
        out.push_back({x + "w1.weight", {f, d}});
        out.push_back({x + "w3.weight", {f, d}});
        out.push_back({x + "w2.weight", {d, f}});
      }
    } else {
      out.push_back({p + "mlp.gate_proj.weight", {fd, d}});
      out.push_back({p + "mlp.up_proj.weight", {fd, d}});
      out.push_back({p + "mlp.down_proj.weight", {d, fd}});
    }
  }
  out.push_back({"model.norm.weight", {d}});
  out.push_back({"lm_head.weight", {v, d}});
  return out;
}

std::vector<std::string> mixtral_compatibility_issues(const Config& c) {
  std::vector<std::string> out;
  std::string dense;
  for (int l = 0; l < c.model.num_layers; ++l) {
    if (!c.is_moe_layer(l)) dense += (dense.empty() ? "" : ", ") + std::to_string(l);
  }
  if (!dense.empty()) {
    out.push_back("layer(s) " + dense + " are dense (exported as model.layers.{l}.mlp.*): " +
                  "MixtralForCausalLM has an MoE block in every layer");
  }
  if (!c.moe.normalize_topk && c.moe.enabled) {
    out.push_back("moe.normalize_topk is false: Mixtral always renormalizes the top-k weights");
  }
  if (c.moe.router == RouterKind::kNoisyTopk && c.moe.enabled) {
    out.push_back(
        "moe.router is noisy_topk: the noise weights (noise.weight) are left out; "
        "inference is the plain softmax router, but training on in transformers adds "
        "no noise and a re-import starts the noise weights from zero");
  }
  if (c.moe.capacity_factor > 0 && c.moe.enabled) {
    out.push_back("moe.capacity_factor = " + format_json_double(c.moe.capacity_factor) +
                  " drops assignments beyond capacity; Mixtral is dropless");
  }
  if (c.model.tie_word_embeddings) {
    out.push_back(
        "model.tie_word_embeddings is true but Switchyard keeps lm_head.weight as its "
        "own matrix; transformers would replace it by model.embed_tokens.weight");
  }
  return out;
}

bool is_export_excluded(const std::string& name) {
  static constexpr std::string_view kNoise = ".block_sparse_moe.noise.weight";
  return name.size() >= kNoise.size() &&
         name.compare(name.size() - kNoise.size(), kNoise.size(), kNoise) == 0;
}

}  // namespace sy::trainer
