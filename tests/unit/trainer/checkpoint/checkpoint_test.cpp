// Checkpoints that resume bit for bit: save -> load into a fresh model and optimizer, paths a
// user may give, `latest`, retention, and a save killed mid-write (fork + std::abort) that must
// leave the previous checkpoint usable. Corruption cases are in checkpoint_integrity_test.cpp.
#include "trainer/checkpoint/checkpoint.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "core/common/error.h"
#include "core/nn/decoder.h"
#include "tests/unit/trainer/test_util.h"
#include "trainer/checkpoint/checkpoint_inspect.h"
#include "trainer/config/config_loader.h"
#include "trainer/train/model_parts.h"

namespace sy::trainer {
namespace {

namespace fs = std::filesystem;
using core::Tensor;
using core::nn::Decoder;
using core::nn::DecoderOptions;
using testing::error_message;
using testing::fresh_dir;
using testing::read_file;
using testing::write_file;

DecoderOptions tiny(int64_t layers = 2) {
  DecoderOptions o = testing::tiny_decoder(layers);
  o.moe_first_layer = 1;  // layer 0 dense, the others MoE
  return o;
}

// A model and optimizer after `steps` AdamW steps on fixed batches.
using Trained = testing::TinyModel;

void train_step(Decoder& model, AdamW& opt, int step) {
  std::vector<int32_t> ids(16), targets(16);
  for (int i = 0; i < 16; ++i) {
    ids[i] = (i * 7 + step * 3) % 64;
    targets[i] = (i * 5 + step + 1) % 64;
  }
  model.zero_grad();
  model.loss(Tensor::from_ints(ids, {2, 8}), Tensor::from_ints(targets, {2, 8}), nullptr, true)
      .loss.backward();
  opt.step(1e-2);
}

Trained make_trained(uint64_t seed, int steps, const DecoderOptions& o = tiny()) {
  Trained t = testing::make_tiny_model(seed, o);
  for (int s = 0; s < steps; ++s) train_step(*t.model, *t.opt, s);
  return t;
}

CheckpointState make_state(int64_t step) {
  CheckpointState st;
  st.step = step;
  st.tokens_seen = step * 4096;
  st.rngs = {{"init", {1234, 0}},
             {"router_noise", {99, 1ULL << 40}},
             {"sampler", {7, static_cast<uint64_t>(step)}}};
  st.data_position = {{"epoch", 1}, {"cursor", 123456789012LL + step}};
  st.config_yaml = to_yaml(parse_config(R"(model:
  vocab_size: 64
  hidden_size: 16
  num_layers: 2
  num_heads: 2
  num_kv_heads: 1
  intermediate_size: 24
moe:
  num_experts: 4
  first_layer: 1
train:
  steps: 10
  global_batch_size: 2
  micro_batch_size: 2
  seq_len: 8
optim:
  lr: 0.01
data:
  train: data/x.bin
)",
                                        "test.yaml"));
  return st;
}

bool bit_equal(const Tensor& a, const Tensor& b) {
  const std::vector<float> x = a.to_vector(), y = b.to_vector();
  return a.shape() == b.shape() && std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0;
}

void expect_identical(const Trained& a, const Trained& b) {
  const auto pa = a.model->named_parameters(), pb = b.model->named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (size_t i = 0; i < pa.size(); ++i) {
    EXPECT_EQ(pa[i].name, pb[i].name);
    EXPECT_TRUE(bit_equal(pa[i].tensor, pb[i].tensor)) << pa[i].name;
  }
  ASSERT_EQ(a.opt->slots().size(), b.opt->slots().size());
  for (size_t i = 0; i < a.opt->slots().size(); ++i) {
    EXPECT_TRUE(bit_equal(a.opt->slots()[i].m, b.opt->slots()[i].m)) << "m " << pa[i].name;
    EXPECT_TRUE(bit_equal(a.opt->slots()[i].v, b.opt->slots()[i].v)) << "v " << pa[i].name;
  }
  EXPECT_EQ(a.opt->steps(), b.opt->steps());
}

std::set<std::string> entries(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.insert(e.path().filename().string());
  return out;
}

TEST(Checkpoint, SaveLoadRoundTripIsBitIdenticalAndResumesIdentically) {
  const std::string run = fresh_dir();
  Trained a = make_trained(1, 3);
  const CheckpointState st = make_state(3);
  const std::string dir = save_checkpoint(run, *a.model, *a.opt, st, 3, 0);
  EXPECT_EQ(dir, run + "/checkpoints/step_00000003");
  EXPECT_TRUE(fs::is_regular_file(dir + "/checkpoint.h5"));

  Trained b = make_trained(2, 0);  // different init, no steps
  const LoadedCheckpoint ck = load_checkpoint(run, *b.model, b.opt.get());
  EXPECT_EQ(ck.file, dir + "/checkpoint.h5");
  EXPECT_EQ(ck.format_version, kCheckpointFormatVersion);
  EXPECT_EQ(ck.optimizer_steps, 3);
  EXPECT_EQ(ck.state, st);
  expect_identical(a, b);

  // Both continue training: still bit for bit the same.
  for (int s = 3; s < 5; ++s) {
    train_step(*a.model, *a.opt, s);
    train_step(*b.model, *b.opt, s);
  }
  expect_identical(a, b);
}

TEST(Checkpoint, SavingTheSameStateTwiceGivesTheSameBytes) {
  Trained a = make_trained(1, 2);
  std::string files[2];
  for (std::string& file : files) {
    file = save_checkpoint(fresh_dir(), *a.model, *a.opt, make_state(2), 3, 0) + "/checkpoint.h5";
  }
  EXPECT_GT(read_file(files[0]).size(), 0u);
  EXPECT_TRUE(read_file(files[0]) == read_file(files[1]))
      << "checkpoint files are not reproducible";
}

TEST(Checkpoint, LoadAcceptsRunDirCheckpointDirAndFile) {
  const std::string run = fresh_dir();
  Trained a = make_trained(1, 1);
  const std::string dir = save_checkpoint(run, *a.model, *a.opt, make_state(1), 3, 0);
  for (const std::string& path : {run, dir, dir + "/checkpoint.h5"}) {
    Trained b = make_trained(5, 0);
    EXPECT_EQ(load_checkpoint(path, *b.model, nullptr).state.step, 1) << path;
    EXPECT_EQ(b.opt->steps(), 0);  // no optimizer given: untouched
    EXPECT_TRUE(
        bit_equal(a.model->named_parameters()[0].tensor, b.model->named_parameters()[0].tensor));
  }
  Trained b = make_trained(5, 0);
  for (const std::string& bad : {run + "/nope", fresh_dir().string()}) {
    const std::string msg =
        error_message(ErrorKind::kBadInput, [&] { load_checkpoint(bad, *b.model, nullptr); });
    EXPECT_NE(msg.find(bad), std::string::npos) << msg;
  }
}

TEST(Checkpoint, LatestNamesTheNewestAndFallsBackToScanning) {
  const std::string run = fresh_dir();
  EXPECT_FALSE(find_latest_checkpoint(run).has_value());
  Trained a = make_trained(1, 0);
  save_checkpoint(run, *a.model, *a.opt, make_state(10), 5, 0);
  save_checkpoint(run, *a.model, *a.opt, make_state(20), 5, 0);
  std::ifstream in(run + "/checkpoints/latest");
  std::string latest;
  std::getline(in, latest);
  EXPECT_EQ(latest, "step_00000020");
  EXPECT_EQ(find_latest_checkpoint(run), run + "/checkpoints/step_00000020");
  write_file(run + "/checkpoints/latest", "step_00000099\n");  // names nothing complete
  EXPECT_EQ(find_latest_checkpoint(run), run + "/checkpoints/step_00000020");
  // An incomplete step directory (no checkpoint.h5) is never chosen.
  fs::create_directories(run + "/checkpoints/step_00000030");
  EXPECT_EQ(find_latest_checkpoint(run), run + "/checkpoints/step_00000020");
  // Re-saving an existing step replaces it.
  save_checkpoint(run, *a.model, *a.opt, make_state(20), 5, 0);
  EXPECT_EQ(load_checkpoint(run, *a.model, nullptr).state.step, 20);
  EXPECT_EQ(entries(run + "/checkpoints"),
            (std::set<std::string>{"latest", "step_00000010", "step_00000020", "step_00000030"}));
}

TEST(Checkpoint, RetentionKeepsTheNewestAndEveryKthStep) {
  Trained a = make_trained(1, 0);
  const std::string run = fresh_dir();
  for (int step = 1; step <= 5; ++step)
    save_checkpoint(run, *a.model, *a.opt, make_state(step), 2, 0);
  EXPECT_EQ(entries(run + "/checkpoints"),
            (std::set<std::string>{"latest", "step_00000004", "step_00000005"}));

  const std::string run2 = fresh_dir();
  for (int step = 1; step <= 7; ++step)
    save_checkpoint(run2, *a.model, *a.opt, make_state(step), 1, 3);
  EXPECT_EQ(entries(run2 + "/checkpoints"),
            (std::set<std::string>{"latest", "step_00000003", "step_00000006", "step_00000007"}));
  EXPECT_EQ(find_latest_checkpoint(run2), run2 + "/checkpoints/step_00000007");
}

TEST(Checkpoint, AbortedSaveLeavesThePreviousCheckpointUsable) {
  const std::string run = fresh_dir();
  Trained a = make_trained(1, 2);
  save_checkpoint(run, *a.model, *a.opt, make_state(2), 3, 0);
  Trained later = make_trained(1, 3);

  for (const char* after : {"0", "5"}) {  // before any data; in the middle of the parameters
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      const rlimit no_core{0, 0};
      ::setrlimit(RLIMIT_CORE, &no_core);
      ::setenv(kAbortDuringSaveEnv, after, 1);
      try {
        save_checkpoint(run, *later.model, *later.opt, make_state(3), 3, 0);
      } catch (...) {
        ::_exit(2);
      }
      ::_exit(0);  // not reached: the hook aborts
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the save was expected to abort";
    EXPECT_EQ(WTERMSIG(status), SIGABRT);

    // The half-written save is a .tmp_ directory; nothing a resume would take for complete.
    const std::string tmp = run + "/checkpoints/.tmp_step_00000003_" + std::to_string(pid);
    EXPECT_TRUE(fs::is_regular_file(tmp + "/checkpoint.h5"));
    EXPECT_FALSE(fs::exists(run + "/checkpoints/step_00000003"));
    EXPECT_EQ(find_latest_checkpoint(run), run + "/checkpoints/step_00000002");
    Trained b = make_trained(9, 0);
    EXPECT_EQ(load_checkpoint(run, *b.model, b.opt.get()).state.step, 2);
    expect_identical(a, b);
    // Loading the partial file itself fails cleanly: HDF5 sees it was never closed.
    const std::string msg = error_message(ErrorKind::kBadInput, [&] {
      load_checkpoint(tmp + "/checkpoint.h5", *b.model, b.opt.get());
    });
    EXPECT_NE(msg.find(tmp + "/checkpoint.h5: "), std::string::npos) << msg;
  }
  // The next save cleans the leftovers up.
  save_checkpoint(run, *later.model, *later.opt, make_state(3), 3, 0);
  EXPECT_EQ(entries(run + "/checkpoints"),
            (std::set<std::string>{"latest", "step_00000002", "step_00000003"}));
}

TEST(Checkpoint, InspectSummarizesAndVerifiesEveryDataset) {
  const std::string run = fresh_dir();
  Trained a = make_trained(1, 2);
  save_checkpoint(run, *a.model, *a.opt, make_state(2), 3, 0);
  const CheckpointSummary s = inspect_checkpoint(run);
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.step, 2);
  EXPECT_EQ(s.tokens_seen, 2 * 4096);
  EXPECT_EQ(s.optimizer_steps, 2);
  EXPECT_EQ(s.lr_step, 2);
  EXPECT_EQ(s.parameters, a.model->num_parameters());
  EXPECT_EQ(s.rngs, make_state(2).rngs);
  EXPECT_EQ(s.data_position, make_state(2).data_position);
  const size_t params = a.model->named_parameters().size();
  EXPECT_EQ(s.datasets.size(), 1 + 3 * params + 3);  // config, params, m, v, 3 RNG streams
  for (const DatasetCheck& d : s.datasets) {
    EXPECT_TRUE(d.ok && d.fletcher32 && d.has_checksum) << d.path << ": " << d.error;
  }
  EXPECT_EQ(s.datasets[1].path, "/params/model.embed_tokens.weight");  // model order
  EXPECT_EQ(s.datasets[1].shape, (std::vector<int64_t>{64, 16}));
  const std::string text = format_checkpoint_summary(s);
  for (const char* want : {"step        2", "tokens      8192", "model: vocab 64, hidden 16",
                           "moe: 4 experts, top-2", "/params/lm_head.weight", "all OK"}) {
    EXPECT_NE(text.find(want), std::string::npos) << want << "\n" << text;
  }
}

