#include "trainer/train/run_log.h"

#include <sys/resource.h>

#include <filesystem>

#include "core/common/error.h"

namespace sy::trainer {

RunLog::RunLog(const std::string& run_dir, int rank, bool progress)
    : console_(rank == 0), progress_(progress && rank == 0) {
  const std::filesystem::path dir = std::filesystem::path(run_dir) / "logs";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / ("rank" + std::to_string(rank) + ".log")).string();
  file_ = std::fopen(path.c_str(), "a");
  SY_REQUIRE(ErrorKind::kInternal, file_ != nullptr, "cannot write log file ", path);
}

RunLog::~RunLog() {
  if (file_) std::fclose(file_);
}

void RunLog::info(const std::string& line) {
  std::fprintf(file_, "%s\n", line.c_str());
  std::fflush(file_);
  if (!console_) return;
  if (bar_shown_) std::printf("\r\033[K");
  bar_shown_ = false;
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

void RunLog::progress(int64_t step, int64_t total) {
  if (!progress_ || total <= 0) return;
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(kWidth * step / total);
  std::printf("\r[%s%s] %lld/%lld", std::string(static_cast<size_t>(filled), '#').c_str(),
              std::string(static_cast<size_t>(kWidth - filled), '.').c_str(),
              static_cast<long long>(step), static_cast<long long>(total));
  std::fflush(stdout);
  bar_shown_ = true;
}

std::string format_duration(double seconds) {
  const int64_t s = seconds > 0 ? static_cast<int64_t>(seconds + 0.5) : 0;
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof(buf), "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  } else {
    std::snprintf(buf, sizeof(buf), "%lld:%02lld", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  }
  return buf;
}

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux reports KiB
}

std::string format_step_line(const StepMetrics& m, int64_t first_step, int64_t total_steps,
                             double elapsed_s) {
  const int64_t done = m.step - first_step;
  const double eta =
      done > 0 ? elapsed_s / static_cast<double>(done) * static_cast<double>(total_steps - m.step)
               : 0.0;
  char buf[512];
  std::snprintf(buf, sizeof(buf),
                "step %lld/%lld | loss %.4f (ce %.4f aux %.4f z %.4f) | lr %.2e | gnorm %.3f | "
                "%.0f tok/s | mfu %.1f%% | load max/mean %.2f | drop %.1f%% | %s elapsed, ETA %s",
                static_cast<long long>(m.step), static_cast<long long>(total_steps), m.loss, m.ce,
                m.aux, m.z, m.lr, m.grad_norm, m.tokens_per_s, 100.0 * m.mfu, m.max_expert_load,
                100.0 * m.dropped_fraction, format_duration(elapsed_s).c_str(),
                format_duration(eta).c_str());
  std::string line = buf;
  std::string extra;
  if (m.pipeline) {
    char bubble[48];
    std::snprintf(bubble, sizeof(bubble), " | bubble %.0f%%", 100.0 * m.bubble_fraction);
    extra += bubble;
  }
  if (m.peak_rss_mib > 0) {
    char mem[48];
    std::snprintf(mem, sizeof(mem), " | peak mem %.0f MiB", m.peak_rss_mib);
    extra += mem;
  }
  if (m.expert_parallel) {
    char a2a[96];
    std::snprintf(a2a, sizeof(a2a), " | all-to-all %.1f ms, %.2f MiB", m.all_to_all_ms,
                  static_cast<double>(m.all_to_all_bytes) / (1 << 20));
    extra += a2a;
  }
  // Before the elapsed/ETA part, with the other per-step numbers.
  const size_t at = line.find(" | ", line.find("drop "));
  line.insert(at == std::string::npos ? line.size() : at, extra);
  return line;
}

}  // namespace sy::trainer
