// Checkpoint save (file layout, atomic publication, retention) and verified load.
#include "trainer/checkpoint/checkpoint.h"

#include <unistd.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <set>
#include <vector>

#include "core/common/error.h"
#include "trainer/checkpoint/checkpoint_layout.h"
#include "trainer/checkpoint/hdf5_io.h"
#include "trainer/version.h"

namespace sy::trainer {

namespace fs = std::filesystem;
namespace L = layout;

namespace layout {

Header read_header(const h5::File& f) {
  Header h;
  const std::string format =
      h5::has_attr(f, kRoot, kFormatAttr) ? h5::read_attr_string(f, kRoot, kFormatAttr) : "";
  SY_REQUIRE(ErrorKind::kBadInput, format == kCheckpointFormat, f.path(),
             ": not a Switchyard checkpoint (root attribute 'format' is '", format, "', expected '",
             kCheckpointFormat, "')");
  h.format_version = h5::read_attr_i64(f, kRoot, kFormatVersionAttr);
  SY_REQUIRE(ErrorKind::kBadInput, h.format_version >= 1, f.path(),
             ": invalid attribute 'format_version' ", h.format_version);
  SY_REQUIRE(ErrorKind::kBadInput, h.format_version <= kCheckpointFormatVersion, f.path(),
             ": attribute 'format_version' is ", h.format_version,
             ", newer than this build reads (", kCheckpointFormatVersion,
             "); use a newer switchyard");
  h.step = h5::read_attr_i64(f, kRoot, kStepAttr);
  h.tokens_seen = h5::read_attr_i64(f, kRoot, kTokensAttr);
  if (h5::has_attr(f, kRoot, kWriterAttr)) h.writer = h5::read_attr_string(f, kRoot, kWriterAttr);
  return h;
}

}  // namespace layout

namespace {

// A dataset to write: its path, element type, global shape and bytes.
struct Entry {
  std::string path;
  h5::Elem elem;
  std::vector<int64_t> dims;
  const void* data;
  size_t bytes;
};

void check_link_name(const std::string& name, const char* what) {
  SY_CHECK(!name.empty() && name.find('/') == std::string::npos && name != "." && name != "..",
           what, " name '", name, "' cannot be stored in a checkpoint (empty, '.', '..' or '/')");
}

int abort_after_datasets() {
  const char* v = std::getenv(kAbortDuringSaveEnv);
  return v != nullptr && *v != '\0' ? std::atoi(v) : -1;
}

// A parameter or moment read and verified, waiting to be copied into its tensor.
struct Staged {
  core::Tensor target;
  std::vector<float> values;
};

// Reads the float32 datasets of `group` into `staged`: exactly the names in `expected`, each with
// its tensor's shape. Throws kBadInput naming the dataset on any mismatch or corruption.
void stage_group(const h5::File& f, const std::string& group,
                 const std::vector<std::pair<std::string, core::Tensor>>& expected,
                 const ParameterFilter& held_elsewhere, std::vector<Staged>* staged) {
  SY_REQUIRE(ErrorKind::kBadInput, h5::exists(f, group), f.path(), ": missing group ", group);
  std::set<std::string> wanted;
  for (const auto& [name, t] : expected) wanted.insert(name);
  for (const std::string& name : h5::list_links(f, group)) {
    if (held_elsewhere && held_elsewhere(name) && wanted.count(name) == 0) continue;
    SY_REQUIRE(ErrorKind::kBadInput, wanted.count(name) != 0, f.path(), ": ", L::child(group, name),
               ": unexpected dataset (the model has no parameter '", name, "')");
  }
  for (const auto& [name, t] : expected) {
    const std::string path = L::child(group, name);
    SY_REQUIRE(ErrorKind::kBadInput, h5::exists(f, path), f.path(), ": ", path,
               ": missing dataset (the model's parameter '", name, "' is not in the file)");
    const h5::DatasetInfo info = h5::dataset_info(f, path);
    const core::Shape shape(info.dims);
    SY_REQUIRE(ErrorKind::kBadInput, info.elem == h5::Elem::kF32, f.path(), ": ", path,
               ": element type ", h5::elem_name(info.elem), ", expected f32");
    SY_REQUIRE(ErrorKind::kBadInput, shape == t.shape(), f.path(), ": ", path, ": shape ",
               shape.to_string(), " does not match the model's ", t.shape().to_string());
    Staged s{t, std::vector<float>(static_cast<size_t>(info.numel))};
    h5::read_dataset(f, path, info, s.values.data());
    staged->push_back(std::move(s));
  }
}

std::vector<uint8_t> read_bytes(const h5::File& f, const std::string& path, h5::Elem elem,
                                int64_t* numel) {
  const h5::DatasetInfo info = h5::dataset_info(f, path);
  SY_REQUIRE(ErrorKind::kBadInput, info.elem == elem && info.dims.size() == 1, f.path(), ": ", path,
             ": expected a 1-D ", h5::elem_name(elem), " dataset");
  std::vector<uint8_t> out(info.bytes);
  h5::read_dataset(f, path, info, out.data());
  *numel = info.numel;
  return out;
}

}  // namespace

namespace {

// The datasets of one write, with host copies of device tensors kept alive until written.
struct Entries {
  std::vector<Entry> list;
  std::deque<std::vector<float>> host;
  std::deque<std::array<uint64_t, 2>> rng_values;

