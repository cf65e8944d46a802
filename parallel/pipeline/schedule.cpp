#include "parallel/pipeline/schedule.h"

#include <algorithm>

#include "core/common/error.h"

namespace sy::parallel {

namespace {

using Kind = PipelineAction::Kind;

class GPipe final : public Schedule {
 public:
  std::string name() const override { return "gpipe"; }
  std::vector<PipelineAction> actions(int, int, int64_t m) const override {
    std::vector<PipelineAction> out;
    for (int64_t i = 0; i < m; ++i) out.push_back({Kind::kForward, i});
    for (int64_t i = 0; i < m; ++i) out.push_back({Kind::kBackward, i});
    return out;
  }
};

class OneForwardOneBackward final : public Schedule {
 public:
  std::string name() const override { return "1f1b"; }
  std::vector<PipelineAction> actions(int stage, int stages, int64_t m) const override {
    const int64_t warmup = std::min<int64_t>(stages - stage - 1, m);
    std::vector<PipelineAction> out;
    for (int64_t i = 0; i < warmup; ++i) out.push_back({Kind::kForward, i});
    for (int64_t i = 0; i < m - warmup; ++i) {
      out.push_back({Kind::kForward, warmup + i});
      out.push_back({Kind::kBackward, i});
    }
    for (int64_t i = m - warmup; i < m; ++i) out.push_back({Kind::kBackward, i});
    return out;
  }
};

}  // namespace

std::unique_ptr<Schedule> make_schedule(const std::string& name) {
  if (name == "gpipe") return std::make_unique<GPipe>();
  if (name == "1f1b") return std::make_unique<OneForwardOneBackward>();
  SY_FAIL(ErrorKind::kUsage, "parallel.pipeline_schedule: unknown schedule '", name,
          "' (gpipe or 1f1b)");
}

double expected_bubble_fraction(int stages, int64_t micro_batches) {
  return static_cast<double>(stages - 1) / static_cast<double>(micro_batches + stages - 1);
}

int64_t peak_in_flight(const std::vector<PipelineAction>& actions) {
  int64_t live = 0, peak = 0;
  for (const PipelineAction& a : actions) {
    live += a.kind == Kind::kForward ? 1 : -1;
    peak = std::max(peak, live);
  }
  return peak;
}

}  // namespace sy::parallel
