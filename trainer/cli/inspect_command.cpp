// `switchyard inspect`: option parsing and the report; the work is trainer/checkpoint.
#include "trainer/cli/inspect_command.h"

#include <cstdio>
#include <string>

#include "core/common/error.h"
#include "trainer/checkpoint/checkpoint_inspect.h"

namespace sy::trainer {

namespace {

constexpr const char* kInspectUsage =
    "usage: switchyard inspect PATH\n"
    "\n"
    "Prints a checkpoint's step, tokens seen, optimizer and RNG state, a summary of its config\n"
    "and a table of every dataset (dtype, shape, bytes, checksum), and verifies every byte:\n"
    "each dataset is read through HDF5's Fletcher32 filter and its CRC-32 compared with the\n"
    "stored `checksum` attribute (docs/CHECKPOINTS.md).\n"
    "\n"
    "PATH: a run directory (its latest checkpoint), a checkpoint directory or a checkpoint.h5.\n"
    "\n"
    "exit codes: 0 all verified; 3 the checkpoint is unreadable or damaged (the message names\n"
    "the file and the dataset); 2 usage error.\n"
    "\n"
    "options:\n"
    "  --help    print this message\n";

}  // namespace

int run_inspect_command(int argc, char** argv) {
  std::string path;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kInspectUsage, stdout);
      return 0;
    }
    SY_REQUIRE(ErrorKind::kUsage, !arg.starts_with("-"), "inspect: unknown option '", arg,
               "' (see switchyard inspect --help)");
    SY_REQUIRE(ErrorKind::kUsage, path.empty(), "inspect: expected one PATH, got '", path,
               "' and '", arg, "'");
    path = arg;
  }
  SY_REQUIRE(ErrorKind::kUsage, !path.empty(),
             "inspect: missing PATH (see switchyard inspect "
             "--help)");

  const CheckpointSummary s = inspect_checkpoint(path);
  std::fputs(format_checkpoint_summary(s).c_str(), stdout);
  std::fflush(stdout);
  if (!s.ok()) {
    const DatasetCheck* first = nullptr;
    for (const DatasetCheck& d : s.datasets) {
      if (!d.ok) {
        first = &d;
        break;
      }
    }
    SY_FAIL(ErrorKind::kBadInput, s.file, ": ", first->path, ": ", first->error, " (", s.failures(),
            " of ", s.datasets.size(), " datasets failed verification)");
  }
  return 0;
}

}  // namespace sy::trainer
