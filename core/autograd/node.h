// A node of the autograd graph: one recorded op application.
//
// A node holds an edge per input (to the node that produced it, or to the leaf it is) and a
// backward function that maps the gradient of the op's output to the gradients of its inputs,
// using the tensors the op saved. After a backward pass the node is released: its edges and
// saved tensors are dropped, so a graph's memory lives exactly until its backward has run.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <vector>

#include "core/autograd/op_registry.h"
#include "core/tensor/tensor.h"

namespace sy::core {

class Node;

struct Edge {
  std::shared_ptr<Node> node;        // producer of a non-leaf input, or null
  std::shared_ptr<TensorImpl> leaf;  // a leaf input that requires grad, or null
  Shape shape;                       // the input's shape (gradients must match it)
  bool active() const { return node != nullptr || leaf != nullptr; }
};

// grad_output (the output's shape) -> one gradient per input, in input order; an undefined
// Tensor where an input gets no gradient.
using BackwardFn = std::function<std::vector<Tensor>(const Tensor& grad_output)>;

class Node {
 public:
  Node(const OpInfo& op, std::vector<Edge> edges, BackwardFn backward);

  const OpInfo& op() const { return *op_; }
  const std::vector<Edge>& edges() const { return edges_; }
  // Creation order; later nodes run first in backward.
  uint64_t sequence() const { return sequence_; }
  bool released() const { return released_; }

  // Runs the backward rule and checks the gradients' count and shapes.
  std::vector<Tensor> apply(const Tensor& grad_output);
  // Drops edges and saved tensors.
  void release();

 private:
  const OpInfo* op_;
  std::vector<Edge> edges_;
  BackwardFn backward_;
  uint64_t sequence_;
  bool released_ = false;
};

// True when an op applied to these inputs must record a node (grad mode on and some input
// requires grad). Ops use it to skip saving tensors that only backward needs.
bool should_record(std::initializer_list<const Tensor*> inputs);
bool should_record(const Tensor& a);
bool should_record(const Tensor& a, const Tensor& b);

// Makes `output` the result of `op` applied to `inputs` if should_record(inputs); returns output.
// The backward function must not capture `output` itself (that would be a reference cycle):
// capture output.detach() instead.
Tensor record(const OpInfo& op, Tensor output, const std::vector<Tensor>& inputs,
              BackwardFn backward);

}  // namespace sy::core
