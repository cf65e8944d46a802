// Checkpoint directories on disk: names, durable atomic publication, the `latest` pointer,
// retention, and finding the newest complete checkpoint of a run (docs/CHECKPOINTS.md).
//
//   RUN_DIR/checkpoints/step_NNNNNNNN/checkpoint.h5   complete checkpoints only
//   RUN_DIR/checkpoints/latest                        "step_NNNNNNNN\n", the newest
//   RUN_DIR/checkpoints/.tmp_*                        saves in progress or abandoned; ignored
//
// Filesystem failures while saving are ErrorKind::kInternal naming the path; a path given by the
// user that holds no checkpoint is kBadInput.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sy::trainer {

inline constexpr const char* kCheckpointsDirName = "checkpoints";
inline constexpr const char* kCheckpointFileName = "checkpoint.h5";
inline constexpr const char* kLatestFileName = "latest";
inline constexpr const char* kTempPrefix = ".tmp_";

// "step_00000042" (8 digits, more when the step needs them).
std::string checkpoint_dir_name(int64_t step);
// The step of a "step_NNNNNNNN" name (8 or more digits), or nullopt for any other name.
std::optional<int64_t> parse_checkpoint_dir_name(const std::string& name);

// The complete checkpoints (step_* directories holding checkpoint.h5) in a checkpoints/ folder,
// newest first, as (step, directory path).
std::vector<std::pair<int64_t, std::string>> list_checkpoints(const std::string& checkpoints_dir);

// The newest complete checkpoint directory of a run: the one `latest` names when it is complete,
// else the highest-step complete one; nullopt when there is none.
std::optional<std::string> find_latest_checkpoint(const std::string& run_dir);

// The checkpoint.h5 that `path` means: the file itself, a checkpoint directory's file, or a run
// directory's latest checkpoint. Throws kBadInput naming the path when there is none.
std::string resolve_checkpoint_file(const std::string& path);

// Removes every .tmp_* entry of a checkpoints/ folder (abandoned saves and deletions).
void remove_temporaries(const std::string& checkpoints_dir);

// fsync(2) on a file or a directory.
void fsync_path(const std::string& path);

// Moves the finished `temp_dir` to `final_dir` (replacing an existing one) and fsyncs the parent.
void publish_directory(const std::string& temp_dir, const std::string& final_dir);

// Points checkpoints/latest at `dir_name`, atomically (temporary file, fsync, rename, fsync).
void write_latest(const std::string& checkpoints_dir, const std::string& dir_name);

// Deletes complete checkpoints outside the policy: the newest `keep_last` (all when <= 0), every
// step that is a multiple of `keep_every` (when > 0) and `protected_step` are kept. Returns the
// deleted directories. Each is first renamed to a .tmp_ name, so a crash never leaves a
// half-deleted directory that looks complete.
std::vector<std::string> apply_retention(const std::string& checkpoints_dir, int keep_last,
                                         int keep_every, int64_t protected_step);

}  // namespace sy::trainer
