// Tensor: a handle to contiguous row-major data on a device, plus its autograd state.
//
// Copies of a Tensor share one TensorImpl (like a shared_ptr). Every tensor is contiguous; views
// (reshape, row slices, detach) share storage with an element offset. Autograd: a tensor that
// requires grad is either a leaf (a parameter or input; its gradient accumulates into grad()) or
// the output of an op (grad_fn() is the node that propagates its gradient).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor/device.h"
#include "core/tensor/dtype.h"
#include "core/tensor/shape.h"
#include "core/tensor/storage.h"

namespace sy::core {

class Node;
struct TensorImpl;

class Tensor {
 public:
  Tensor() = default;  // an undefined tensor: no data, defined() is false

  static Tensor empty(const Shape& shape, DType dtype = DType::kF32, Device device = Device::cpu());
  static Tensor zeros(const Shape& shape, DType dtype = DType::kF32, Device device = Device::cpu());
  static Tensor full(const Shape& shape, float value, Device device = Device::cpu());
  static Tensor from_vector(const std::vector<float>& values, const Shape& shape);
  static Tensor from_ints(const std::vector<int32_t>& values, const Shape& shape);
  static Tensor scalar(float value);

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const;
  int ndim() const { return shape().ndim(); }
  int64_t dim(int i) const { return shape().dim(i); }
  int64_t numel() const { return shape().numel(); }
  DType dtype() const;
  Device device() const;
  bool is_cpu() const { return device().is_cpu(); }

  // Typed pointer to this tensor's first element; checks the element type.
  template <typename T>
  T* data() const;
  float* f32() const { return data<float>(); }
  int32_t* i32() const { return data<int32_t>(); }
  void* raw() const;

  // Host copies of the values (from any device).
  std::vector<float> to_vector() const;
  std::vector<int32_t> to_int_vector() const;
  float item() const;  // the value of a one-element float tensor

  Tensor to(Device device) const;  // a detached copy on another device
  Tensor clone() const;            // a detached deep copy
  Tensor detach() const;           // shares data, carries no autograd state
  // A view of numel(shape) elements starting element_offset elements into this tensor's data.
  // Carries no autograd state; differentiable views are ops (core/ops/view_ops.h).
  Tensor alias(const Shape& shape, int64_t element_offset = 0) const;

  // In-place writes (no autograd): use them on parameters, gradients and fresh buffers only.
  void fill_(float value);
  void zero_();
  void copy_(const Tensor& src);  // same numel and dtype; devices may differ

  // ---- autograd ----
  bool requires_grad() const;
  // Marks a leaf tensor as a trainable input; returns *this for chaining.
  Tensor& set_requires_grad(bool requires_grad);
  bool is_leaf() const;
  const Tensor& grad() const;  // undefined until a backward pass reaches this leaf
  void set_grad(const Tensor& grad);
  void clear_grad();
  const std::shared_ptr<Node>& grad_fn() const;
  // Leaves only. run_backward calls `hook` (no arguments, grad mode off) once per backward pass
  // that reaches this leaf, as soon as the leaf's gradient for that pass is final: after the last
  // edge into it was processed, whether or not that edge carried a gradient (so grad() may still
  // be undefined then). Leaves the pass does not reach see no call. One hook per tensor: setting
  // replaces it, an empty function removes it. See core/autograd/engine.h.
  void set_grad_ready_hook(std::function<void()> hook);
  bool has_grad_ready_hook() const;
  // Runs reverse mode from this tensor. Without an argument the tensor must have one element and
  // its gradient is 1.
  void backward() const;
  void backward(const Tensor& grad_output) const;

  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool shares_storage_with(const Tensor& other) const;
  std::string describe() const;  // "f32(2,3) cpu"

  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

 private:
  std::shared_ptr<TensorImpl> impl_;
};

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  int64_t offset = 0;  // in elements
  Shape shape;
  DType dtype = DType::kF32;
  // autograd
  bool requires_grad = false;
  Tensor grad;
  std::shared_ptr<Node> grad_fn;
  std::function<void()> grad_ready_hook;  // leaves only; empty (the default) costs nothing
};

// Out of line so this header does not pull in the error machinery.
[[noreturn]] void tensor_dtype_mismatch(const Tensor& t, DType want);

template <typename T>
T* Tensor::data() const {
  static_assert(sizeof(T) == 4, "tensor elements are 4 bytes wide");
  const DType want = dtype_of<T>();
  if (impl_ == nullptr || impl_->dtype != want) {
    tensor_dtype_mismatch(*this, want);
  }
  return static_cast<T*>(impl_->storage->data()) + impl_->offset;
}

// Host-side element count check shared by ops: "name: expected shape X, got Y".
void check_shape(const Tensor& t, const Shape& expected, const char* what);

}  // namespace sy::core
