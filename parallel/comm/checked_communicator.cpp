#include "parallel/comm/checked_communicator.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <sstream>

#include "core/common/error.h"

namespace sy::parallel {

// Every group of one tree (the wrapped world and what was split from it), in creation order.
struct CheckedCommunicator::Registry {
  std::vector<CheckedCommunicator*> groups;
};

namespace {

constexpr std::array<const char*, 10> kKinds = {"all_reduce(f32)", "all_reduce(f64)",
                                                "all_reduce(i64)", "all_reduce_async(f32)",
                                                "broadcast",       "all_gather",
                                                "reduce_scatter",  "all_to_all_v",
                                                "barrier",         "split"};

int64_t kind_id(const char* kind) {
  for (size_t i = 0; i < kKinds.size(); ++i) {
    if (std::strcmp(kKinds[i], kind) == 0) return static_cast<int64_t>(i);
  }
  SY_FAIL(ErrorKind::kInternal, "debug_comm: unknown call kind ", kind);
}

uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
  return h ^ (h >> 27);
}

// 62 bits, so that the value and its negation both fit an int64.
int64_t signature(uint64_t h) { return static_cast<int64_t>(h >> 2); }

// True when every rank of `group` passed the same value.
bool agree(Communicator& group, int64_t value) {
  int64_t bounds[2] = {value, -value};
  group.all_reduce(bounds, 2, ReduceOp::kMax);
  return bounds[0] == -bounds[1];
}

// Every rank's `fields` values, rank-major (an all-gather made of a sum).
std::vector<int64_t> gather(Communicator& group, const std::vector<int64_t>& fields) {
  const size_t n = fields.size();
  std::vector<int64_t> all(n * static_cast<size_t>(group.size()), 0);
  std::copy(fields.begin(), fields.end(), all.begin() + group.rank() * static_cast<int64_t>(n));
  group.all_reduce(all.data(), static_cast<int64_t>(all.size()), ReduceOp::kSum);
  return all;
}

// The header before each point-to-point message: a marker, the sender's message number to this
// receiver, the element count and the tag, each integer in 24-bit float pieces (exact).
constexpr int kHeader = 6;
constexpr float kMarker = 12345.0f;
std::array<float, kHeader> make_header(int64_t number, int64_t count, int tag) {
  const auto lo = [](int64_t v) { return static_cast<float>(v & 0xffffff); };
  const auto hi = [](int64_t v) { return static_cast<float>((v >> 24) & 0xffffff); };
  return {kMarker, lo(number), hi(number), lo(count), hi(count), static_cast<float>(tag)};
}
int64_t read_field(const std::array<float, kHeader>& h, int at) {
  return static_cast<int64_t>(h[at]) | (static_cast<int64_t>(h[at + 1]) << 24);
}

// A send and its header in flight together; the header's buffer lives here.
class CheckedSend final : public PendingCollective {
 public:
  CheckedSend(std::array<float, kHeader> header) : header_(header) {}
  float* header() { return header_.data(); }
  void set(std::unique_ptr<PendingCollective> header, std::unique_ptr<PendingCollective> payload) {
    header_send_ = std::move(header);
    payload_send_ = std::move(payload);
  }
  bool test() override {
    const bool a = header_send_->test();
    return payload_send_->test() && a;
  }
  void wait() override {
    header_send_->wait();
    payload_send_->wait();
  }

 private:
  std::array<float, kHeader> header_;
  std::unique_ptr<PendingCollective> header_send_, payload_send_;
};

}  // namespace

CheckedCommunicator::CheckedCommunicator(Communicator& inner, std::string label)
    : CheckedCommunicator(nullptr, &inner, std::move(label), std::make_shared<Registry>()) {}

CheckedCommunicator::CheckedCommunicator(std::unique_ptr<Communicator> owned, Communicator* inner,
                                         std::string label, std::shared_ptr<Registry> registry)
    : owned_(std::move(owned)),
      inner_(owned_ ? owned_.get() : inner),
      label_(std::move(label)),
      registry_(std::move(registry)) {
  registry_->groups.push_back(this);
  sent_.assign(static_cast<size_t>(size()), 0);
  received_ = sent_;
  send_hash_.assign(static_cast<size_t>(size()), 0);
  recv_hash_ = send_hash_;
}

CheckedCommunicator::~CheckedCommunicator() { std::erase(registry_->groups, this); }

