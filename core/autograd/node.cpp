#include "core/autograd/node.h"

#include <atomic>

#include "core/autograd/grad_mode.h"
#include "core/common/error.h"

namespace sy::core {

namespace {
std::atomic<uint64_t> g_next_sequence{0};
}

Node::Node(const OpInfo& op, std::vector<Edge> edges, BackwardFn backward)
    : op_(&op),
      edges_(std::move(edges)),
      backward_(std::move(backward)),
      sequence_(g_next_sequence.fetch_add(1, std::memory_order_relaxed)) {}

std::vector<Tensor> Node::apply(const Tensor& grad_output) {
  SY_CHECK(!released_, "backward through op \"", op_->name(),
           "\" a second time: the graph is released after backward");
  std::vector<Tensor> grads = backward_(grad_output);
  SY_CHECK(grads.size() == edges_.size(), "op \"", op_->name(), "\" returned ", grads.size(),
           " gradients for ", edges_.size(), " inputs");
  for (size_t i = 0; i < grads.size(); ++i) {
    if (!grads[i].defined() || !edges_[i].active()) continue;
    SY_CHECK(grads[i].shape() == edges_[i].shape, "op \"", op_->name(), "\" gradient ", i, " is ",
             grads[i].describe(), ", input shape is ", edges_[i].shape.to_string());
  }
  return grads;
}

void Node::release() {
  edges_.clear();
  edges_.shrink_to_fit();
  backward_ = nullptr;
  released_ = true;
}

bool should_record(std::initializer_list<const Tensor*> inputs) {
  if (!GradMode::is_enabled()) return false;
  for (const Tensor* t : inputs) {
    if (t->defined() && t->requires_grad()) return true;
  }
  return false;
}

bool should_record(const Tensor& a) { return should_record({&a}); }
bool should_record(const Tensor& a, const Tensor& b) { return should_record({&a, &b}); }

Tensor record(const OpInfo& op, Tensor output, const std::vector<Tensor>& inputs,
              BackwardFn backward) {
  bool any = false;
  if (GradMode::is_enabled()) {
    for (const Tensor& t : inputs) any = any || (t.defined() && t.requires_grad());
  }
  if (!any) return output;
  std::vector<Edge> edges;
  edges.reserve(inputs.size());
  for (const Tensor& t : inputs) {
    Edge e;
    if (t.defined() && t.requires_grad()) {
      e.shape = t.shape();
      if (t.is_leaf()) {
        e.leaf = t.impl_ptr();
      } else {
        e.node = t.grad_fn();
      }
    }
    edges.push_back(std::move(e));
  }
  TensorImpl* impl = output.impl();
  SY_CHECK(impl->grad_fn == nullptr, "op \"", op.name(), "\" output already has a grad_fn");
  impl->grad_fn = std::make_shared<Node>(op, std::move(edges), std::move(backward));
  impl->requires_grad = true;
  return output;
}

}  // namespace sy::core
