// Safetensors reading (the header parsed by the strict JSON parser, then the layout checks of the
// reference implementation) and atomic writing.
#include "trainer/checkpoint/safetensors.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string_view>

#include "core/common/error.h"
#include "trainer/common/json.h"

namespace sy::trainer {

static_assert(std::endian::native == std::endian::little, "safetensors data is little-endian");

namespace {

constexpr uint64_t kMaxHeaderBytes = 100u << 20;  // the reference implementation's limit
constexpr int kMaxJsonDepth = 16;

#define SY_BAD(path, ...) \
  SY_FAIL(ErrorKind::kBadInput, "safetensors file ", path, ": ", __VA_ARGS__)

// The header as JSON: RFC 8259 syntax without duplicate keys, integers only (fitting int64), and a
// depth limit so a hostile header cannot exhaust the stack. It must open with '{' (no leading
// whitespace, as in the reference implementation).
Json parse_header(const std::string& header, const std::string& path) {
  auto bad_json = [&](size_t at, const std::string& what) {
    SY_BAD(path, "bad JSON header at byte ", at, ": ", what);
  };
  if (header.empty() || header[0] != '{') bad_json(0, "the header must start with '{'");
  JsonParseOptions options;
  options.max_depth = kMaxJsonDepth;
  options.integers_only = true;
  JsonSyntaxError error;
  std::optional<Json> root = try_parse_json(header, options, &error);
  if (!root) bad_json(error.offset, error.what);
  return std::move(*root);
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
  if (v.kind() != Json::Kind::kObject) SY_BAD(path, where, "the entry must be an object");
  SafetensorsEntry e;
  e.name = name;
  const Json *dtype = nullptr, *shape = nullptr, *offsets = nullptr;
  for (const auto& [key, value] : v.members()) {
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
  if (!dtype || dtype->kind() != Json::Kind::kString)
    SY_BAD(path, where, "\"dtype\" must be a string");
  const std::string& d = dtype->as_string();
  const auto* known = std::find_if(std::begin(kDTypes), std::end(kDTypes),
                                   [&](const auto& t) { return d == t.first; });
  if (known == std::end(kDTypes)) {
    SY_BAD(path, where, "unsupported dtype \"", d, "\" (supported: F32, BF16, F16, I32)");
  }
  e.dtype = known->second;
  if (!shape || shape->kind() != Json::Kind::kArray)
    SY_BAD(path, where, "\"shape\" must be an array");
  if (shape->items().size() > static_cast<size_t>(core::Shape::kMaxDims)) {
    SY_BAD(path, where, "rank ", shape->items().size(), " exceeds ", core::Shape::kMaxDims);
  }
  uint64_t numel = 1;
  for (const Json& x : shape->items()) {
    if (x.kind() != Json::Kind::kInt || x.as_int() < 0) {
      SY_BAD(path, where, "\"shape\" must hold non-negative integers");
    }
    e.shape.push_back(x.as_int());
    if (__builtin_mul_overflow(numel, static_cast<uint64_t>(x.as_int()), &numel)) {
      SY_BAD(path, where, "shape overflows");
    }
  }
  if (!offsets || offsets->kind() != Json::Kind::kArray || offsets->items().size() != 2 ||
      offsets->items()[0].kind() != Json::Kind::kInt ||
      offsets->items()[1].kind() != Json::Kind::kInt || offsets->items()[0].as_int() < 0 ||
      offsets->items()[1].as_int() < offsets->items()[0].as_int()) {
    SY_BAD(path, where, "\"data_offsets\" must be [begin, end] with 0 <= begin <= end");
  }
  e.begin = static_cast<uint64_t>(offsets->items()[0].as_int());
  e.end = static_cast<uint64_t>(offsets->items()[1].as_int());
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
  if (const size_t at = find_invalid_utf8(header); at != std::string::npos) {
    SY_BAD(path, "header is not valid UTF-8 at byte ", at);
  }

  SafetensorsFile f;
  f.path_ = path;
  f.data_start_ = 8 + n;
  const uint64_t data_size = file_size - f.data_start_;
  const Json root = parse_header(header, path);
  for (const auto& [key, value] : root.members()) {
    if (key == "__metadata__") {
      if (value.kind() != Json::Kind::kObject) SY_BAD(path, "\"__metadata__\" must be an object");
      for (const auto& [mk, mv] : value.members()) {
        if (mv.kind() != Json::Kind::kString)
          SY_BAD(path, "\"__metadata__\" value \"", mk, "\" must be a string");
        f.metadata_[mk] = mv.as_string();
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
      header << sep << quote_json_string(k) << ':' << quote_json_string(v);
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
    header << sep << quote_json_string(name) << ":{\"dtype\":\"" << safetensors_dtype_name(dtype)
           << "\",\"shape\":[";
    for (int d = 0; d < t.ndim(); ++d) header << (d ? "," : "") << t.dim(d);
    header << "],\"data_offsets\":[" << begin << ',' << data.size() << "]}";
    sep = ",";
  }
  header << '}';
  std::string text = header.str();
  text.append((8 - text.size() % 8) % 8, ' ');

  // Temporary sibling, flushed to disk, then renamed over the destination.
  const uint64_t n = text.size();
  write_file_durably(path, {std::string_view(reinterpret_cast<const char*>(&n), 8), text,
                            std::string_view(data.data(), data.size())});
}

#undef SY_BAD

}  // namespace sy::trainer
