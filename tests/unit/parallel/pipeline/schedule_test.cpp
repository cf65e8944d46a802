// Pipeline schedules: every micro-batch's forward before its backward, each exactly once; 1F1B's
// order and its memory bound; GPipe's; the bubble formula; unknown names.
#include "parallel/pipeline/schedule.h"

#include <gtest/gtest.h>

#include <string>

#include "core/common/error.h"

namespace sy::parallel {
namespace {

using Kind = PipelineAction::Kind;

std::string render(const std::vector<PipelineAction>& actions) {
  std::string out;
  for (const PipelineAction& a : actions) {
    if (!out.empty()) out.push_back(' ');
    out.push_back(a.kind == Kind::kForward ? 'F' : 'B');
    out.append(std::to_string(a.micro));
  }
  return out;
}

TEST(Schedule, OneFOneBWarmsUpAlternatesAndCoolsDown) {
  const auto s = make_schedule("1f1b");
  EXPECT_EQ(s->name(), "1f1b");
  EXPECT_EQ(render(s->actions(0, 3, 5)), "F0 F1 F2 B0 F3 B1 F4 B2 B3 B4");
  EXPECT_EQ(render(s->actions(1, 3, 5)), "F0 F1 B0 F2 B1 F3 B2 F4 B3 B4");
  EXPECT_EQ(render(s->actions(2, 3, 5)), "F0 B0 F1 B1 F2 B2 F3 B3 F4 B4");
  // Fewer micro-batches than stages: the warm-up is cut short.
  EXPECT_EQ(render(s->actions(0, 4, 2)), "F0 F1 B0 B1");
  // One stage: forward and backward alternate, like plain gradient accumulation.
  EXPECT_EQ(render(s->actions(0, 1, 3)), "F0 B0 F1 B1 F2 B2");
}

TEST(Schedule, GPipeRunsAllForwardsThenAllBackwards) {
  const auto s = make_schedule("gpipe");
  EXPECT_EQ(render(s->actions(1, 2, 3)), "F0 F1 F2 B0 B1 B2");
}

TEST(Schedule, EveryMicroBatchOnceForwardBeforeBackwardAndOneFOneBBoundsMemory) {
  for (const char* name : {"gpipe", "1f1b"}) {
    const auto s = make_schedule(name);
    for (int stages = 1; stages <= 5; ++stages) {
      for (int64_t m = 1; m <= 9; ++m) {
        for (int stage = 0; stage < stages; ++stage) {
          const auto actions = s->actions(stage, stages, m);
          ASSERT_EQ(static_cast<int64_t>(actions.size()), 2 * m);
          std::vector<int> state(static_cast<size_t>(m), 0);  // 0 none, 1 forward, 2 backward
          for (const PipelineAction& a : actions) {
            int& st = state[static_cast<size_t>(a.micro)];
            ASSERT_EQ(st, a.kind == Kind::kForward ? 0 : 1) << name << " " << render(actions);
            ++st;
          }
          const int64_t peak = peak_in_flight(actions);
          if (std::string(name) == "1f1b") {
            EXPECT_LE(peak, std::min<int64_t>(stages - stage, m)) << render(actions);
          } else {
            EXPECT_EQ(peak, m);
          }
        }
      }
    }
  }
}

TEST(Schedule, BubbleFractionAndUnknownNames) {
  EXPECT_DOUBLE_EQ(expected_bubble_fraction(1, 8), 0.0);
  EXPECT_DOUBLE_EQ(expected_bubble_fraction(4, 8), 3.0 / 11.0);
  EXPECT_THROW(make_schedule("zero-bubble"), Error);
}

}  // namespace
}  // namespace sy::parallel
