#include "trainer/cli/train_command.h"

#include <cstdio>
#include <string>
#include <vector>

#include "core/common/error.h"
#include "trainer/config/config_loader.h"
#include "trainer/train/trainer.h"

namespace sy::trainer {

namespace {

constexpr const char* kTrainUsage =
    "usage: switchyard train CONFIG.yaml [key.sub=value ...] [--dry-run]\n"
    "\n"
    "Trains the model CONFIG.yaml describes. Overrides such as train.steps=100 or\n"
    "optim.lr=1e-3 win over the file; every key is listed in docs/CONFIG.md.\n"
    "Writes RUN_DIR/config.resolved.yaml, RUN_DIR/metrics.jsonl and RUN_DIR/logs/rank0.log\n"
    "(RUN_DIR is run.dir).\n"
    "\n"
    "Several processes: mpirun -np N switchyard train ... with parallel.dp (x parallel.pp) = N\n"
    "(launch/run_mpi.sh, launch/slurm.sbatch). --dry-run prints the layout (each rank's dp/ep/pp\n"
    "coordinates and host), parameter counts and a per-rank memory estimate, then exits.\n";

}  // namespace

int run_train_command(int argc, char** argv, parallel::Communicator& world) {
  std::string config_path;
  bool dry_run = false;
  std::vector<std::string> overrides;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kTrainUsage, stdout);
      return 0;
    }
    if (arg == "--dry-run") {
      dry_run = true;
      continue;
    }
    SY_REQUIRE(ErrorKind::kUsage, arg.rfind("--", 0) != 0, "train: unknown option '", arg,
               "' (see switchyard train --help)");
    if (config_path.empty()) {
      config_path = arg;
    } else {
      overrides.push_back(arg);
    }
  }
  SY_REQUIRE(ErrorKind::kUsage, !config_path.empty(), "train: no CONFIG.yaml given\n", kTrainUsage);
  const Config config = load_config(config_path, overrides);
  if (dry_run) {
    print_dry_run(config, world);
    return 0;
  }
  const TrainResult r = train(config, world);
  if (world.rank() != 0) return 0;
  std::printf("done: %lld steps, final loss %.4f", static_cast<long long>(r.steps), r.final_loss);
  if (r.val_ce >= 0) std::printf(", val ce %.4f", r.val_ce);
  std::printf("\n");
  return 0;
}

}  // namespace sy::trainer
