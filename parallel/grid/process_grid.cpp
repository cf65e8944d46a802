// ProcessGrid: the layout checks, the rank order and the four splits (see process_grid.h).
#include "parallel/grid/process_grid.h"

#include <cstdint>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/common/error.h"
#include "parallel/comm/runtime.h"

namespace sy::parallel {
namespace {

// describe_all() gathers host names as one byte per float (exact), this many per rank.
constexpr int64_t kHostChars = 64;

std::string line(int rank, const std::string& host, const Coordinates& c, int dp, int ep, int pp) {
  std::ostringstream os;
  os << "rank " << rank << " host " << host << ": dp " << c.dp_index << "/" << dp << " ep "
     << c.ep_index << "/" << ep << " pp " << c.pp_stage << "/" << pp;
  return os.str();
}

}  // namespace

Coordinates ProcessGrid::coordinates_of(int rank, int dp, int ep) {
  SY_CHECK(rank >= 0 && dp >= 1 && ep >= 1 && dp % ep == 0, "coordinates_of(rank ", rank, ", dp ",
           dp, ", ep ", ep, ")");
  Coordinates c;
  c.dp_index = rank % dp;
  c.pp_stage = rank / dp;
  c.ep_index = c.dp_index % ep;
  c.expert_replica = c.dp_index / ep;
  return c;
}

ProcessGrid ProcessGrid::create(Communicator& world, int dp, int ep, int pp) {
  SY_REQUIRE(ErrorKind::kUsage, dp >= 1 && ep >= 1 && pp >= 1, "parallel.dp (", dp,
             "), parallel.ep (", ep, ") and parallel.pp (", pp, ") must all be >= 1");
  SY_REQUIRE(ErrorKind::kUsage, dp % ep == 0, "parallel.ep (", ep, ") must divide parallel.dp (",
             dp, ")");
  const int64_t want = static_cast<int64_t>(dp) * pp;
  SY_REQUIRE(ErrorKind::kDistributed, want == world.size(), "the layout parallel.dp (", dp,
             ") x parallel.pp (", pp, ") = ", want, " ranks does not match the world size ",
             world.size(), " (launch with mpirun -np ", want, ", or change parallel.dp / pp)");

  // Every rank must have been given the same layout (e.g. the same overrides).
  std::vector<int64_t> extremes = {dp, ep, pp, -int64_t{dp}, -int64_t{ep}, -int64_t{pp}};
  world.all_reduce(extremes.data(), static_cast<int64_t>(extremes.size()), ReduceOp::kMax);
  for (int i = 0; i < 3; ++i) {
    SY_REQUIRE(ErrorKind::kDistributed, extremes[i] == -extremes[i + 3],
               "ranks disagree on the layout: parallel.",
               (i == 0   ? "dp"
                : i == 1 ? "ep"
                         : "pp"),
               " ranges from ", -extremes[i + 3], " to ", extremes[i],
               " across ranks (every rank must get the same config and overrides)");
  }

  ProcessGrid g;
  g.world_ = &world;
  g.dp_ = dp;
  g.ep_ = ep;
  g.pp_ = pp;
  g.coords_ = coordinates_of(world.rank(), dp, ep);
  g.host_ = hostname();
  const Coordinates& c = g.coords_;
  // Every rank calls every split in the same order; colors are group ids, keys the group rank.
  g.dp_comm_ = world.split(c.pp_stage, c.dp_index);
  g.ep_comm_ = world.split(c.pp_stage * (dp / ep) + c.expert_replica, c.ep_index);
  g.expert_dp_comm_ = world.split(c.pp_stage * ep + c.ep_index, c.expert_replica);
  g.pp_comm_ = world.split(c.dp_index, c.pp_stage);
  SY_CHECK(g.dp_comm_->size() == dp && g.dp_comm_->rank() == c.dp_index &&
               g.ep_comm_->size() == ep && g.ep_comm_->rank() == c.ep_index &&
               g.expert_dp_comm_->size() == dp / ep &&
               g.expert_dp_comm_->rank() == c.expert_replica && g.pp_comm_->size() == pp &&
               g.pp_comm_->rank() == c.pp_stage,
           "process grid split produced unexpected groups on rank ", world.rank());
  return g;
}

int ProcessGrid::pp_prev_world() const {
  const int prev = pp_prev();
  return prev < 0 ? -1 : world_rank(coords_.dp_index, prev, dp_);
}

int ProcessGrid::pp_next_world() const {
  const int next = pp_next();
  return next < 0 ? -1 : world_rank(coords_.dp_index, next, dp_);
}

std::string ProcessGrid::describe() const { return line(rank(), host_, coords_, dp_, ep_, pp_); }

std::string ProcessGrid::describe_all() const {
  const int n = world_size();
  std::vector<float> mine(kHostChars, 0.0f);
  for (size_t i = 0; i < host_.size() && i + 1 < static_cast<size_t>(kHostChars); ++i) {
    mine[i] = static_cast<float>(static_cast<unsigned char>(host_[i]));
  }
  std::vector<float> all(static_cast<size_t>(n * kHostChars));
  world_->all_gather(mine.data(), all.data(), kHostChars);
  std::string out;
  for (int r = 0; r < n; ++r) {
    std::string host;
    for (int64_t i = 0; i < kHostChars; ++i) {
      const float v = all[static_cast<size_t>(r * kHostChars + i)];
      if (v == 0.0f) break;
      host.push_back(static_cast<char>(static_cast<unsigned char>(v)));
    }
    out += line(r, host, coordinates_of(r, dp_, ep_), dp_, ep_, pp_);
    out += '\n';
  }
  return out;
}

}  // namespace sy::parallel
