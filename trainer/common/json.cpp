// JSON for the export files and the safetensors header: a strict recursive-descent parser and a
// Python-compatible writer.
#include "trainer/common/json.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <unordered_set>

#include "core/common/error.h"

namespace sy::trainer {

Json Json::boolean(bool v) {
  Json j;
  j.kind_ = Kind::kBool;
  j.bool_ = v;
  return j;
}

Json Json::integer(int64_t v) {
  Json j;
  j.kind_ = Kind::kInt;
  j.int_ = v;
  return j;
}

Json Json::number(double v) {
  Json j;
  j.kind_ = Kind::kDouble;
  j.double_ = v;
  return j;
}

Json Json::string(std::string v) {
  Json j;
  j.kind_ = Kind::kString;
  j.string_ = std::move(v);
  return j;
}

Json Json::array(std::vector<Json> items) {
  Json j;
  j.kind_ = Kind::kArray;
  j.items_ = std::move(items);
  return j;
}

Json Json::object() {
  Json j;
  j.kind_ = Kind::kObject;
  return j;
}

const Json* Json::find(const std::string& key) const {
  for (const auto& [k, v] : members_) {
    if (k == key) return &v;
  }
  return nullptr;
}

Json& Json::set(const std::string& key, Json value) {
  for (auto& [k, v] : members_) {
    if (k == key) {
      v = std::move(value);
      return *this;
    }
  }
  members_.emplace_back(key, std::move(value));
  return *this;
}

bool Json::erase(const std::string& key) {
  const auto it =
      std::find_if(members_.begin(), members_.end(), [&](const auto& m) { return m.first == key; });
  if (it == members_.end()) return false;
  members_.erase(it);
  return true;
}

const char* json_kind_name(Json::Kind kind) {
  switch (kind) {
    case Json::Kind::kNull:
      return "null";
    case Json::Kind::kBool:
      return "a boolean";
    case Json::Kind::kInt:
      return "an integer";
    case Json::Kind::kDouble:
      return "a number";
    case Json::Kind::kString:
      return "a string";
    case Json::Kind::kArray:
      return "an array";
    case Json::Kind::kObject:
      return "an object";
  }
  return "?";
}

// The parser (a friend of Json, so it fills the members directly). A syntax error throws a
// JsonSyntaxError, which try_parse_json catches.
class JsonTextParser {
 public:
  JsonTextParser(std::string_view text, const JsonParseOptions& options)
      : s_(text), options_(options) {}

