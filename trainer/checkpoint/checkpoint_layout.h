// The object paths of the checkpoint file format (docs/CHECKPOINTS.md) and the reading of its
// root attributes, shared by load_checkpoint and inspect_checkpoint.
#pragma once

#include <cstdint>
#include <string>

#include "trainer/checkpoint/hdf5_io.h"

namespace sy::trainer::layout {

inline constexpr const char* kRoot = "/";
inline constexpr const char* kConfig = "/config";
inline constexpr const char* kParams = "/params";
inline constexpr const char* kOptim = "/optim";
inline constexpr const char* kOptimM = "/optim/m";
inline constexpr const char* kOptimV = "/optim/v";
inline constexpr const char* kRng = "/rng";
inline constexpr const char* kData = "/data";
inline constexpr const char* kLr = "/lr";

// Root attributes.
inline constexpr const char* kFormatAttr = "format";
inline constexpr const char* kFormatVersionAttr = "format_version";
inline constexpr const char* kStepAttr = "step";
inline constexpr const char* kTokensAttr = "tokens_seen";
inline constexpr const char* kWriterAttr = "writer";
// /optim attribute: AdamW's step count; /lr attribute: the schedule position.
inline constexpr const char* kOptimStepsAttr = "steps";
inline constexpr const char* kLrStepAttr = "step";

inline std::string child(const std::string& group, const std::string& name) {
  return group + "/" + name;
}

struct Header {
  int64_t format_version = 0;
  int64_t step = 0;
  int64_t tokens_seen = 0;
  std::string writer;  // "switchyard 0.1.0"; empty when absent
};

// Checks `format` and `format_version` (kBadInput naming the file and the attribute: not a
// Switchyard checkpoint, or a version newer than this build reads) and returns the header.
Header read_header(const h5::File& f);

}  // namespace sy::trainer::layout
