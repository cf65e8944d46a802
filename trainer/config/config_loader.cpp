// load_config / parse_config: YAML text and command-line overrides -> a validated Config.
//
// The file is walked node by node (yaml-cpp keeps duplicate mapping keys when iterating, though
// operator[] would silently pick one), so unknown and duplicate sections and keys are reported
// with their file:line. Overrides replace the file's value of a key; then every key is converted
// to its type, required keys are checked, defaults resolved and the result validated.
#include "trainer/config/config_loader.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>

#include "core/common/error.h"
#include "trainer/config/config_schema.h"

namespace sy::trainer {
namespace {

using config_detail::FieldSpec;
using config_detail::Origins;

// One key's raw value and where it came from.
struct RawEntry {
  YAML::Node value;
  std::string origin;
};

struct RawConfig {
  std::map<std::string, RawEntry, std::less<>> entries;  // full key -> value
  Origins origins;
};

[[noreturn]] void fail(const std::string& message) { SY_FAIL(ErrorKind::kUsage, message); }

std::string at(const std::string& source, const YAML::Mark& mark) {
  if (mark.is_null()) return source;
  return source + ":" + std::to_string(mark.line + 1);
}

std::string join(const std::vector<std::string_view>& words) {
  std::string out;
  for (std::string_view w : words) out += (out.empty() ? "" : ", ") + std::string(w);
  return out;
}

// "; did you mean 'x'?" for a key that is not in `section`, or the list of valid keys.
std::string unknown_key_hint(std::string_view section, std::string_view key) {
  const std::vector<std::string_view> keys = config_detail::section_keys(section);
  const std::string near = config_detail::suggest(key, keys);
  if (!near.empty()) return "; did you mean '" + near + "'?";
  for (std::string_view other : config_detail::section_names()) {
    if (config_detail::find_field(other, key) != nullptr) {
      return "; did you mean '" + std::string(other) + "." + std::string(key) + "'?";
    }
  }
  return "; valid keys of '" + std::string(section) + "': " + join(keys);
}

// "; did you mean 'x'?" for an unknown section name, or the list of valid sections.
std::string unknown_section_hint(std::string_view name) {
  const std::string near = config_detail::suggest(name, config_detail::section_names());
  if (!near.empty()) return "; did you mean '" + near + "'?";
  for (std::string_view section : config_detail::section_names()) {
    if (config_detail::find_field(section, name) != nullptr) {
      return "; did you mean '" + std::string(section) + "." + std::string(name) + "'?";
    }
  }
  return "; valid sections: " + join(config_detail::section_names());
}

// The single YAML document in `text` (Null when the text holds none).
YAML::Node load_document(const std::string& text, const std::string& source) {
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(text);
  } catch (const YAML::Exception& e) {
    const std::string loc = e.mark.is_null() ? source
                                             : source + ":" + std::to_string(e.mark.line + 1) +
                                                   ":" + std::to_string(e.mark.column + 1);
    fail(loc + ": YAML syntax error: " + e.msg);
  }
  if (docs.size() > 1) {
    fail(at(source, docs[1].Mark()) +
         ": expected a single YAML document, found several (remove the '---' separator)");
  }
  return docs.empty() ? YAML::Node() : docs[0];
}

void read_section(const std::string& source, const std::string& section, const YAML::Node& body,
                  RawConfig* raw) {
  std::map<std::string, std::string, std::less<>> seen;
  for (auto it = body.begin(); it != body.end(); ++it) {
    const YAML::Node key_node = it->first;
    const std::string loc = at(source, key_node.Mark());
    if (!key_node.IsScalar()) {
      fail(loc + ": " + section + ": keys must be plain names, got " +
           config_detail::describe_node(key_node));
    }
    const std::string& key = key_node.Scalar();
    const std::string full = section + "." + key;
    if (const auto prev = seen.find(key); prev != seen.end()) {
      fail(loc + ": " + full + ": duplicate key (first given at " + prev->second + ")");
    }
    seen.emplace(key, loc);
    if (config_detail::find_field(section, key) == nullptr) {
      fail(loc + ": " + full + ": unknown key" + unknown_key_hint(section, key));
    }
    raw->entries[full] = RawEntry{it->second, loc};
    raw->origins.key_at[full] = loc;
  }
}

void read_file_text(const std::string& text, const std::string& source, RawConfig* raw) {
  const YAML::Node root = load_document(text, source);
  if (root.IsNull()) return;
  if (!root.IsMap()) {
    fail(at(source, root.Mark()) + ": expected a mapping of sections (" +
         join(config_detail::section_names()) + ") at the top level, got " +
         config_detail::describe_node(root));
  }
  std::map<std::string, std::string, std::less<>> seen;
  for (auto it = root.begin(); it != root.end(); ++it) {
    const YAML::Node key_node = it->first;
    const std::string loc = at(source, key_node.Mark());
    if (!key_node.IsScalar()) {
      fail(loc + ": section names must be plain names, got " +
           config_detail::describe_node(key_node));
    }
    const std::string& name = key_node.Scalar();
    if (const auto prev = seen.find(name); prev != seen.end()) {
      fail(loc + ": " + name + ": duplicate section (first given at " + prev->second + ")");
    }
    seen.emplace(name, loc);
    const auto& sections = config_detail::section_names();
    if (std::find(sections.begin(), sections.end(), name) == sections.end()) {
      fail(loc + ": " + name + ": unknown section" + unknown_section_hint(name));
    }
    raw->origins.section_at[name] = loc;
    const YAML::Node body = it->second;
    if (body.IsNull()) continue;  // "log:" with nothing under it: all defaults
    if (!body.IsMap()) {
      fail(loc + ": " + name + ": expected a mapping of keys, got " +
           config_detail::describe_node(body));
    }
    read_section(source, name, body, raw);
  }
}

std::string trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return "";
  const auto last = s.find_last_not_of(" \t");
  return std::string(s.substr(first, last - first + 1));
}

