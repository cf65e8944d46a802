// Safetensors reading (a strict JSON parser for the header's subset, then the layout checks of
// the reference implementation) and atomic writing.
#include "trainer/checkpoint/safetensors.h"

#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string_view>

#include "core/common/error.h"

namespace sy::trainer {

static_assert(std::endian::native == std::endian::little, "safetensors data is little-endian");

namespace {

constexpr uint64_t kMaxHeaderBytes = 100u << 20;  // the reference implementation's limit
constexpr int kMaxJsonDepth = 16;

#define SY_BAD(path, ...) \
  SY_FAIL(ErrorKind::kBadInput, "safetensors file ", path, ": ", __VA_ARGS__)

// A JSON value of the header's subset: integers, strings, arrays and objects.
struct Json {
  enum Kind { kInt, kString, kArray, kObject } kind = kInt;
  int64_t integer = 0;
  std::string string;
  std::vector<Json> items;                            // kArray
  std::vector<std::pair<std::string, Json>> members;  // kObject, in file order, keys unique
};

// A strict recursive-descent parser: RFC 8259 syntax for those four kinds, no duplicate keys,
// integers only, and a depth limit so a hostile header cannot exhaust the stack.
class JsonParser {
 public:
  JsonParser(const std::string& text, const std::string& path) : s_(text), path_(path) {}

