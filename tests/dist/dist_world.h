// The world of a distributed test program: its Runtime is made by dist_main.cpp before any test
// runs. Tests are written for any world size, including the 1-rank world of a plain run.
#pragma once

#include "parallel/comm/communicator.h"

namespace sy::parallel::testing {

// The world communicator of this process's Runtime.
Communicator& dist_world();
// True when the program runs under an MPI launcher (world().name() == "mpi").
bool dist_mpi();

}  // namespace sy::parallel::testing
