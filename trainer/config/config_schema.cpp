// The configuration key table and its typed conversions: every key bound to its Config field,
// YAML scalar -> typed value conversion with strict type checks, range checks, value formatting
// and "did you mean" suggestions.
#include "trainer/config/config_schema.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <type_traits>

namespace sy::trainer::config_detail {
namespace {

// A field of section `sec` (a member of Config) at member `mem` of that section's struct.
template <typename S, typename T>
FieldSpec field(std::string_view section, std::string_view key, S Config::*sec, T S::*mem) {
  FieldSpec f;
  f.section = section;
  f.key = key;
  if constexpr (std::is_same_v<T, int>) {
    f.type = FieldType::kInt;
  } else if constexpr (std::is_same_v<T, int64_t>) {
    f.type = FieldType::kInt64;
  } else if constexpr (std::is_same_v<T, double>) {
    f.type = FieldType::kFloat;
  } else if constexpr (std::is_same_v<T, bool>) {
    f.type = FieldType::kBool;
  } else if constexpr (std::is_same_v<T, std::string>) {
    f.type = FieldType::kString;
  } else {
    static_assert(std::is_enum_v<T>, "unsupported config field type");
    f.type = FieldType::kEnum;
    f.choices.assign(EnumNames<T>::kNames.begin(), EnumNames<T>::kNames.end());
  }
  f.get = [sec, mem](const Config& c) -> Value {
    const T& v = (c.*sec).*mem;
    if constexpr (std::is_same_v<T, int> || std::is_same_v<T, int64_t>) {
      return static_cast<int64_t>(v);
    } else if constexpr (std::is_enum_v<T>) {
      return std::string(enum_name(v));
    } else {
      return v;
    }
  };
  f.set = [sec, mem](Config& c, const Value& v) {
    T& dst = (c.*sec).*mem;
    if constexpr (std::is_same_v<T, int> || std::is_same_v<T, int64_t>) {
      dst = static_cast<T>(std::get<int64_t>(v));
    } else if constexpr (std::is_enum_v<T>) {
      const auto& names = EnumNames<T>::kNames;
      const auto it = std::find(names.begin(), names.end(), std::get<std::string>(v));
      dst = static_cast<T>(it - names.begin());
    } else {
      dst = std::get<T>(v);
    }
  };
  return f;
}

constexpr double kIntMax = std::numeric_limits<int32_t>::max();

std::vector<FieldSpec> build_schema() {
  using C = Config;
  std::vector<FieldSpec> s;
  // run
  s.push_back(field("run", "dir", &C::run, &RunConfig::dir).not_empty());
  s.push_back(field("run", "seed", &C::run, &RunConfig::seed).at_least(0));
  // model
  using M = ModelConfig;
  s.push_back(field("model", "vocab_size", &C::model, &M::vocab_size).mark_required().at_least(2));
  s.push_back(
      field("model", "hidden_size", &C::model, &M::hidden_size).mark_required().at_least(1));
  s.push_back(field("model", "num_layers", &C::model, &M::num_layers).mark_required().at_least(1));
  s.push_back(field("model", "num_heads", &C::model, &M::num_heads).mark_required().at_least(1));
  s.push_back(field("model", "num_kv_heads", &C::model, &M::num_kv_heads).at_least(1));
  s.push_back(field("model", "intermediate_size", &C::model, &M::intermediate_size)
                  .mark_required()
                  .at_least(1));
  s.push_back(field("model", "rope_theta", &C::model, &M::rope_theta).above(0));
  s.push_back(field("model", "rms_norm_eps", &C::model, &M::rms_norm_eps).above(0));
  s.push_back(field("model", "max_position_embeddings", &C::model, &M::max_position_embeddings)
                  .at_least(1));
  s.push_back(field("model", "tie_word_embeddings", &C::model, &M::tie_word_embeddings));
  s.push_back(field("model", "init_std", &C::model, &M::init_std).above(0));
  s.push_back(field("model", "init_from", &C::model, &M::init_from));
  // moe
  using E = MoeConfig;
  s.push_back(field("moe", "enabled", &C::moe, &E::enabled));
  s.push_back(field("moe", "num_experts", &C::moe, &E::num_experts).at_least(1));
  s.push_back(field("moe", "top_k", &C::moe, &E::top_k).at_least(1));
  s.push_back(field("moe", "every", &C::moe, &E::every).at_least(1));
  s.push_back(field("moe", "first_layer", &C::moe, &E::first_layer).at_least(0));
  s.push_back(field("moe", "capacity_factor", &C::moe, &E::capacity_factor));
  s.push_back(field("moe", "drop_policy", &C::moe, &E::drop_policy));
  s.push_back(field("moe", "normalize_topk", &C::moe, &E::normalize_topk));
  s.push_back(field("moe", "router", &C::moe, &E::router));
  s.push_back(field("moe", "aux_loss_coef", &C::moe, &E::aux_loss_coef).at_least(0));
  s.push_back(field("moe", "z_loss_coef", &C::moe, &E::z_loss_coef).at_least(0));
  s.push_back(field("moe", "intermediate_size", &C::moe, &E::intermediate_size).at_least(0));
  // parallel
  using P = ParallelConfig;
  s.push_back(field("parallel", "dp", &C::parallel, &P::dp).at_least(1));
  s.push_back(field("parallel", "ep", &C::parallel, &P::ep).at_least(1));
  s.push_back(field("parallel", "pp", &C::parallel, &P::pp).at_least(1));
  s.push_back(field("parallel", "pipeline_schedule", &C::parallel, &P::pipeline_schedule));
  s.push_back(field("parallel", "stage_layers", &C::parallel, &P::stage_layers));
  s.push_back(field("parallel", "debug_comm", &C::parallel, &P::debug_comm));
  // train
  using T = TrainConfig;
  s.push_back(field("train", "steps", &C::train, &T::steps).mark_required().at_least(1));
  s.push_back(field("train", "global_batch_size", &C::train, &T::global_batch_size)
                  .mark_required()
                  .at_least(1));
  s.push_back(field("train", "micro_batch_size", &C::train, &T::micro_batch_size)
                  .mark_required()
                  .at_least(1));
  s.push_back(field("train", "seq_len", &C::train, &T::seq_len).mark_required().at_least(1));
  s.push_back(field("train", "eval_every", &C::train, &T::eval_every).at_least(0));
  s.push_back(field("train", "eval_windows", &C::train, &T::eval_windows).at_least(1));
  // optim
  using O = OptimConfig;
  s.push_back(field("optim", "lr", &C::optim, &O::lr).mark_required().above(0));
  s.push_back(field("optim", "min_lr", &C::optim, &O::min_lr).at_least(0));
  s.push_back(field("optim", "warmup_steps", &C::optim, &O::warmup_steps).at_least(0));
  s.push_back(field("optim", "schedule", &C::optim, &O::schedule));
  s.push_back(field("optim", "weight_decay", &C::optim, &O::weight_decay).at_least(0));
  s.push_back(field("optim", "beta1", &C::optim, &O::beta1).at_least(0).below(1));
  s.push_back(field("optim", "beta2", &C::optim, &O::beta2).at_least(0).below(1));
  s.push_back(field("optim", "eps", &C::optim, &O::eps).above(0));
  s.push_back(field("optim", "grad_clip", &C::optim, &O::grad_clip));
  // data
  s.push_back(field("data", "train", &C::data, &DataConfig::train).mark_required().not_empty());
  s.push_back(field("data", "val", &C::data, &DataConfig::val));
  s.push_back(field("data", "tokenizer", &C::data, &DataConfig::tokenizer));
  // checkpoint
  using K = CheckpointConfig;
  s.push_back(field("checkpoint", "every", &C::checkpoint, &K::every).at_least(0));
  s.push_back(field("checkpoint", "resume", &C::checkpoint, &K::resume).not_empty());
  s.push_back(field("checkpoint", "keep_last", &C::checkpoint, &K::keep_last).at_least(1));
  s.push_back(field("checkpoint", "keep_every", &C::checkpoint, &K::keep_every).at_least(0));
  // log
  s.push_back(field("log", "every", &C::log, &LogConfig::every).at_least(1));
  s.push_back(field("log", "progress", &C::log, &LogConfig::progress));
  return s;
}

// A plain (unquoted) scalar's text, or nullopt for anything else.
std::optional<std::string> plain_scalar(const YAML::Node& node) {
  if (!node.IsScalar() || node.Tag() == "!") return std::nullopt;
  return node.Scalar();
}

std::optional<int64_t> parse_int(std::string_view text) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty() || text.front() == '+') return std::nullopt;
  int64_t v = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return v;
}

