// A small JSON value with a strict parser and a deterministic writer, for the Hugging Face export
// files (config.json, generation_config.json, model.safetensors.index.json) and the safetensors
// header.
//
// The parser accepts RFC 8259 JSON (null, booleans, numbers, strings, arrays, objects), rejects
// duplicate keys, NaN/Infinity and trailing text, and limits nesting depth; every error is
// ErrorKind::kBadInput naming the file, line and column. Numbers without a fraction or exponent
// that fit int64 are integers; the others are doubles (JsonParseOptions can demand integers).
//
// The writer matches Python's json.dumps(value, indent=2, sort_keys=True) (what transformers
// writes) for the values used here: keys sorted, two-space indent, doubles in their shortest
// round-trip form with ".0" added to integral values, and a final newline.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sy::trainer {

class Json {
 public:
  enum class Kind { kNull, kBool, kInt, kDouble, kString, kArray, kObject };

  Json() = default;  // null
  static Json boolean(bool v);
  static Json integer(int64_t v);
  static Json number(double v);
  static Json string(std::string v);
  static Json array(std::vector<Json> items = {});
  static Json object();

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_number() const { return kind_ == Kind::kInt || kind_ == Kind::kDouble; }

  bool as_bool() const { return bool_; }
  int64_t as_int() const { return int_; }
  // The value of an integer or a double.
  double as_double() const { return kind_ == Kind::kInt ? static_cast<double>(int_) : double_; }
  const std::string& as_string() const { return string_; }
  const std::vector<Json>& items() const { return items_; }
  // Object members in insertion (file) order; keys are unique.
  const std::vector<std::pair<std::string, Json>>& members() const { return members_; }

  // The member named key of an object, or nullptr.
  const Json* find(const std::string& key) const;
  // Sets (adds or replaces) an object member; returns *this for chaining.
  Json& set(const std::string& key, Json value);
  // Removes an object member; returns whether there was one.
  bool erase(const std::string& key);
  // Appends to an array.
  void push_back(Json value) { items_.push_back(std::move(value)); }

 private:
  friend class JsonTextParser;
  Kind kind_ = Kind::kNull;
  bool bool_ = false;
  int64_t int_ = 0;
  double double_ = 0;
  std::string string_;
  std::vector<Json> items_;
  std::vector<std::pair<std::string, Json>> members_;
};

// The name of a kind for messages: "null", "a boolean", "an integer", "a number", ...
const char* json_kind_name(Json::Kind kind);

// What the parser accepts beyond the RFC 8259 syntax.
struct JsonParseOptions {
  // Arrays and objects may nest this deep (the document's own value is depth 0).
  int max_depth = 64;
  // Every number must be an integer that fits int64: a fraction or exponent is the error "numbers
  // must be integers", a larger integer "integer out of range".
  bool integers_only = false;
};

// Where and why a document is not valid JSON.
struct JsonSyntaxError {
  size_t offset = 0;         // byte offset into the text
  int line = 1, column = 1;  // 1-based, columns counted in bytes
  std::string what;          // e.g. "expected ','", "duplicate key \"k\""
};

// Parses a document; on a syntax error returns nullopt and fills *error (when not null). For
// callers that word their own errors; parse_json below throws the usual one.
std::optional<Json> try_parse_json(std::string_view text, const JsonParseOptions& options,
                                   JsonSyntaxError* error);

// Parses a document; errors are kBadInput "FILE: bad JSON at line L, column C: what".
Json parse_json(const std::string& text, const std::string& path,
                const JsonParseOptions& options = {});

// The byte offset of the first invalid UTF-8 sequence in `text` (overlong forms, surrogates and
// code points past U+10FFFF are invalid), or std::string::npos when it is all valid.
size_t find_invalid_utf8(std::string_view text);
// Reads and parses a file; a missing or unreadable file is kBadInput naming it.
Json read_json_file(const std::string& path);

// The indented text of a value (see the header comment), ending in a newline.
std::string write_json(const Json& value);
// `s` as a JSON string literal: quotes, backslashes and control characters escaped, other bytes
// as they are.
std::string quote_json_string(const std::string& s);
// A double in its shortest round-trip form, with ".0" when that would read as an integer.
std::string format_json_double(double v);

// Writes `text` to `path` through a temporary sibling, flushed and fsynced, then renamed; an I/O
// failure is kInternal naming the path.
void write_text_file_durably(const std::string& path, const std::string& text);
// The same for a file of several pieces, written one after another.
void write_file_durably(const std::string& path, std::initializer_list<std::string_view> pieces);

}  // namespace sy::trainer
