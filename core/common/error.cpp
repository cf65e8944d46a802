#include "core/common/error.h"

namespace sy {

const char* error_kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInternal:
      return "internal error";
    case ErrorKind::kUsage:
      return "usage error";
    case ErrorKind::kBadInput:
      return "bad input";
    case ErrorKind::kNumerical:
      return "numerical failure";
    case ErrorKind::kDistributed:
      return "distributed failure";
    case ErrorKind::kPreempted:
      return "preempted";
  }
  return "error";
}

}  // namespace sy
