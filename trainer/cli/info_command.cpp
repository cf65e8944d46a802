#include "trainer/cli/info_command.h"

#include <omp.h>

#include <cstdio>
#include <cstring>

#include "core/backends/device_memory.h"
#include "core/common/error.h"
#include "trainer/version.h"

namespace sy::trainer {

int run_info_command(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0) {
      std::printf("usage: switchyard info\n\nPrints the build configuration and exits.\n");
      return 0;
    }
    SY_FAIL(ErrorKind::kUsage, "info: unknown option '", argv[i], "'");
  }
  std::printf("switchyard %s\n", kVersion);
  std::printf("openmp threads: %d\n", omp_get_max_threads());
  std::printf("cuda backend: %s\n", core::cuda_compiled() ? "compiled" : "not compiled");
  std::printf("cuda devices: %s\n", core::cuda_available() ? "available" : "none");
  return 0;
}

}  // namespace sy::trainer
