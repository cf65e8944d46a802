// A thin RAII layer over HDF5's C API: identifiers closed by their owners' destructors, and every
// call's result checked, a failure becoming a sy::Error that names the file and the object.
//
// HDF5 prints its error stack to stderr by default; silence_errors() (called by every File) turns
// that off, and the innermost messages of the stack are folded into our error text instead, e.g.
//   run/checkpoints/step_00000010/checkpoint.h5: /params/lm_head.weight: reading the data failed
//   (HDF5: Fletcher32 checksum error; filter returned failure during read)
#pragma once

#include <hdf5.h>

#include <string>
#include <string_view>
#include <utility>

#include "core/common/error.h"

namespace sy::trainer::h5 {

// Turns off HDF5's automatic printing of its error stack (once per process; thread-safe).
void silence_errors();

// The innermost descriptions on HDF5's current error stack ("" when empty); clears the stack.
std::string error_detail();

// Where HDF5 calls happen, for messages: the file, and the error kind a failure there has
// (kBadInput while reading a checkpoint, kInternal while writing one).
struct Site {
  std::string file;
  ErrorKind kind = ErrorKind::kInternal;

  // Throws sy::Error(kind, "FILE: OBJECT: WHAT (HDF5: detail)"); OBJECT may be empty.
  [[noreturn]] void fail(std::string_view object, std::string_view what) const;
  // Checks a herr_t / htri_t / hid_t style result (negative = failure).
  void check(int64_t status, std::string_view object, std::string_view what) const {
    if (status < 0) fail(object, what);
  }
};

// Owns one HDF5 identifier (file, group, dataset, dataspace, datatype, property list, attribute)
// and closes it with the matching H5?close in its destructor. Move-only.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);

  Handle() = default;
  Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  ~Handle() { reset(); }
  Handle(Handle&& o) noexcept : id_(std::exchange(o.id_, H5I_INVALID_HID)), closer_(o.closer_) {}
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = std::exchange(o.id_, H5I_INVALID_HID);
      closer_ = o.closer_;
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  // Closes now; returns the closer's status (0 when there was nothing to close).
  herr_t reset() {
    herr_t status = 0;
    if (id_ >= 0 && closer_ != nullptr) status = closer_(id_);
    id_ = H5I_INVALID_HID;
    return status;
  }

 private:
  hid_t id_ = H5I_INVALID_HID;
  Closer closer_ = nullptr;
};

// Checked constructors: wrap `id` or throw site.fail(object, what) when it is negative.
Handle file_handle(hid_t id, const Site& site, std::string_view object, std::string_view what);
Handle group_handle(hid_t id, const Site& site, std::string_view object, std::string_view what);
Handle dataset_handle(hid_t id, const Site& site, std::string_view object, std::string_view what);
Handle space_handle(hid_t id, const Site& site, std::string_view object, std::string_view what);
Handle type_handle(hid_t id, const Site& site, std::string_view object, std::string_view what);
Handle plist_handle(hid_t id, const Site& site, std::string_view object, std::string_view what);
Handle attr_handle(hid_t id, const Site& site, std::string_view object, std::string_view what);

}  // namespace sy::trainer::h5
