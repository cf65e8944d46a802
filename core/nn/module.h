// Module: a named tree of parameters.
//
// A parameter's full name is the dotted path of the modules above it plus its own name, and the
// names are the Hugging Face Mixtral names of the model contract (model.layers.0.self_attn.
// q_proj.weight, ...), so checkpoints and exports are a mapping, not a rewrite.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor/tensor.h"

namespace sy::core::nn {

struct NamedParameter {
  std::string name;
  Tensor tensor;
  bool weight_decay = true;  // false for norm weights
};

class Module {
 public:
  Module() = default;
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // Every parameter below this module, depth first in registration order, names prefixed.
  std::vector<NamedParameter> named_parameters(const std::string& prefix = "") const;
  int64_t num_parameters() const;
  void zero_grad();

 protected:
  // Registers a float32 leaf that requires grad; returns it (the handle shares the tensor).
  Tensor register_parameter(const std::string& name, Tensor value, bool weight_decay = true);
  // Registers a child whose lifetime is this module's (a member, or owned by a member container).
  void register_module(const std::string& name, Module* child);

 private:
  std::vector<NamedParameter> parameters_;
  std::vector<std::pair<std::string, Module*>> children_;
};

// Owns child modules named "0", "1", ... (model.layers.{l}, experts.{e}), or, for a list that
// holds a contiguous part of a longer one (a rank's share of the experts), "first", "first+1", ...
class ModuleList : public Module {
 public:
  explicit ModuleList(int64_t first_index = 0) : first_index_(first_index) {}

  template <typename M, typename... Args>
  M& emplace_back(Args&&... args) {
    auto child = std::make_unique<M>(std::forward<Args>(args)...);
    M& ref = *child;
    register_module(std::to_string(first_index_ + static_cast<int64_t>(children_.size())),
                    child.get());
    children_.push_back(std::move(child));
    return ref;
  }
  size_t size() const { return children_.size(); }

 private:
  int64_t first_index_;
  std::vector<std::unique_ptr<Module>> children_;
};

}  // namespace sy::core::nn
