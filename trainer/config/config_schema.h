// Internal to the config loader: the table of every configuration key (section, name, type,
// required or not, simple range) bound to its field in Config, the conversion of YAML scalars to
// typed values, "did you mean" suggestions, and where each key's value came from.
//
// The loader, the validator and to_yaml all walk this one table, so a key added here is parsed,
// range-checked, written and listed in suggestions at once (and must be added to docs/CONFIG.md).
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "trainer/config/config.h"

namespace sy::trainer::config_detail {

enum class FieldType { kInt, kInt64, kFloat, kBool, kString, kEnum };

// A typed value: integers as int64_t, floats as double, enums by their YAML name.
using Value = std::variant<int64_t, double, bool, std::string>;

struct FieldSpec {
  std::string_view section;
  std::string_view key;
  FieldType type = FieldType::kInt;
  bool required = false;
  bool non_empty = false;                 // strings: "" is rejected
  std::vector<std::string_view> choices;  // enums: the allowed names, in value order
  std::optional<double> lo, hi;           // numeric bounds ...
  bool lo_open = false, hi_open = false;  // ... exclusive when open
  std::function<Value(const Config&)> get;
  std::function<void(Config&, const Value&)> set;

  std::string full_key() const;

  // Builders used by the table.
  FieldSpec& mark_required() {
    required = true;
    return *this;
  }
  FieldSpec& at_least(double v) {
    lo = v;
    return *this;
  }
  FieldSpec& above(double v) {
    lo = v;
    lo_open = true;
    return *this;
  }
  FieldSpec& at_most(double v) {
    hi = v;
    return *this;
  }
  FieldSpec& below(double v) {
    hi = v;
    hi_open = true;
    return *this;
  }
  FieldSpec& not_empty() {
    non_empty = true;
    return *this;
  }
};

// Every key, section by section, in the order to_yaml writes them.
const std::vector<FieldSpec>& schema();
// The section names, in order.
const std::vector<std::string_view>& section_names();
// The keys of one section (empty for an unknown section).
std::vector<std::string_view> section_keys(std::string_view section);
// The spec of section.key, or nullptr.
const FieldSpec* find_field(std::string_view section, std::string_view key);

// The closest candidate to `word` (edit distance <= 2, or a prefix either way), or "".
std::string suggest(std::string_view word, const std::vector<std::string_view>& candidates);

// Converts a YAML value to the field's type. On failure returns nullopt and sets *error to the
// reason (e.g. `expected an integer, got "eight"`), without location or key.
std::optional<Value> convert(const FieldSpec& field, const YAML::Node& node, std::string* error);

// A YAML value as written, for messages: "text" for plain scalars, `the quoted string "text"`,
// "a sequence", "a mapping" or "nothing (null)".
std::string describe_node(const YAML::Node& node);

// The range check of one value against the field's bounds and emptiness rule: "" when fine, else
// the reason (e.g. "must be >= 1, got 0").
std::string check_range(const FieldSpec& field, const Value& value);

// A value as YAML text: strings double-quoted and escaped, floats in the shortest form that
// round-trips.
std::string format_value(const Value& value, FieldType type);

// Where each key's value came from: "file:line", "override 'k=v'", or nothing (the default).
struct Origins {
  std::string source;                                      // the file name (or "config" for code)
  std::map<std::string, std::string, std::less<>> key_at;  // full key -> location
  std::map<std::string, std::string, std::less<>> section_at;  // section -> "file:line"

  // The location of a key's value: its own, else its section's, else the source name.
  std::string where(std::string_view full_key) const;
  // Whether the key was given explicitly (in the file or an override).
  bool is_set(std::string_view full_key) const;
};

// Range and cross-field validation; errors name the key(s) and their locations in `origins`.
void validate(const Config& config, const Origins& origins);

}  // namespace sy::trainer::config_detail
