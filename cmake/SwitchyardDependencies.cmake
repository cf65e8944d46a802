# System libraries (Debian packages; launch/setup.sh installs them).

find_package(OpenMP REQUIRED COMPONENTS CXX)

# OpenBLAS, preferably its OpenMP flavour so BLAS calls nest inside our parallel regions.
find_path(SY_CBLAS_INCLUDE_DIR cblas.h
  PATH_SUFFIXES openblas-openmp openblas openblas-pthread
  PATHS /usr/include/x86_64-linux-gnu /usr/include/aarch64-linux-gnu /usr/include)
find_library(SY_OPENBLAS_LIBRARY NAMES openblas
  PATHS /usr/lib/x86_64-linux-gnu/openblas-openmp /usr/lib/aarch64-linux-gnu/openblas-openmp)
if(NOT SY_CBLAS_INCLUDE_DIR OR NOT SY_OPENBLAS_LIBRARY)
  message(FATAL_ERROR "OpenBLAS not found: run launch/setup.sh (Debian: libopenblas-openmp-dev)")
endif()
add_library(sy_blas INTERFACE)
target_include_directories(sy_blas SYSTEM INTERFACE ${SY_CBLAS_INCLUDE_DIR})
target_link_libraries(sy_blas INTERFACE ${SY_OPENBLAS_LIBRARY})
message(STATUS "OpenBLAS: ${SY_OPENBLAS_LIBRARY} (headers ${SY_CBLAS_INCLUDE_DIR})")

if(SY_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(SY_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()

# Trainer: YAML configs and the SentencePiece tokenizer.
find_package(yaml-cpp REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(SY_SENTENCEPIECE REQUIRED IMPORTED_TARGET sentencepiece)
add_library(sy_sentencepiece INTERFACE)
target_link_libraries(sy_sentencepiece INTERFACE PkgConfig::SY_SENTENCEPIECE sentencepiece_train)

# Checkpoints: HDF5's C API. Debian ships the parallel (openmpi) build, whose headers include
# mpi.h, so MPI's C headers come along; one process uses it without MPI_Init (sec2 driver).
set(HDF5_PREFER_PARALLEL TRUE)
find_package(HDF5 REQUIRED COMPONENTS C)
find_package(ZLIB REQUIRED)  # crc32 / crc32_combine for the per-dataset checksums
add_library(sy_hdf5 INTERFACE)
target_link_libraries(sy_hdf5 INTERFACE HDF5::HDF5 ZLIB::ZLIB)
if(HDF5_IS_PARALLEL)
  find_package(MPI REQUIRED COMPONENTS C)
  target_link_libraries(sy_hdf5 INTERFACE MPI::MPI_C)
endif()
message(STATUS "HDF5 ${HDF5_VERSION}: ${HDF5_C_LIBRARIES} (parallel ${HDF5_IS_PARALLEL})")
