// The training loop of one process: data, model, optimizer, metrics, logs and evaluation.
//
// Each step runs the step's micro-batches (global_batch_size / micro_batch_size, sampled by
// (seed, step, micro-batch) only), accumulates the mean gradient over them, clips by global norm,
// and takes one AdamW step at the scheduled learning rate.
#pragma once

#include <memory>
#include <string>

#include "trainer/config/config.h"

namespace sy::trainer {

struct TrainResult {
  int64_t steps = 0;
  double final_loss = 0;
  double val_ce = -1;  // mean cross-entropy on the validation windows; -1 without a val set
};

// Trains as the configuration says; throws sy::Error (kUsage, kBadInput, kNumerical) on failure.
TrainResult train(const Config& config);

}  // namespace sy::trainer
