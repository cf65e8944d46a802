// The registry of differentiable ops.
//
// An autograd node can only be made from an OpInfo, and an OpInfo only comes from register_op, so
// every op that records a graph is in this registry. tests/unit/core/ops/gradcheck_test.cpp walks
// it and fails for any op without a finite-difference gradient check: an op cannot be added
// without one.
//
//   SY_REGISTER_OP(kMatmulOp, "matmul");   // at namespace scope in the op's .cpp
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace sy::core {

class OpInfo;

// Registers a new op name (at static-initialisation time); names must be unique.
const OpInfo& register_op(const char* name);

// Only register_op makes one, so every node's op is in the registry.
class OpInfo {
 public:
  const std::string& name() const { return name_; }

 private:
  explicit OpInfo(std::string name) : name_(std::move(name)) {}
  friend const OpInfo& register_op(const char* name);
  std::string name_;
};
// Every registered op, sorted by name.
std::vector<const OpInfo*> registered_ops();

}  // namespace sy::core

#define SY_REGISTER_OP(var, name) static const ::sy::core::OpInfo& var = ::sy::core::register_op(name)
