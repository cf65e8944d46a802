// HDF5 files, groups, attributes and verified datasets for checkpoints (docs/CHECKPOINTS.md).
//
// Every dataset is chunked (whole rows, at most kChunkBytes a chunk), passes through HDF5's
// Fletcher32 filter and carries a `checksum` attribute: the zlib CRC-32 of its raw little-endian
// bytes in row-major order. Reading a dataset checks both. Objects are named by absolute paths
// ("/params/model.norm.weight"); only '/' separates path components, so dots are plain characters.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "trainer/checkpoint/hdf5_handle.h"

namespace sy::trainer::h5 {

inline constexpr int64_t kChunkBytes = int64_t{4} << 20;
inline constexpr const char* kChecksumAttr = "checksum";

// Element types of checkpoint datasets, stored little-endian.
enum class Elem { kF32, kU8, kU64 };
size_t elem_size(Elem e);
const char* elem_name(Elem e);  // "f32", "u8", "u64"

// zlib's CRC-32 of n bytes, continuing from crc (0 to start). Shards combine with crc32_combine.
uint32_t crc32(const void* data, size_t n, uint32_t crc = 0);

class File {
 public:
  // Creates (truncates) `path` for writing; failures are kInternal. The file uses the HDF5 1.10
  // format (readable by HDF5 >= 1.10), whose metadata (superblock, object headers, chunk indexes)
  // carries its own checksums.
  static File create(const std::string& path);
  // Opens an existing file, read-only unless `writable`; failures (missing, not HDF5, truncated,
  // corrupt metadata) are kBadInput naming the file.
  static File open(const std::string& path, bool writable = false);

  hid_t id() const { return file_.get(); }
  const Site& site() const { return site_; }
  const std::string& path() const { return site_.file; }
  void flush();  // H5Fflush, global scope
  void close();  // checked H5Fclose; the handle is empty afterwards

 private:
  Site site_;
  Handle file_;
};

// True when every component of the absolute `path` exists (a link, of any kind).
bool exists(const File& f, const std::string& path);
// Creates a group whose links are listed in creation order.
Handle create_group(const File& f, const std::string& path);
Handle open_group(const File& f, const std::string& path);
// Link names in `group` (opened from `path`), in creation order when the group tracks it.
std::vector<std::string> list_links(const File& f, const std::string& path);

// Attributes of the object at `path` ("/" for the file's root group).
void write_attr_i64(const File& f, const std::string& path, const std::string& name, int64_t v);
void write_attr_u32(const File& f, const std::string& path, const std::string& name, uint32_t v);
void write_attr_string(const File& f, const std::string& path, const std::string& name,
                       const std::string& v);
bool has_attr(const File& f, const std::string& path, const std::string& name);
std::vector<std::string> list_attrs(const File& f, const std::string& path);
int64_t read_attr_i64(const File& f, const std::string& path, const std::string& name);
std::string read_attr_string(const File& f, const std::string& path, const std::string& name);

// Phase 1 of a write: creates the dataset at `path` with its global shape (parents must exist).
// Phase 2: write_dataset fills all of it and adds the checksum attribute. Ranks of a parallel
// writer would each fill a hyperslab between the two phases (docs/CHECKPOINTS.md).
void create_dataset(const File& f, const std::string& path, Elem elem,
                    const std::vector<int64_t>& dims);
void write_dataset(const File& f, const std::string& path, Elem elem, const void* data,
                   size_t bytes);

struct DatasetInfo {
  Elem elem = Elem::kF32;
  std::vector<int64_t> dims;
  int64_t numel = 0;
  size_t bytes = 0;
  bool fletcher32 = false;  // the filter is in the dataset's pipeline
};
DatasetInfo dataset_info(const File& f, const std::string& path);

// The result of reading a dataset and checking its checksum attribute.
struct Verified {
  bool has_checksum = false;  // the `checksum` attribute is present
  uint32_t stored = 0, computed = 0;
  bool ok() const { return has_checksum && stored == computed; }
};
// Reads all of the dataset at `path` (info.bytes bytes into out) through the Fletcher32 filter and
// computes its CRC-32; a failed read or filter throws (the file's site kind). With `require_match`
// a checksum mismatch or a missing checksum attribute throws kBadInput naming the dataset.
Verified read_dataset(const File& f, const std::string& path, const DatasetInfo& info, void* out,
                      bool require_match = true);

}  // namespace sy::trainer::h5
