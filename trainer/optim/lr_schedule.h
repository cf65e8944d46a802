// Learning-rate schedules: linear warmup, then cosine decay to min_lr or a constant.
#pragma once

#include <cstdint>

namespace sy::trainer {

enum class LrShape { kCosine, kConstant };

struct LrSchedule {
  double lr = 0.0, min_lr = 0.0;
  int64_t warmup_steps = 0, total_steps = 1;
  LrShape shape = LrShape::kCosine;

  // The rate for step s (0-based): lr * (s+1)/warmup during warmup; then cosine from lr at the
  // end of warmup down to min_lr at the last step, or lr throughout (constant).
  double at(int64_t step) const;
};

}  // namespace sy::trainer