  Json document() {
    Json v = value(0);
    skip_ws();
    if (pos_ != s_.size()) fail("unexpected text after the value");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    JsonSyntaxError error;
    error.offset = std::min(pos_, s_.size());
    for (size_t i = 0; i < error.offset; ++i) {
      if (s_[i] == '\n') {
        ++error.line;
        error.column = 1;
      } else {
        ++error.column;
      }
    }
    error.what = what;
    throw error;
  }
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void skip_ws() {
    while (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r') ++pos_;
  }
  bool consume(char c) {
    skip_ws();
    if (peek() != c) return false;
    ++pos_;
    return true;
  }
  void expect(char c) {
    if (!consume(c)) fail(std::string("expected '") + c + "'");
  }
  bool literal(const char* word) {
    const std::string_view w(word);
    if (s_.compare(pos_, w.size(), w) != 0) return false;
    pos_ += w.size();
    return true;
  }

  Json value(int depth) {
    if (depth > options_.max_depth) fail("nested too deeply");
    skip_ws();
    const char c = peek();
    if (c == '{') return object(depth);
    if (c == '[') {
      ++pos_;
      Json v = Json::array();
      for (bool first = true; !consume(']'); first = false) {
        if (!first) expect(',');
        v.items_.push_back(value(depth + 1));
      }
      return v;
    }
    if (c == '"') return Json::string(string());
    if (c == '-' || (c >= '0' && c <= '9')) return number();
    if (literal("true")) return Json::boolean(true);
    if (literal("false")) return Json::boolean(false);
    if (literal("null")) return Json();
    fail(pos_ < s_.size() ? "unexpected character" : "unexpected end of the text");
  }

  Json object(int depth) {
    ++pos_;
    Json v = Json::object();
    std::unordered_set<std::string> keys;  // hashed: a huge object does not take quadratic time
    for (bool first = true; !consume('}'); first = false) {
      if (!first) expect(',');
      skip_ws();
      if (peek() != '"') fail("expected a string key");
      const size_t key_at = pos_;
      std::string key = string();
      if (!keys.insert(key).second) {
        pos_ = key_at;
        fail("duplicate key \"" + key + "\"");
      }
      expect(':');
      v.members_.emplace_back(std::move(key), value(depth + 1));
    }
    return v;
  }

  Json number() {
    const size_t begin = pos_;
    if (peek() == '-') ++pos_;
    if (peek() < '0' || peek() > '9') fail("expected a digit");
    if (peek() == '0' && pos_ + 1 < s_.size() && s_[pos_ + 1] >= '0' && s_[pos_ + 1] <= '9') {
      fail("leading zero in a number");
    }
    auto digits = [&] {
      if (peek() < '0' || peek() > '9') fail("expected a digit");
      while (peek() >= '0' && peek() <= '9') ++pos_;
    };
    digits();
    if (options_.integers_only && (peek() == '.' || peek() == 'e' || peek() == 'E')) {
      fail("numbers must be integers");
    }
    bool integral = true;
    if (peek() == '.') {
      ++pos_;
      digits();
      integral = false;
    }
    if (peek() == 'e' || peek() == 'E') {
      ++pos_;
      if (peek() == '+' || peek() == '-') ++pos_;
      digits();
      integral = false;
    }
    const char* first = s_.data() + begin;
    const char* last = s_.data() + pos_;
    if (integral) {
      int64_t n = 0;
      const auto [end, ec] = std::from_chars(first, last, n);
      if (ec == std::errc() && end == last) return Json::integer(n);
      if (options_.integers_only) {
        pos_ = begin;
        fail("integer out of range");
      }
    }
    double d = 0;
    const auto [end, ec] = std::from_chars(first, last, d);
    if (ec != std::errc() || end != last || !std::isfinite(d)) {
      pos_ = begin;
      fail("number out of range");
    }
    return Json::number(d);
  }

  unsigned hex4() {
    unsigned u = 0;
    for (int i = 0; i < 4; ++i, ++pos_) {
      const char h = peek();
      const int d = h >= '0' && h <= '9'   ? h - '0'
                    : h >= 'a' && h <= 'f' ? h - 'a' + 10
                    : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                           : -1;
      if (d < 0) fail("bad \\u escape");
      u = u * 16 + static_cast<unsigned>(d);
    }
    return u;
  }

  static void append_utf8(std::string& out, unsigned cp) {
    const int extra = cp < 0x80 ? 0 : cp < 0x800 ? 1 : cp < 0x10000 ? 2 : 3;
    static constexpr unsigned kLead[] = {0x00, 0xC0, 0xE0, 0xF0};
    out += static_cast<char>(kLead[extra] | (cp >> (6 * extra)));
    for (int i = extra - 1; i >= 0; --i) out += static_cast<char>(0x80 | ((cp >> (6 * i)) & 0x3F));
  }

  std::string string() {
    static constexpr std::string_view kEscapes = "\"\"\\\\//b\bf\fn\nr\rt\t";  // (escape, char)
    expect('"');
    std::string out;
    while (true) {
      if (pos_ >= s_.size()) fail("unterminated string");
      const char c = s_[pos_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) fail("control character in a string");
      if (c != '\\') {
        out += c;
        continue;
      }
      const char e = peek();
      if (e == 'u') {
        ++pos_;
        unsigned cp = hex4();
        if (cp >= 0xDC00 && cp <= 0xDFFF) fail("unpaired low surrogate");
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          if (s_.compare(pos_, 2, "\\u") != 0) fail("unpaired high surrogate");
          pos_ += 2;
          const unsigned lo = hex4();
          if (lo < 0xDC00 || lo > 0xDFFF) fail("unpaired high surrogate");
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        }
        append_utf8(out, cp);
        continue;
      }
      size_t k = 0;
      while (k < kEscapes.size() && kEscapes[k] != e) k += 2;
      if (k >= kEscapes.size()) fail("bad escape");
      out += kEscapes[k + 1];
      ++pos_;
    }
  }

