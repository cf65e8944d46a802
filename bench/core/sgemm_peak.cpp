// The sgemm peak measurement and the GFLOP/s reporting helpers shared by the micro-benchmarks.
#include "bench/core/sgemm_peak.h"

#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace sy::bench {

namespace {

double g_peak_gflops = 0.0;

}  // namespace

double measure_sgemm_peak_gflops(int n, int repeats) {
  const size_t elems = static_cast<size_t>(n) * static_cast<size_t>(n);
  // Deterministic, well-scaled operands; the values do not affect sgemm's speed.
  std::vector<float> a(elems), b(elems), c(elems, 0.0f);
  for (size_t i = 0; i < elems; ++i) {
    a[i] = static_cast<float>(i % 97) * 0.01f - 0.48f;
    b[i] = static_cast<float>(i % 89) * 0.01f - 0.44f;
  }
  const auto run_once = [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a.data(), n, b.data(), n,
                0.0f, c.data(), n);
  };
  run_once();  // warm-up: thread pool start-up, page faults, caches
  double best_s = 0.0;
  for (int r = 0; r < std::max(repeats, 1); ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    run_once();
    const auto t1 = std::chrono::steady_clock::now();
    const double s = std::chrono::duration<double>(t1 - t0).count();
    if (r == 0 || s < best_s) best_s = s;
  }
  benchmark::DoNotOptimize(c.data());
  const double flops = 2.0 * static_cast<double>(n) * static_cast<double>(n) * n;
  return flops / best_s * 1e-9;
}

double sgemm_peak_gflops() { return g_peak_gflops; }

int blas_threads() { return openblas_get_num_threads(); }

void report_flops(benchmark::State& state, double flops_per_iteration) {
  const double gflop = flops_per_iteration * 1e-9 * static_cast<double>(state.iterations());
  state.counters["GFLOPS"] = benchmark::Counter(gflop, benchmark::Counter::kIsRate);
  if (g_peak_gflops > 0.0) {
    state.counters["pct_of_peak"] =
        benchmark::Counter(100.0 * gflop / g_peak_gflops, benchmark::Counter::kIsRate);
  }
}

int run_benchmarks(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  g_peak_gflops = measure_sgemm_peak_gflops();
  std::fprintf(stderr, "sgemm peak: %.1f GFLOP/s (threads=%d)\n", g_peak_gflops, blas_threads());
  std::fflush(stderr);
  char peak[32];
  std::snprintf(peak, sizeof(peak), "%.1f", g_peak_gflops);
  benchmark::AddCustomContext("sgemm_peak_gflops", peak);
  benchmark::AddCustomContext("blas_threads", std::to_string(blas_threads()));
  benchmark::RunSpecifiedBenchmarks();
  // A second measurement exposes load that came or went during the run (a shared machine): the
  // pct_of_peak counters above are only as good as the peak they were divided by.
  const double after = measure_sgemm_peak_gflops();
  const double drift = 100.0 * (after - g_peak_gflops) / g_peak_gflops;
  std::fprintf(stderr, "sgemm peak after the run: %.1f GFLOP/s (%+.0f%%)%s\n", after, drift,
               std::abs(drift) > 10.0 ? " -- the machine's load changed; rerun" : "");
  benchmark::Shutdown();
  return 0;
}

}  // namespace sy::bench
