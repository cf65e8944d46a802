// HDF5 files, groups, attributes and verified datasets for checkpoints.
#include "trainer/checkpoint/hdf5_io.h"

#include <zlib.h>

#include <algorithm>
#include <bit>
#include <filesystem>
#include <limits>

namespace sy::trainer::h5 {

static_assert(std::endian::native == std::endian::little,
              "checkpoints store little-endian data and checksum the in-memory bytes");

namespace {

hid_t file_type(Elem e) {
  switch (e) {
    case Elem::kF32:
      return H5T_IEEE_F32LE;
    case Elem::kU8:
      return H5T_STD_U8LE;
    case Elem::kU64:
      return H5T_STD_U64LE;
  }
  return H5T_IEEE_F32LE;
}

hid_t memory_type(Elem e) {
  switch (e) {
    case Elem::kF32:
      return H5T_NATIVE_FLOAT;
    case Elem::kU8:
      return H5T_NATIVE_UINT8;
    case Elem::kU64:
      return H5T_NATIVE_UINT64;
  }
  return H5T_NATIVE_FLOAT;
}

Handle object_handle(const File& f, const std::string& path) {
  const hid_t id = H5Oopen(f.id(), path.c_str(), H5P_DEFAULT);
  if (id < 0) f.site().fail(path, "cannot open the object");
  return Handle(id, H5Oclose);
}

// Group creation properties: links listed in creation order, no timestamps (reproducible files).
Handle group_create_plist(const Site& s, const std::string& path) {
  Handle gcpl = plist_handle(H5Pcreate(H5P_GROUP_CREATE), s, path, "creating group properties");
  s.check(H5Pset_link_creation_order(gcpl.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED),
          path, "setting link creation order");
  s.check(H5Pset_obj_track_times(gcpl.get(), false), path, "disabling timestamps");
  return gcpl;
}

// File access properties: strong close, and no flock() file locking, which fails on some
// parallel filesystems and which checkpoints do not need (files are published by rename).
Handle file_access_plist(const Site& s) {
  Handle fapl = plist_handle(H5Pcreate(H5P_FILE_ACCESS), s, "", "creating access properties");
  s.check(H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_STRONG), "", "setting the close degree");
#if H5_VERSION_GE(1, 10, 7)
  s.check(H5Pset_file_locking(fapl.get(), false, true), "", "disabling file locking");
#endif
  return fapl;
}

void write_attr(const File& f, const std::string& path, const std::string& name, hid_t ftype,
                hid_t mtype, const void* value) {
  const Site& s = f.site();
  const std::string what = "attribute '" + name + "'";
  Handle obj = object_handle(f, path);
  const htri_t present = H5Aexists(obj.get(), name.c_str());
  s.check(present, path, "checking " + what);
  if (present > 0) s.check(H5Adelete(obj.get(), name.c_str()), path, "replacing " + what);
  Handle space = space_handle(H5Screate(H5S_SCALAR), s, path, "creating a scalar dataspace");
  Handle attr =
      attr_handle(H5Acreate2(obj.get(), name.c_str(), ftype, space.get(), H5P_DEFAULT, H5P_DEFAULT),
                  s, path, "creating " + what);
  s.check(H5Awrite(attr.get(), mtype, value), path, "writing " + what);
}

// Opens attribute `name` of the object at `path`, requiring one element of type class `cls`.
Handle open_attr(const File& f, const Handle& obj, const std::string& path, const std::string& name,
                 H5T_class_t cls) {
  const Site& s = f.site();
  const std::string what = "attribute '" + name + "'";
  const htri_t present = H5Aexists(obj.get(), name.c_str());
  s.check(present, path, "checking " + what);
  if (present == 0) s.fail(path, "missing " + what);
  Handle attr =
      attr_handle(H5Aopen(obj.get(), name.c_str(), H5P_DEFAULT), s, path, "opening " + what);
  Handle type = type_handle(H5Aget_type(attr.get()), s, path, "reading the type of " + what);
  Handle space = space_handle(H5Aget_space(attr.get()), s, path, "reading the shape of " + what);
  if (H5Tget_class(type.get()) != cls || H5Sget_simple_extent_npoints(space.get()) != 1) {
    s.fail(path, what + " has the wrong type or shape");
  }
  return attr;
}

int64_t read_attr_i64_of(const File& f, const Handle& obj, const std::string& path,
                         const std::string& name) {
  Handle attr = open_attr(f, obj, path, name, H5T_INTEGER);
  int64_t v = 0;
  f.site().check(H5Aread(attr.get(), H5T_NATIVE_INT64, &v), path,
                 "reading attribute '" + name + "'");
  return v;
}

herr_t collect_attr_name(hid_t, const char* name, const H5A_info_t*, void* out) {
  static_cast<std::vector<std::string>*>(out)->emplace_back(name);
  return 0;
}

}  // namespace

