// alltoallv_bandwidth: the raw bandwidth of Communicator::all_to_all_v (MPI_Alltoallv underneath),
// the collective that TokenDispatcher's exchanges make under expert parallelism.
//
//   mpirun -np P alltoallv_bandwidth [--min-bytes B] [--max-bytes B] [--warmup N] [--repeats N]
//                                    [--no-self] [--json]
//
// For each size S from --min-bytes to --max-bytes (default 1 KiB to 16 MiB, doubling; K, M and G
// suffixes are powers of 1024), every rank sends S bytes to every other rank and, like a router
// that spreads tokens evenly, S bytes to itself (a local copy inside MPI_Alltoallv, as the
// dispatcher's own-expert rows are; --no-self leaves it out). One sample is one all_to_all_v
// after a barrier, timed on every rank; its time is the slowest rank's (an all-reduce of the max),
// since the exchange is done only when every rank is. After --warmup untimed calls, --repeats
// samples per size; the table shows their median, min and max, and
//   GB/s per rank = S * (P - 1) / median time / 1e9
// counting only the bytes sent to other ranks, as ExchangeTraffic (parallel/expert/all_to_all_op.h)
// does, so the trainer's all_to_all_bytes / all_to_all_ms compares with it directly. The received
// blocks are checked after each size. --json adds one JSON line after the table (read by
// bench/expert/run_ep_share.sh). Rank 0 prints; the others only take part.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/common/error.h"
#include "parallel/comm/communicator.h"
#include "parallel/comm/runtime.h"

