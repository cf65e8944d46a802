// Pipeline schedules: the order in which one stage runs the forward and backward passes of a
// step's micro-batches. A schedule is pure arithmetic, the same on every rank, so every pair of
// neighbouring stages agrees on the order of their sends and receives.
//
//   gpipe  F0 F1 ... F(m-1) B0 B1 ... B(m-1): every micro-batch's activations live until the
//          backward passes start (m in flight)
//   1f1b   stage s of p: warm-up of min(p-s-1, m) forwards, then one forward and one backward
//          alternately, then the remaining backwards: at most p - s micro-batches in flight
// Both have the same bubble for equal stage times, (p-1)/(m+p-1) of the step; 1F1B bounds memory.
// New schedules (interleaved, zero-bubble) implement Schedule and join make_schedule.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sy::parallel {

struct PipelineAction {
  enum class Kind { kForward, kBackward };
  Kind kind;
  int64_t micro;  // 0 .. m-1, this rank's micro-batch index
  bool operator==(const PipelineAction&) const = default;
};

class Schedule {
 public:
  virtual ~Schedule() = default;
  virtual std::string name() const = 0;
  // Every forward and backward of micro-batches 0..m-1 on `stage` of `stages`, in order.
  virtual std::vector<PipelineAction> actions(int stage, int stages,
                                              int64_t micro_batches) const = 0;
};

// "gpipe" or "1f1b"; anything else is a kUsage error naming parallel.pipeline_schedule.
std::unique_ptr<Schedule> make_schedule(const std::string& name);

// The idle share of a step when every stage takes the same time per micro-batch: (p-1)/(m+p-1).
double expected_bubble_fraction(int stages, int64_t micro_batches);

// The most micro-batches whose forward has run and backward has not, at any point of `actions`.
int64_t peak_in_flight(const std::vector<PipelineAction>& actions);

}  // namespace sy::parallel
