// Comparing a part of the model, trained under some parallel layout, with the whole model trained
// on one rank: parameters by name, and every gradient within a relative tolerance.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "core/nn/module.h"

namespace sy::parallel::testing {

inline std::map<std::string, core::Tensor> parameters_by_name(const core::nn::Module& m) {
  std::map<std::string, core::Tensor> out;
  for (const auto& p : m.named_parameters()) out[p.name] = p.tensor;
  return out;
}

// Every parameter of `part` has a gradient within rel x max|reference gradient| (at least 1e-3
// in scale) of the same-named parameter's gradient in `reference`.
inline void expect_gradients_match(const core::nn::Module& part,
                                   const std::map<std::string, core::Tensor>& reference, double rel,
                                   const std::string& where) {
  for (const auto& p : part.named_parameters()) {
    ASSERT_TRUE(reference.count(p.name)) << p.name << where;
    const core::Tensor& want = reference.at(p.name).grad();
    ASSERT_TRUE(want.defined()) << p.name << where;
    ASSERT_TRUE(p.tensor.grad().defined()) << p.name << where;
    const std::vector<float> a = p.tensor.grad().to_vector(), b = want.to_vector();
    double diff = 0, norm = 0;
    for (size_t i = 0; i < a.size(); ++i) {
      diff = std::max(diff, static_cast<double>(std::fabs(a[i] - b[i])));
      norm = std::max(norm, static_cast<double>(std::fabs(b[i])));
    }
    EXPECT_LE(diff, rel * std::max(norm, 1e-3))
        << p.name << where << " (max |grad| " << norm << ")";
  }
}

}  // namespace sy::parallel::testing
