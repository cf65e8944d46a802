// A small command-line option reader for the subcommands: --name VALUE pairs and flags, with
// kUsage errors that name the option.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

namespace sy::trainer {

class Options {
 public:
  // Reads argv[1..argc) (argv[0] is the subcommand). `with_value` lists the options that take a
  // value, `flags` those that do not; anything else is an error naming the option.
  Options(const char* command, int argc, char** argv, const std::set<std::string>& with_value,
          const std::set<std::string>& flags = {"--help"});

  bool has(const std::string& name) const { return values_.count(name) > 0; }
  std::string get(const std::string& name, const std::string& fallback = "") const;
  std::string require(const std::string& name) const;
  int64_t get_int(const std::string& name, int64_t fallback) const;
  double get_double(const std::string& name, double fallback) const;

 private:
  std::string command_;
  std::map<std::string, std::string> values_;
};

}  // namespace sy::trainer
