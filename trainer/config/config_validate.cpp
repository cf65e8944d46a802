// Validation of a resolved Config: every key's own range (from the key table), then the
// cross-field constraints, each error naming every key involved and where it was set.
#include <initializer_list>
#include <string>
#include <string_view>

#include "core/common/error.h"
#include "parallel/pipeline/stage_partition.h"
#include "trainer/config/config_loader.h"
#include "trainer/config/config_schema.h"

namespace sy::trainer {
namespace config_detail {
namespace {

// Fails with "<where>: <what> (<key> at <location>, ...)": located at the first of `keys` that
// was set explicitly, so the message points at a line the user wrote.
[[noreturn]] void fail_cross(const Origins& origins, std::initializer_list<std::string_view> keys,
                             const std::string& what) {
  std::string loc;
  for (std::string_view k : keys) {
    if (origins.is_set(k)) {
      loc = origins.where(k);
      break;
    }
  }
  if (loc.empty()) loc = origins.where(*keys.begin());
  std::string detail;
  for (std::string_view k : keys) {
    detail += (detail.empty() ? "" : ", ") + std::string(k) + " " +
              (origins.is_set(k) ? "at " + origins.where(k) : std::string("is the default"));
  }
  SY_FAIL(ErrorKind::kUsage, loc, ": ", what, " (", detail, ")");
}

std::string eq(std::string_view key, int64_t value) {
  return std::string(key) + " = " + std::to_string(value);
}

}  // namespace

void validate(const Config& c, const Origins& o) {
  for (const FieldSpec& f : schema()) {
    const std::string reason = check_range(f, f.get(c));
    if (!reason.empty()) {
      const std::string key = f.full_key();
      SY_FAIL(ErrorKind::kUsage, o.where(key), ": ", key, ": ", reason);
    }
  }

  const ModelConfig& m = c.model;
  if (m.num_heads % m.num_kv_heads != 0) {
    fail_cross(o, {"model.num_heads", "model.num_kv_heads"},
               eq("model.num_heads", m.num_heads) + " must be a multiple of " +
                   eq("model.num_kv_heads", m.num_kv_heads));
  }
  if (m.hidden_size % m.num_heads != 0) {
    fail_cross(o, {"model.hidden_size", "model.num_heads"},
               eq("model.hidden_size", m.hidden_size) + " must be a multiple of " +
                   eq("model.num_heads", m.num_heads));
  }
  if (c.head_dim() % 2 != 0) {
    fail_cross(o, {"model.hidden_size", "model.num_heads"},
               "the head width model.hidden_size / model.num_heads = " +
                   std::to_string(c.head_dim()) + " must be even (RoPE rotates pairs)");
  }
  if (m.max_position_embeddings < c.train.seq_len) {
    fail_cross(o, {"model.max_position_embeddings", "train.seq_len"},
               eq("model.max_position_embeddings", m.max_position_embeddings) +
                   " must be >= " + eq("train.seq_len", c.train.seq_len));
  }

  const MoeConfig& e = c.moe;
  if (e.top_k > e.num_experts) {
    fail_cross(o, {"moe.top_k", "moe.num_experts"},
               eq("moe.top_k", e.top_k) + " must be <= " + eq("moe.num_experts", e.num_experts));
  }
  if (e.first_layer >= m.num_layers) {
    fail_cross(o, {"moe.first_layer", "model.num_layers"},
               eq("moe.first_layer", e.first_layer) + " must be < " +
                   eq("model.num_layers", m.num_layers));
  }

  const ParallelConfig& p = c.parallel;
  if (p.dp % p.ep != 0) {
    fail_cross(o, {"parallel.dp", "parallel.ep"},
               eq("parallel.dp", p.dp) + " must be a multiple of " + eq("parallel.ep", p.ep));
  }
  if (e.enabled && e.num_experts % p.ep != 0) {
    fail_cross(o, {"moe.num_experts", "parallel.ep"},
               eq("moe.num_experts", e.num_experts) + " must be a multiple of " +
                   eq("parallel.ep", p.ep) + " (experts are sharded evenly over ep ranks)");
  }
  if (p.pp > m.num_layers) {
    fail_cross(o, {"parallel.pp", "model.num_layers"},
               eq("parallel.pp", p.pp) + " must be <= " + eq("model.num_layers", m.num_layers) +
                   " (every pipeline stage needs a layer)");
  }
  if (!p.stage_layers.empty()) {
    try {
      parallel::parse_stage_layers(p.stage_layers, p.pp, m.num_layers, "parallel.stage_layers");
    } catch (const Error& error) {
      fail_cross(o, {"parallel.stage_layers", "parallel.pp", "model.num_layers"}, error.what());
    }
  }

  const TrainConfig& t = c.train;
  const int64_t per_round = static_cast<int64_t>(t.micro_batch_size) * p.dp;
  if (t.global_batch_size % per_round != 0) {
    fail_cross(o, {"train.global_batch_size", "train.micro_batch_size", "parallel.dp"},
               eq("train.global_batch_size", t.global_batch_size) +
                   " must be a multiple of train.micro_batch_size * parallel.dp = " +
                   std::to_string(t.micro_batch_size) + " * " + std::to_string(p.dp));
  }

  if (c.optim.min_lr > c.optim.lr) {
    fail_cross(o, {"optim.min_lr", "optim.lr"},
               "optim.min_lr = " + format_value(c.optim.min_lr, FieldType::kFloat) +
                   " must be <= optim.lr = " + format_value(c.optim.lr, FieldType::kFloat));
  }
}

}  // namespace config_detail

void validate_config(const Config& config) {
  config_detail::Origins origins;
  origins.source = "config";
  config_detail::validate(config, origins);
}

}  // namespace sy::trainer