namespace sy::bench {

namespace {

constexpr const char* kUsage =
    "usage: mpirun -np P alltoallv_bandwidth [--min-bytes B] [--max-bytes B] [--warmup N]\n"
    "                                        [--repeats N] [--no-self] [--json]\n"
    "  bytes per peer from --min-bytes to --max-bytes, doubling (default 1K to 16M; K, M, G are\n"
    "  powers of 1024, multiples of 4 bytes); --warmup untimed calls (default 5) and --repeats\n"
    "  timed ones (default 50) per size; --no-self: send nothing to the own rank; --json: one\n"
    "  JSON line after the table.\n";

struct Options {
  int64_t min_bytes = 1024;
  int64_t max_bytes = int64_t{16} << 20;
  int warmup = 5;
  int repeats = 50;
  bool self_block = true;
  bool json = false;
  bool help = false;
};

// One size's samples, in seconds (the slowest rank's time of each call).
struct SizeResult {
  int64_t bytes_per_peer = 0;
  double median_s = 0, min_s = 0, max_s = 0;
  double gb_per_s = 0;  // per rank, bytes to other ranks only
};

// "4096", "64K", "16M", "1G": a byte count (the suffixes are powers of 1024).
int64_t parse_bytes(const std::string& flag, const std::string& text) {
  size_t end = 0;
  int64_t value = 0;
  try {
    value = std::stoll(text, &end);
  } catch (const std::exception&) {
    SY_FAIL(ErrorKind::kUsage, flag, ": '", text, "' is not a byte count");
  }
  const std::string suffix = text.substr(end);
  int shift = 0;
  if (suffix == "K" || suffix == "k") {
    shift = 10;
  } else if (suffix == "M" || suffix == "m") {
    shift = 20;
  } else if (suffix == "G" || suffix == "g") {
    shift = 30;
  } else {
    SY_REQUIRE(ErrorKind::kUsage, suffix.empty(), flag, ": unknown suffix in '", text,
               "' (use K, M or G)");
  }
  SY_REQUIRE(ErrorKind::kUsage, value > 0 && value <= (int64_t{1} << (40 - shift)), flag, ": '",
             text, "' is out of range");
  return value << shift;
}

int parse_count(const std::string& flag, const std::string& text, int min) {
  size_t end = 0;
  int value = 0;
  try {
    value = std::stoi(text, &end);
  } catch (const std::exception&) {
    end = 0;
  }
  SY_REQUIRE(ErrorKind::kUsage, end == text.size() && end > 0 && value >= min, flag,
             ": expected an integer >= ", min, ", got '", text, "'");
  return value;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto value = [&]() -> std::string {
      SY_REQUIRE(ErrorKind::kUsage, i + 1 < argc, arg, " needs a value");
      return argv[++i];
    };
    if (arg == "--min-bytes") {
      o.min_bytes = parse_bytes(arg, value());
    } else if (arg == "--max-bytes") {
      o.max_bytes = parse_bytes(arg, value());
    } else if (arg == "--warmup") {
      o.warmup = parse_count(arg, value(), 0);
    } else if (arg == "--repeats") {
      o.repeats = parse_count(arg, value(), 1);
    } else if (arg == "--no-self") {
      o.self_block = false;
    } else if (arg == "--json") {
      o.json = true;
    } else if (arg == "-h" || arg == "--help") {
      o.help = true;
    } else {
      SY_FAIL(ErrorKind::kUsage, "unknown argument '", arg, "'\n", kUsage);
    }
  }
  SY_REQUIRE(ErrorKind::kUsage, o.min_bytes % 4 == 0 && o.max_bytes % 4 == 0,
             "--min-bytes and --max-bytes must be multiples of 4 (the exchange moves floats)");
  SY_REQUIRE(ErrorKind::kUsage, o.min_bytes <= o.max_bytes, "--min-bytes (", o.min_bytes,
             ") is larger than --max-bytes (", o.max_bytes, ")");
  return o;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// The value rank `src` puts in the block it sends to rank `dst` (small integers: exact in float).
float block_value(int src, int dst, int size) { return static_cast<float>(src * size + dst); }

// Times `repeats` all_to_all_v calls of `bytes` per peer after `warmup` untimed ones, then checks
// what arrived. Collective: every rank calls it with the same arguments.
SizeResult measure(parallel::Communicator& world, int64_t bytes, const Options& o) {
  const int p = world.size(), me = world.rank();
  const int64_t floats = bytes / 4;
  std::vector<int64_t> send_counts(static_cast<size_t>(p), floats), offsets(static_cast<size_t>(p));
  for (int r = 0; r < p; ++r) offsets[static_cast<size_t>(r)] = r * floats;
  if (!o.self_block) send_counts[static_cast<size_t>(me)] = 0;
  const std::vector<int64_t>& recv_counts = send_counts;  // symmetric: S from every other rank

  // Written once, so every page is touched before the first timed call.
  std::vector<float> send(static_cast<size_t>(p * floats)), recv(send.size(), -1.0f);
  for (int r = 0; r < p; ++r) {
    std::fill_n(send.begin() + r * floats, floats, block_value(me, r, p));
  }
  const auto exchange = [&] {
    world.all_to_all_v(send.data(), send_counts, offsets, recv.data(), recv_counts, offsets);
  };

  for (int i = 0; i < o.warmup; ++i) exchange();
  std::vector<double> samples(static_cast<size_t>(o.repeats));
  for (double& sample : samples) {
    world.barrier();
    const auto t0 = std::chrono::steady_clock::now();
    exchange();
    sample = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  // Sample i is the slowest rank's time of call i.
  world.all_reduce(samples.data(), static_cast<int64_t>(samples.size()), parallel::ReduceOp::kMax);

  for (int r = 0; r < p; ++r) {
    if (r == me && !o.self_block) continue;
    const float* block = recv.data() + r * floats;
    const float want = block_value(r, me, p);
    SY_CHECK(block[0] == want && block[floats - 1] == want, "rank ", me, ": the block from rank ",
             r, " of a ", bytes, "-byte exchange holds ", block[0], " ... ", block[floats - 1],
             ", expected ", want);
  }

  SizeResult res;
  res.bytes_per_peer = bytes;
  res.median_s = median(samples);
  res.min_s = *std::min_element(samples.begin(), samples.end());
  res.max_s = *std::max_element(samples.begin(), samples.end());
  res.gb_per_s = static_cast<double>(bytes) * (p - 1) / res.median_s / 1e9;
  return res;
}

int run(const Options& o, parallel::Communicator& world) {
  const bool root = world.rank() == 0;
  if (o.help) {
    if (root) std::fputs(kUsage, stdout);
    return 0;
  }
  SY_REQUIRE(ErrorKind::kUsage, world.size() >= 2,
             "alltoallv_bandwidth needs 2 or more ranks: run it under mpirun -np 2 (or more)");
  if (root) {
    std::printf(
        "alltoallv_bandwidth: %d ranks (%s) | rank 0 on %s | self block %s | %d warm-up and %d "
        "timed calls per size\n"
        "time: the slowest rank's, median (min-max) over the timed calls; GB/s per rank: bytes "
        "sent to other ranks / median time, GB = 1e9 bytes\n\n",
        world.size(), world.name().c_str(), parallel::hostname().c_str(),
        o.self_block ? "on" : "off", o.warmup, o.repeats);
    std::printf("%12s %12s %12s %12s %10s\n", "bytes/peer", "median us", "min us", "max us",
                "GB/s/rank");
    std::fflush(stdout);
  }
  std::vector<SizeResult> results;
  for (int64_t bytes = o.min_bytes; bytes <= o.max_bytes; bytes *= 2) {
    const SizeResult r = measure(world, bytes, o);
    results.push_back(r);
    if (root) {
      std::printf("%12lld %12.1f %12.1f %12.1f %10.2f\n", static_cast<long long>(r.bytes_per_peer),
                  r.median_s * 1e6, r.min_s * 1e6, r.max_s * 1e6, r.gb_per_s);
      std::fflush(stdout);
    }
  }
  if (root && o.json) {
    std::printf(
        "{\"bench\":\"alltoallv_bandwidth\",\"ranks\":%d,\"self_block\":%s,\"warmup\":%d,"
        "\"repeats\":%d,\"sizes\":[",
        world.size(), o.self_block ? "true" : "false", o.warmup, o.repeats);
    for (size_t i = 0; i < results.size(); ++i) {
      const SizeResult& r = results[i];
      std::printf(
          "%s{\"bytes_per_peer\":%lld,\"median_s\":%.9g,\"min_s\":%.9g,\"max_s\":%.9g,"
          "\"gb_per_s\":%.9g}",
          i == 0 ? "" : ",", static_cast<long long>(r.bytes_per_peer), r.median_s, r.min_s, r.max_s,
          r.gb_per_s);
    }
    std::printf("]}\n");
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

}  // namespace sy::bench

// Like the CLI (trainer/main.cpp): an error names the rank and ends the whole job with its exit
// code, so that no peer is left waiting in a collective.
int main(int argc, char** argv) {
  std::unique_ptr<sy::parallel::Runtime> runtime;
  try {
    runtime = std::make_unique<sy::parallel::Runtime>(&argc, &argv);
    return sy::bench::run(sy::bench::parse(argc, argv), runtime->world());
  } catch (const sy::Error& e) {
    const int rank = runtime ? runtime->world().rank() : 0;
    std::fprintf(stderr, "alltoallv_bandwidth: rank %d: %s: %s\n", rank,
                 sy::error_kind_name(e.kind()), e.what());
    if (runtime && runtime->world().size() > 1) sy::parallel::abort_world(e.exit_code());
    return e.exit_code();
  }
}
