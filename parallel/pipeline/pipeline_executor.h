// PipelineExecutor: runs one stage's schedule for a step, moving activations forward and their
// gradients backward between neighbouring stages over the pipeline communicator.
//
//   forward  F(m): receive the activation of micro-batch m from the previous stage (not on the
//                  first), run the stage (StageWork::forward), send its activation to the next
//                  stage (not on the last), keep what backward needs
//   backward B(m): receive d loss / d activation from the next stage (not on the last), run
//                  backward from this stage's loss share plus <activation, received gradient>,
//                  send the input activation's gradient to the previous stage (not on the first)
// Sends are nonblocking (the payload is kept until the send completes) and receives blocking, so
// with neighbours running the same schedule no rank can wait on another in a cycle. Messages
// carry tags 2m (activations) and 2m+1 (gradients), so a mismatch is an error, not a mix-up.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "core/tensor/tensor.h"
#include "parallel/comm/communicator.h"
#include "parallel/pipeline/schedule.h"

namespace sy::parallel {

struct StageOutputs {
  core::Tensor activation;  // (B,T,D) for the next stage; undefined on the last stage
  core::Tensor loss;        // () this stage's share of the loss, scaled as its gradient must be
                            // (e.g. / micro-batches); undefined when the stage adds none
};

// What a stage computes; the trainer supplies it.
class StageWork {
 public:
  virtual ~StageWork() = default;
  // input: undefined on the first stage, else the received activation (a leaf requiring grad).
  virtual StageOutputs forward(int64_t micro, const core::Tensor& input) = 0;
  // The shape of micro-batch m's activation entering this stage (received from the previous).
  virtual core::Shape input_shape(int64_t micro) const = 0;
};

struct PipelineTiming {
  double seconds = 0;       // the whole run
  double wait_seconds = 0;  // blocked receiving from a neighbour or completing sends
  int64_t peak_in_flight = 0;
};

class PipelineExecutor {
 public:
  // pp: the pipeline group (rank = stage). prev/next: neighbour ranks in it, -1 at either end.
  PipelineExecutor(Communicator& pp, int prev, int next);

  // Runs `actions` (a Schedule's, for this stage). before_last_backward(root), when set, is
  // called just before the step's final backward pass on this rank, with the tensor it starts
  // from (where the overlapped gradient reduction is armed).
  PipelineTiming run(const std::vector<PipelineAction>& actions, StageWork& work,
                     const std::function<void(const core::Tensor&)>& before_last_backward = {});

 private:
  struct InFlight {
    core::Tensor input;  // the received activation (a leaf), undefined on the first stage
    StageOutputs outputs;
  };
  core::Tensor receive(const core::Shape& shape, int source, int tag, double* wait);
  void send(const core::Tensor& t, int dest, int tag);
  void complete_sends(double* wait);

  Communicator& pp_;
  int prev_, next_;
  std::map<int64_t, InFlight> in_flight_;
  std::vector<std::pair<core::Tensor, std::unique_ptr<PendingCollective>>> sends_;
};

}  // namespace sy::parallel
