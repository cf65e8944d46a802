// Errors and checks shared by every layer.
//
// Switchyard reports every failure as a sy::Error carrying an ErrorKind; the CLI maps the kind to
// the documented process exit code (README, "Exit codes"). Use
//   SY_CHECK(cond, "message naming ", the_value);                 // internal / programming errors
//   SY_REQUIRE(ErrorKind::kBadInput, cond, "file ", path, ": ...");  // errors caused by user input
// The message is only built when the check fails, so checks are cheap on the hot path.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace sy {

// The kind of a failure; its value is the process exit code the CLI returns for it.
enum class ErrorKind : int {
  kInternal = 1,     // a bug or an unexpected runtime failure
  kUsage = 2,        // bad command line or configuration
  kBadInput = 3,     // a malformed input file (data shard, checkpoint, export, tokenizer)
  kNumerical = 4,    // non-finite loss or gradients
  kDistributed = 5,  // a peer died, a collective failed, the layout does not match the world
  kPreempted = 75,   // stopped on a signal after saving a checkpoint; safe to requeue
};

const char* error_kind_name(ErrorKind kind);

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }
  int exit_code() const { return static_cast<int>(kind_); }

 private:
  ErrorKind kind_;
};

namespace detail {

template <typename... Args>
[[noreturn]] void throw_error(ErrorKind kind, const char* file, int line, const char* condition,
                              const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  if (kind == ErrorKind::kInternal) {
    // Internal failures point at the code; user-facing ones speak only of the user's input.
    os << " [" << condition << " failed at " << file << ":" << line << "]";
  }
  throw Error(kind, os.str());
}

}  // namespace detail
}  // namespace sy

#define SY_LIKELY(x) __builtin_expect(!!(x), 1)

#define SY_REQUIRE(kind, cond, ...)                                              \
  do {                                                                           \
    if (!SY_LIKELY(cond)) {                                                      \
      ::sy::detail::throw_error((kind), __FILE__, __LINE__, #cond, __VA_ARGS__); \
    }                                                                            \
  } while (0)

#define SY_CHECK(cond, ...) SY_REQUIRE(::sy::ErrorKind::kInternal, cond, __VA_ARGS__)

// Unconditional failure, e.g. for switch defaults.
#define SY_FAIL(kind, ...) \
  ::sy::detail::throw_error((kind), __FILE__, __LINE__, "fail", __VA_ARGS__)
