// Element types. Model math is float32; int32 tensors carry token ids and expert indices.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sy::core {

enum class DType : uint8_t { kF32, kI32 };

inline size_t dtype_size(DType) { return 4; }  // both element types are 4 bytes wide

inline const char* dtype_name(DType t) { return t == DType::kF32 ? "f32" : "i32"; }

template <typename T>
constexpr DType dtype_of();
template <>
constexpr DType dtype_of<float>() { return DType::kF32; }
template <>
constexpr DType dtype_of<int32_t>() { return DType::kI32; }

}  // namespace sy::core
