// The machine's sgemm peak, and the helpers every micro-benchmark uses to report a kernel's
// throughput as GFLOP/s and as a percentage of that peak.
//
// A benchmark binary registers its cases with register_case(), then its main() is one line:
//   int main(int argc, char** argv) { return sy::bench::run_benchmarks(argc, argv); }
// and each case ends with report_flops(state, flops_per_iteration) after its timing loop.
#pragma once

#include <benchmark/benchmark.h>

#include <string>
#include <utility>

namespace sy::bench {

// Times plain cblas_sgemm (row-major, no transposes, alpha 1, beta 0) on an n x n x n product: one
// warm-up call, then the best of `repeats` calls by wall clock. Returns 2 n^3 / seconds / 1e9.
double measure_sgemm_peak_gflops(int n = 1536, int repeats = 5);

// The peak measured by run_benchmarks() (0 until it has run).
double sgemm_peak_gflops();

// The thread count BLAS runs with (openblas_get_num_threads()).
int blas_threads();

// Sets the counters GFLOPS (flops / wall second / 1e9) and pct_of_peak (100 * GFLOPS / peak) for a
// case doing `flops_per_iteration` floating-point operations per iteration. Call it after the
// timing loop; register the case with UseRealTime() so the rates are per wall-clock second.
void report_flops(benchmark::State& state, double flops_per_iteration);

// Registers the case `name`, which runs fn(state, args...), timed by wall clock (UseRealTime, as
// report_flops needs) and shown in milliseconds.
template <class Fn, class... Args>
benchmark::internal::Benchmark* register_case(const std::string& name, Fn&& fn, Args&&... args) {
  return benchmark::RegisterBenchmark(name.c_str(), std::forward<Fn>(fn),
                                      std::forward<Args>(args)...)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
}

// The body of a benchmark main(): parses the Google Benchmark flags, measures the sgemm peak once
// and prints "sgemm peak: X GFLOP/s (threads=N)" to stderr (next to the library's own context
// header, so --benchmark_format=json on stdout stays valid; it is also added to that context as
// sgemm_peak_gflops), then runs the registered benchmarks, then measures the peak again and prints
// it with its drift from the first (over 10% means the machine's load changed mid-run). Returns
// the process exit status.
int run_benchmarks(int argc, char** argv);

}  // namespace sy::bench
