#include "tests/unit/trainer/test_util.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <vector>

namespace sy::trainer::testing {
namespace {

namespace fs = std::filesystem;

// The folders made by fresh_dir(), removed when the test binary ends with every test passed.
class TempDirs : public ::testing::Environment {
 public:
  static std::vector<fs::path>& all() {
    static std::vector<fs::path> dirs;
    return dirs;
  }
  void TearDown() override {
    if (::testing::UnitTest::GetInstance()->Passed()) {
      for (const fs::path& d : all()) fs::remove_all(d);
    }
  }
};
[[maybe_unused]] ::testing::Environment* const kTempDirs =
    ::testing::AddGlobalTestEnvironment(new TempDirs);

// "Suite.Test" of the running test, "Suite" in SetUpTestSuite; any character outside [A-Za-z0-9_.-]
// (the '/' of parameterized names) becomes '_'.
std::string running_test_name() {
  const ::testing::UnitTest& unit = *::testing::UnitTest::GetInstance();
  std::string name;
  if (const ::testing::TestInfo* info = unit.current_test_info()) {
    name = std::string(info->test_suite_name()) + "." + info->name();
  } else if (const ::testing::TestSuite* suite = unit.current_test_suite()) {
    name = suite->name();
  }
  for (char& c : name) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '.' || c == '-';
    if (!keep) c = '_';
  }
  return name;
}

}  // namespace

fs::path fresh_dir(const std::string& tag) {
  static int counter = 0;
  const fs::path dir = fs::path(::testing::TempDir()) /
                       ("sy_" + running_test_name() + "_" + std::to_string(::getpid()) + "_" +
                        std::to_string(counter++) + (tag.empty() ? "" : "_" + tag));
  fs::remove_all(dir);
  fs::create_directories(dir);
  TempDirs::all().push_back(dir);
  return dir;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const fs::path& path, const std::string& bytes) {
  if (path.has_parent_path()) fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

std::string error_message(ErrorKind kind, const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "expected sy::Error(" << error_kind_name(kind) << ")";
  return "";
}

std::string source_path(const std::string& relative) {
  return std::string(SY_SOURCE_DIR) + "/" + relative;
}

core::nn::DecoderOptions tiny_decoder(int64_t layers, int64_t hidden) {
  core::nn::DecoderOptions o;
  o.vocab_size = 64, o.hidden_size = hidden, o.num_layers = layers, o.num_heads = 2;
  o.num_kv_heads = 1, o.intermediate_size = 24, o.expert_intermediate_size = 12;
  o.router.num_experts = 4, o.router.top_k = 2;
  return o;
}

TinyModel make_tiny_model(uint64_t seed, const core::nn::DecoderOptions& options) {
  TinyModel m{std::make_unique<core::nn::Decoder>(options), nullptr};
  core::Rng rng(seed);
  m.model->init(rng, 0.05f);
  m.opt = std::make_unique<AdamW>(m.model->named_parameters(), AdamWOptions{});
  return m;
}

}  // namespace sy::trainer::testing