bool all_int_chars(std::string_view text) {
  if (!text.empty() && (text.front() == '+' || text.front() == '-')) text.remove_prefix(1);
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char ch) {
    return std::isdigit(static_cast<unsigned char>(ch)) != 0;
  });
}

std::optional<double> parse_float(std::string_view text) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty() || text.front() == '+') return std::nullopt;
  double v = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || !std::isfinite(v)) {
    return std::nullopt;
  }
  return v;
}

std::string format_number(double v) {
  char buf[64];
  const auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  return ec == std::errc() ? std::string(buf, ptr) : std::to_string(v);
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      const bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                        std::tolower(static_cast<unsigned char>(b[j - 1]));
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (same ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

}  // namespace

// The value as written, for messages: "text" for scalars, a description otherwise.
std::string describe_node(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
      return "nothing (null)";
    case YAML::NodeType::Sequence:
      return "a sequence";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Scalar:
      return (node.Tag() == "!" ? "the quoted string \"" : "\"") + node.Scalar() + "\"";
    default:
      return "an undefined value";
  }
}

std::string FieldSpec::full_key() const { return std::string(section) + "." + std::string(key); }

const std::vector<FieldSpec>& schema() {
  static const std::vector<FieldSpec> table = build_schema();
  return table;
}

const std::vector<std::string_view>& section_names() {
  static const std::vector<std::string_view> names = [] {
    std::vector<std::string_view> out;
    for (const FieldSpec& f : schema()) {
      if (out.empty() || out.back() != f.section) out.push_back(f.section);
    }
    return out;
  }();
  return names;
}

