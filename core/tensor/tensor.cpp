#include "core/tensor/tensor.h"

#include <cstring>
#include <functional>
#include <utility>

#include "core/autograd/engine.h"
#include "core/backends/device_memory.h"
#include "core/common/error.h"

namespace sy::core {

namespace {

std::shared_ptr<TensorImpl> make_impl(const Shape& shape, DType dtype, Device device) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage =
      std::make_shared<Storage>(static_cast<size_t>(shape.numel()) * dtype_size(dtype), device);
  impl->shape = shape;
  impl->dtype = dtype;
  return impl;
}

const TensorImpl& checked(const std::shared_ptr<TensorImpl>& impl) {
  SY_CHECK(impl != nullptr, "use of an undefined tensor");
  return *impl;
}

}  // namespace

void tensor_dtype_mismatch(const Tensor& t, DType want) {
  SY_CHECK(t.defined(), "use of an undefined tensor");
  SY_FAIL(ErrorKind::kInternal, "tensor ", t.describe(), " accessed as ", dtype_name(want));
}

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  return Tensor(make_impl(shape, dtype, device));
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  t.zero_();
  return t;
}

Tensor Tensor::full(const Shape& shape, float value, Device device) {
  Tensor t = empty(shape, DType::kF32, Device::cpu());
  t.fill_(value);
  return device.is_cpu() ? t : t.to(device);
}

Tensor Tensor::from_vector(const std::vector<float>& values, const Shape& shape) {
  SY_CHECK(static_cast<int64_t>(values.size()) == shape.numel(), "from_vector: ", values.size(),
           " values for shape ", shape.to_string());
  Tensor t = empty(shape);
  std::memcpy(t.f32(), values.data(), values.size() * sizeof(float));
  return t;
}

Tensor Tensor::from_ints(const std::vector<int32_t>& values, const Shape& shape) {
  SY_CHECK(static_cast<int64_t>(values.size()) == shape.numel(), "from_ints: ", values.size(),
           " values for shape ", shape.to_string());
  Tensor t = empty(shape, DType::kI32);
  std::memcpy(t.i32(), values.data(), values.size() * sizeof(int32_t));
  return t;
}

Tensor Tensor::scalar(float value) { return from_vector({value}, Shape{}); }

const Shape& Tensor::shape() const { return checked(impl_).shape; }
DType Tensor::dtype() const { return checked(impl_).dtype; }
Device Tensor::device() const { return checked(impl_).storage->device(); }

void* Tensor::raw() const {
  const TensorImpl& t = checked(impl_);
  return static_cast<char*>(t.storage->data()) +
         t.offset * static_cast<int64_t>(dtype_size(t.dtype));
}

std::vector<float> Tensor::to_vector() const {
  std::vector<float> out(static_cast<size_t>(numel()));
  SY_CHECK(dtype() == DType::kF32, "to_vector on ", describe());
  device_copy(out.data(), Device::cpu(), raw(), device(), out.size() * sizeof(float));
  return out;
}

std::vector<int32_t> Tensor::to_int_vector() const {
  std::vector<int32_t> out(static_cast<size_t>(numel()));
  SY_CHECK(dtype() == DType::kI32, "to_int_vector on ", describe());
  device_copy(out.data(), Device::cpu(), raw(), device(), out.size() * sizeof(int32_t));
  return out;
}

float Tensor::item() const {
  SY_CHECK(numel() == 1, "item() needs a one-element tensor, got ", describe());
  return to_vector()[0];
}

Tensor Tensor::to(Device device) const {
  Tensor out = empty(shape(), dtype(), device);
  out.copy_(*this);
  return out;
}

Tensor Tensor::clone() const { return to(device()); }

Tensor Tensor::detach() const { return alias(shape(), 0); }

Tensor Tensor::alias(const Shape& shape, int64_t element_offset) const {
  const TensorImpl& src = checked(impl_);
  SY_CHECK(element_offset >= 0 && element_offset + shape.numel() <= src.shape.numel(), "alias of ",
           shape.to_string(), " at offset ", element_offset, " exceeds ", describe());
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = src.storage;
  impl->offset = src.offset + element_offset;
  impl->shape = shape;
  impl->dtype = src.dtype;
  return Tensor(std::move(impl));
}

void Tensor::fill_(float value) {
  if (is_cpu()) {
    if (dtype() == DType::kF32) {
      float* p = f32();
      for (int64_t i = 0, n = numel(); i < n; ++i) p[i] = value;
    } else {
      int32_t* p = i32();
      for (int64_t i = 0, n = numel(); i < n; ++i) p[i] = static_cast<int32_t>(value);
    }
    return;
  }
  if (value == 0.0f) {
    zero_();
    return;
  }
  copy_(full(shape(), value));
}

void Tensor::zero_() {
  device_zero(device(), raw(), static_cast<size_t>(numel()) * dtype_size(dtype()));
}

void Tensor::copy_(const Tensor& src) {
  SY_CHECK(src.numel() == numel() && src.dtype() == dtype(), "copy_ from ", src.describe(),
           " into ", describe());
  device_copy(raw(), device(), src.raw(), src.device(),
              static_cast<size_t>(numel()) * dtype_size(dtype()));
}

bool Tensor::requires_grad() const { return checked(impl_).requires_grad; }

Tensor& Tensor::set_requires_grad(bool requires_grad) {
  checked(impl_);
  SY_CHECK(impl_->grad_fn == nullptr, "set_requires_grad on a non-leaf tensor ", describe());
  SY_CHECK(!requires_grad || impl_->dtype == DType::kF32, "only float tensors can require grad");
  impl_->requires_grad = requires_grad;
  return *this;
}

bool Tensor::is_leaf() const { return checked(impl_).grad_fn == nullptr; }

const Tensor& Tensor::grad() const { return checked(impl_).grad; }

void Tensor::set_grad(const Tensor& grad) {
  checked(impl_);
  SY_CHECK(!grad.defined() || grad.shape() == shape(), "set_grad: gradient ", grad.describe(),
           " for tensor ", describe());
  impl_->grad = grad;
}

void Tensor::clear_grad() {
  checked(impl_).grad;
  impl_->grad = Tensor();
}

const std::shared_ptr<Node>& Tensor::grad_fn() const { return checked(impl_).grad_fn; }

void Tensor::set_grad_ready_hook(std::function<void()> hook) {
  checked(impl_);
  SY_CHECK(impl_->grad_fn == nullptr, "set_grad_ready_hook on a non-leaf tensor ", describe());
  impl_->grad_ready_hook = std::move(hook);
}

bool Tensor::has_grad_ready_hook() const {
  return static_cast<bool>(checked(impl_).grad_ready_hook);
}

void Tensor::backward() const {
  SY_CHECK(numel() == 1, "backward() without a gradient needs a one-element tensor, got ",
           describe());
  run_backward(*this, Tensor::full(shape(), 1.0f, device()));
}

void Tensor::backward(const Tensor& grad_output) const { run_backward(*this, grad_output); }

bool Tensor::shares_storage_with(const Tensor& other) const {
  return defined() && other.defined() && impl_->storage == other.impl_->storage;
}

std::string Tensor::describe() const {
  if (!defined()) return "undefined";
  return std::string(dtype_name(dtype())) + shape().to_string() + " " + device().to_string();
}

void check_shape(const Tensor& t, const Shape& expected, const char* what) {
  SY_CHECK(t.defined() && t.shape() == expected, what, ": expected shape ", expected.to_string(),
           ", got ", t.describe());
}

}  // namespace sy::core
