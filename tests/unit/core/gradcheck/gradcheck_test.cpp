// Runs every registered gradient-check case and requires one for every differentiable op.
#include <gtest/gtest.h>

#include <set>

#include "core/autograd/op_registry.h"
#include "tests/unit/core/gradcheck/gradcheck.h"

namespace sy::core::testing {
namespace {

class Gradcheck : public ::testing::TestWithParam<GradcheckCase> {};

TEST_P(Gradcheck, AnalyticMatchesCentralDifferences) {
  const GradcheckCase& c = GetParam();
  Rng rng(1234);
  GradcheckSpec spec = c.make(rng);
  ASSERT_FALSE(spec.inputs.empty()) << c.name << " checks no input";
  const bool expect_failure = spec.expect_failure;
  const GradcheckResult r = run_gradcheck(std::move(spec), rng);
  if (expect_failure) {
    EXPECT_FALSE(r.ok) << c.name << " is a negative control and must fail";
  } else {
    EXPECT_TRUE(r.ok) << c.op << "/" << c.name << ": worst " << r.worst;
  }
}

INSTANTIATE_TEST_SUITE_P(AllOps, Gradcheck, ::testing::ValuesIn(gradcheck_cases()),
                         [](const ::testing::TestParamInfo<GradcheckCase>& param_info) {
                           return param_info.param.name;
                         });

TEST(GradcheckCoverage, EveryRegisteredOpHasAGradcheck) {
  std::set<std::string> covered;
  for (const GradcheckCase& c : gradcheck_cases()) covered.insert(c.op);
  const auto ops = registered_ops();
  ASSERT_FALSE(ops.empty());
  for (const OpInfo* op : ops) {
    EXPECT_TRUE(covered.count(op->name()))
        << "op \"" << op->name() << "\" has no SY_GRADCHECK_CASE: add one next to its tests";
  }
}

TEST(GradcheckCoverage, EveryCaseNamesARegisteredOp) {
  std::set<std::string> names;
  for (const OpInfo* op : registered_ops()) names.insert(op->name());
  for (const GradcheckCase& c : gradcheck_cases()) {
    EXPECT_TRUE(names.count(c.op)) << "case " << c.name << " names unknown op " << c.op;
  }
}

}  // namespace
}  // namespace sy::core::testing