std::vector<std::string_view> section_keys(std::string_view section) {
  std::vector<std::string_view> out;
  for (const FieldSpec& f : schema()) {
    if (f.section == section) out.push_back(f.key);
  }
  return out;
}

const FieldSpec* find_field(std::string_view section, std::string_view key) {
  for (const FieldSpec& f : schema()) {
    if (f.section == section && f.key == key) return &f;
  }
  return nullptr;
}

std::string suggest(std::string_view word, const std::vector<std::string_view>& candidates) {
  std::string_view best;
  std::size_t best_distance = 3;
  for (std::string_view c : candidates) {
    const std::size_t d = edit_distance(word, c);
    if (d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  if (!best.empty()) return std::string(best);
  if (word.size() < 2) return "";
  for (std::string_view c : candidates) {
    if (c.starts_with(word) || word.starts_with(c)) return std::string(c);
  }
  return "";
}

std::optional<Value> convert(const FieldSpec& field, const YAML::Node& node, std::string* error) {
  const std::optional<std::string> plain = plain_scalar(node);
  switch (field.type) {
    case FieldType::kInt:
    case FieldType::kInt64: {
      const std::optional<int64_t> v = plain ? parse_int(*plain) : std::nullopt;
      if (!v) {
        *error = plain && all_int_chars(*plain) ? "integer \"" + *plain + "\" is out of range"
                                                : "expected an integer, got " + describe_node(node);
        return std::nullopt;
      }
      if (field.type == FieldType::kInt && (*v > kIntMax || *v < -kIntMax - 1)) {
        *error = "integer " + std::to_string(*v) + " is out of range (at most " +
                 format_number(kIntMax) + ")";
        return std::nullopt;
      }
      return Value(*v);
    }
    case FieldType::kFloat: {
      const std::optional<double> v = plain ? parse_float(*plain) : std::nullopt;
      if (!v) {
        *error = "expected a finite number, got " + describe_node(node);
        return std::nullopt;
      }
      return Value(*v);
    }
    case FieldType::kBool: {
      if (plain) {
        if (*plain == "true" || *plain == "True" || *plain == "TRUE") return Value(true);
        if (*plain == "false" || *plain == "False" || *plain == "FALSE") return Value(false);
      }
      *error = "expected true or false, got " + describe_node(node);
      return std::nullopt;
    }
    case FieldType::kString: {
      if (node.IsNull()) return Value(std::string());
      if (!node.IsScalar()) {
        *error = "expected a string, got " + describe_node(node);
        return std::nullopt;
      }
      return Value(node.Scalar());
    }
    case FieldType::kEnum: {
      if (node.IsScalar()) {
        for (std::string_view c : field.choices) {
          if (node.Scalar() == c) return Value(std::string(c));
        }
      }
      std::string allowed;
      for (std::string_view c : field.choices) {
        allowed += (allowed.empty() ? "" : ", ") + std::string(c);
      }
      *error = "expected one of " + allowed + "; got " + describe_node(node);
      return std::nullopt;
    }
  }
  *error = "unsupported field type";
  return std::nullopt;
}

std::string check_range(const FieldSpec& field, const Value& value) {
  if (field.non_empty && std::holds_alternative<std::string>(value) &&
      std::get<std::string>(value).empty()) {
    return "must not be empty";
  }
  double v = 0;
  if (const auto* i = std::get_if<int64_t>(&value)) {
    v = static_cast<double>(*i);
  } else if (const auto* d = std::get_if<double>(&value)) {
    v = *d;
  } else {
    return "";
  }
  const bool low_ok = !field.lo || (field.lo_open ? v > *field.lo : v >= *field.lo);
  const bool high_ok = !field.hi || (field.hi_open ? v < *field.hi : v <= *field.hi);
  if (low_ok && high_ok) return "";
  const std::string got = ", got " + format_value(value, field.type);
  if (field.lo && field.hi) {
    return std::string("must be in ") + (field.lo_open ? "(" : "[") + format_number(*field.lo) +
           ", " + format_number(*field.hi) + (field.hi_open ? ")" : "]") + got;
  }
  if (field.lo)
    return std::string("must be ") + (field.lo_open ? "> " : ">= ") + format_number(*field.lo) +
           got;
  return std::string("must be ") + (field.hi_open ? "< " : "<= ") + format_number(*field.hi) + got;
}

std::string format_value(const Value& value, FieldType type) {
  if (const auto* i = std::get_if<int64_t>(&value)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&value)) return format_number(*d);
  if (const auto* b = std::get_if<bool>(&value)) return *b ? "true" : "false";
  const std::string& s = std::get<std::string>(value);
  if (type == FieldType::kEnum) return s;
  std::string out = "\"";
  for (const char ch : s) {
    const auto u = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (u < 0x20 || u == 0x7f) {
      char esc[8];
      std::snprintf(esc, sizeof(esc), "\\x%02x", u);
      out += esc;
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

std::string Origins::where(std::string_view full_key) const {
  if (const auto it = key_at.find(full_key); it != key_at.end()) return it->second;
  const std::string_view section = full_key.substr(0, full_key.find('.'));
  if (const auto it = section_at.find(section); it != section_at.end()) return it->second;
  return source;
}

bool Origins::is_set(std::string_view full_key) const { return key_at.contains(full_key); }

}  // namespace sy::trainer::config_detail