// ---- Checkpoints written by several expert shards ---------------------------------------------

// A model holding experts [first, first + 2) of `full`'s 4, with full's weights, moments and step.
Trained shard_of(const Trained& full, int64_t first) {
  DecoderOptions o = tiny();
  o.expert_shard = {first, 2};
  Trained t = testing::make_tiny_model(1, o);
  std::map<std::string, const AdamW::Slot*> slot_of;
  for (const AdamW::Slot& s : full.opt->slots()) slot_of[s.param.name] = &s;
  for (AdamW::Slot& s : t.opt->mutable_slots()) {
    const AdamW::Slot& from = *slot_of.at(s.param.name);
    s.param.tensor.copy_(from.param.tensor);
    s.m.copy_(from.m);
    s.v.copy_(from.v);
  }
  t.opt->set_steps(full.opt->steps());
  return t;
}

TEST(Checkpoint, ShardsWrittenInTurnLoadAsTheWholeModelAndAsEachShard) {
  const Trained full = make_trained(11, 3);
  const Trained low = shard_of(full, 0), high = shard_of(full, 2);
  const std::string file = (fresh_dir() / "checkpoint.h5").string();
  write_checkpoint_file(file, *low.model, low.opt.get(), make_state(3));
  append_checkpoint_tensors(file, *high.model, high.opt.get(), is_expert_parameter);

  // The file holds the whole model: it loads into one process, bit for bit.
  Trained whole = make_trained(12, 0);
  load_checkpoint(file, *whole.model, whole.opt.get());
  expect_identical(full, whole);

  // And into the other shard, which skips the experts held elsewhere.
  Trained again = shard_of(make_trained(13, 0), 2);
  const core::nn::ExpertShard high_shard{2, 2};
  load_checkpoint(file, *again.model, again.opt.get(), experts_held_elsewhere(high_shard));
  expect_identical(high, again);
}

TEST(Checkpoint, ShardedLoadsRejectWhatNoRankHolds) {
  const Trained full = make_trained(11, 1);
  const Trained low = shard_of(full, 0);
  const std::string file = (fresh_dir() / "checkpoint.h5").string();
  write_checkpoint_file(file, *low.model, low.opt.get(), make_state(1));

  // Experts 2 and 3 were never appended: the whole model misses them.
  Trained whole = make_trained(12, 0);
  EXPECT_NE(error_message(ErrorKind::kBadInput,
                          [&] { load_checkpoint(file, *whole.model, whole.opt.get()); })
                .find("experts.2.w1.weight: missing dataset"),
            std::string::npos);
  // A shard that does not declare the other experts as held elsewhere rejects them.
  const std::string complete = (fresh_dir("complete") / "checkpoint.h5").string();
  write_checkpoint_file(complete, *full.model, full.opt.get(), make_state(1));
  Trained shard = shard_of(full, 2);
  EXPECT_NE(error_message(ErrorKind::kBadInput,
                          [&] { load_checkpoint(complete, *shard.model, shard.opt.get()); })
                .find("unexpected dataset"),
            std::string::npos);
}

}  // namespace
}  // namespace sy::trainer
