// Runtime: MPI start-up and shutdown, the launcher rule, hostname() and abort_world().
#include "parallel/comm/runtime.h"

#include <mpi.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>

#include "core/common/error.h"
#include "parallel/comm/mpi_communicator.h"

namespace sy::parallel {

bool started_by_launcher(const std::function<const char*(const char*)>& getenv) {
  auto set = [&](const char* name) {
    const char* v = getenv(name);
    return v != nullptr && v[0] != '\0';
  };
  if (set("OMPI_COMM_WORLD_SIZE") || set("PMI_SIZE") || set("PMIX_RANK")) return true;
  if (set("SLURM_PROCID") && set("SLURM_NTASKS")) {
    return std::atoi(getenv("SLURM_NTASKS")) > 1;
  }
  return false;
}

bool started_by_launcher() {
  return started_by_launcher([](const char* name) { return std::getenv(name); });
}

std::string hostname() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') return "unknown-host";
  return name;
}

Runtime::Runtime(int* argc, char*** argv) : uncaught_at_start_(std::uncaught_exceptions()) {
  if (!started_by_launcher()) {
    world_ = make_single_communicator();
    return;
  }
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    int finalized = 0;
    MPI_Finalized(&finalized);
    SY_REQUIRE(ErrorKind::kDistributed, !finalized,
               "MPI was already finalised in this process: one Runtime per process");
    int provided = MPI_THREAD_SINGLE;
    check_mpi(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
    owns_mpi_ = true;
    SY_REQUIRE(ErrorKind::kDistributed, provided >= MPI_THREAD_FUNNELED, "MPI_Init_thread on host ",
               hostname(),
               ": the MPI library does not support MPI_THREAD_FUNNELED (provided level ", provided,
               ")");
  }
  mpi_ = true;
  MPI_Comm world = MPI_COMM_NULL;
  check_mpi(MPI_Comm_dup(MPI_COMM_WORLD, &world), "MPI_Comm_dup");
  world_ = std::make_unique<MpiCommunicator>(world, /*owned=*/true);
}

Runtime::~Runtime() {
  const bool unwinding = std::uncaught_exceptions() > uncaught_at_start_;
  const bool multi_rank = world_ != nullptr && world_->size() > 1;
  world_.reset();
  if (!owns_mpi_) return;
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) return;
  // Peers of a failing rank may be blocked in a collective and never reach MPI_Finalize, which
  // would then hang here: leave MPI running so the error handler can call abort_world().
  if (unwinding && multi_rank) return;
  MPI_Finalize();
}

void abort_world(int code) {
  std::fflush(stdout);
  std::fflush(stderr);
  int initialized = 0;
  int finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (initialized && !finalized) {
    MPI_Abort(MPI_COMM_WORLD, code);
    std::_Exit(code);  // MPI_Abort does not return; this is for a library that lets it
  }
  std::exit(code);
}

}  // namespace sy::parallel