size_t elem_size(Elem e) { return e == Elem::kF32 ? 4 : e == Elem::kU8 ? 1 : 8; }

const char* elem_name(Elem e) { return e == Elem::kF32 ? "f32" : e == Elem::kU8 ? "u8" : "u64"; }

uint32_t crc32(const void* data, size_t n, uint32_t crc) {
  const auto* p = static_cast<const Bytef*>(data);
  uLong c = crc;
  while (n > 0) {
    const uInt part = static_cast<uInt>(std::min<size_t>(n, size_t{1} << 30));
    c = ::crc32(c, p, part);
    p += part;
    n -= part;
  }
  return static_cast<uint32_t>(c);
}

File File::create(const std::string& path) {
  silence_errors();
  File f;
  f.site_ = Site{path, ErrorKind::kInternal};
  const Site& s = f.site_;
  Handle fcpl = plist_handle(H5Pcreate(H5P_FILE_CREATE), s, "", "creating file properties");
  s.check(H5Pset_link_creation_order(fcpl.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED), "",
          "setting link creation order");
  Handle fapl = file_access_plist(s);
  s.check(H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V110, H5F_LIBVER_V110), "",
          "choosing the file format");
  f.file_ = file_handle(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, fcpl.get(), fapl.get()), s, "",
                        "cannot create the file");
  return f;
}

File File::open(const std::string& path, bool writable) {
  silence_errors();
  File f;
  f.site_ = Site{path, ErrorKind::kBadInput};
  const Site& s = f.site_;
  std::error_code ec;
  SY_REQUIRE(ErrorKind::kBadInput, std::filesystem::is_regular_file(path, ec), path,
             ": no such checkpoint file");
  if (H5Fis_hdf5(path.c_str()) <= 0) {
    H5Eclear2(H5E_DEFAULT);
    SY_FAIL(ErrorKind::kBadInput, path, ": not an HDF5 file");
  }
  Handle fapl = file_access_plist(s);
  f.file_ = file_handle(H5Fopen(path.c_str(), writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, fapl.get()),
                        s, "", "cannot open the file (truncated or corrupt?)");
  return f;
}

void File::flush() { site_.check(H5Fflush(file_.get(), H5F_SCOPE_GLOBAL), "", "flush failed"); }

void File::close() {
  if (file_.valid()) site_.check(file_.reset(), "", "close failed");
}

bool exists(const File& f, const std::string& path) {
  size_t pos = 0;
  while (pos < path.size()) {
    size_t next = path.find('/', pos + 1);
    if (next == std::string::npos) next = path.size();
    const std::string prefix = path.substr(0, next);
    if (prefix != "/") {
      const htri_t r = H5Lexists(f.id(), prefix.c_str(), H5P_DEFAULT);
      if (r <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return false;
      }
    }
    pos = next;
  }
  return true;
}

Handle create_group(const File& f, const std::string& path) {
  Handle gcpl = group_create_plist(f.site(), path);
  return group_handle(H5Gcreate2(f.id(), path.c_str(), H5P_DEFAULT, gcpl.get(), H5P_DEFAULT),
                      f.site(), path, "cannot create the group");
}

Handle open_group(const File& f, const std::string& path) {
  if (!exists(f, path)) f.site().fail(path, "missing group");
  return group_handle(H5Gopen2(f.id(), path.c_str(), H5P_DEFAULT), f.site(), path,
                      "cannot open the group");
}

