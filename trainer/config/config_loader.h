// Reading, validating and writing the experiment configuration (YAML, through yaml-cpp).
//
// Every failure is a sy::Error of kind kUsage (exit code 2) whose message says where the bad value
// came from and names the full key, e.g.
//   configs/x.yaml:7: model.num_heads: expected an integer, got "eight"
//   override 'train.steps=abc': train.steps: expected an integer, got "abc"
// Unknown sections and keys (with a "did you mean" suggestion), duplicate keys, wrong types, values
// out of range, enum values outside the allowed set, missing required keys and cross-field
// violations are all reported this way. docs/CONFIG.md lists every key.
#pragma once

#include <string>
#include <vector>

#include "trainer/config/config.h"

namespace sy::trainer {

// Reads the YAML file at `path`, applies `overrides` ("section.key=value", the value parsed as a
// YAML scalar; later overrides win over earlier ones, all of them over the file), resolves defaults
// and validates the result.
Config load_config(const std::string& path, const std::vector<std::string>& overrides = {});

// As load_config, from YAML text; `source_name` (usually the file name) prefixes error locations.
Config parse_config(const std::string& yaml_text, const std::string& source_name,
                    const std::vector<std::string>& overrides = {});

// The resolved configuration as YAML: every key of every section, defaults included, floats with
// enough digits to round-trip exactly, so parse_config(to_yaml(c), ...) == c for a valid c.
std::string to_yaml(const Config& config);

// Checks the ranges and cross-field constraints of a Config built in code (the loader runs the
// same checks). Throws sy::Error(kUsage) naming the key(s).
void validate_config(const Config& config);

}  // namespace sy::trainer
