// switchyard: the command-line entry point. Each subcommand lives in its own file as it lands;
// errors are reported once here and mapped to the documented exit codes (README, "Exit codes").
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "core/common/error.h"
#include "trainer/cli/eval_command.h"
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
    "  info        print this build's configuration (threads, BLAS, CUDA)\n"
    "  prep        turn text files into token shards (train.bin, val.bin)\n"
    "  inspect     summarize a checkpoint and verify every byte of it\n"
    "  --version   print the version\n"
    "  --help      print this message\n"
    "\n"
    "Run 'switchyard <command> --help' for a command's options.\n";

int run(int argc, char** argv) {
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
  if (cmd == "train") return sy::trainer::run_train_command(argc - 1, argv + 1);
  if (cmd == "eval") return sy::trainer::run_eval_command(argc - 1, argv + 1);
  if (cmd == "generate") return sy::trainer::run_generate_command(argc - 1, argv + 1);
  if (cmd == "prep") return sy::trainer::run_prep_command(argc - 1, argv + 1);
  if (cmd == "inspect") return sy::trainer::run_inspect_command(argc - 1, argv + 1);
  SY_FAIL(sy::ErrorKind::kUsage, "unknown command '", cmd, "' (see switchyard --help)");
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const sy::Error& e) {
    std::fprintf(stderr, "switchyard: %s: %s\n", sy::error_kind_name(e.kind()), e.what());
    return e.exit_code();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "switchyard: internal error: %s\n", e.what());
    return 1;
  }
}
