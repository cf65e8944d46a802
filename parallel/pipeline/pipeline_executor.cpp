#include "parallel/pipeline/pipeline_executor.h"

#include <chrono>

#include "core/autograd/grad_mode.h"
#include "core/common/error.h"
#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"

namespace sy::parallel {

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// MPI guarantees tags up to 32767. Messages between two ranks arrive in order, so tags that
// repeat every 16384 micro-batches cannot be confused (no stage has that many in flight).
int activation_tag(int64_t micro) { return static_cast<int>((2 * micro) % 32768); }
int gradient_tag(int64_t micro) { return static_cast<int>((2 * micro + 1) % 32768); }

}  // namespace

PipelineExecutor::PipelineExecutor(Communicator& pp, int prev, int next)
    : pp_(pp), prev_(prev), next_(next) {}

core::Tensor PipelineExecutor::receive(const core::Shape& shape, int source, int tag,
                                       double* wait) {
  core::Tensor t = core::Tensor::empty(shape);
  const auto t0 = Clock::now();
  pp_.recv(t.f32(), t.numel(), source, tag);
  *wait += since(t0);
  return t;
}

void PipelineExecutor::send(const core::Tensor& t, int dest, int tag) {
  // The payload lives in `sends_` until its send completes.
  core::Tensor payload = t.detach();
  auto pending = pp_.send_async(payload.f32(), payload.numel(), dest, tag);
  sends_.emplace_back(std::move(payload), std::move(pending));
  // Retire the sends that are done (and drive the transport's progress).
  std::erase_if(sends_, [](auto& s) { return s.second->test(); });
}

void PipelineExecutor::complete_sends(double* wait) {
  const auto t0 = Clock::now();
  for (auto& s : sends_) s.second->wait();
  sends_.clear();
  *wait += since(t0);
}

PipelineTiming PipelineExecutor::run(
    const std::vector<PipelineAction>& actions, StageWork& work,
    const std::function<void(const core::Tensor&)>& before_last_backward) {
  const auto started = Clock::now();
  PipelineTiming timing;
  int64_t backwards_left = 0;
  for (const PipelineAction& a : actions)
    backwards_left += a.kind == PipelineAction::Kind::kBackward;
  for (const PipelineAction& a : actions) {
    if (a.kind == PipelineAction::Kind::kForward) {
      InFlight f;
      if (prev_ >= 0) {
        f.input = receive(work.input_shape(a.micro), prev_, activation_tag(a.micro),
                          &timing.wait_seconds);
        f.input.set_requires_grad(true);
      }
      f.outputs = work.forward(a.micro, f.input);
      if (next_ >= 0) {
        SY_CHECK(f.outputs.activation.defined(), "pipeline: stage produced no activation");
        send(f.outputs.activation, next_, activation_tag(a.micro));
      }
      SY_CHECK(in_flight_.emplace(a.micro, std::move(f)).second, "pipeline: micro-batch ", a.micro,
               " forward twice");
      timing.peak_in_flight =
          std::max(timing.peak_in_flight, static_cast<int64_t>(in_flight_.size()));
      continue;
    }
    auto it = in_flight_.find(a.micro);
    SY_CHECK(it != in_flight_.end(), "pipeline: backward of micro-batch ", a.micro,
             " before its forward");
    InFlight f = std::move(it->second);
    in_flight_.erase(it);
    --backwards_left;
    // Backward from this stage's share of the loss plus sum(activation * its upstream gradient),
    // whose gradient with respect to the activation is exactly the upstream gradient.
    core::Tensor root = f.outputs.loss;
    if (next_ >= 0) {
      const core::Tensor upstream =
          receive(f.outputs.activation.shape(), next_, gradient_tag(a.micro), &timing.wait_seconds);
      const core::Tensor term = core::sum(core::mul(f.outputs.activation, upstream));
      root = root.defined() ? core::add(root, term) : term;
    }
    if (backwards_left == 0 && before_last_backward) before_last_backward(root);
    if (root.defined() && root.requires_grad()) root.backward();
    if (prev_ >= 0) {
      core::Tensor g = f.input.grad();
      if (!g.defined()) g = core::Tensor::zeros(f.input.shape());
      send(g, prev_, gradient_tag(a.micro));
    }
  }
  SY_CHECK(in_flight_.empty(), "pipeline: ", in_flight_.size(),
           " micro-batches without a backward pass");
  complete_sends(&timing.wait_seconds);
  timing.seconds = since(started);
  return timing;
}

}  // namespace sy::parallel
