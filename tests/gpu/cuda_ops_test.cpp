// The CUDA kernels of the elementwise ops and matmul against their CPU kernels: every op runs on
// CPU leaves and on GPU copies of them, and the outputs and the input gradients (for one random
// upstream gradient) must agree to fp32 rounding. Skipped where no GPU is visible.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "core/backends/device_memory.h"
#include "core/common/error.h"
#include "core/ops/elementwise.h"
#include "core/ops/matmul.h"
#include "core/tensor/rng.h"
#include "core/tensor/tensor.h"
#include "tests/gpu/gpu_test_util.h"

namespace sy::core {
namespace {

// |gpu - cpu| <= atol + rtol * |cpu| per element. Elementwise kernels differ from the CPU's by an
// ulp or two (FMA contraction, expf); sums and products also by accumulation order, which for
// the ~1000-term sums here (magnitude ~30) moves results by up to ~1e-4.
struct Tolerance {
  double atol;
  double rtol;
};
constexpr Tolerance kElementwise{1e-5, 1e-5};
constexpr Tolerance kAccumulated{5e-4, 1e-5};

void expect_close(const Tensor& want, const Tensor& got, Tolerance tol, const std::string& what) {
  ASSERT_TRUE(want.defined() && got.defined()) << what;
  ASSERT_TRUE(want.shape() == got.shape())
      << what << ": cpu " << want.describe() << ", gpu " << got.describe();
  const std::vector<float> w = want.to_vector(), g = got.to_vector();
  size_t bad = 0, first = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    const double diff = std::fabs(static_cast<double>(g[i]) - static_cast<double>(w[i]));
    if (!(diff <= tol.atol + tol.rtol * std::fabs(static_cast<double>(w[i])))) {
      if (bad++ == 0) first = i;
    }
  }
  EXPECT_EQ(bad, 0u) << what << ": " << bad << " of " << w.size() << " elements differ; first at "
                     << first << ": cpu " << (bad ? w[first] : 0.0f) << ", gpu "
                     << (bad ? g[first] : 0.0f);
}

void expect_bitwise_equal(const Tensor& a, const Tensor& b, const std::string& what) {
  ASSERT_TRUE(a.shape() == b.shape()) << what;
  EXPECT_EQ(a.to_vector(), b.to_vector()) << what;
}

using OpFn = std::function<Tensor(const std::vector<Tensor>&)>;

// Runs f on CPU leaves and on GPU copies of them; compares the outputs, then backpropagates one
// random upstream gradient through both graphs and compares every input's gradient.
void compare_cpu_gpu(const std::string& what, const std::vector<Tensor>& inputs, const OpFn& f,
                     Tolerance forward, Tolerance backward) {
  SCOPED_TRACE(what);
  std::vector<Tensor> cpu_in, gpu_in;
  for (const Tensor& t : inputs) {
    Tensor c = t.clone();
    c.set_requires_grad(true);
    cpu_in.push_back(c);
    Tensor g = t.to(Device::cuda());
    g.set_requires_grad(true);
    gpu_in.push_back(g);
  }
  const Tensor cpu_out = f(cpu_in);
  const Tensor gpu_out = f(gpu_in);
  ASSERT_TRUE(gpu_out.device().is_cuda()) << "output on " << gpu_out.describe();
  expect_close(cpu_out, gpu_out, forward, "forward");

  Rng rng(99);
  const Tensor dout = rng.normal(cpu_out.shape());
  cpu_out.backward(dout);
  gpu_out.backward(dout.to(Device::cuda()));
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::string name = "gradient of input " + std::to_string(i);
    const Tensor& gc = cpu_in[i].grad();
    const Tensor& gg = gpu_in[i].grad();
    ASSERT_TRUE(gc.defined()) << name << " on cpu";
    ASSERT_TRUE(gg.defined()) << name << " on gpu";
    EXPECT_TRUE(gg.device().is_cuda()) << name << " is " << gg.describe();
    expect_close(gc, gg.to(Device::cpu()), backward, name);
  }
}

// ---- binary ops in every broadcast kind ----

struct BroadcastCase {
  const char* name;
  Shape a, b;
};