  void add_tensor(const std::string& path, const core::Tensor& t) {
    SY_CHECK(t.ndim() >= 1, path, ": scalar tensors are not supported in checkpoints");
    const void* data = nullptr;
    if (t.is_cpu()) {
      data = t.f32();
    } else {
      host.push_back(t.to_vector());
      data = host.back().data();
    }
    list.push_back({path, h5::Elem::kF32, t.shape().to_vector(), data,
                    static_cast<size_t>(t.numel()) * sizeof(float)});
  }

  // The selected parameters under /params and, with an optimizer, their moments.
  void add_parameters(const core::nn::Module& model, const AdamW* opt,
                      const ParameterFilter& filter) {
    for (const core::nn::NamedParameter& p : model.named_parameters()) {
      if (filter && !filter(p.name)) continue;
      check_link_name(p.name, "parameter");
      add_tensor(L::child(L::kParams, p.name), p.tensor);
    }
    if (opt == nullptr) return;
    for (const AdamW::Slot& s : opt->slots()) {
      if (filter && !filter(s.param.name)) continue;
      check_link_name(s.param.name, "parameter");
      add_tensor(L::child(L::kOptimM, s.param.name), s.m);
      add_tensor(L::child(L::kOptimV, s.param.name), s.v);
    }
  }

