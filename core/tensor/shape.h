// Tensor shapes: up to kMaxDims extents, row-major (the last dimension is contiguous).
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace sy::core {

class Shape {
 public:
  static constexpr int kMaxDims = 8;

  Shape() = default;
  Shape(std::initializer_list<int64_t> dims);
  explicit Shape(const std::vector<int64_t>& dims);

  int ndim() const { return ndim_; }
  int64_t operator[](int i) const { return dims_[static_cast<size_t>(i)]; }
  int64_t& operator[](int i) { return dims_[static_cast<size_t>(i)]; }
  // Extent of dimension i; negative i counts from the end (-1 is the last).
  int64_t dim(int i) const;
  int64_t numel() const;
  // Product of all extents but the last: the number of rows when viewed as (rows, last).
  int64_t rows() const;
  int64_t last() const { return ndim_ == 0 ? 1 : dims_[static_cast<size_t>(ndim_ - 1)]; }

  const int64_t* begin() const { return dims_.data(); }
  const int64_t* end() const { return dims_.data() + ndim_; }
  std::vector<int64_t> to_vector() const { return {begin(), end()}; }

  // A copy with dimension i replaced / the last dimension dropped / one appended.
  Shape with_dim(int i, int64_t extent) const;
  Shape without_last() const;
  Shape appended(int64_t extent) const;

  bool operator==(const Shape& o) const;
  bool operator!=(const Shape& o) const { return !(*this == o); }
  std::string to_string() const;  // "(2,3,4)"

 private:
  std::array<int64_t, kMaxDims> dims_{};
  int ndim_ = 0;
};

}  // namespace sy::core