std::vector<BroadcastCase> broadcast_cases() {
  return {
      {"same", Shape{129, 257}, Shape{129, 257}},
      {"same_tiny", Shape{3}, Shape{3}},
      {"row", Shape{300, 33}, Shape{33}},
      {"row_wide", Shape{20, 1500}, Shape{1500}},
      {"row_trailing_two_dims", Shape{3, 5, 33}, Shape{5, 33}},
      {"column_narrow", Shape{300, 7}, Shape{300, 1}},
      {"column_wide", Shape{40, 1000}, Shape{40, 1}},
      {"column_3d", Shape{3, 50, 65}, Shape{3, 50, 1}},
      {"scalar", Shape{129, 257}, Shape{1}},
      {"scalar_0d", Shape{7, 9}, Shape{}},
  };
}

TEST(CudaElementwise, BinaryOpsMatchCpuInEveryBroadcastKind) {
  SY_REQUIRE_GPU();
  const std::vector<std::pair<const char*, Tensor (*)(const Tensor&, const Tensor&)>> ops = {
      {"add", &add}, {"sub", &sub}, {"mul", &mul}};
  Rng rng(1);
  for (const BroadcastCase& c : broadcast_cases()) {
    const Tensor a = rng.normal(c.a), b = rng.normal(c.b);
    for (const auto& [op_name, op] : ops) {
      compare_cpu_gpu(
          std::string(op_name) + "/" + c.name, {a, b},
          [op = op](const std::vector<Tensor>& in) { return op(in[0], in[1]); }, kElementwise,
          kAccumulated);
    }
  }
}

TEST(CudaElementwise, BroadcastGradientsAreDeterministic) {
  SY_REQUIRE_GPU();
  Rng rng(2);
  const Tensor a = rng.normal(Shape{513, 300}).to(Device::cuda());
  const Tensor row = rng.normal(Shape{300}), col = rng.normal(Shape{513, 1});
  for (const Tensor& b0 : {row, col}) {
    std::vector<Tensor> grads;
    for (int run = 0; run < 2; ++run) {
      Tensor b = b0.to(Device::cuda());
      b.set_requires_grad(true);
      Tensor x = a.detach();
      x.set_requires_grad(true);
      mul(x, b).backward(Tensor::full(a.shape(), 0.5f, Device::cuda()));
      grads.push_back(b.grad());
    }
    expect_bitwise_equal(grads[0], grads[1], "db of " + b0.describe());
  }
}

// ---- unary ops, SwiGLU, scale ----

TEST(CudaElementwise, ScaleSiluSwigluMatchCpu) {
  SY_REQUIRE_GPU();
  Rng rng(3);
  for (const Shape& s : {Shape{1}, Shape{3}, Shape{5, 7}, Shape{129, 257}, Shape{2, 64, 128}}) {
    const Tensor x = rng.normal(s, 0.0f, 3.0f), y = rng.normal(s, 0.0f, 3.0f);
    compare_cpu_gpu(
        "scale " + s.to_string(), {x},
        [](const std::vector<Tensor>& in) { return scale(in[0], -1.75f); }, kElementwise,
        kElementwise);
    compare_cpu_gpu(
        "silu " + s.to_string(), {x}, [](const std::vector<Tensor>& in) { return silu(in[0]); },
        kElementwise, kElementwise);
    compare_cpu_gpu(
        "swiglu " + s.to_string(), {x, y},
        [](const std::vector<Tensor>& in) { return swiglu(in[0], in[1]); }, kElementwise,
        kElementwise);
  }
}

TEST(CudaElementwise, SiluSaturatesLikeCpu) {
  SY_REQUIRE_GPU();
  const Tensor x =
      Tensor::from_vector({-100.0f, -30.0f, -1e-3f, 0.0f, 1e-3f, 30.0f, 100.0f}, Shape{7});
  compare_cpu_gpu(
      "silu extremes", {x}, [](const std::vector<Tensor>& in) { return silu(in[0]); }, kElementwise,
      kElementwise);
}

