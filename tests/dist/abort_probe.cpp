// A failing rank must end the whole job rather than leave its peers blocked: rank 1 raises a
// sy::Error(kDistributed) while rank 0 waits in a barrier it will never leave. The error unwinds
// through the Runtime (which then skips MPI_Finalize) into the handler, which calls abort_world
// as the CLI does; the launcher must exit with code 5. Run by the dist.abort.np2 test.
#include <cstdio>

#include "core/common/error.h"
#include "parallel/comm/runtime.h"

int main(int argc, char** argv) {
  try {
    sy::parallel::Runtime runtime(&argc, &argv);
    if (runtime.world().rank() == 1) {
      SY_FAIL(sy::ErrorKind::kDistributed, "abort probe: rank 1 fails on purpose");
    }
    runtime.world().barrier();
    std::fprintf(stderr, "abort probe: rank %d left the barrier\n", runtime.world().rank());
    return 0;
  } catch (const sy::Error& e) {
    std::fprintf(stderr, "abort probe: %s\n", e.what());
    sy::parallel::abort_world(e.exit_code());
  }
}
