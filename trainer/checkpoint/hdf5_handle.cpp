// HDF5 error handling: silencing the automatic stack printing, folding the stack into messages,
// and the checked identifier constructors.
#include "trainer/checkpoint/hdf5_handle.h"

#include <mutex>
#include <vector>

namespace sy::trainer::h5 {

namespace {

// Collects descriptions from the innermost frame outwards.
herr_t collect_frame(unsigned /*n*/, const H5E_error2_t* err, void* client) {
  auto* out = static_cast<std::vector<std::string>*>(client);
  if (err != nullptr && err->desc != nullptr && err->desc[0] != '\0') out->emplace_back(err->desc);
  return 0;
}

Handle checked(hid_t id, Handle::Closer closer, const Site& site, std::string_view object,
               std::string_view what) {
  if (id < 0) site.fail(object, what);
  return Handle(id, closer);
}

}  // namespace

void silence_errors() {
  static std::once_flag once;
  std::call_once(once, [] { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); });
}

std::string error_detail() {
  std::vector<std::string> frames;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, collect_frame, &frames);
  H5Eclear2(H5E_DEFAULT);
  std::string out;
  int used = 0;
  for (const std::string& f : frames) {
    if (out.find(f) != std::string::npos) continue;
    out += (out.empty() ? "" : "; ") + f;
    if (++used == 2) break;  // the two innermost say what went wrong; the rest is call path
  }
  return out;
}

void Site::fail(std::string_view object, std::string_view what) const {
  const std::string detail = error_detail();
  std::string msg = file + ": ";
  if (!object.empty()) msg.append(object).append(": ");
  msg.append(what);
  if (!detail.empty()) msg += " (HDF5: " + detail + ")";
  throw Error(kind, msg);
}

Handle file_handle(hid_t id, const Site& site, std::string_view object, std::string_view what) {
  return checked(id, H5Fclose, site, object, what);
}
Handle group_handle(hid_t id, const Site& site, std::string_view object, std::string_view what) {
  return checked(id, H5Gclose, site, object, what);
}
Handle dataset_handle(hid_t id, const Site& site, std::string_view object, std::string_view what) {
  return checked(id, H5Dclose, site, object, what);
}
Handle space_handle(hid_t id, const Site& site, std::string_view object, std::string_view what) {
  return checked(id, H5Sclose, site, object, what);
}
Handle type_handle(hid_t id, const Site& site, std::string_view object, std::string_view what) {
  return checked(id, H5Tclose, site, object, what);
}
Handle plist_handle(hid_t id, const Site& site, std::string_view object, std::string_view what) {
  return checked(id, H5Pclose, site, object, what);
}
Handle attr_handle(hid_t id, const Site& site, std::string_view object, std::string_view what) {
  return checked(id, H5Aclose, site, object, what);
}

}  // namespace sy::trainer::h5