  // Phase 1: every dataset with its global shape. Phase 2: the data and its checksum.
  void write(h5::File& f) const {
    for (const Entry& e : list) h5::create_dataset(f, e.path, e.elem, e.dims);
    const int abort_after = abort_after_datasets();
    int written = 0;
    for (const Entry& e : list) {
      if (written == abort_after) {
        f.flush();     // leave the most plausible partial file behind
        std::abort();  // the test hook: a process killed mid-save
      }
      h5::write_dataset(f, e.path, e.elem, e.data, e.bytes);
      ++written;
    }
    f.flush();
  }
};

}  // namespace

void write_checkpoint_file(const std::string& file, const core::nn::Module& model, const AdamW* opt,
                           const CheckpointState& st, const ParameterFilter& filter) {
  h5::File f = h5::File::create(file);
  h5::write_attr_string(f, L::kRoot, L::kFormatAttr, kCheckpointFormat);
  h5::write_attr_i64(f, L::kRoot, L::kFormatVersionAttr, kCheckpointFormatVersion);
  h5::write_attr_i64(f, L::kRoot, L::kStepAttr, st.step);
  h5::write_attr_i64(f, L::kRoot, L::kTokensAttr, st.tokens_seen);
  h5::write_attr_string(f, L::kRoot, L::kWriterAttr, std::string("switchyard ") + kVersion);

  Entries entries;
  entries.list.push_back({L::kConfig,
                          h5::Elem::kU8,
                          {static_cast<int64_t>(st.config_yaml.size())},
                          st.config_yaml.data(),
                          st.config_yaml.size()});
  h5::create_group(f, L::kParams);
  if (opt != nullptr) {
    h5::create_group(f, L::kOptim);
    h5::write_attr_i64(f, L::kOptim, L::kOptimStepsAttr, opt->steps());
    h5::create_group(f, L::kOptimM);
    h5::create_group(f, L::kOptimV);
  }
  entries.add_parameters(model, opt, filter);
  h5::create_group(f, L::kRng);
  for (const auto& [name, state] : st.rngs) {
    check_link_name(name, "RNG stream");
    entries.rng_values.push_back({state.seed, state.offset});
    entries.list.push_back({L::child(L::kRng, name),
                            h5::Elem::kU64,
                            {2},
                            entries.rng_values.back().data(),
                            sizeof(uint64_t) * 2});
  }
  h5::create_group(f, L::kData);
  for (const auto& [name, value] : st.data_position) h5::write_attr_i64(f, L::kData, name, value);
  h5::create_group(f, L::kLr);
  h5::write_attr_i64(f, L::kLr, L::kLrStepAttr, st.step);
  entries.write(f);
  f.close();
}

void append_checkpoint_tensors(const std::string& file, const core::nn::Module& model,
                               const AdamW* opt, const ParameterFilter& filter) {
  h5::File f = h5::File::open(file, /*writable=*/true);
  SY_REQUIRE(ErrorKind::kInternal, opt == nullptr || h5::exists(f, L::kOptim), file,
             ": has no optimizer group to add moments to");
  Entries entries;
  entries.add_parameters(model, opt, filter);
  entries.write(f);
  f.close();
  fsync_path(file);  // the writer may be on another node than the one that publishes
}

std::string begin_checkpoint(const std::string& run_dir, int64_t step) {
  SY_CHECK(step >= 0, "save_checkpoint: negative step ", step);
  const fs::path root = fs::path(run_dir) / kCheckpointsDirName;
  std::error_code ec;
  fs::create_directories(root, ec);
  SY_REQUIRE(ErrorKind::kInternal, !ec, root.string(), ": cannot create: ", ec.message());
  remove_temporaries(root.string());
  const std::string name = checkpoint_dir_name(step);
  const fs::path temp = root / (std::string(kTempPrefix) + name + "_" + std::to_string(::getpid()));
  fs::create_directory(temp, ec);
  SY_REQUIRE(ErrorKind::kInternal, !ec, temp.string(), ": cannot create: ", ec.message());
  return (temp / kCheckpointFileName).string();
}

std::string publish_checkpoint(const std::string& run_dir, const std::string& temp_file,
                               int64_t step, int keep_last, int keep_every) {
  const fs::path temp = fs::path(temp_file).parent_path();
  fsync_path(temp_file);
  fsync_path(temp.string());
  const fs::path root = fs::path(run_dir) / kCheckpointsDirName;
  const std::string name = checkpoint_dir_name(step);
  const fs::path final_dir = root / name;
  publish_directory(temp.string(), final_dir.string());
  write_latest(root.string(), name);
  apply_retention(root.string(), keep_last, keep_every, step);
  return final_dir.string();
}

std::string save_checkpoint(const std::string& run_dir, const core::nn::Module& model,
                            const AdamW& opt, const CheckpointState& st, int keep_last,
                            int keep_every) {
  const std::string file = begin_checkpoint(run_dir, st.step);
  try {
    write_checkpoint_file(file, model, &opt, st);
  } catch (...) {
    std::error_code ec;
    fs::remove_all(fs::path(file).parent_path(), ec);  // best effort; the next save removes .tmp_*
    throw;
  }
  return publish_checkpoint(run_dir, file, st.step, keep_last, keep_every);
}

LoadedCheckpoint load_checkpoint(const std::string& path, core::nn::Module& model, AdamW* opt,
                                 const ParameterFilter& held_elsewhere) {
  LoadedCheckpoint out;
  out.file = resolve_checkpoint_file(path);
  const h5::File f = h5::File::open(out.file);
  const L::Header h = L::read_header(f);
  out.format_version = h.format_version;
  out.state.step = h.step;
  out.state.tokens_seen = h.tokens_seen;

  // Read and verify everything first; touch the model and optimizer only when all is well.
  std::vector<Staged> staged;
  std::vector<std::pair<std::string, core::Tensor>> expected;
  for (const core::nn::NamedParameter& p : model.named_parameters()) {
    expected.emplace_back(p.name, p.tensor);
  }
  stage_group(f, L::kParams, expected, held_elsewhere, &staged);
  if (opt != nullptr) {
    SY_REQUIRE(ErrorKind::kBadInput, h5::exists(f, L::kOptim), f.path(), ": missing group ",
               L::kOptim, " (the checkpoint has no optimizer state)");
    out.optimizer_steps = h5::read_attr_i64(f, L::kOptim, L::kOptimStepsAttr);
    std::vector<std::pair<std::string, core::Tensor>> m, v;
    for (const AdamW::Slot& s : opt->slots()) {
      m.emplace_back(s.param.name, s.m);
      v.emplace_back(s.param.name, s.v);
    }
    stage_group(f, L::kOptimM, m, held_elsewhere, &staged);
    stage_group(f, L::kOptimV, v, held_elsewhere, &staged);
  }
  SY_REQUIRE(ErrorKind::kBadInput, h5::exists(f, L::kRng), f.path(), ": missing group ", L::kRng);
  for (const std::string& name : h5::list_links(f, L::kRng)) {
    int64_t n = 0;
    const std::vector<uint8_t> bytes = read_bytes(f, L::child(L::kRng, name), h5::Elem::kU64, &n);
    SY_REQUIRE(ErrorKind::kBadInput, n == 2, f.path(), ": ", L::child(L::kRng, name),
               ": expected 2 values (seed, offset), got ", n);
    core::RngState s;
    std::memcpy(&s.seed, bytes.data(), sizeof(uint64_t));
    std::memcpy(&s.offset, bytes.data() + sizeof(uint64_t), sizeof(uint64_t));
    out.state.rngs[name] = s;
  }
  SY_REQUIRE(ErrorKind::kBadInput, h5::exists(f, L::kData), f.path(), ": missing group ", L::kData);
  for (const std::string& name : h5::list_attrs(f, L::kData)) {
    out.state.data_position[name] = h5::read_attr_i64(f, L::kData, name);
  }
  int64_t n = 0;
  const std::vector<uint8_t> config = read_bytes(f, L::kConfig, h5::Elem::kU8, &n);
  out.state.config_yaml.assign(config.begin(), config.end());

  for (Staged& s : staged) {
    if (s.target.is_cpu()) {
      std::memcpy(s.target.f32(), s.values.data(), s.values.size() * sizeof(float));
    } else {
      s.target.copy_(core::Tensor::from_vector(s.values, s.target.shape()));
    }
  }
  if (opt != nullptr) opt->set_steps(out.optimizer_steps);
  return out;
}

}  // namespace sy::trainer
