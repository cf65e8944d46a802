// Small helpers shared by op implementations (not part of the public op API).
#pragma once

#include <initializer_list>

#include "core/common/error.h"
#include "core/tensor/tensor.h"

namespace sy::core::detail {

// Every op checks its inputs are defined, float32 (unless noted) and on one device.
inline void require_f32(const char* op, std::initializer_list<const Tensor*> inputs) {
  for (const Tensor* t : inputs) {
    SY_CHECK(t->defined(), op, ": undefined input tensor");
    SY_CHECK(t->dtype() == DType::kF32, op, ": expected a float32 tensor, got ", t->describe());
  }
}

inline void require_same_device(const char* op, std::initializer_list<const Tensor*> inputs) {
  const Tensor* first = *inputs.begin();
  for (const Tensor* t : inputs) {
    SY_CHECK(t->device() == first->device(), op, ": tensors on different devices: ",
             first->describe(), " and ", t->describe());
  }
}

// For ops that have no CUDA kernel yet: a clear error instead of a wrong pointer.
inline void require_cpu(const char* op, std::initializer_list<const Tensor*> inputs) {
  for (const Tensor* t : inputs) {
    SY_CHECK(t->is_cpu(), op, " has no CUDA kernel yet (input ", t->describe(), ")");
  }
}

}  // namespace sy::core::detail