uint64_t CheckedCommunicator::call_hash(int64_t id, int64_t count, int64_t extra) const {
  return mix(mix(mix(static_cast<uint64_t>(calls_), static_cast<uint64_t>(id)),
                 static_cast<uint64_t>(count)),
             static_cast<uint64_t>(extra));
}

void CheckedCommunicator::record_collective(const char* kind, int64_t count, int64_t extra) {
  collective_hash_ = mix(collective_hash_, call_hash(kind_id(kind), count, extra));
  ++calls_;
}

void CheckedCommunicator::check_collective(const char* kind, int64_t count, int64_t extra) {
  const int64_t id = kind_id(kind);
  if (!agree(*inner_, signature(call_hash(id, count, extra)))) {
    const std::vector<int64_t> all = gather(*inner_, {calls_, id, count, extra});
    std::ostringstream msg;
    msg << "parallel.debug_comm: the ranks of group " << label_
        << " issued different collectives at call #" << calls_ << ":";
    for (int r = 0; r < size(); ++r) {
      const int64_t* f = &all[static_cast<size_t>(r) * 4];
      msg << (r ? "; " : " ") << "rank " << r << " call #" << f[0] << " "
          << kKinds[static_cast<size_t>(f[1])] << " count " << f[2];
      if (f[1] == kind_id("broadcast")) msg << " root " << f[3];
    }
    SY_FAIL(ErrorKind::kDistributed, msg.str());
  }
  record_collective(kind, count, extra);
}

void CheckedCommunicator::all_reduce(float* data, int64_t count, ReduceOp op) {
  check_collective("all_reduce(f32)", count, static_cast<int64_t>(op));
  inner_->all_reduce(data, count, op);
}
void CheckedCommunicator::all_reduce(double* data, int64_t count, ReduceOp op) {
  check_collective("all_reduce(f64)", count, static_cast<int64_t>(op));
  inner_->all_reduce(data, count, op);
}
void CheckedCommunicator::all_reduce(int64_t* data, int64_t count, ReduceOp op) {
  check_collective("all_reduce(i64)", count, static_cast<int64_t>(op));
  inner_->all_reduce(data, count, op);
}
std::unique_ptr<PendingCollective> CheckedCommunicator::all_reduce_async(float* data, int64_t count,
                                                                         ReduceOp op) {
  // No blocking pre-check here: a nonblocking start may come from a gradient-ready hook, at a
  // moment that differs between ranks, and a blocking check there could wait on a rank that is
  // itself blocked elsewhere. The call still enters the sequence that verify_step compares.
  record_collective("all_reduce_async(f32)", count, static_cast<int64_t>(op));
  return inner_->all_reduce_async(data, count, op);
}
void CheckedCommunicator::broadcast(void* data, int64_t bytes, int root) {
  check_collective("broadcast", bytes, root);
  inner_->broadcast(data, bytes, root);
}
void CheckedCommunicator::all_gather(const float* send, float* recv, int64_t count) {
  check_collective("all_gather", count);
  inner_->all_gather(send, recv, count);
}
void CheckedCommunicator::reduce_scatter(const float* send, float* recv, int64_t count) {
  check_collective("reduce_scatter", count);
  inner_->reduce_scatter(send, recv, count);
}
void CheckedCommunicator::all_to_all_v(const float* send, const std::vector<int64_t>& send_counts,
                                       const std::vector<int64_t>& send_offsets, float* recv,
                                       const std::vector<int64_t>& recv_counts,
                                       const std::vector<int64_t>& recv_offsets) {
  // Counts differ between ranks by design; the call itself must match.
  check_collective("all_to_all_v", static_cast<int64_t>(send_counts.size()));
  inner_->all_to_all_v(send, send_counts, send_offsets, recv, recv_counts, recv_offsets);
}
void CheckedCommunicator::barrier() {
  check_collective("barrier", 0);
  inner_->barrier();
}

int64_t CheckedCommunicator::record_send(int dest, int64_t count, int tag) {
  SY_CHECK(dest >= 0 && dest < size(), "send: no rank ", dest, " in group ", label_);
  uint64_t& h = send_hash_[static_cast<size_t>(dest)];
  h = mix(h, mix(static_cast<uint64_t>(count), static_cast<uint64_t>(tag)));
  return sent_[static_cast<size_t>(dest)]++;
}

