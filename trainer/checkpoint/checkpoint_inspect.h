// Inspecting a checkpoint without a model: its header, a summary of its config, every dataset's
// shape, size and checksum, each verified by reading all of its bytes (`switchyard inspect`).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/tensor/rng.h"

namespace sy::trainer {

struct DatasetCheck {
  std::string path;   // "/params/model.norm.weight"
  std::string dtype;  // "f32", "u8", "u64"
  std::vector<int64_t> shape;
  int64_t bytes = 0;
  bool fletcher32 = false;
  bool has_checksum = false;
  uint32_t stored_checksum = 0, computed_checksum = 0;
  bool ok = false;
  std::string error;  // why it is not ok
};

struct CheckpointSummary {
  std::string file;
  int64_t format_version = 0, step = 0, tokens_seen = 0;
  std::string writer;
  bool has_optimizer = false;
  int64_t optimizer_steps = 0;
  int64_t lr_step = 0;
  std::string config_yaml;
  std::vector<std::string> config_summary;  // "model: ...", "moe: ...", ...
  std::map<std::string, core::RngState> rngs;
  std::map<std::string, int64_t> data_position;
  std::vector<DatasetCheck> datasets;  // /config, /params/*, /optim/m/*, /optim/v/*, /rng/*
  int64_t parameters = 0;              // elements under /params

  int failures() const;
  bool ok() const { return failures() == 0; }
};

// Reads and verifies every dataset of the checkpoint at `path` (a run directory, a checkpoint
// directory or a checkpoint.h5). A file that cannot be read as a checkpoint at all (missing, not
// HDF5, truncated, not Switchyard, newer format) throws kBadInput; damaged datasets are reported
// in the summary (ok() false) and do not throw.
CheckpointSummary inspect_checkpoint(const std::string& path);

// The report `switchyard inspect` prints.
std::string format_checkpoint_summary(const CheckpointSummary& s);

}  // namespace sy::trainer
