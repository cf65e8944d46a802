#include "core/tensor/storage.h"

#include "core/backends/device_memory.h"

namespace sy::core {

Storage::Storage(size_t bytes, Device device)
    : data_(device_alloc(device, bytes)), bytes_(bytes), device_(device) {}

Storage::~Storage() { device_free(device_, data_); }

}  // namespace sy::core
