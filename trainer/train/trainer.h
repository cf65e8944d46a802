// The training loop of one process: data, model, optimizer, metrics, logs and evaluation.
//
// Each step runs the step's micro-batches (global_batch_size / micro_batch_size, sampled by
// (seed, step, micro-batch) only), accumulates the mean gradient over them, clips by global norm,
// and takes one AdamW step at the scheduled learning rate.
#pragma once

#include <memory>
#include <string>

#include "parallel/comm/communicator.h"
#include "trainer/config/config.h"

namespace sy::trainer {

struct TrainResult {
  int64_t steps = 0;
  double final_loss = 0;
  double val_ce = -1;  // mean cross-entropy on the validation windows; -1 without a val set
};

// Trains as the configuration says over `world` (dp x pp ranks; one rank without a launcher);
// throws sy::Error (kUsage, kBadInput, kNumerical, kDistributed) on failure. With dp > 1 each
// data-parallel rank runs its contiguous share of the step's micro-batches and gradients are
// summed across ranks, so the step equals the 1-rank step up to float summation order.
TrainResult train(const Config& config, parallel::Communicator& world);

// --dry-run: the layout (every rank's coordinates and host), parameter counts and a per-rank
// memory estimate, printed by rank 0. Collective over the world.
void print_dry_run(const Config& config, parallel::Communicator& world);

}  // namespace sy::trainer
