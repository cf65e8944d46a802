#include "core/nn/module.h"

#include "core/common/error.h"

namespace sy::core::nn {

std::vector<NamedParameter> Module::named_parameters(const std::string& prefix) const {
  std::vector<NamedParameter> out;
  const std::string dot = prefix.empty() ? "" : prefix + ".";
  for (const NamedParameter& p : parameters_)
    out.push_back({dot + p.name, p.tensor, p.weight_decay});
  for (const auto& [name, child] : children_) {
    for (NamedParameter& p : child->named_parameters(dot + name)) out.push_back(std::move(p));
  }
  return out;
}

int64_t Module::num_parameters() const {
  int64_t n = 0;
  for (const NamedParameter& p : named_parameters()) n += p.tensor.numel();
  return n;
}

void Module::zero_grad() {
  for (NamedParameter& p : named_parameters()) p.tensor.clear_grad();
}

Tensor Module::register_parameter(const std::string& name, Tensor value, bool weight_decay) {
  SY_CHECK(value.defined() && value.dtype() == DType::kF32, "parameter ", name,
           " must be a float32 tensor");
  for (const NamedParameter& p : parameters_)
    SY_CHECK(p.name != name, "parameter ", name, " twice");
  value.set_requires_grad(true);
  parameters_.push_back({name, value, weight_decay});
  return value;
}

void Module::register_module(const std::string& name, Module* child) {
  SY_CHECK(child != nullptr, "module ", name, " is null");
  children_.emplace_back(name, child);
}

}  // namespace sy::core::nn
