// `switchyard train CONFIG.yaml [key.sub=value ...]`: train a model as the configuration says.
#pragma once

#include "parallel/comm/communicator.h"

namespace sy::trainer {

// argv[0] is "train"; `world` is every rank of the job (one without a launcher). Returns the
// process exit code (errors are thrown as sy::Error).
int run_train_command(int argc, char** argv, parallel::Communicator& world);

}  // namespace sy::trainer
