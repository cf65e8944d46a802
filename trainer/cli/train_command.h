// `switchyard train CONFIG.yaml [key.sub=value ...]`: train a model as the configuration says.
#pragma once

namespace sy::trainer {

// argv[0] is "train"; returns the process exit code (errors are thrown as sy::Error).
int run_train_command(int argc, char** argv);

}  // namespace sy::trainer
