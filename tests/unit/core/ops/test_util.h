// Helpers shared by the op tests.
#pragma once

#include <gtest/gtest.h>

#include <vector>

#include "core/tensor/tensor.h"

namespace sy::core::testing {

// Asserts two float vectors are equal element-wise within atol + rtol * |expected|.
inline void expect_close(const std::vector<float>& actual, const std::vector<float>& expected,
                         float atol = 1e-5f, float rtol = 1e-5f) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    EXPECT_NEAR(actual[i], expected[i], atol + rtol * std::abs(expected[i])) << "element " << i;
  }
}

inline void expect_close(const Tensor& actual, const std::vector<float>& expected,
                         float atol = 1e-5f, float rtol = 1e-5f) {
  expect_close(actual.to_vector(), expected, atol, rtol);
}

}  // namespace sy::core::testing
