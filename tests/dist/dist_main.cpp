// main() of the distributed GoogleTest programs, run as `mpirun -np N program` (or alone, as a
// 1-rank world). It makes the Runtime, runs the tests on every rank, and returns non-zero on every
// rank when a test failed on any rank, so mpirun (and ctest) fail. Rank 0 prints the usual report;
// the other ranks print only their failures, prefixed with their rank.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <exception>

#include "core/common/error.h"
#include "parallel/comm/runtime.h"
#include "tests/dist/dist_world.h"

namespace sy::parallel::testing {
namespace {

Runtime* g_runtime = nullptr;

class RankFailurePrinter : public ::testing::EmptyTestEventListener {
 public:
  explicit RankFailurePrinter(int rank) : rank_(rank) {}
  void OnTestPartResult(const ::testing::TestPartResult& result) override {
    if (!result.failed()) return;
    std::fprintf(stderr, "[rank %d] %s:%d: failure\n%s\n", rank_,
                 result.file_name() ? result.file_name() : "?", result.line_number(),
                 result.message());
  }
  void OnTestEnd(const ::testing::TestInfo& info) override {
    if (info.result()->Failed()) {
      std::fprintf(stderr, "[rank %d] FAILED %s.%s\n", rank_, info.test_suite_name(), info.name());
    }
  }

 private:
  int rank_;
};

}  // namespace

Communicator& dist_world() { return g_runtime->world(); }
bool dist_mpi() { return g_runtime->distributed(); }

}  // namespace sy::parallel::testing

int main(int argc, char** argv) {
  using sy::parallel::testing::g_runtime;
  int code = 1;
  try {
    sy::parallel::Runtime runtime(&argc, &argv);
    g_runtime = &runtime;
    ::testing::InitGoogleTest(&argc, argv);
    const int rank = runtime.world().rank();
    if (rank != 0) {
      ::testing::TestEventListeners& listeners = ::testing::UnitTest::GetInstance()->listeners();
      delete listeners.Release(listeners.default_result_printer());
      listeners.Append(new sy::parallel::testing::RankFailurePrinter(rank));
    }
    int64_t failed = RUN_ALL_TESTS() != 0 ? 1 : 0;
    runtime.world().all_reduce(&failed, 1, sy::parallel::ReduceOp::kMax);
    if (rank == 0 && failed != 0) {
      std::fprintf(stderr, "dist tests: a test failed on at least one rank\n");
    }
    code = failed != 0 ? 1 : 0;
    g_runtime = nullptr;
  } catch (const sy::Error& e) {
    std::fprintf(stderr, "dist tests: %s\n", e.what());
    sy::parallel::abort_world(e.exit_code());
  }
  return code;  // after MPI_Finalize (the Runtime's destructor)
}
