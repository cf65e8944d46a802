// The Runtime's launcher rule, hostname(), and the conversion of MPI errors into
// sy::Error(kDistributed) with the call, the rank, the host and MPI's error string.
#include "parallel/comm/runtime.h"

#include <gtest/gtest.h>
#include <mpi.h>

#include <cstdlib>
#include <map>
#include <string>

#include "core/common/error.h"
#include "parallel/comm/mpi_communicator.h"
#include "tests/dist/dist_world.h"

namespace sy::parallel {
namespace {

using testing::dist_mpi;
using testing::dist_world;

bool rule(const std::map<std::string, std::string>& env) {
  return started_by_launcher([&](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
}

TEST(DistRuntime, LauncherRule) {
  EXPECT_FALSE(rule({}));
  EXPECT_FALSE(rule({{"HOME", "/root"}}));
  EXPECT_TRUE(rule({{"OMPI_COMM_WORLD_SIZE", "1"}}));
  EXPECT_TRUE(rule({{"PMI_SIZE", "4"}}));
  EXPECT_TRUE(rule({{"PMIX_RANK", "0"}}));
  EXPECT_FALSE(rule({{"OMPI_COMM_WORLD_SIZE", ""}}));
  // A Slurm batch step or a 1-task srun is not a distributed launch; a multi-task srun is.
  EXPECT_FALSE(rule({{"SLURM_PROCID", "0"}}));
  EXPECT_FALSE(rule({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "1"}}));
  EXPECT_FALSE(rule({{"SLURM_NTASKS", "4"}}));
  EXPECT_TRUE(rule({{"SLURM_PROCID", "3"}, {"SLURM_NTASKS", "4"}}));
}

TEST(DistRuntime, RuleMatchesThisProcess) {
  EXPECT_EQ(started_by_launcher(), dist_mpi());
  EXPECT_FALSE(hostname().empty());
}

TEST(DistRuntime, MpiErrorsBecomeDistributedErrors) {
  if (!dist_mpi()) GTEST_SKIP() << "needs MPI";
  EXPECT_NO_THROW(check_mpi(MPI_SUCCESS, "MPI_Barrier"));
  int world_rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
  try {
    check_mpi(MPI_ERR_TRUNCATE, "MPI_Allreduce");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kDistributed);
    EXPECT_EQ(e.exit_code(), 5);
    const std::string want = "MPI_Allreduce failed on rank " + std::to_string(world_rank) +
                             " (host " + hostname() + "): ";
    EXPECT_EQ(std::string(e.what()).rfind(want, 0), 0u) << e.what();
    EXPECT_GT(std::string(e.what()).size(), want.size()) << "no MPI error string";
  }
}

TEST(DistRuntime, FailingMpiCallIsReported) {
  if (!dist_mpi() || dist_world().size() < 2) GTEST_SKIP() << "needs two MPI ranks";
  Communicator& w = dist_world();
  float out[2] = {1, 2};
  float in[2] = {};
  // Rank 0 sends two floats where rank 1 receives one: MPI_Recv fails (truncated message).
  // Then one float where rank 1 expects two: our count check fails.
  if (w.rank() == 0) {
    w.send(out, 2, 1, 9);
    w.send(out, 1, 1, 10);
  } else if (w.rank() == 1) {
    try {
      w.recv(in, 1, 0, 9);
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kDistributed);
      EXPECT_NE(std::string(e.what()).find("MPI_Recv failed on rank"), std::string::npos)
          << e.what();
    }
    try {
      w.recv(in, 2, 0, 10);
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kDistributed);
      EXPECT_NE(std::string(e.what()).find("expected 2 floats, got 1"), std::string::npos)
          << e.what();
    }
  }
  w.barrier();
}

// Checks the harness itself (dist.harness.np2): with SY_DIST_FAIL_RANK=r, rank r fails this test
// and the whole mpirun must exit non-zero.
TEST(DistHarness, FailsOnRequestedRank) {
  const char* rank = std::getenv("SY_DIST_FAIL_RANK");
  if (rank == nullptr) GTEST_SKIP() << "set SY_DIST_FAIL_RANK to fail on one rank";
  EXPECT_NE(dist_world().rank(), std::atoi(rank)) << "failing on purpose";
}

}  // namespace
}  // namespace sy::parallel