void apply_override(const std::string& text, RawConfig* raw) {
  const std::string where = "override '" + text + "'";
  const auto eq = text.find('=');
  if (eq == std::string::npos) fail(where + ": expected section.key=value (no '=')");
  const std::string key = trim(std::string_view(text).substr(0, eq));
  const auto dot = key.find('.');
  if (dot == std::string::npos) {
    fail(where + ": '" + key + "': expected section.key=value" + unknown_section_hint(key));
  }
  const std::string section = key.substr(0, dot);
  const std::string name = key.substr(dot + 1);
  const auto& sections = config_detail::section_names();
  if (std::find(sections.begin(), sections.end(), section) == sections.end()) {
    fail(where + ": " + key + ": unknown section '" + section + "'" +
         unknown_section_hint(section));
  }
  if (config_detail::find_field(section, name) == nullptr) {
    fail(where + ": " + key + ": unknown key" + unknown_key_hint(section, name));
  }
  YAML::Node value;
  try {
    value = YAML::Load(text.substr(eq + 1));
  } catch (const YAML::Exception& e) {
    fail(where + ": " + key + ": the value is not valid YAML (" + e.msg + "); quote it");
  }
  raw->entries[key] = RawEntry{value, where};
  raw->origins.key_at[key] = where;
}

Config build(const RawConfig& raw) {
  Config config;
  for (const FieldSpec& field : config_detail::schema()) {
    const std::string full = field.full_key();
    const auto it = raw.entries.find(full);
    if (it == raw.entries.end()) {
      if (field.required) {
        const bool has_section = raw.origins.section_at.contains(field.section);
        fail(
            raw.origins.where(full) + ": " + full + ": required key is missing" +
            (has_section ? "" : " (the file has no '" + std::string(field.section) + "' section)"));
      }
      continue;
    }
    std::string error;
    const auto value = config_detail::convert(field, it->second.value, &error);
    if (!value) fail(it->second.origin + ": " + full + ": " + error);
    field.set(config, *value);
  }
  if (!raw.entries.contains("model.num_kv_heads")) {
    config.model.num_kv_heads = config.model.num_heads;  // default: no grouping (MHA)
  }
  return config;
}

}  // namespace

Config parse_config(const std::string& yaml_text, const std::string& source_name,
                    const std::vector<std::string>& overrides) {
  RawConfig raw;
  raw.origins.source = source_name;
  read_file_text(yaml_text, source_name, &raw);
  for (const std::string& o : overrides) apply_override(o, &raw);
  const Config config = build(raw);
  config_detail::validate(config, raw.origins);
  return config;
}

Config load_config(const std::string& path, const std::vector<std::string>& overrides) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(status)) fail("config file '" + path + "' does not exist");
  if (std::filesystem::is_directory(status)) {
    fail("config file '" + path + "' is a directory, not a YAML file");
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in || in.bad()) fail("cannot read config file '" + path + "'");
  return parse_config(text.str(), path, overrides);
}

std::string to_yaml(const Config& config) {
  std::string out;
  std::string_view section;
  for (const FieldSpec& field : config_detail::schema()) {
    if (field.section != section) {
      section = field.section;
      out += std::string(section) + ":\n";
    }
    out += "  " + std::string(field.key) + ": " +
           config_detail::format_value(field.get(config), field.type) + "\n";
  }
  return out;
}

}  // namespace sy::trainer
