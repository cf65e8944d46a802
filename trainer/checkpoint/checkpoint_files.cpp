// Checkpoint directories on disk: names, publication, `latest`, retention, lookup.
#include "trainer/checkpoint/checkpoint_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string_view>

#include "core/common/error.h"

namespace sy::trainer {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail_io(const std::string& path, const std::string& what, int err) {
  SY_FAIL(ErrorKind::kInternal, path, ": ", what, ": ", std::strerror(err));
}

bool is_complete(const fs::path& dir) {
  std::error_code ec;
  return fs::is_regular_file(dir / kCheckpointFileName, ec);
}

std::string temp_name(const std::string& what) {
  return std::string(kTempPrefix) + what + "_" + std::to_string(::getpid());
}

}  // namespace

std::string checkpoint_dir_name(int64_t step) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "step_%08lld", static_cast<long long>(step));
  return buf;
}

std::optional<int64_t> parse_checkpoint_dir_name(const std::string& name) {
  constexpr std::string_view kPrefix = "step_";
  if (!name.starts_with(kPrefix) || name.size() < kPrefix.size() + 8 ||
      name.size() > kPrefix.size() + 18) {
    return std::nullopt;
  }
  int64_t step = 0;
  for (size_t i = kPrefix.size(); i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return std::nullopt;
    step = step * 10 + (name[i] - '0');
  }
  return step;
}

std::vector<std::pair<int64_t, std::string>> list_checkpoints(const std::string& checkpoints_dir) {
  std::vector<std::pair<int64_t, std::string>> out;
  std::error_code ec;
  if (!fs::is_directory(checkpoints_dir, ec)) return out;
  for (const fs::directory_entry& e : fs::directory_iterator(checkpoints_dir, ec)) {
    const auto step = parse_checkpoint_dir_name(e.path().filename().string());
    if (step && is_complete(e.path())) out.emplace_back(*step, e.path().string());
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  return out;
}

std::optional<std::string> find_latest_checkpoint(const std::string& run_dir) {
  const fs::path dir = fs::path(run_dir) / kCheckpointsDirName;
  std::ifstream in(dir / kLatestFileName);
  std::string name;
  if (in && std::getline(in, name)) {
    while (!name.empty() && std::isspace(static_cast<unsigned char>(name.back()))) name.pop_back();
    if (parse_checkpoint_dir_name(name) && is_complete(dir / name)) return (dir / name).string();
  }
  const auto all = list_checkpoints(dir.string());
  if (all.empty()) return std::nullopt;
  return all.front().second;
}

std::string resolve_checkpoint_file(const std::string& path) {
  std::error_code ec;
  const fs::path p(path);
  SY_REQUIRE(ErrorKind::kBadInput, fs::exists(p, ec), path, ": no such file or directory");
  if (!fs::is_directory(p, ec)) return path;
  if (is_complete(p)) return (p / kCheckpointFileName).string();
  SY_REQUIRE(ErrorKind::kBadInput, fs::is_directory(p / kCheckpointsDirName, ec), path,
             ": neither a checkpoint directory (no ", kCheckpointFileName,
             ") nor a run directory (no ", kCheckpointsDirName, "/)");
  const auto latest = find_latest_checkpoint(path);
  SY_REQUIRE(ErrorKind::kBadInput, latest.has_value(), path,
             ": the run directory has no complete checkpoint");
  return (fs::path(*latest) / kCheckpointFileName).string();
}

void remove_temporaries(const std::string& checkpoints_dir) {
  std::error_code ec;
  if (!fs::is_directory(checkpoints_dir, ec)) return;
  std::vector<fs::path> stale;
  for (const fs::directory_entry& e : fs::directory_iterator(checkpoints_dir, ec)) {
    if (e.path().filename().string().starts_with(kTempPrefix)) stale.push_back(e.path());
  }
  for (const fs::path& p : stale) {
    fs::remove_all(p, ec);
    SY_REQUIRE(ErrorKind::kInternal, !ec, p.string(), ": cannot remove: ", ec.message());
  }
}

void fsync_path(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail_io(path, "cannot open for fsync", errno);
  // EINVAL / ENOTSUP: the filesystem cannot sync this kind of object (some do not for
  // directories); there is nothing more to do for it.
  if (::fsync(fd) != 0 && errno != EINVAL && errno != ENOTSUP) {
    const int err = errno;
    ::close(fd);
    fail_io(path, "fsync failed", err);
  }
  ::close(fd);
}

void publish_directory(const std::string& temp_dir, const std::string& final_dir) {
  const fs::path parent = fs::path(final_dir).parent_path();
  std::error_code ec;
  fs::path old;
  if (fs::exists(final_dir, ec)) {  // a re-save of the same step: set the old one aside first
    old = parent / temp_name("replaced_" + fs::path(final_dir).filename().string());
    if (::rename(final_dir.c_str(), old.c_str()) != 0) fail_io(final_dir, "cannot move", errno);
  }
  if (::rename(temp_dir.c_str(), final_dir.c_str()) != 0) {
    fail_io(temp_dir, "cannot rename to " + final_dir, errno);
  }
  fsync_path(parent.string());
  if (!old.empty()) fs::remove_all(old, ec);  // best effort; the next save cleans up .tmp_*
}

void write_latest(const std::string& checkpoints_dir, const std::string& dir_name) {
  const fs::path dir(checkpoints_dir);
  const fs::path tmp = dir / temp_name("latest");
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << dir_name << "\n";
    out.flush();
    SY_REQUIRE(ErrorKind::kInternal, out.good(), tmp.string(), ": cannot write");
  }
  fsync_path(tmp.string());
  const fs::path latest = dir / kLatestFileName;
  if (::rename(tmp.c_str(), latest.c_str()) != 0) fail_io(tmp.string(), "cannot rename", errno);
  fsync_path(checkpoints_dir);
}

std::vector<std::string> apply_retention(const std::string& checkpoints_dir, int keep_last,
                                         int keep_every, int64_t protected_step) {
  std::vector<std::string> deleted;
  const auto all = list_checkpoints(checkpoints_dir);
  for (size_t i = 0; i < all.size(); ++i) {
    const auto& [step, dir] = all[i];
    const bool keep = keep_last <= 0 || i < static_cast<size_t>(keep_last) ||
                      (keep_every > 0 && step % keep_every == 0) || step == protected_step;
    if (keep) continue;
    const fs::path doomed =
        fs::path(checkpoints_dir) / temp_name("deleting_" + fs::path(dir).filename().string());
    if (::rename(dir.c_str(), doomed.c_str()) != 0) fail_io(dir, "cannot move aside", errno);
    std::error_code ec;
    fs::remove_all(doomed, ec);
    SY_REQUIRE(ErrorKind::kInternal, !ec, doomed.string(), ": cannot remove: ", ec.message());
    deleted.push_back(dir);
  }
  if (!deleted.empty()) fsync_path(checkpoints_dir);
  return deleted;
}

}  // namespace sy::trainer
