// `switchyard prep`: text files (or the installed fortune collections) -> token shards
// (docs/DATA.md).
#pragma once

namespace sy::trainer {

// argv[0] is "prep"; returns the process exit code. Bad options throw sy::Error(kUsage),
// unreadable inputs sy::Error(kBadInput).
int run_prep_command(int argc, char** argv);

}  // namespace sy::trainer
