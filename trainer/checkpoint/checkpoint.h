// Checkpoints: one HDF5 file per saved step holding everything a bit-for-bit resume needs (the
// parameters, AdamW's moments and step count, every registered RNG stream, the sampler position,
// the step, tokens seen and the resolved config), saved atomically and verified on load.
// docs/CHECKPOINTS.md describes the file layout and the guarantees.
//
//   CheckpointState st{.step = 100, .tokens_seen = ..., .rngs = {{"data", rng.state()}}, ...};
//   std::string dir = save_checkpoint(run_dir, model, opt, st, keep_last, keep_every);
//   LoadedCheckpoint ck = load_checkpoint(run_dir, model, &opt);  // the run's latest checkpoint
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "core/nn/module.h"
#include "core/tensor/rng.h"
#include "trainer/checkpoint/checkpoint_files.h"
#include "trainer/optim/adamw.h"

namespace sy::trainer {

inline constexpr const char* kCheckpointFormat = "switchyard-checkpoint";
inline constexpr int64_t kCheckpointFormatVersion = 1;
// A test hook: when set to N >= 0, save_checkpoint calls std::abort() after writing N datasets,
// simulating a process killed mid-save.
inline constexpr const char* kAbortDuringSaveEnv = "SY_TEST_ABORT_DURING_SAVE";

// The training state around the tensors. RNG stream and data-position names are the trainer's
// own (e.g. "router_noise", "sampler.epoch"); they may not contain '/'.
struct CheckpointState {
  int64_t step = 0;
  int64_t tokens_seen = 0;
  std::map<std::string, core::RngState> rngs;
  std::map<std::string, int64_t> data_position;
  std::string config_yaml;  // the resolved config (to_yaml)
  bool operator==(const CheckpointState&) const = default;
};

struct LoadedCheckpoint {
  CheckpointState state;
  std::string file;  // the checkpoint.h5 that was read
  int64_t format_version = 0;
  int64_t optimizer_steps = 0;  // AdamW's step count, restored into the optimizer when given
};

// Selects parameters by name (with their AdamW moments); an empty one selects every parameter.
using ParameterFilter = std::function<bool(const std::string& name)>;

// Saves RUN_DIR/checkpoints/step_NNNNNNNN/checkpoint.h5 for st.step: written into a .tmp_
// directory, flushed and fsynced, renamed into place, then `latest` is updated and the retention
// policy applied (the newest keep_last, plus every keep_every-th step when keep_every > 0).
// Returns the checkpoint directory. Failures are kInternal naming the path.
std::string save_checkpoint(const std::string& run_dir, const core::nn::Module& model,
                            const AdamW& opt, const CheckpointState& st, int keep_last,
                            int keep_every);

// save_checkpoint in its steps, for saves that several processes write in turn:
//   file = begin_checkpoint(run_dir, step)            a new .tmp_ directory; returns its file
//   write_checkpoint_file(file, ...), then append_checkpoint_tensors(file, ...) by each writer
//   dir = publish_checkpoint(run_dir, file, step, keep_last, keep_every)
std::string begin_checkpoint(const std::string& run_dir, int64_t step);
std::string publish_checkpoint(const std::string& run_dir, const std::string& temp_file,
                               int64_t step, int keep_last, int keep_every);

// Loads a checkpoint (`path`: a run directory, meaning its latest checkpoint, a checkpoint
// directory, or a checkpoint.h5) into `model` and, when not null, `opt` (moments and step count).
// `held_elsewhere`, when set, names the datasets the file may hold that this model does not (the
// experts of other ranks under expert parallelism); they are skipped, not an error.
// Everything is read and verified before any tensor is touched, so a failed load leaves the model
// and optimizer as they were. Any problem with the file is kBadInput naming the file and the
// dataset or attribute: not HDF5, truncated, corrupt data (Fletcher32 or checksum), a missing or
// unexpected parameter, a shape that differs from the model's, a newer format_version.
LoadedCheckpoint load_checkpoint(const std::string& path, core::nn::Module& model, AdamW* opt,
                                 const ParameterFilter& held_elsewhere = {});

// Writes the checkpoint file itself (no directories, no retention): the layout of
// docs/CHECKPOINTS.md, with the parameters `filter` selects. save_checkpoint uses it; tests use it
// to build files directly.
void write_checkpoint_file(const std::string& file, const core::nn::Module& model, const AdamW* opt,
                           const CheckpointState& st, const ParameterFilter& filter = {});
// Adds the parameters `filter` selects (and their moments when opt is not null) to a file that
// write_checkpoint_file made: how a rank writes the tensors only it holds.
void append_checkpoint_tensors(const std::string& file, const core::nn::Module& model,
                               const AdamW* opt, const ParameterFilter& filter);

}  // namespace sy::trainer
