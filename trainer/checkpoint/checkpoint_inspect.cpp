// Checkpoint inspection: header, config summary, and a verified table of every dataset.
#include "trainer/checkpoint/checkpoint_inspect.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <sstream>

#include "core/common/error.h"
#include "trainer/checkpoint/checkpoint_files.h"
#include "trainer/checkpoint/checkpoint_layout.h"
#include "trainer/checkpoint/hdf5_io.h"
#include "trainer/config/config_loader.h"

namespace sy::trainer {

namespace L = layout;

namespace {

std::string shape_string(const std::vector<int64_t>& dims) {
  std::ostringstream s;
  s << "(";
  for (size_t i = 0; i < dims.size(); ++i) s << (i ? "," : "") << dims[i];
  s << ")";
  return s.str();
}

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%08x", v);
  return buf;
}

// Reads the dataset at `path` completely, verifying Fletcher32 and the checksum; never throws for
// damage to the dataset itself. `bytes_out`, when given, receives the data of an intact dataset.
DatasetCheck check_dataset(const h5::File& f, const std::string& path,
                           std::vector<uint8_t>* bytes_out = nullptr) {
  DatasetCheck c;
  c.path = path;
  try {
    const h5::DatasetInfo info = h5::dataset_info(f, path);
    c.dtype = h5::elem_name(info.elem);
    c.shape = info.dims;
    c.bytes = static_cast<int64_t>(info.bytes);
    c.fletcher32 = info.fletcher32;
    std::vector<uint8_t> data(info.bytes);
    const h5::Verified v = h5::read_dataset(f, path, info, data.data(), /*require_match=*/false);
    c.has_checksum = v.has_checksum;
    c.stored_checksum = v.stored;
    c.computed_checksum = v.computed;
    c.ok = v.ok();
    if (!v.has_checksum) {
      c.error = "no checksum attribute (incomplete write?)";
    } else if (!v.ok()) {
      c.error =
          "checksum mismatch (stored " + hex32(v.stored) + ", computed " + hex32(v.computed) + ")";
    }
    if (c.ok && bytes_out != nullptr) *bytes_out = std::move(data);
  } catch (const Error& e) {
    c.ok = false;
    c.error = e.what();
    const std::string prefix = f.path() + ": " + path + ": ";  // keep only the reason
    if (c.error.starts_with(prefix)) c.error = c.error.substr(prefix.size());
    try {  // show the stored checksum when the data itself could not be read
      if (!c.has_checksum && h5::has_attr(f, path, h5::kChecksumAttr)) {
        c.stored_checksum = static_cast<uint32_t>(h5::read_attr_i64(f, path, h5::kChecksumAttr));
        c.has_checksum = true;
      }
    } catch (const Error&) {
    }
  }
  return c;
}

std::vector<std::string> summarize_config(const std::string& yaml, const std::string& file) {
  if (yaml.empty()) return {"config: (none stored)"};
  Config c;
  try {
    c = parse_config(yaml, file + ":/config");
  } catch (const Error& e) {
    return {std::string("config: stored, but does not parse: ") + e.what()};
  }
  std::ostringstream model, moe, par, train;
  model << "model: vocab " << c.model.vocab_size << ", hidden " << c.model.hidden_size
        << ", layers " << c.model.num_layers << ", heads " << c.model.num_heads << " (kv "
        << c.model.num_kv_heads << "), ffn " << c.model.intermediate_size;
  if (!c.moe.enabled) {
    moe << "moe: disabled (all layers dense)";
  } else {
    moe << "moe: " << c.moe.num_experts << " experts, top-" << c.moe.top_k << ", expert ffn "
        << c.expert_intermediate_size() << ", MoE layers: " << c.num_moe_layers() << " (every "
        << c.moe.every << " from " << c.moe.first_layer << "), capacity_factor "
        << c.moe.capacity_factor << (c.moe.capacity_factor <= 0 ? " (dropless)" : "") << ", router "
        << enum_name(c.moe.router);
  }
  par << "parallel: dp " << c.parallel.dp << ", ep " << c.parallel.ep << ", pp " << c.parallel.pp;
  train << "train: steps " << c.train.steps << ", global batch " << c.train.global_batch_size
        << ", micro batch " << c.train.micro_batch_size << ", seq_len " << c.train.seq_len
        << ", lr " << c.optim.lr;
  return {model.str(), moe.str(), par.str(), train.str()};
}

}  // namespace

int CheckpointSummary::failures() const {
  return static_cast<int>(
      std::count_if(datasets.begin(), datasets.end(), [](const auto& d) { return !d.ok; }));
}

