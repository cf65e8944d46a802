#include "core/autograd/op_registry.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>

namespace sy::core {

namespace {

// Function-local so it exists before any op's static initialiser runs.
std::map<std::string, std::unique_ptr<OpInfo>>& registry() {
  static std::map<std::string, std::unique_ptr<OpInfo>> ops;
  return ops;
}

}  // namespace

const OpInfo& register_op(const char* name) {
  auto& ops = registry();
  if (ops.count(name)) {
    // Runs during static initialisation, where an exception cannot be caught: fail loudly.
    std::fprintf(stderr, "switchyard: op \"%s\" is registered twice\n", name);
    std::abort();
  }
  std::unique_ptr<OpInfo> info(new OpInfo(name));
  const OpInfo& ref = *info;
  ops.emplace(name, std::move(info));
  return ref;
}

std::vector<const OpInfo*> registered_ops() {
  std::vector<const OpInfo*> out;
  for (const auto& [name, info] : registry()) out.push_back(info.get());
  return out;
}

}  // namespace sy::core
