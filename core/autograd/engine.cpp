#include "core/autograd/engine.h"

#include <functional>
#include <queue>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/autograd/grad_mode.h"
#include "core/autograd/node.h"
#include "core/common/error.h"
#include "core/ops/elementwise.h"

namespace sy::core {

namespace {

// Adds g into a leaf's gradient. The first gradient is adopted without a copy when nothing else
// refers to its storage (the common case); otherwise it is copied, so a later in-place
// accumulation can never write through to another tensor.
void accumulate_leaf(TensorImpl& leaf, Tensor&& g) {
  if (!leaf.grad.defined()) {
    const bool unshared = g.impl_ptr().use_count() == 1 && g.impl()->storage.use_count() == 1;
    leaf.grad = unshared ? std::move(g) : g.clone();
    return;
  }
  add_(leaf.grad, g);
}

// Calls leaf's grad-ready hook, if any. A copy runs, so a hook may replace or remove itself.
void grad_ready(TensorImpl& leaf) {
  if (!leaf.grad_ready_hook) return;
  const std::function<void()> hook = leaf.grad_ready_hook;
  hook();
}

struct LaterFirst {
  bool operator()(const std::shared_ptr<Node>& a, const std::shared_ptr<Node>& b) const {
    return a->sequence() < b->sequence();
  }
};

}  // namespace

void run_backward(const Tensor& root, const Tensor& grad_output) {
  SY_CHECK(root.defined() && root.requires_grad(),
           "backward on a tensor that does not require grad: ", root.describe());
  SY_CHECK(grad_output.defined() && grad_output.shape() == root.shape(), "backward: gradient ",
           grad_output.describe(), " for root ", root.describe());
  NoGradGuard no_grad;
  if (root.is_leaf()) {
    accumulate_leaf(*root.impl(), grad_output.clone());
    grad_ready(*root.impl());
    return;
  }

  // Discover the graph and count, per node, the edges that lead into it, and per leaf with a
  // grad-ready hook, the edges into that leaf.
  std::vector<std::shared_ptr<Node>> nodes;  // keeps every node alive while edges are released
  std::unordered_map<Node*, int> dependencies;
  std::unordered_map<TensorImpl*, int> hooked_leaf_edges;
  {
    std::vector<Node*> stack;
    nodes.push_back(root.grad_fn());
    dependencies[root.grad_fn().get()] = 0;
    stack.push_back(root.grad_fn().get());
    while (!stack.empty()) {
      Node* n = stack.back();
      stack.pop_back();
      SY_CHECK(!n->released(), "backward through op \"", n->op().name(),
               "\" a second time: the graph is released after backward");
      for (const Edge& e : n->edges()) {
        if (e.leaf && e.leaf->grad_ready_hook) ++hooked_leaf_edges[e.leaf.get()];
        if (!e.node) continue;
        auto [it, inserted] = dependencies.try_emplace(e.node.get(), 0);
        ++it->second;
        if (inserted) {
          nodes.push_back(e.node);
          stack.push_back(e.node.get());
        }
      }
    }
  }

  std::unordered_map<Node*, Tensor> pending;
  pending[root.grad_fn().get()] = grad_output;
  std::priority_queue<std::shared_ptr<Node>, std::vector<std::shared_ptr<Node>>, LaterFirst> ready;
  ready.push(root.grad_fn());
  while (!ready.empty()) {
    std::shared_ptr<Node> node = ready.top();
    ready.pop();
    // A node that no gradient reached still runs through the loop (without its backward rule)
    // so the nodes below it are counted down and released too.
    std::vector<Tensor> grads(node->edges().size());
    if (auto slot = pending.find(node.get()); slot != pending.end()) {
      Tensor grad = std::move(slot->second);
      pending.erase(slot);
      grads = node->apply(grad);
    }
    const std::vector<Edge>& edges = node->edges();
    for (size_t i = 0; i < edges.size(); ++i) {
      const Edge& e = edges[i];
      if (e.leaf) {
        if (grads[i].defined()) accumulate_leaf(*e.leaf, std::move(grads[i]));
        if (!hooked_leaf_edges.empty()) {
          auto it = hooked_leaf_edges.find(e.leaf.get());
          if (it != hooked_leaf_edges.end() && --it->second == 0) grad_ready(*e.leaf);
        }
      } else if (e.node) {
        if (grads[i].defined()) {
          Tensor& acc = pending[e.node.get()];
          acc = acc.defined() ? add(acc, grads[i]) : std::move(grads[i]);
        }
        if (--dependencies[e.node.get()] == 0) ready.push(e.node);
      }
    }
    node->release();
  }
}

std::vector<TensorImpl*> reachable_leaves(const Tensor& root) {
  SY_CHECK(root.defined() && root.requires_grad(),
           "reachable_leaves of a tensor that does not require grad: ", root.describe());
  if (root.is_leaf()) return {root.impl()};
  std::vector<TensorImpl*> leaves;
  std::unordered_set<const void*> seen;  // nodes and leaves
  std::vector<Node*> stack = {root.grad_fn().get()};
  seen.insert(stack.back());
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (const Edge& e : n->edges()) {
      if (e.leaf && seen.insert(e.leaf.get()).second) leaves.push_back(e.leaf.get());
      if (e.node && seen.insert(e.node.get()).second) stack.push_back(e.node.get());
    }
  }
  return leaves;
}

}  // namespace sy::core
