#include "core/tensor/shape.h"

#include "core/common/error.h"

namespace sy::core {

Shape::Shape(std::initializer_list<int64_t> dims) : Shape(std::vector<int64_t>(dims)) {}

Shape::Shape(const std::vector<int64_t>& dims) {
  SY_CHECK(dims.size() <= kMaxDims, "a shape has at most ", kMaxDims, " dimensions, got ",
           dims.size());
  for (int64_t d : dims) {
    SY_CHECK(d >= 0, "shape extents must be non-negative, got ", d);
    dims_[static_cast<size_t>(ndim_++)] = d;
  }
}

int64_t Shape::dim(int i) const {
  const int j = i < 0 ? i + ndim_ : i;
  SY_CHECK(j >= 0 && j < ndim_, "dimension ", i, " out of range for shape ", to_string());
  return dims_[static_cast<size_t>(j)];
}

int64_t Shape::numel() const {
  int64_t n = 1;
  for (int i = 0; i < ndim_; ++i) n *= dims_[static_cast<size_t>(i)];
  return n;
}

int64_t Shape::rows() const { return last() == 0 ? 0 : numel() / last(); }

Shape Shape::with_dim(int i, int64_t extent) const {
  const int j = i < 0 ? i + ndim_ : i;
  SY_CHECK(j >= 0 && j < ndim_, "dimension ", i, " out of range for shape ", to_string());
  Shape s = *this;
  s.dims_[static_cast<size_t>(j)] = extent;
  return s;
}

Shape Shape::without_last() const {
  SY_CHECK(ndim_ > 0, "cannot drop the last dimension of a scalar shape");
  Shape s = *this;
  s.dims_[static_cast<size_t>(--s.ndim_)] = 0;
  return s;
}

Shape Shape::appended(int64_t extent) const {
  SY_CHECK(ndim_ < kMaxDims, "a shape has at most ", kMaxDims, " dimensions");
  Shape s = *this;
  s.dims_[static_cast<size_t>(s.ndim_++)] = extent;
  return s;
}

bool Shape::operator==(const Shape& o) const {
  if (ndim_ != o.ndim_) return false;
  for (int i = 0; i < ndim_; ++i) {
    if (dims_[static_cast<size_t>(i)] != o.dims_[static_cast<size_t>(i)]) return false;
  }
  return true;
}

std::string Shape::to_string() const {
  std::string s = "(";
  for (int i = 0; i < ndim_; ++i) {
    if (i) s += ",";
    s += std::to_string(dims_[static_cast<size_t>(i)]);
  }
  return s + ")";
}

}  // namespace sy::core
