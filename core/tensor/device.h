// Where a tensor's storage lives.
#pragma once

#include <string>

namespace sy::core {

struct Device {
  enum class Kind : unsigned char { kCPU, kCUDA };
  Kind kind = Kind::kCPU;
  int index = 0;  // CUDA ordinal; 0 for the CPU

  static Device cpu() { return {}; }
  static Device cuda(int ordinal = 0) { return {Kind::kCUDA, ordinal}; }
  bool is_cpu() const { return kind == Kind::kCPU; }
  bool is_cuda() const { return kind == Kind::kCUDA; }
  bool operator==(const Device& o) const { return kind == o.kind && index == o.index; }
  bool operator!=(const Device& o) const { return !(*this == o); }
  std::string to_string() const {
    return is_cpu() ? std::string("cpu") : "cuda:" + std::to_string(index);
  }
};

}  // namespace sy::core