// Views at odd element offsets are not 16-byte aligned: the kernels must fall back from float4.
TEST(CudaElementwise, MisalignedViewsMatchCpu) {
  SY_REQUIRE_GPU();
  Rng rng(4);
  const Tensor big_a = rng.normal(Shape{1003}), big_b = rng.normal(Shape{1003});
  const Tensor gpu_a = big_a.to(Device::cuda()), gpu_b = big_b.to(Device::cuda());
  for (int64_t offset = 0; offset < 4; ++offset) {
    SCOPED_TRACE("offset " + std::to_string(offset));
    const Shape s{999};
    const Tensor ca = big_a.alias(s, offset), cb = big_b.alias(s, 3 - offset);
    const Tensor ga = gpu_a.alias(s, offset), gb = gpu_b.alias(s, 3 - offset);
    expect_close(mul(ca, cb), mul(ga, gb), kElementwise, "mul");
    expect_close(silu(ca), silu(ga), kElementwise, "silu");
    expect_close(swiglu(ca, cb), swiglu(ga, gb), kElementwise, "swiglu");
    Tensor cdst = big_b.clone().alias(s, 1), gdst = gpu_b.clone().alias(s, 1);
    axpy_(cdst, 0.5f, ca);
    axpy_(gdst, 0.5f, ga);
    expect_close(cdst, gdst, kElementwise, "axpy_");
  }
}

// ---- in-place updates and the engine's gradient accumulation ----

TEST(CudaElementwise, AxpyAndAddInPlaceMatchCpu) {
  SY_REQUIRE_GPU();
  Rng rng(5);
  const Tensor dst0 = rng.normal(Shape{37, 129}), src = rng.normal(Shape{37, 129});
  Tensor cdst = dst0.clone(), gdst = dst0.to(Device::cuda());
  const Tensor gsrc = src.to(Device::cuda());
  axpy_(cdst, -0.25f, src);
  axpy_(gdst, -0.25f, gsrc);
  expect_close(cdst, gdst, kElementwise, "axpy_");
  add_(cdst, src);
  add_(gdst, gsrc);
  expect_close(cdst, gdst, kElementwise, "add_");
  EXPECT_TRUE(gdst.device().is_cuda());
}

TEST(CudaElementwise, LeafUsedTwiceAccumulatesOnGpu) {
  SY_REQUIRE_GPU();
  Rng rng(6);
  const Tensor x = rng.normal(Shape{64, 48}), w = rng.normal(Shape{48});
  compare_cpu_gpu(
      "x*w + silu(x) - x", {x, w},
      [](const std::vector<Tensor>& in) { return sub(add(mul(in[0], in[1]), silu(in[0])), in[0]); },
      kElementwise, kAccumulated);
}

TEST(CudaElementwise, MixedDevicesAreRejected) {
  SY_REQUIRE_GPU();
  const Tensor a = Tensor::full(Shape{4}, 1.0f), b = Tensor::full(Shape{4}, 2.0f, Device::cuda());
  EXPECT_THROW(add(a, b), sy::Error);
  EXPECT_THROW(matmul(a.alias(Shape{2, 2}), b.alias(Shape{2, 2})), sy::Error);
  Tensor dst = b.clone();
  EXPECT_THROW(axpy_(dst, 1.0f, a), sy::Error);
}

// ---- matmul ----

// a and b as stored for op(A) (M,K) and op(B) (K,N), with optional leading batch dims.
Shape stored(const std::vector<int64_t>& lead, int64_t rows, int64_t cols, bool trans) {
  std::vector<int64_t> dims = lead;
  dims.push_back(trans ? cols : rows);
  dims.push_back(trans ? rows : cols);
  return Shape(dims);
}

TEST(CudaMatmul, TwoDimensionalAllTransposesMatchCpu) {
  SY_REQUIRE_GPU();
  Rng rng(7);
  const int64_t m = 37, k = 65, n = 29;
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      const Tensor a = rng.normal(stored({}, m, k, ta)), b = rng.normal(stored({}, k, n, tb));
      compare_cpu_gpu(
          std::string("2-D ta=") + (ta ? "1" : "0") + " tb=" + (tb ? "1" : "0"), {a, b},
          [ta, tb](const std::vector<Tensor>& in) { return matmul(in[0], in[1], ta, tb); },
          kAccumulated, kAccumulated);
    }
  }
}

