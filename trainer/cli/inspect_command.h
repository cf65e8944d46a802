// `switchyard inspect PATH`: a checkpoint's summary and the verification of every byte of it.
#pragma once

namespace sy::trainer {

// argv[0] is "inspect"; returns the process exit code: 0 when every dataset verifies. A damaged
// or unreadable checkpoint throws sy::Error(kBadInput) (exit code 3) naming the file and the
// dataset, after the report has been printed when the file could be read at all.
int run_inspect_command(int argc, char** argv);

}  // namespace sy::trainer