CheckpointSummary inspect_checkpoint(const std::string& path) {
  CheckpointSummary s;
  s.file = resolve_checkpoint_file(path);
  const h5::File f = h5::File::open(s.file);
  const L::Header h = L::read_header(f);
  s.format_version = h.format_version;
  s.step = h.step;
  s.tokens_seen = h.tokens_seen;
  s.writer = h.writer;
  if (h5::exists(f, L::kLr)) s.lr_step = h5::read_attr_i64(f, L::kLr, L::kLrStepAttr);
  if (h5::exists(f, L::kData)) {
    for (const std::string& a : h5::list_attrs(f, L::kData)) {
      s.data_position[a] = h5::read_attr_i64(f, L::kData, a);
    }
  }

  std::vector<uint8_t> config;
  s.datasets.push_back(check_dataset(f, L::kConfig, &config));
  s.config_yaml.assign(config.begin(), config.end());
  s.config_summary = summarize_config(s.config_yaml, s.file);

  auto check_group = [&](const char* group) {
    for (const std::string& name : h5::list_links(f, group)) {
      s.datasets.push_back(check_dataset(f, L::child(group, name)));
    }
  };
  SY_REQUIRE(ErrorKind::kBadInput, h5::exists(f, L::kParams), s.file, ": missing group ",
             L::kParams);
  check_group(L::kParams);
  for (const DatasetCheck& d : s.datasets) {
    if (!d.path.starts_with(std::string(L::kParams) + "/")) continue;
    int64_t n = 1;
    for (int64_t x : d.shape) n *= x;
    s.parameters += n;
  }
  s.has_optimizer = h5::exists(f, L::kOptim);
  if (s.has_optimizer) {
    s.optimizer_steps = h5::read_attr_i64(f, L::kOptim, L::kOptimStepsAttr);
    check_group(L::kOptimM);
    check_group(L::kOptimV);
  }
  if (h5::exists(f, L::kRng)) {
    for (const std::string& name : h5::list_links(f, L::kRng)) {
      std::vector<uint8_t> bytes;
      s.datasets.push_back(check_dataset(f, L::child(L::kRng, name), &bytes));
      if (bytes.size() == 2 * sizeof(uint64_t)) {
        core::RngState st;
        std::memcpy(&st.seed, bytes.data(), sizeof(uint64_t));
        std::memcpy(&st.offset, bytes.data() + sizeof(uint64_t), sizeof(uint64_t));
        s.rngs[name] = st;
      }
    }
  }
  return s;
}

std::string format_checkpoint_summary(const CheckpointSummary& s) {
  std::ostringstream o;
  o << "checkpoint  " << s.file << "\n";
  o << "format      switchyard-checkpoint v" << s.format_version;
  if (!s.writer.empty()) o << " (written by " << s.writer << ")";
  o << "\nstep        " << s.step << "\ntokens      " << s.tokens_seen << "\n";
  if (s.has_optimizer) {
    o << "optimizer   AdamW, " << s.optimizer_steps << " steps\n";
  } else {
    o << "optimizer   (none stored)\n";
  }
  o << "lr          schedule position " << s.lr_step << "\n";
  o << "rng        ";
  if (s.rngs.empty()) o << " (none)";
  for (auto it = s.rngs.begin(); it != s.rngs.end(); ++it) {
    o << (it == s.rngs.begin() ? " " : ", ") << it->first << " (seed " << it->second.seed
      << ", offset " << it->second.offset << ")";
  }
  o << "\ndata       ";
  if (s.data_position.empty()) o << " (none)";
  for (const auto& [name, v] : s.data_position) o << " " << name << "=" << v;
  o << "\nparameters  " << s.parameters << "\n";
  for (const std::string& line : s.config_summary) o << line << "\n";

  size_t width = 7;
  for (const DatasetCheck& d : s.datasets) width = std::max(width, d.path.size());
  char line[256];
  o << "\n"
    << "dataset" << std::string(width - 7 + 2, ' ');
  std::snprintf(line, sizeof(line), "%-5s %-16s %12s  %-8s  %s\n", "dtype", "shape", "bytes",
                "checksum", "status");
  o << line;
  int64_t total = 0;
  for (const DatasetCheck& d : s.datasets) {
    total += d.bytes;
    o << d.path << std::string(width - d.path.size() + 2, ' ');
    std::snprintf(line, sizeof(line), "%-5s %-16s %12lld  %-8s  ", d.dtype.c_str(),
                  shape_string(d.shape).c_str(), static_cast<long long>(d.bytes),
                  d.has_checksum ? hex32(d.stored_checksum).c_str() : "-");
    o << line << (d.ok ? "OK" : "FAILED: " + d.error) << "\n";
  }
  o << "\nverified " << s.datasets.size() << " datasets, " << total << " bytes: ";
  if (s.ok()) {
    o << "all OK\n";
  } else {
    o << s.failures() << " FAILED\n";
  }
  return o.str();
}

}  // namespace sy::trainer
