// Finite-difference gradient checks for every differentiable op.
//
// An op's test file registers one or more cases:
//
//   SY_GRADCHECK_CASE("matmul", matmul_2d) {          // op name as registered in core, case name
//     GradcheckSpec spec;
//     spec.inputs = {rng.normal({3, 4}), rng.normal({4, 5})};
//     spec.fn = [](const std::vector<Tensor>& x) { return matmul(x[0], x[1]); };
//     return spec;
//   }
//
// gradcheck_test.cpp runs every case and fails for any registered op that has none.
//
// Method: with a fixed random projection R shaped like the output, f(x) = sum(fn(x) * R) summed in
// double. The analytic gradient is fn(x).backward(R); the numeric one is the central difference
// (f(x + eps e_j) - f(x - eps e_j)) / (2 eps) for every element j of every input. With float32
// forward passes, f carries a relative rounding error near 1e-7 * sqrt(#terms); eps = 1e-2 keeps
// the division's amplification of that noise near 1e-5 while the O(eps^2) truncation error of a
// smooth op stays near 1e-4 times its third derivative, hence |num - ana| <= atol + rtol * |num|
// with atol = 1e-3 and rtol = 1e-2 by default; a case may tighten or loosen these with a reason.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/tensor/rng.h"
#include "core/tensor/tensor.h"

namespace sy::core::testing {

struct GradcheckSpec {
  std::vector<Tensor> inputs;  // float32 CPU tensors whose gradients are checked
  std::function<Tensor(const std::vector<Tensor>&)> fn;
  double eps = 1e-2;
  double atol = 1e-3;
  double rtol = 1e-2;
  // Only for the harness's own negative control: the check must fail.
  bool expect_failure = false;
};

using GradcheckFactory = GradcheckSpec (*)(Rng& rng);

struct GradcheckCase {
  std::string op;    // the registered op this case covers
  std::string name;  // unique case name
  GradcheckFactory make;
};

std::vector<GradcheckCase>& gradcheck_cases();

struct GradcheckRegistrar {
  GradcheckRegistrar(const char* op, const char* name, GradcheckFactory make);
};

struct GradcheckResult {
  bool ok = true;
  double max_abs_error = 0.0;
  std::string worst;  // "input i element j: numeric x analytic y"
};

GradcheckResult run_gradcheck(GradcheckSpec spec, Rng& rng);

}  // namespace sy::core::testing

#define SY_GRADCHECK_CASE(op, case_name)                                                         \
  static ::sy::core::testing::GradcheckSpec sy_gradcheck_##case_name(::sy::core::Rng& rng);      \
  static const ::sy::core::testing::GradcheckRegistrar sy_gradcheck_registrar_##case_name(       \
      op, #case_name, &sy_gradcheck_##case_name);                                                \
  static ::sy::core::testing::GradcheckSpec sy_gradcheck_##case_name(                            \
      [[maybe_unused]] ::sy::core::Rng& rng)
