// `switchyard generate --checkpoint PATH [--prompt TEXT] [--max-new-tokens N] [--temperature X]
// [--top-k K] [--top-p P] [--seed S]`: sample text from a trained model.
#pragma once

namespace sy::trainer {

int run_generate_command(int argc, char** argv);

}  // namespace sy::trainer
