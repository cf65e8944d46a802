// The metrics.jsonl line and the log line of a step.
#include "trainer/train/metrics.h"

#include <gtest/gtest.h>

#include "trainer/train/run_log.h"

namespace sy::trainer {
namespace {

StepMetrics sample() {
  StepMetrics m;
  m.step = 3, m.tokens = 3072, m.loss = 5.25, m.ce = 5.0, m.aux = 2.0, m.z = 1.5;
  m.lr = 1e-3, m.grad_norm = 0.75, m.tokens_per_s = 1000, m.step_ms = 1024, m.mfu = 0.1;
  m.tokens_per_expert = {10, 20};
  return m;
}

TEST(Metrics, JsonLineHasTheContractFieldsAndFullPrecision) {
  StepMetrics m = sample();
  m.loss = 1.0 / 3.0;
  const std::string line = to_json_line(m);
  for (const char* key : {"\"step\":3", "\"tokens\":3072", "\"ce\":5", "\"aux\":2", "\"z\":1.5",
                          "\"lr\":0.001", "\"grad_norm\":0.75", "\"tokens_per_s\":1000",
                          "\"step_ms\":1024", "\"tokens_per_expert\":[10,20]"}) {
    EXPECT_NE(line.find(key), std::string::npos) << key << " in " << line;
  }
  EXPECT_NE(line.find("\"loss\":0.333333333"), std::string::npos) << line;
  EXPECT_EQ(line.find("all_to_all"), std::string::npos) << line;
}

TEST(Metrics, ExpertParallelStepsReportTheirAllToAll) {
  StepMetrics m = sample();
  m.expert_parallel = true;
  m.all_to_all_bytes = 4096, m.all_to_all_ms = 2.5;
  const std::string line = to_json_line(m);
  EXPECT_NE(line.find("\"all_to_all_bytes\":4096,\"all_to_all_ms\":2.5}"), std::string::npos)
      << line;
  const std::string log = format_step_line(m, 0, 10, 3.0);
  EXPECT_NE(log.find("| all-to-all 2.5 ms, 0.00 MiB |"), std::string::npos) << log;
  EXPECT_EQ(format_step_line(sample(), 0, 10, 3.0).find("all-to-all"), std::string::npos);
}

}  // namespace
}  // namespace sy::trainer
