// Helpers shared by the GPU tests.
#pragma once

#include <gtest/gtest.h>

#include "core/backends/device_memory.h"

// Skips the calling test where no CUDA device is visible (cuda_available() is false).
#define SY_REQUIRE_GPU()                                                 \
  do {                                                                   \
    if (!::sy::core::cuda_available()) GTEST_SKIP() << "no CUDA device"; \
  } while (0)
