// Safetensors files (https://github.com/huggingface/safetensors): a validating reader and an
// atomic writer, for checkpoints, reference fixtures and Hugging Face import/export.
//
// Layout: an 8-byte little-endian header length N, N bytes of JSON header, then the data region.
// The header maps each tensor name to {"dtype", "shape", "data_offsets": [begin, end)} (offsets
// relative to the data region) and may hold "__metadata__", a string-to-string map.
//
// The reader rejects, with ErrorKind::kBadInput and a message naming the file and the tensor or
// field, anything the reference implementation rejects: a header length beyond the file or over
// 100 MB, a header that is not UTF-8 JSON starting with '{', duplicate keys, unknown entry fields,
// a dtype other than F32, BF16, F16 and I32, a byte range that does not hold shape's elements, a
// range past the data region, overlapping ranges, gaps between ranges, or bytes after the last.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor/tensor.h"

namespace sy::trainer {

enum class SafetensorsDType { kF32, kBF16, kF16, kI32 };

const char* safetensors_dtype_name(SafetensorsDType dtype);  // "F32", "BF16", "F16", "I32"

// One tensor's header entry.
struct SafetensorsEntry {
  std::string name;
  SafetensorsDType dtype = SafetensorsDType::kF32;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;  // byte range within the data region
};

// A validated file: the header is parsed on open, tensor data is read on demand.
class SafetensorsFile {
 public:
  const std::string& path() const { return path_; }
  // Tensor names, sorted.
  std::vector<std::string> names() const;
  bool has(const std::string& name) const { return entries_.count(name) != 0; }
  // The header entry of a tensor; kBadInput naming the file when there is none.
  const SafetensorsEntry& entry(const std::string& name) const;
  // A CPU tensor with the stored values: float32 for F32, BF16 and F16 (converted exactly), int32
  // for I32. A rank-0 entry gives a one-element tensor of shape ().
  core::Tensor tensor(const std::string& name) const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  friend SafetensorsFile read_safetensors(const std::string& path);
  std::string path_;
  uint64_t data_start_ = 0;  // 8 + header length
  std::map<std::string, SafetensorsEntry> entries_;
  std::map<std::string, std::string> metadata_;
};

// Opens and validates a file; every violation is a kBadInput error naming the file.
SafetensorsFile read_safetensors(const std::string& path);

struct SafetensorsWriteOptions {
  // The dtype of float32 tensors on disk: F32, or BF16 (round to nearest even). Int32 tensors are
  // always I32.
  SafetensorsDType float_dtype = SafetensorsDType::kF32;
};

// Writes tensors (float32 or int32, any device) sorted by name, "__metadata__" first, the header
// padded with spaces to a multiple of 8 bytes. The file appears atomically: written to a
// temporary sibling, then renamed over path. Duplicate or reserved ("__metadata__") names are
// errors; an I/O failure is kInternal naming the path.
void write_safetensors(const std::string& path,
                       const std::vector<std::pair<std::string, core::Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata = {},
                       const SafetensorsWriteOptions& options = {});

// Half-precision conversions used by the reader and writer (exposed for tests).
float bf16_to_float(uint16_t bits);
float f16_to_float(uint16_t bits);
uint16_t float_to_bf16(float value);  // round to nearest even; NaN stays NaN

}  // namespace sy::trainer
