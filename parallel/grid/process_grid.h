// ProcessGrid: the dp x ep x pp layout of the world's ranks and the sub-communicators of each
// parallel dimension. No global state: the trainer owns one grid, made once after the Runtime.
//
// The world has dp * pp ranks; ep divides dp. Rank order (the only one):
//   rank = pp_stage * dp + dp_index            pipeline stages outermost; a dp group is contiguous
// Inside a stage's dp group of dp ranks, experts are sharded over ep ranks:
//   ep_index      = dp_index % ep    which expert shard this rank holds (its rank in ep_comm)
//   expert_replica = dp_index / ep   which copy of the shards (its rank in expert_dp_comm)
// so an ep group is a block of ep consecutive dp indices, and an expert-data-parallel group holds
// the dp/ep ranks of a stage that hold the same shard. Groups (every rank belongs to one of each):
//   dp_comm         the dp ranks of this stage                    rank = dp_index
//   ep_comm         the ep ranks of this stage with the same expert_replica   rank = ep_index
//   expert_dp_comm  the dp/ep ranks of this stage with the same ep_index      rank = expert_replica
//   pp_comm         the pp ranks with this dp_index, one per stage            rank = pp_stage
// Example dp=4 ep=2 pp=2 (8 ranks): stage 0 = ranks 0-3, stage 1 = ranks 4-7; ep groups {0,1},
// {2,3}, {4,5}, {6,7}; expert-dp groups {0,2}, {1,3}, {4,6}, {5,7}; pp groups {0,4} ... {3,7}.
#pragma once

#include <memory>
#include <string>

#include "parallel/comm/communicator.h"

namespace sy::parallel {

struct Coordinates {
  int dp_index = 0;        // 0 .. dp-1, position in the stage's dp group
  int ep_index = 0;        // dp_index % ep: the expert shard this rank holds
  int pp_stage = 0;        // 0 .. pp-1
  int expert_replica = 0;  // dp_index / ep: position among the ranks holding the same shard
};

class ProcessGrid {
 public:
  // Collective over `world`, which must outlive the grid. Checks, on every rank and before any
  // communication: dp, ep, pp >= 1 and ep divides dp (kUsage), world.size() == dp * pp
  // (kDistributed, naming dp, pp and the world size). Then checks that every rank passed the same
  // (dp, ep, pp) (kDistributed) and splits the four sub-communicators.
  static ProcessGrid create(Communicator& world, int dp, int ep, int pp);

  // The rank order: world rank of the rank at (dp_index, pp_stage) in a grid with `dp` ranks per
  // stage, and the coordinates of world rank `rank`.
  static int world_rank(int dp_index, int pp_stage, int dp) { return pp_stage * dp + dp_index; }
  static Coordinates coordinates_of(int rank, int dp, int ep);

  ProcessGrid(ProcessGrid&&) noexcept = default;
  ProcessGrid& operator=(ProcessGrid&&) noexcept = default;
  ~ProcessGrid() = default;

  int dp() const { return dp_; }
  int ep() const { return ep_; }
  int pp() const { return pp_; }
  int rank() const { return world_->rank(); }
  int world_size() const { return world_->size(); }
  const Coordinates& coords() const { return coords_; }
  bool is_first_stage() const { return coords_.pp_stage == 0; }
  bool is_last_stage() const { return coords_.pp_stage == pp_ - 1; }

  Communicator& world() const { return *world_; }
  Communicator& dp_comm() const { return *dp_comm_; }
  Communicator& ep_comm() const { return *ep_comm_; }
  Communicator& expert_dp_comm() const { return *expert_dp_comm_; }
  Communicator& pp_comm() const { return *pp_comm_; }

  // Pipeline neighbours as ranks in pp_comm() (equal to their stage), -1 at either end.
  int pp_prev() const { return coords_.pp_stage > 0 ? coords_.pp_stage - 1 : -1; }
  int pp_next() const { return coords_.pp_stage + 1 < pp_ ? coords_.pp_stage + 1 : -1; }
  // The same neighbours as world ranks, -1 at either end.
  int pp_prev_world() const;
  int pp_next_world() const;

  // This rank's line for --dry-run: "rank 3 host h: dp 1/2 ep 1/2 pp 1/2" (index/size).
  std::string describe() const;
  // Collective over the world: every rank's describe() line in rank order, newline-terminated.
  std::string describe_all() const;

 private:
  ProcessGrid() = default;

  Communicator* world_ = nullptr;
  int dp_ = 1;
  int ep_ = 1;
  int pp_ = 1;
  Coordinates coords_;
  std::string host_;
  std::unique_ptr<Communicator> dp_comm_;
  std::unique_ptr<Communicator> ep_comm_;
  std::unique_ptr<Communicator> expert_dp_comm_;
  std::unique_ptr<Communicator> pp_comm_;
};

}  // namespace sy::parallel