void CheckedCommunicator::send(const float* data, int64_t count, int dest, int tag) {
  const std::array<float, kHeader> header = make_header(record_send(dest, count, tag), count, tag);
  inner_->send(header.data(), kHeader, dest, tag);
  inner_->send(data, count, dest, tag);
}

std::unique_ptr<PendingCollective> CheckedCommunicator::send_async(const float* data, int64_t count,
                                                                   int dest, int tag) {
  auto pending =
      std::make_unique<CheckedSend>(make_header(record_send(dest, count, tag), count, tag));
  auto header = inner_->send_async(pending->header(), kHeader, dest, tag);
  pending->set(std::move(header), inner_->send_async(data, count, dest, tag));
  return pending;
}

void CheckedCommunicator::recv(float* data, int64_t count, int source, int tag) {
  SY_CHECK(source >= 0 && source < size(), "recv: no rank ", source, " in group ", label_);
  std::array<float, kHeader> header{};
  inner_->recv(header.data(), kHeader, source, tag);
  const int64_t expected = received_[static_cast<size_t>(source)]++;
  const int64_t number = read_field(header, 1), sent_count = read_field(header, 3);
  SY_REQUIRE(ErrorKind::kDistributed,
             header[0] == kMarker && number == expected && sent_count == count,
             "parallel.debug_comm: group ", label_, ": rank ", rank(), " expected message #",
             expected, " from rank ", source, " with ", count, " elements (tag ", tag,
             "), but rank ", source, " sent message #", number, " with ", sent_count, " elements");
  uint64_t& h = recv_hash_[static_cast<size_t>(source)];
  h = mix(h, mix(static_cast<uint64_t>(count), static_cast<uint64_t>(tag)));
  inner_->recv(data, count, source, tag);
}

std::unique_ptr<Communicator> CheckedCommunicator::split(int color, int key) {
  check_collective("split", 0);  // colors and keys differ between ranks by design
  std::unique_ptr<Communicator> inner = inner_->split(color, key);
  return std::unique_ptr<Communicator>(new CheckedCommunicator(
      std::move(inner), nullptr, label_ + "/" + std::to_string(color), registry_));
}

void CheckedCommunicator::verify_group() {
  // Collectives: the same sequence on every rank.
  if (!agree(*inner_, signature(collective_hash_))) {
    const std::vector<int64_t> all = gather(*inner_, {calls_});
    std::ostringstream msg;
    msg << "parallel.debug_comm: the ranks of group " << label_
        << " issued different sequences of collectives in this step (calls so far:";
    for (int r = 0; r < size(); ++r) msg << " rank " << r << " " << all[static_cast<size_t>(r)];
    msg << ")";
    SY_FAIL(ErrorKind::kDistributed, msg.str());
  }
  // Messages: what rank a sent to rank b is what b received from a.
  const int p = size();
  std::vector<int64_t> mine;
  for (int q = 0; q < p; ++q) {
    mine.push_back(signature(send_hash_[static_cast<size_t>(q)]));
    mine.push_back(signature(recv_hash_[static_cast<size_t>(q)]));
    mine.push_back(sent_[static_cast<size_t>(q)]);
    mine.push_back(received_[static_cast<size_t>(q)]);
  }
  const std::vector<int64_t> all = gather(*inner_, mine);
  const auto at = [&](int r, int q, int field) {
    return all[static_cast<size_t>((r * p + q) * 4 + field)];
  };
  for (int a = 0; a < p; ++a) {
    for (int b = 0; b < p; ++b) {
      SY_REQUIRE(ErrorKind::kDistributed, at(a, b, 0) == at(b, a, 1), "parallel.debug_comm: group ",
                 label_, ": in this step rank ", a, " sent rank ", b, " other messages than rank ",
                 b, " received (", at(a, b, 2), " sent, ", at(b, a, 3), " received so far)");
    }
  }
  collective_hash_ = 0;
  std::fill(send_hash_.begin(), send_hash_.end(), 0);
  std::fill(recv_hash_.begin(), recv_hash_.end(), 0);
}

void CheckedCommunicator::verify_step() {
  // A copy: verification makes no groups, but the list is the registry's.
  const std::vector<CheckedCommunicator*> groups = registry_->groups;
  for (CheckedCommunicator* g : groups) g->verify_group();
}

}  // namespace sy::parallel
