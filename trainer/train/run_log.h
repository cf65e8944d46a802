// Human-readable progress: every rank's log file, rank 0's console, and the per-step log line.
#pragma once

#include <cstdio>
#include <string>

#include "trainer/train/metrics.h"

namespace sy::trainer {

class RunLog {
 public:
  // Writes to RUN_DIR/logs/rank{rank}.log; rank 0 also prints to stdout. A progress bar is drawn
  // between log lines only when `progress` is true (the trainer enables it for terminals).
  RunLog(const std::string& run_dir, int rank, bool progress);
  ~RunLog();
  RunLog(const RunLog&) = delete;
  RunLog& operator=(const RunLog&) = delete;

  void info(const std::string& line);
  void progress(int64_t step, int64_t total);

 private:
  std::FILE* file_ = nullptr;
  bool console_;
  bool progress_;
  bool bar_shown_ = false;
};

// "1:02:03" or "2:03".
std::string format_duration(double seconds);
// This process's peak resident set size so far, in MiB (getrusage).
double peak_rss_mib();

// step 12/600 | loss 5.4321 (ce 5.3987 aux 1.013 z 1.84) | lr 1.20e-03 | gnorm 0.853 |
// 4312 tok/s | mfu 12.3% | load max/mean 1.42 | drop 0.0% | 0:12 elapsed, ETA 9:48
// elapsed_s covers the steps since this process started at first_step (a resumed run's ETA
// extrapolates from its own steps).
std::string format_step_line(const StepMetrics& m, int64_t first_step, int64_t total_steps,
                             double elapsed_s);

}  // namespace sy::trainer