TEST(CudaMatmul, FlattenedLeadingDimsMatchCpu) {
  SY_REQUIRE_GPU();
  Rng rng(8);
  const int64_t k = 65, n = 29;
  for (bool tb : {false, true}) {
    const Tensor a = rng.normal(Shape{2, 19, k}), b = rng.normal(stored({}, k, n, tb));
    compare_cpu_gpu(
        std::string("(2,19,K) x (K,N) tb=") + (tb ? "1" : "0"), {a, b},
        [tb](const std::vector<Tensor>& in) { return matmul(in[0], in[1], false, tb); },
        kAccumulated, kAccumulated);
  }
  // The linear-layer form y = x W^T over (batch, seq, D).
  const Tensor x = rng.normal(Shape{3, 11, 64}), w = rng.normal(Shape{96, 64});
  compare_cpu_gpu(
      "linear x W^T", {x, w},
      [](const std::vector<Tensor>& in) { return matmul(in[0], in[1], false, true); }, kAccumulated,
      kAccumulated);
}

TEST(CudaMatmul, BatchedAllTransposesMatchCpu) {
  SY_REQUIRE_GPU();
  Rng rng(9);
  const int64_t batch = 3, m = 37, k = 65, n = 29;
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      const Tensor a = rng.normal(stored({batch}, m, k, ta));
      const Tensor b = rng.normal(stored({batch}, k, n, tb));
      compare_cpu_gpu(
          std::string("batched ta=") + (ta ? "1" : "0") + " tb=" + (tb ? "1" : "0"), {a, b},
          [ta, tb](const std::vector<Tensor>& in) { return matmul(in[0], in[1], ta, tb); },
          kAccumulated, kAccumulated);
    }
  }
  // A batch of one goes through the plain GEMM.
  const Tensor a = rng.normal(Shape{1, 8, 16}), b = rng.normal(Shape{1, 16, 4});
  compare_cpu_gpu(
      "batch of one", {a, b}, [](const std::vector<Tensor>& in) { return matmul(in[0], in[1]); },
      kAccumulated, kAccumulated);
}

TEST(CudaMatmul, EmptyInnerDimensionGivesZeros) {
  SY_REQUIRE_GPU();
  // The output comes from a fresh allocation: every element must be written.
  const Tensor a = Tensor::empty(Shape{4, 0}, DType::kF32, Device::cuda());
  const Tensor at = Tensor::empty(Shape{0, 4}, DType::kF32, Device::cuda());
  const Tensor b = Tensor::empty(Shape{0, 5}, DType::kF32, Device::cuda());
  EXPECT_EQ(matmul(a, b).to_vector(), std::vector<float>(20, 0.0f));
  EXPECT_EQ(matmul(at, b, true, false).to_vector(), std::vector<float>(20, 0.0f));
  const Tensor ab = Tensor::empty(Shape{2, 3, 0}, DType::kF32, Device::cuda());
  const Tensor bb = Tensor::empty(Shape{2, 0, 5}, DType::kF32, Device::cuda());
  EXPECT_EQ(matmul(ab, bb).to_vector(), std::vector<float>(30, 0.0f));
}

TEST(CudaMatmul, LargerProductStaysWithinFp32Tolerance) {
  SY_REQUIRE_GPU();
  // Large enough that cuBLAS picks a tiled kernel; TF32 would miss this tolerance by far.
  Rng rng(10);
  const Tensor a = rng.normal(Shape{256, 512}), b = rng.normal(Shape{512, 384});
  const Tensor want = matmul(a, b);
  const Tensor got = matmul(a.to(Device::cuda()), b.to(Device::cuda()));
  expect_close(want, got, Tolerance{1e-3, 1e-5}, "256x512 x 512x384");
}

TEST(CudaMatmul, MlpBlockForwardAndBackwardMatchCpu) {
  SY_REQUIRE_GPU();
  // A SwiGLU feed-forward: out = (silu(x Wg^T) * (x Wu^T)) Wd^T + bias.
  Rng rng(11);
  const int64_t d = 32, f = 48;
  const Tensor x = rng.normal(Shape{2, 5, d}), wg = rng.normal(Shape{f, d}, 0.0f, 0.2f);
  const Tensor wu = rng.normal(Shape{f, d}, 0.0f, 0.2f), wd = rng.normal(Shape{d, f}, 0.0f, 0.2f);
  const Tensor bias = rng.normal(Shape{d});
  compare_cpu_gpu(
      "swiglu mlp", {x, wg, wu, wd, bias},
      [](const std::vector<Tensor>& in) {
        const Tensor h =
            swiglu(matmul(in[0], in[1], false, true), matmul(in[0], in[2], false, true));
        return add(matmul(h, in[3], false, true), in[4]);
      },
      kAccumulated, kAccumulated);
}

}  // namespace
}  // namespace sy::core
