// switchyard: the command-line entry point. Each subcommand lives in its own file as it lands;
// errors are reported once here and mapped to the documented exit codes (README, "Exit codes").
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <string>

#include "core/common/error.h"
#include "parallel/comm/runtime.h"
#include "trainer/cli/eval_command.h"
#include "trainer/cli/export_command.h"
#include "trainer/cli/generate_command.h"
#include "trainer/cli/info_command.h"
#include "trainer/cli/inspect_command.h"
#include "trainer/cli/prep_command.h"
#include "trainer/cli/train_command.h"
#include "trainer/version.h"

namespace {

constexpr const char* kUsage =
    "usage: switchyard <command> [options]\n"
    "\n"
    "commands:\n"
    "  train       train a model: switchyard train CONFIG.yaml [key.sub=value ...]\n"
    "  eval        mean cross-entropy of a checkpoint over a token shard (one JSON line)\n"
    "  generate    sample text from a checkpoint\n"
    "  export      write a checkpoint as a Hugging Face Mixtral directory: export SRC OUTDIR\n"
    "  info        print this build's configuration (threads, BLAS, CUDA)\n"
    "  prep        turn text files into token shards (train.bin, val.bin)\n"
    "  inspect     summarize a checkpoint and verify every byte of it\n"
    "  --version   print the version\n"
    "  --help      print this message\n"
    "\n"
    "Run 'switchyard <command> --help' for a command's options.\n";

int run(int argc, char** argv, sy::parallel::Runtime& runtime) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const std::string cmd = argv[1];
  if (cmd == "--version") {
    std::printf("switchyard %s\n", sy::trainer::kVersion);
    return 0;
  }
  if (cmd == "info") return sy::trainer::run_info_command(argc - 1, argv + 1);
  if (cmd == "train") return sy::trainer::run_train_command(argc - 1, argv + 1, runtime.world());
  if (cmd == "eval") return sy::trainer::run_eval_command(argc - 1, argv + 1);
  if (cmd == "export") return sy::trainer::run_export_command(argc - 1, argv + 1);
  if (cmd == "generate") return sy::trainer::run_generate_command(argc - 1, argv + 1);
  if (cmd == "prep") return sy::trainer::run_prep_command(argc - 1, argv + 1);
  if (cmd == "inspect") return sy::trainer::run_inspect_command(argc - 1, argv + 1);
  SY_FAIL(sy::ErrorKind::kUsage, "unknown command '", cmd, "' (see switchyard --help)");
}

}  // namespace

// Under a launcher, errors name the rank and host, and end the whole job with the error's exit
// code (MPI_Abort) so that no peer waits forever in a collective.
int report(const std::unique_ptr<sy::parallel::Runtime>& runtime, const char* kind,
           const char* what, int code) {
  if (runtime && runtime->distributed()) {
    std::fprintf(stderr, "switchyard: rank %d (%s): %s: %s\n", runtime->world().rank(),
                 sy::parallel::hostname().c_str(), kind, what);
    if (runtime->world().size() > 1) sy::parallel::abort_world(code);
  } else {
    std::fprintf(stderr, "switchyard: %s: %s\n", kind, what);
  }
  return code;
}

int main(int argc, char** argv) {
  std::unique_ptr<sy::parallel::Runtime> runtime;
  try {
    runtime = std::make_unique<sy::parallel::Runtime>(&argc, &argv);
    return run(argc, argv, *runtime);
  } catch (const sy::Error& e) {
    return report(runtime, sy::error_kind_name(e.kind()), e.what(), e.exit_code());
  } catch (const std::exception& e) {
    return report(runtime, "internal error", e.what(), 1);
  }
}
