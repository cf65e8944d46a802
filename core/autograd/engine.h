// Reverse-mode execution of a recorded graph.
#pragma once

#include <vector>

#include "core/tensor/tensor.h"

namespace sy::core {

// Propagates grad_output (shaped like root) back through root's graph: nodes run in reverse
// topological order (latest-created first among the ready ones, so the order is deterministic),
// gradients reaching a tensor along several paths are summed, and leaf gradients accumulate into
// their grad() across calls. Every node reached is released afterwards.
//
// Gradient-ready hooks (Tensor::set_grad_ready_hook): a leaf with a hook has the edges into it
// counted while the graph is discovered; when the last of them has been processed (a gradient
// accumulated or not: nodes that no gradient reached still run through the loop) its hook is
// called, once for this pass, before the nodes that run later. From then on this pass does not
// touch that leaf's grad(). A root that is itself a leaf calls its hook after its gradient is
// accumulated. Leaves without a hook cost one test per edge. Hooks run on the calling thread with
// grad mode off; an exception from a hook leaves run_backward (the rest of the graph unprocessed).
void run_backward(const Tensor& root, const Tensor& grad_output);

// The leaves that requires grad which run_backward(root, ...) would reach, i.e. exactly those whose
// grad-ready hooks it would call, each once, in no particular order (root itself when it is a
// leaf). A leaf not listed keeps its grad() through that pass. Walks the graph; changes nothing.
std::vector<TensorImpl*> reachable_leaves(const Tensor& root);

}  // namespace sy::core
