#include "parallel/expert/all_to_all_op.h"

#include <algorithm>
#include <chrono>

#include "core/autograd/node.h"
#include "core/common/error.h"

namespace sy::parallel {

SY_REGISTER_OP(kAllToAllRowsOp, "all_to_all_rows");

namespace {

// The plain exchange: x (sum send_rows, D) -> (sum recv_rows, D).
core::Tensor exchange(const core::Tensor& x, int64_t d, const std::vector<int64_t>& send_rows,
                      const std::vector<int64_t>& recv_rows, Communicator& group,
                      ExchangeTraffic* traffic) {
  const size_t p = static_cast<size_t>(group.size());
  SY_CHECK(send_rows.size() == p && recv_rows.size() == p, "all_to_all_rows: ", send_rows.size(),
           " send and ", recv_rows.size(), " receive counts for a group of ", p);
  std::vector<int64_t> send_counts(p), send_offsets(p), recv_counts(p), recv_offsets(p);
  int64_t send_at = 0, recv_at = 0;
  for (size_t r = 0; r < p; ++r) {
    SY_CHECK(send_rows[r] >= 0 && recv_rows[r] >= 0, "all_to_all_rows: negative row count");
    send_counts[r] = send_rows[r] * d, send_offsets[r] = send_at;
    recv_counts[r] = recv_rows[r] * d, recv_offsets[r] = recv_at;
    send_at += send_counts[r], recv_at += recv_counts[r];
  }
  SY_CHECK(send_at == x.numel(), "all_to_all_rows: send counts cover ",
           send_at / std::max<int64_t>(d, 1), " rows of ", x.describe());
  core::Tensor out = core::Tensor::empty({recv_at / std::max<int64_t>(d, 1), d});
  const auto t0 = std::chrono::steady_clock::now();
  group.all_to_all_v(x.f32(), send_counts, send_offsets, out.f32(), recv_counts, recv_offsets);
  if (traffic != nullptr) {
    const int64_t self = send_counts[static_cast<size_t>(group.rank())];
    traffic->bytes_sent += (send_at - self) * static_cast<int64_t>(sizeof(float));
    traffic->seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ++traffic->calls;
  }
  return out;
}

}  // namespace

core::Tensor all_to_all_rows(const core::Tensor& x, const std::vector<int64_t>& send_rows,
                             const std::vector<int64_t>& recv_rows, Communicator& group,
                             std::shared_ptr<ExchangeTraffic> traffic) {
  SY_CHECK(x.defined() && x.ndim() == 2 && x.dtype() == core::DType::kF32 && x.is_cpu(),
           "all_to_all_rows: x must be a float32 CPU matrix, got ", x.describe());
  const int64_t d = x.dim(1);
  core::Tensor out = exchange(x, d, send_rows, recv_rows, group, traffic.get());
  return core::record(kAllToAllRowsOp, out, {x},
                      [d, send_rows, recv_rows, &group, traffic](const core::Tensor& g) {
                        return std::vector<core::Tensor>{
                            exchange(g, d, recv_rows, send_rows, group, traffic.get())};
                      });
}

}  // namespace sy::parallel
