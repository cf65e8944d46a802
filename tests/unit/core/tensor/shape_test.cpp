// Shape: extents, negative indexing, derived shapes, errors.
#include "core/tensor/shape.h"

#include <gtest/gtest.h>

#include "core/common/error.h"

namespace sy::core {
namespace {

TEST(Shape, ExtentsAndCounts) {
  const Shape s{2, 3, 4};
  EXPECT_EQ(s.ndim(), 3);
  EXPECT_EQ(s.numel(), 24);
  EXPECT_EQ(s.rows(), 6);
  EXPECT_EQ(s.last(), 4);
  EXPECT_EQ(s.dim(-1), 4);
  EXPECT_EQ(s.dim(0), 2);
  EXPECT_EQ(s.to_string(), "(2,3,4)");
  EXPECT_EQ(Shape{}.numel(), 1);  // a scalar
}

TEST(Shape, DerivedShapes) {
  const Shape s{2, 3};
  EXPECT_EQ(s.with_dim(-1, 5), (Shape{2, 5}));
  EXPECT_EQ(s.without_last(), (Shape{2}));
  EXPECT_EQ(s.appended(7), (Shape{2, 3, 7}));
  EXPECT_NE(s, (Shape{3, 2}));
}

TEST(Shape, Errors) {
  EXPECT_THROW(Shape({-1}), Error);
  EXPECT_THROW(Shape({1, 1, 1, 1, 1, 1, 1, 1, 1}), Error);
  EXPECT_THROW(Shape({2}).dim(1), Error);
  EXPECT_THROW(Shape({2}).dim(-2), Error);
}

}  // namespace
}  // namespace sy::core
