#include "trainer/train/metrics.h"

#include <cmath>
#include <fstream>
#include <sstream>

#include "core/common/error.h"

namespace sy::trainer {

namespace {

// %.9g, except that non-finite values become JSON null.
std::string num(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9g", v);
  return buf;
}

int64_t step_of(const std::string& line) {
  const auto at = line.find("\"step\":");
  if (at == std::string::npos) return -1;
  return std::strtoll(line.c_str() + at + 7, nullptr, 10);
}

}  // namespace

std::string to_json_line(const StepMetrics& m) {
  std::ostringstream os;
  os << "{\"step\":" << m.step << ",\"tokens\":" << m.tokens << ",\"loss\":" << num(m.loss)
     << ",\"ce\":" << num(m.ce) << ",\"aux\":" << num(m.aux) << ",\"z\":" << num(m.z)
     << ",\"lr\":" << num(m.lr) << ",\"grad_norm\":" << num(m.grad_norm)
     << ",\"tokens_per_s\":" << num(m.tokens_per_s) << ",\"step_ms\":" << num(m.step_ms)
     << ",\"mfu\":" << num(m.mfu) << ",\"max_expert_load\":" << num(m.max_expert_load)
     << ",\"dropped_fraction\":" << num(m.dropped_fraction)
     << ",\"router_entropy\":" << num(m.router_entropy) << ",\"tokens_per_expert\":[";
  for (size_t i = 0; i < m.tokens_per_expert.size(); ++i)
    os << (i ? "," : "") << m.tokens_per_expert[i];
  os << "]";
  if (m.pipeline) os << ",\"pipeline_bubble\":" << num(m.bubble_fraction);
  os << ",\"peak_rss_mib\":" << num(m.peak_rss_mib);
  if (m.reduce_exposed_ms > 0) os << ",\"reduce_exposed_ms\":" << num(m.reduce_exposed_ms);
  if (m.expert_parallel) {
    os << ",\"all_to_all_bytes\":" << m.all_to_all_bytes
       << ",\"all_to_all_ms\":" << num(m.all_to_all_ms);
  }
  os << "}";
  return os.str();
}

MetricsWriter::MetricsWriter(const std::string& path, int64_t keep_through_step) : path_(path) {
  std::vector<std::string> kept;
  if (keep_through_step > 0) {
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) {
      const int64_t s = step_of(line);
      if (s >= 1 && s <= keep_through_step) kept.push_back(line);
    }
  }
  file_ = std::fopen(path.c_str(), "w");
  SY_REQUIRE(ErrorKind::kInternal, file_ != nullptr, "cannot write metrics file ", path);
  for (const std::string& line : kept) std::fprintf(file_, "%s\n", line.c_str());
  std::fflush(file_);
}

MetricsWriter::~MetricsWriter() {
  if (file_) std::fclose(file_);
}

void MetricsWriter::write(const StepMetrics& m) {
  std::fprintf(file_, "%s\n", to_json_line(m).c_str());
  std::fflush(file_);
}

}  // namespace sy::trainer
