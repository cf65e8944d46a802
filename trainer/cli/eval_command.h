// `switchyard eval --checkpoint PATH --data FILE.bin [--seq-len T] [--windows N]`: mean
// cross-entropy over consecutive windows, printed as one JSON line.
#pragma once

namespace sy::trainer {

int run_eval_command(int argc, char** argv);

}  // namespace sy::trainer