  Json parse_document() {
    if (peek() != '{') fail("the header must start with '{'");
    Json v = value(0);
    skip_ws();
    if (pos_ != s_.size()) fail("unexpected text after the header object");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    SY_BAD(path_, "bad JSON header at byte ", pos_, ": ", what);
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

  Json value(int depth) {
    if (depth > kMaxJsonDepth) fail("nested too deeply");
    Json v;
    skip_ws();
    const char c = peek();
    if (c == '{' || c == '[') {
      ++pos_;
      const char close = c == '{' ? '}' : ']';
      v.kind = c == '{' ? Json::kObject : Json::kArray;
      std::set<std::string> keys;
      for (bool first = true; !consume(close); first = false) {
        if (!first) expect(',');
        if (v.kind == Json::kArray) {
          v.items.push_back(value(depth + 1));
          continue;
        }
        skip_ws();
        std::string key = string();
        if (!keys.insert(key).second) fail("duplicate key \"" + key + "\"");
        expect(':');
        v.members.emplace_back(std::move(key), value(depth + 1));
      }
    } else if (c == '"') {
      v.kind = Json::kString;
      v.string = string();
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      v.integer = integer();
    } else {
      fail(pos_ < s_.size() ? "unexpected character" : "unexpected end of the header");
    }
    return v;
  }

  int64_t integer() {
    const bool negative = consume('-');
    if (peek() < '0' || peek() > '9') fail("expected a digit");
    if (peek() == '0' && pos_ + 1 < s_.size() && s_[pos_ + 1] >= '0' && s_[pos_ + 1] <= '9') {
      fail("leading zero in a number");
    }
    uint64_t n = 0;
    for (; peek() >= '0' && peek() <= '9'; ++pos_) {
      const auto digit = static_cast<uint64_t>(peek() - '0');
      if (n > (static_cast<uint64_t>(INT64_MAX) - digit) / 10) fail("integer out of range");
      n = n * 10 + digit;
    }
    if (peek() == '.' || peek() == 'e' || peek() == 'E') fail("numbers must be integers");
    return negative ? -static_cast<int64_t>(n) : static_cast<int64_t>(n);
  }

  unsigned hex4() {
    unsigned u = 0;
    for (int i = 0; i < 4; ++i, ++pos_) {
      const char h = static_cast<char>(std::tolower(static_cast<unsigned char>(peek())));
      const int d = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : -1;
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
    static constexpr std::string_view kEscapes =
        "\"\"\\\\//b\bf\fn\nr\rt\t";  // (escape, char) pairs
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

  const std::string& s_;
  const std::string& path_;
  size_t pos_ = 0;
};

// Byte offset of the first invalid UTF-8 sequence, or npos.
size_t invalid_utf8_at(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    const size_t len = b < 0x80           ? 1
                       : (b >> 5) == 0x6  ? 2
                       : (b >> 4) == 0xE  ? 3
                       : (b >> 3) == 0x1E ? 4
                                          : 0;
    if (len == 0 || i + len > s.size()) return i;
    uint32_t cp = len == 1 ? b : b & (0x7F >> len);
    for (size_t j = 1; j < len; ++j) {
      const auto c = static_cast<unsigned char>(s[i + j]);
      if ((c & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (c & 0x3F);
    }
    const uint32_t min_cp[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += len;
  }
  return std::string::npos;
}

constexpr std::pair<const char*, SafetensorsDType> kDTypes[] = {{"F32", SafetensorsDType::kF32},
                                                                {"BF16", SafetensorsDType::kBF16},
                                                                {"F16", SafetensorsDType::kF16},
                                                                {"I32", SafetensorsDType::kI32}};

size_t dtype_bytes(SafetensorsDType t) {
  return t == SafetensorsDType::kBF16 || t == SafetensorsDType::kF16 ? 2 : 4;
}

// One tensor's header entry: exactly dtype, shape and data_offsets, consistent with each other.
SafetensorsEntry parse_entry(const std::string& path, const std::string& name, const Json& v) {
  const std::string where = "tensor \"" + name + "\": ";
  if (v.kind != Json::kObject) SY_BAD(path, where, "the entry must be an object");
  SafetensorsEntry e;
  e.name = name;
  const Json *dtype = nullptr, *shape = nullptr, *offsets = nullptr;
  for (const auto& [key, value] : v.members) {
    if (key == "dtype") {
      dtype = &value;
    } else if (key == "shape") {
      shape = &value;
    } else if (key == "data_offsets") {
      offsets = &value;
    } else {
      SY_BAD(path, where, "unknown field \"", key, "\"");
    }
  }
  if (!dtype || dtype->kind != Json::kString) SY_BAD(path, where, "\"dtype\" must be a string");
  const std::string& d = dtype->string;
  const auto* known = std::find_if(std::begin(kDTypes), std::end(kDTypes),
                                   [&](const auto& t) { return d == t.first; });
  if (known == std::end(kDTypes)) {
    SY_BAD(path, where, "unsupported dtype \"", d, "\" (supported: F32, BF16, F16, I32)");
  }
  e.dtype = known->second;
  if (!shape || shape->kind != Json::kArray) SY_BAD(path, where, "\"shape\" must be an array");
  if (shape->items.size() > static_cast<size_t>(core::Shape::kMaxDims)) {
    SY_BAD(path, where, "rank ", shape->items.size(), " exceeds ", core::Shape::kMaxDims);
  }
  uint64_t numel = 1;
  for (const Json& x : shape->items) {
    if (x.kind != Json::kInt || x.integer < 0) {
      SY_BAD(path, where, "\"shape\" must hold non-negative integers");
    }
    e.shape.push_back(x.integer);
    if (__builtin_mul_overflow(numel, static_cast<uint64_t>(x.integer), &numel)) {
      SY_BAD(path, where, "shape overflows");
    }
  }
  if (!offsets || offsets->kind != Json::kArray || offsets->items.size() != 2 ||
      offsets->items[0].kind != Json::kInt || offsets->items[1].kind != Json::kInt ||
      offsets->items[0].integer < 0 || offsets->items[1].integer < offsets->items[0].integer) {
    SY_BAD(path, where, "\"data_offsets\" must be [begin, end] with 0 <= begin <= end");
  }
  e.begin = static_cast<uint64_t>(offsets->items[0].integer);
  e.end = static_cast<uint64_t>(offsets->items[1].integer);
  uint64_t bytes = 0;
  if (__builtin_mul_overflow(numel, dtype_bytes(e.dtype), &bytes) || bytes != e.end - e.begin) {
    SY_BAD(path, where, "shape ", core::Shape(e.shape).to_string(), " of ", d, " needs ", bytes,
           " bytes but data_offsets [", e.begin, ", ", e.end, "] hold ", e.end - e.begin);
  }
  return e;
}

}  // namespace

const char* safetensors_dtype_name(SafetensorsDType dtype) {
  for (const auto& [name, t] : kDTypes) {
    if (t == dtype) return name;
  }
  return "?";
}

float bf16_to_float(uint16_t bits) {
  return std::bit_cast<float>(static_cast<uint32_t>(bits) << 16);
}

float f16_to_float(uint16_t bits) {
  const uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
  const uint32_t exp = (bits >> 10) & 0x1Fu, mant = bits & 0x3FFu;
  if (exp == 0) {  // zero or subnormal: mant * 2^-24, exact in float32
    const float v = std::ldexp(static_cast<float>(mant), -24);
    return sign ? -v : v;
  }
  if (exp == 31) return std::bit_cast<float>(sign | 0x7F800000u | (mant << 13));  // inf, NaN
  return std::bit_cast<float>(sign | ((exp + 112) << 23) | (mant << 13));
}

uint16_t float_to_bf16(float value) {
  const uint32_t bits = std::bit_cast<uint32_t>(value);
  if (std::isnan(value)) return static_cast<uint16_t>((bits >> 16) | 0x0040u);  // quiet NaN
  return static_cast<uint16_t>((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
}

std::vector<std::string> SafetensorsFile::names() const {
  std::vector<std::string> out;
  for (const auto& [name, e] : entries_) out.push_back(name);
  return out;
}

const SafetensorsEntry& SafetensorsFile::entry(const std::string& name) const {
  const auto it = entries_.find(name);
  if (it == entries_.end()) SY_BAD(path_, "no tensor named \"", name, "\"");
  return it->second;
}

core::Tensor SafetensorsFile::tensor(const std::string& name) const {
  const SafetensorsEntry& e = entry(name);
  const size_t bytes = static_cast<size_t>(e.end - e.begin);
  std::vector<char> raw(bytes);
  if (bytes > 0) {
    std::ifstream in(path_, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(data_start_ + e.begin));
    if (!in.read(raw.data(), static_cast<std::streamsize>(bytes))) {
      SY_BAD(path_, "tensor \"", name, "\": cannot read its ", bytes, " bytes (file truncated?)");
    }
  }
  const core::Shape shape(e.shape);
  const bool is_int = e.dtype == SafetensorsDType::kI32;
  core::Tensor t = core::Tensor::empty(shape, is_int ? core::DType::kI32 : core::DType::kF32);
  if (bytes == 0) return t;
  if (e.dtype == SafetensorsDType::kF32 || is_int) {
    std::memcpy(t.raw(), raw.data(), bytes);
    return t;
  }
  float* out = t.f32();
  for (int64_t i = 0, n = shape.numel(); i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, raw.data() + 2 * i, 2);
    out[i] = e.dtype == SafetensorsDType::kBF16 ? bf16_to_float(h) : f16_to_float(h);
  }
  return t;
}

SafetensorsFile read_safetensors(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) SY_BAD(path, "no such file");
  std::ifstream in(path, std::ios::binary);
  if (!in) SY_BAD(path, "cannot open it");
  in.seekg(0, std::ios::end);
  const auto file_size = static_cast<uint64_t>(in.tellg());
  in.seekg(0);
  if (file_size < 8) SY_BAD(path, "only ", file_size, " bytes, too short for the header length");
  uint64_t n = 0;
  in.read(reinterpret_cast<char*>(&n), 8);
  if (n > kMaxHeaderBytes) SY_BAD(path, "header length ", n, " exceeds the 100 MB limit");
  if (n > file_size - 8) {
    SY_BAD(path, "header length ", n, " runs past the end of the ", file_size, "-byte file");
  }
  std::string header(static_cast<size_t>(n), '\0');
  if (!in.read(header.data(), static_cast<std::streamsize>(n)))
    SY_BAD(path, "cannot read the header");
  if (const size_t at = invalid_utf8_at(header); at != std::string::npos) {
    SY_BAD(path, "header is not valid UTF-8 at byte ", at);
  }

  SafetensorsFile f;
  f.path_ = path;
  f.data_start_ = 8 + n;
  const uint64_t data_size = file_size - f.data_start_;
  const Json root = JsonParser(header, path).parse_document();
  for (const auto& [key, value] : root.members) {
    if (key == "__metadata__") {
      if (value.kind != Json::kObject) SY_BAD(path, "\"__metadata__\" must be an object");
      for (const auto& [mk, mv] : value.members) {
        if (mv.kind != Json::kString)
          SY_BAD(path, "\"__metadata__\" value \"", mk, "\" must be a string");
        f.metadata_[mk] = mv.string;
      }
      continue;
    }
    SafetensorsEntry e = parse_entry(path, key, value);
    if (e.end > data_size) {
      SY_BAD(path, "tensor \"", key, "\": data_offsets [", e.begin, ", ", e.end, "] run past the ",
             data_size, "-byte data region (file truncated?)");
    }
    f.entries_.emplace(key, std::move(e));  // keys are unique: the parser rejects duplicates
  }

  // The ranges must tile the data region exactly: sorted by offset, each begins where the previous
  // ended (no overlap, no gap), and the last ends at the end of the file.
  std::vector<const SafetensorsEntry*> order;
  for (const auto& [name, e] : f.entries_) order.push_back(&e);
  std::sort(order.begin(), order.end(), [](const SafetensorsEntry* a, const SafetensorsEntry* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  uint64_t at = 0;
  const SafetensorsEntry* prev = nullptr;
  for (const SafetensorsEntry* e : order) {
    if (e->begin < at) {
      SY_BAD(path, "tensor \"", e->name, "\": data_offsets [", e->begin, ", ", e->end,
             "] overlap tensor \"", prev->name, "\" [", prev->begin, ", ", prev->end, "]");
    }
    if (e->begin > at) {
      SY_BAD(path, "tensor \"", e->name, "\": a gap of ", e->begin - at, " unused bytes before it");
    }
    at = e->end;
    prev = e;
  }
  if (at != data_size) {
    SY_BAD(path, data_size - at, " bytes after the last tensor's data (the data region is ",
           data_size, " bytes, the tensors cover ", at, ")");
  }
  return f;
}

namespace {

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
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

}  // namespace

void write_safetensors(const std::string& path,
                       const std::vector<std::pair<std::string, core::Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata,
                       const SafetensorsWriteOptions& options) {
  SY_CHECK(options.float_dtype == SafetensorsDType::kF32 ||
               options.float_dtype == SafetensorsDType::kBF16,
           "safetensors: float tensors are written as F32 or BF16");
  std::vector<const std::pair<std::string, core::Tensor>*> order;
  for (const auto& t : tensors) order.push_back(&t);
  std::sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->first < b->first; });

  // Header and data, in name order.
  std::ostringstream header;
  header << '{';
  const char* sep = "";
  if (!metadata.empty()) {
    header << "\"__metadata__\":{";
    for (const auto& [k, v] : metadata) {
      header << sep << json_string(k) << ':' << json_string(v);
      sep = ",";
    }
    header << '}';
  }
  std::vector<char> data;
  for (size_t i = 0; i < order.size(); ++i) {
    const auto& [name, t] = *order[i];
    SY_CHECK(name != "__metadata__", "safetensors: \"__metadata__\" is not a tensor name");
    SY_CHECK(i == 0 || order[i - 1]->first != name, "safetensors: duplicate tensor name ", name);
    SY_CHECK(t.defined(), "safetensors: tensor ", name, " is undefined");
    const bool is_int = t.dtype() == core::DType::kI32;
    const SafetensorsDType dtype = is_int ? SafetensorsDType::kI32 : options.float_dtype;
    const size_t begin = data.size();
    if (is_int || dtype == SafetensorsDType::kF32) {
      const std::vector<int32_t> iv = is_int ? t.to_int_vector() : std::vector<int32_t>();
      const std::vector<float> fv = is_int ? std::vector<float>() : t.to_vector();
      const size_t bytes = 4 * static_cast<size_t>(t.numel());
      data.resize(begin + bytes);
      if (bytes > 0)
        std::memcpy(data.data() + begin, is_int ? static_cast<const void*>(iv.data()) : fv.data(),
                    bytes);
    } else {
      const std::vector<float> v = t.to_vector();
      data.resize(begin + v.size() * 2);
      for (size_t j = 0; j < v.size(); ++j) {
        const uint16_t h = float_to_bf16(v[j]);
        std::memcpy(data.data() + begin + 2 * j, &h, 2);
      }
    }
    header << sep << json_string(name) << ":{\"dtype\":\"" << safetensors_dtype_name(dtype)
           << "\",\"shape\":[";
    for (int d = 0; d < t.ndim(); ++d) header << (d ? "," : "") << t.dim(d);
    header << "],\"data_offsets\":[" << begin << ',' << data.size() << "]}";
    sep = ",";
  }
  header << '}';
  std::string text = header.str();
  text.append((8 - text.size() % 8) % 8, ' ');

  // Temporary sibling, flushed to disk, then renamed over the destination.
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) SY_FAIL(ErrorKind::kInternal, "safetensors: cannot create ", tmp);
  const uint64_t n = text.size();
  bool ok = std::fwrite(&n, 8, 1, f) == 1 && std::fwrite(text.data(), 1, n, f) == n &&
            (data.empty() || std::fwrite(data.data(), 1, data.size(), f) == data.size());
  ok = std::fflush(f) == 0 && ok;
  ok = ::fsync(::fileno(f)) == 0 && ok;
  ok = std::fclose(f) == 0 && ok;
  std::error_code ec;
  if (ok) std::filesystem::rename(tmp, path, ec);
  if (!ok || ec) {
    std::filesystem::remove(tmp, ec);
    SY_FAIL(ErrorKind::kInternal, "safetensors: cannot write ", path);
  }
}

#undef SY_BAD

}  // namespace sy::trainer
