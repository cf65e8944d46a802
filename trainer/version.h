// The Switchyard version, from the CMake project version.
#pragma once

namespace sy::trainer {

inline constexpr const char* kVersion = SWITCHYARD_VERSION;

}  // namespace sy::trainer