  std::string_view s_;
  const JsonParseOptions& options_;
  size_t pos_ = 0;
};

std::optional<Json> try_parse_json(std::string_view text, const JsonParseOptions& options,
                                   JsonSyntaxError* error) {
  try {
    return JsonTextParser(text, options).document();
  } catch (JsonSyntaxError& e) {
    if (error != nullptr) *error = std::move(e);
    return std::nullopt;
  }
}

Json parse_json(const std::string& text, const std::string& path, const JsonParseOptions& options) {
  JsonSyntaxError e;
  std::optional<Json> v = try_parse_json(text, options, &e);
  if (!v) {
    SY_FAIL(ErrorKind::kBadInput, path, ": bad JSON at line ", e.line, ", column ", e.column, ": ",
            e.what);
  }
  return std::move(*v);
}

size_t find_invalid_utf8(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    const auto b = static_cast<unsigned char>(text[i]);
    const size_t len = b < 0x80           ? 1
                       : (b >> 5) == 0x6  ? 2
                       : (b >> 4) == 0xE  ? 3
                       : (b >> 3) == 0x1E ? 4
                                          : 0;
    if (len == 0 || i + len > text.size()) return i;
    uint32_t cp = len == 1 ? b : b & (0x7F >> len);
    for (size_t j = 1; j < len; ++j) {
      const auto c = static_cast<unsigned char>(text[i + j]);
      if ((c & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (c & 0x3F);
    }
    static constexpr uint32_t kMinCodePoint[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinCodePoint[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += len;
  }
  return std::string::npos;
}

Json read_json_file(const std::string& path) {
  std::error_code ec;
  SY_REQUIRE(ErrorKind::kBadInput, std::filesystem::is_regular_file(path, ec), path,
             ": no such file");
  std::ifstream in(path, std::ios::binary);
  SY_REQUIRE(ErrorKind::kBadInput, in.good(), path, ": cannot open it");
  std::ostringstream text;
  text << in.rdbuf();
  SY_REQUIRE(ErrorKind::kBadInput, !in.bad(), path, ": cannot read it");
  return parse_json(text.str(), path);
}

std::string format_json_double(double v) {
  SY_CHECK(std::isfinite(v), "JSON cannot hold the non-finite number ", v);
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  SY_CHECK(ec == std::errc(), "cannot format ", v);
  std::string s(buf, end);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

std::string quote_json_string(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

namespace {

void write_value(const Json& v, int indent, std::string& out) {
  const std::string pad(static_cast<size_t>(indent + 2), ' ');
  switch (v.kind()) {
    case Json::Kind::kNull:
      out += "null";
      return;
    case Json::Kind::kBool:
      out += v.as_bool() ? "true" : "false";
      return;
    case Json::Kind::kInt:
      out += std::to_string(v.as_int());
      return;
    case Json::Kind::kDouble:
      out += format_json_double(v.as_double());
      return;
    case Json::Kind::kString:
      out += quote_json_string(v.as_string());
      return;
    case Json::Kind::kArray:
      if (v.items().empty()) {
        out += "[]";
        return;
      }
      out += "[\n";
      for (size_t i = 0; i < v.items().size(); ++i) {
        out += pad;
        write_value(v.items()[i], indent + 2, out);
        out += i + 1 < v.items().size() ? ",\n" : "\n";
      }
      out += std::string(static_cast<size_t>(indent), ' ') + "]";
      return;
    case Json::Kind::kObject: {
      if (v.members().empty()) {
        out += "{}";
        return;
      }
      std::vector<const std::pair<std::string, Json>*> sorted;
      for (const auto& m : v.members()) sorted.push_back(&m);
      std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->first < b->first; });
      out += "{\n";
      for (size_t i = 0; i < sorted.size(); ++i) {
        out += pad + quote_json_string(sorted[i]->first) + ": ";
        write_value(sorted[i]->second, indent + 2, out);
        out += i + 1 < sorted.size() ? ",\n" : "\n";
      }
      out += std::string(static_cast<size_t>(indent), ' ') + "}";
      return;
    }
  }
}

}  // namespace

std::string write_json(const Json& value) {
  std::string out;
  write_value(value, 0, out);
  return out + "\n";
}

void write_text_file_durably(const std::string& path, const std::string& text) {
  write_file_durably(path, {text});
}

void write_file_durably(const std::string& path, std::initializer_list<std::string_view> pieces) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  SY_REQUIRE(ErrorKind::kInternal, f != nullptr, "cannot create ", tmp);
  bool ok = true;
  for (const std::string_view piece : pieces) {
    ok = ok && (piece.empty() || std::fwrite(piece.data(), 1, piece.size(), f) == piece.size());
  }
  ok = std::fflush(f) == 0 && ok;
  ok = ::fsync(::fileno(f)) == 0 && ok;
  ok = std::fclose(f) == 0 && ok;
  std::error_code ec;
  if (ok) std::filesystem::rename(tmp, path, ec);
  if (!ok || ec) {
    std::filesystem::remove(tmp, ec);
    SY_FAIL(ErrorKind::kInternal, "cannot write ", path);
  }
}

}  // namespace sy::trainer