std::vector<std::string> list_links(const File& f, const std::string& path) {
  const Site& s = f.site();
  Handle group = open_group(f, path);
  Handle gcpl = plist_handle(H5Gget_create_plist(group.get()), s, path, "reading group properties");
  unsigned order = 0;
  s.check(H5Pget_link_creation_order(gcpl.get(), &order), path, "reading link order");
  const H5_index_t index =
      (order & H5P_CRT_ORDER_INDEXED) != 0 ? H5_INDEX_CRT_ORDER : H5_INDEX_NAME;
  H5G_info_t ginfo;
  s.check(H5Gget_info(group.get(), &ginfo), path, "reading the group");
  std::vector<std::string> names;
  for (hsize_t i = 0; i < ginfo.nlinks; ++i) {
    const ssize_t n =
        H5Lget_name_by_idx(group.get(), ".", index, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    s.check(n, path, "listing the group");
    std::string name(static_cast<size_t>(n) + 1, '\0');
    s.check(H5Lget_name_by_idx(group.get(), ".", index, H5_ITER_INC, i, name.data(), name.size(),
                               H5P_DEFAULT),
            path, "listing the group");
    name.resize(static_cast<size_t>(n));
    names.push_back(std::move(name));
  }
  return names;
}

void write_attr_i64(const File& f, const std::string& path, const std::string& name, int64_t v) {
  write_attr(f, path, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &v);
}

void write_attr_u32(const File& f, const std::string& path, const std::string& name, uint32_t v) {
  write_attr(f, path, name, H5T_STD_U32LE, H5T_NATIVE_UINT32, &v);
}

void write_attr_string(const File& f, const std::string& path, const std::string& name,
                       const std::string& v) {
  const Site& s = f.site();
  Handle type = type_handle(H5Tcopy(H5T_C_S1), s, path, "creating a string type");
  s.check(H5Tset_size(type.get(), std::max<size_t>(v.size(), 1)), path, "sizing a string type");
  s.check(H5Tset_strpad(type.get(), H5T_STR_NULLPAD), path, "setting string padding");
  s.check(H5Tset_cset(type.get(), H5T_CSET_UTF8), path, "setting the character set");
  std::string padded = v;
  padded.resize(std::max<size_t>(v.size(), 1), '\0');
  write_attr(f, path, name, type.get(), type.get(), padded.data());
}

bool has_attr(const File& f, const std::string& path, const std::string& name) {
  Handle obj = object_handle(f, path);
  const htri_t r = H5Aexists(obj.get(), name.c_str());
  f.site().check(r, path, "checking attribute '" + name + "'");
  return r > 0;
}

std::vector<std::string> list_attrs(const File& f, const std::string& path) {
  Handle obj = object_handle(f, path);
  std::vector<std::string> names;
  f.site().check(
      H5Aiterate2(obj.get(), H5_INDEX_NAME, H5_ITER_INC, nullptr, collect_attr_name, &names), path,
      "listing attributes");
  return names;
}

int64_t read_attr_i64(const File& f, const std::string& path, const std::string& name) {
  Handle obj = object_handle(f, path);
  return read_attr_i64_of(f, obj, path, name);
}

std::string read_attr_string(const File& f, const std::string& path, const std::string& name) {
  const Site& s = f.site();
  Handle obj = object_handle(f, path);
  Handle attr = open_attr(f, obj, path, name, H5T_STRING);
  Handle type = type_handle(H5Aget_type(attr.get()), s, path, "reading a string type");
  if (H5Tis_variable_str(type.get()) != 0) s.fail(path, "attribute '" + name + "' is not fixed");
  const size_t size = H5Tget_size(type.get());
  if (size == 0) s.fail(path, "attribute '" + name + "' has no size");
  Handle mem = type_handle(H5Tcopy(type.get()), s, path, "copying a string type");
  std::string v(size, '\0');
  s.check(H5Aread(attr.get(), mem.get(), v.data()), path, "reading attribute '" + name + "'");
  while (!v.empty() && v.back() == '\0') v.pop_back();
  return v;
}

void create_dataset(const File& f, const std::string& path, Elem elem,
                    const std::vector<int64_t>& dims) {
  const Site& s = f.site();
  SY_CHECK(!dims.empty() && dims.size() <= 32, path, ": datasets have 1 to 32 dimensions");
  std::vector<hsize_t> d(dims.begin(), dims.end()), maxd = d, chunk = d;
  int64_t numel = 1, row_bytes = static_cast<int64_t>(elem_size(elem));
  for (size_t i = 0; i < dims.size(); ++i) {
    SY_CHECK(dims[i] >= 0, path, ": negative extent");
    numel *= dims[i];
    if (i > 0) row_bytes *= std::max<int64_t>(dims[i], 1);
    chunk[i] = static_cast<hsize_t>(std::max<int64_t>(dims[i], 1));
  }
  // Chunks are whole rows (first-dimension ranges), at most kChunkBytes unless a row is larger.
  chunk[0] = static_cast<hsize_t>(
      std::clamp<int64_t>(kChunkBytes / row_bytes, 1, std::max<int64_t>(dims[0], 1)));
  if (numel == 0) std::fill(maxd.begin(), maxd.end(), H5S_UNLIMITED);  // chunks need room
  Handle space = space_handle(H5Screate_simple(static_cast<int>(d.size()), d.data(), maxd.data()),
                              s, path, "creating the dataspace");
  Handle dcpl = plist_handle(H5Pcreate(H5P_DATASET_CREATE), s, path, "creating properties");
  s.check(H5Pset_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data()), path,
          "setting the chunk shape");
  s.check(H5Pset_fletcher32(dcpl.get()), path, "adding the Fletcher32 filter");
  s.check(H5Pset_obj_track_times(dcpl.get(), false), path, "disabling timestamps");
  Handle ds = dataset_handle(H5Dcreate2(f.id(), path.c_str(), file_type(elem), space.get(),
                                        H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
                             s, path, "cannot create the dataset");
}

void write_dataset(const File& f, const std::string& path, Elem elem, const void* data,
                   size_t bytes) {
  const Site& s = f.site();
  const DatasetInfo info = dataset_info(f, path);
  SY_CHECK(info.elem == elem && info.bytes == bytes, path, ": writing ", bytes, " bytes of ",
           elem_name(elem), " into a dataset of ", info.bytes, " bytes of ", elem_name(info.elem));
  if (bytes > 0) {
    Handle ds = dataset_handle(H5Dopen2(f.id(), path.c_str(), H5P_DEFAULT), s, path,
                               "cannot open the dataset");
    s.check(H5Dwrite(ds.get(), memory_type(elem), H5S_ALL, H5S_ALL, H5P_DEFAULT, data), path,
            "writing the data failed");
  }
  write_attr_u32(f, path, kChecksumAttr, crc32(data, bytes));
}

DatasetInfo dataset_info(const File& f, const std::string& path) {
  const Site& s = f.site();
  if (!exists(f, path)) s.fail(path, "missing dataset");
  Handle ds = dataset_handle(H5Dopen2(f.id(), path.c_str(), H5P_DEFAULT), s, path,
                             "cannot open the dataset");
  Handle type = type_handle(H5Dget_type(ds.get()), s, path, "reading the element type");
  DatasetInfo info;
  const H5T_class_t cls = H5Tget_class(type.get());
  const size_t size = H5Tget_size(type.get());
  const bool is_unsigned = cls == H5T_INTEGER && H5Tget_sign(type.get()) == H5T_SGN_NONE;
  if (cls == H5T_FLOAT && size == 4) {
    info.elem = Elem::kF32;
  } else if (is_unsigned && size == 1) {
    info.elem = Elem::kU8;
  } else if (is_unsigned && size == 8) {
    info.elem = Elem::kU64;
  } else {
    s.fail(path, "unsupported element type (expected f32, u8 or u64)");
  }
  Handle space = space_handle(H5Dget_space(ds.get()), s, path, "reading the shape");
  const int ndim = H5Sget_simple_extent_ndims(space.get());
  if (ndim < 1 || ndim > 32) s.fail(path, "expected a dataset of 1 to 32 dimensions");
  std::vector<hsize_t> d(static_cast<size_t>(ndim));
  s.check(H5Sget_simple_extent_dims(space.get(), d.data(), nullptr), path, "reading the shape");
  info.numel = 1;
  constexpr int64_t kMaxElems = std::numeric_limits<int64_t>::max() / 16;
  for (hsize_t x : d) {
    if (x > static_cast<hsize_t>(kMaxElems) ||
        (x > 0 && info.numel > kMaxElems / static_cast<int64_t>(x))) {
      s.fail(path, "implausible shape");
    }
    info.dims.push_back(static_cast<int64_t>(x));
    info.numel *= static_cast<int64_t>(x);
  }
  info.bytes = static_cast<size_t>(info.numel) * elem_size(info.elem);
  Handle dcpl = plist_handle(H5Dget_create_plist(ds.get()), s, path, "reading the filters");
  const int nfilters = H5Pget_nfilters(dcpl.get());
  for (int i = 0; i < nfilters; ++i) {
    unsigned flags = 0;
    size_t nvalues = 0;
    const H5Z_filter_t id = H5Pget_filter2(dcpl.get(), static_cast<unsigned>(i), &flags, &nvalues,
                                           nullptr, 0, nullptr, nullptr);
    if (id == H5Z_FILTER_FLETCHER32) info.fletcher32 = true;
  }
  return info;
}

Verified read_dataset(const File& f, const std::string& path, const DatasetInfo& info, void* out,
                      bool require_match) {
  const Site& s = f.site();
  Handle ds = dataset_handle(H5Dopen2(f.id(), path.c_str(), H5P_DEFAULT), s, path,
                             "cannot open the dataset");
  if (info.bytes > 0) {
    s.check(H5Dread(ds.get(), memory_type(info.elem), H5S_ALL, H5S_ALL, H5P_DEFAULT, out), path,
            "reading the data failed (corrupt data?)");
  }
  Verified v;
  v.computed = crc32(out, info.bytes);
  const htri_t present = H5Aexists(ds.get(), kChecksumAttr);
  s.check(present, path, "checking the checksum attribute");
  v.has_checksum = present > 0;
  if (v.has_checksum) {
    v.stored = static_cast<uint32_t>(read_attr_i64_of(f, ds, path, kChecksumAttr));
  }
  if (require_match) {
    SY_REQUIRE(ErrorKind::kBadInput, v.has_checksum, f.path(), ": ", path,
               ": no checksum attribute (incomplete write?)");
    SY_REQUIRE(ErrorKind::kBadInput, v.ok(), f.path(), ": ", path, ": checksum mismatch (stored ",
               v.stored, ", computed ", v.computed, "): the data is corrupt");
  }
  return v;
}

}  // namespace sy::trainer::h5
