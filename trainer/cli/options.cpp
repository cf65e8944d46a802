#include "trainer/cli/options.h"

#include <cerrno>
#include <cstdlib>

#include "core/common/error.h"

namespace sy::trainer {

Options::Options(const char* command, int argc, char** argv,
                 const std::set<std::string>& with_value, const std::set<std::string>& flags)
    : command_(command) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (flags.count(arg)) {
      values_[arg] = "";
    } else if (with_value.count(arg)) {
      SY_REQUIRE(ErrorKind::kUsage, i + 1 < argc, command_, ": ", arg, " needs a value");
      values_[arg] = argv[++i];
    } else {
      SY_FAIL(ErrorKind::kUsage, command_, ": unknown option '", arg, "' (see switchyard ",
              command_, " --help)");
    }
  }
}

std::string Options::get(const std::string& name, const std::string& fallback) const {
  const auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second;
}

std::string Options::require(const std::string& name) const {
  SY_REQUIRE(ErrorKind::kUsage, has(name), command_, ": ", name, " is required (see switchyard ",
             command_, " --help)");
  return get(name);
}

int64_t Options::get_int(const std::string& name, int64_t fallback) const {
  if (!has(name)) return fallback;
  const std::string v = get(name);
  char* end = nullptr;
  errno = 0;
  const long long x = std::strtoll(v.c_str(), &end, 10);
  SY_REQUIRE(ErrorKind::kUsage, !v.empty() && *end == '\0' && errno == 0, command_, ": ", name,
             " expects an integer, got '", v, "'");
  return x;
}

double Options::get_double(const std::string& name, double fallback) const {
  if (!has(name)) return fallback;
  const std::string v = get(name);
  char* end = nullptr;
  errno = 0;
  const double x = std::strtod(v.c_str(), &end);
  SY_REQUIRE(ErrorKind::kUsage, !v.empty() && *end == '\0' && errno == 0, command_, ": ", name,
             " expects a number, got '", v, "'");
  return x;
}

}  // namespace sy::trainer
