// `switchyard info`: prints the build configuration (version, threads, CUDA).
#pragma once

namespace sy::trainer {

// argv[0] is "info"; returns the process exit code.
int run_info_command(int argc, char** argv);

}  // namespace sy::trainer
