// Reverse-mode execution of a recorded graph.
#pragma once

#include "core/tensor/tensor.h"

namespace sy::core {

// Propagates grad_output (shaped like root) back through root's graph: nodes run in reverse
// topological order (latest-created first among the ready ones, so the order is deterministic),
// gradients reaching a tensor along several paths are summed, and leaf gradients accumulate into
// their grad() across calls. Every node reached is released afterwards.
void run_backward(const Tensor& root, const Tensor& grad_output);

}  // namespace sy::core
