// Runtime: the process's parallel runtime. It starts MPI only when the process was started by an
// MPI launcher, owns the world communicator, and ends MPI on destruction.
//
// The launcher rule (started_by_launcher): MPI is initialised when the environment has any of
//   OMPI_COMM_WORLD_SIZE                 Open MPI's mpirun / mpiexec
//   PMI_SIZE                             MPICH / Hydra, Intel MPI, srun --mpi=pmi2
//   PMIX_RANK                            PMIx launchers: Open MPI 4+ mpirun, srun --mpi=pmix,
//   prterun SLURM_PROCID with SLURM_NTASKS > 1   a task of a multi-task srun step
// Otherwise no MPI function is called at all and world() is a 1-rank communicator, so a plain
// `switchyard train` needs no launcher. Under a launcher MPI_Init_thread(MPI_THREAD_FUNNELED)
// runs: only the main thread calls MPI; OpenMP threads never do.
//
// Failure (docs/PARALLEL.md): an MPI error is a sy::Error of kind kDistributed (exit code 5). A
// rank that fails must not leave its peers blocked in a collective: the CLI's error handler calls
// abort_world(code), which is MPI_Abort(MPI_COMM_WORLD, code) under MPI (the launcher then kills
// every rank and exits with `code`) and std::exit(code) otherwise. A Runtime destroyed while an
// exception unwinds a multi-rank job skips MPI_Finalize (peers may never reach it, and it would
// hang) so that abort_world can still end the job; if nobody calls it, the process exits without
// finalising and Open MPI's mpirun kills the job, keeping the exit code. A rank that dies (signal,
// OOM) is detected by the launcher, which kills the others.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "parallel/comm/communicator.h"

namespace sy::parallel {

class Runtime {
 public:
  // Initialises MPI when started_by_launcher(); raises sy::Error(kDistributed) when MPI fails to
  // start or cannot give MPI_THREAD_FUNNELED. One Runtime per process. argc/argv may be null.
  Runtime(int* argc, char*** argv);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // All ranks of the job (an MPI_COMM_WORLD duplicate), or the 1-rank communicator.
  Communicator& world() { return *world_; }
  // True when MPI is in use (also for `mpirun -np 1`).
  bool distributed() const { return mpi_; }

 private:
  std::unique_ptr<Communicator> world_;
  bool mpi_ = false;           // MPI is in use
  bool owns_mpi_ = false;      // this Runtime called MPI_Init_thread, so it finalises
  int uncaught_at_start_ = 0;  // std::uncaught_exceptions() when constructed
};

// The launcher rule above, over the process environment or over `getenv` (for tests).
bool started_by_launcher();
bool started_by_launcher(const std::function<const char*(const char*)>& getenv);

// This machine's host name ("unknown-host" if it cannot be read).
std::string hostname();

// Ends the whole job with exit code `code`: MPI_Abort(MPI_COMM_WORLD, code) while MPI is
// initialised and not finalised, std::exit(code) otherwise. Flushes stdout and stderr first.
[[noreturn]] void abort_world(int code);

}  // namespace sy::parallel
