// Tensors on a CUDA device: copies between host and device, and the fills (zeros, full, fill_,
// zero_). Skipped where no GPU is visible.
#include <gtest/gtest.h>

#include <vector>

#include "core/backends/device_memory.h"
#include "core/tensor/rng.h"
#include "core/tensor/tensor.h"
#include "tests/gpu/gpu_test_util.h"

namespace sy::core {
namespace {

TEST(CudaTensor, BuildHasTheCudaBackend) { EXPECT_TRUE(cuda_compiled()); }

TEST(CudaTensor, ToDeviceAndBackIsExact) {
  SY_REQUIRE_GPU();
  Rng rng(1);
  const Tensor host = rng.normal(Shape{17, 33});
  const Tensor dev = host.to(Device::cuda());
  EXPECT_TRUE(dev.device().is_cuda());
  EXPECT_FALSE(dev.requires_grad());
  EXPECT_TRUE(dev.shape() == host.shape());
  EXPECT_EQ(dev.to_vector(), host.to_vector());
  const Tensor back = dev.to(Device::cpu());
  EXPECT_TRUE(back.is_cpu());
  EXPECT_EQ(back.to_vector(), host.to_vector());
  // Device to device, and a clone that shares nothing.
  const Tensor copy = dev.to(Device::cuda());
  EXPECT_FALSE(copy.shares_storage_with(dev));
  EXPECT_EQ(copy.to_vector(), host.to_vector());
  const Tensor cloned = dev.clone();
  EXPECT_TRUE(cloned.device().is_cuda());
  EXPECT_EQ(cloned.to_vector(), host.to_vector());
}

TEST(CudaTensor, IntTensorsRoundTrip) {
  SY_REQUIRE_GPU();
  const Tensor host = Tensor::from_ints({3, -1, 7, 0, 42, 5}, Shape{2, 3});
  const Tensor dev = host.to(Device::cuda());
  EXPECT_EQ(dev.dtype(), DType::kI32);
  EXPECT_EQ(dev.to_int_vector(), host.to_int_vector());
}

TEST(CudaTensor, ViewsCopyTheirOwnElements) {
  SY_REQUIRE_GPU();
  const Tensor host = Tensor::from_vector({0, 1, 2, 3, 4, 5, 6, 7}, Shape{8});
  const Tensor dev = host.to(Device::cuda());
  EXPECT_EQ(dev.alias(Shape{2, 2}, 3).to_vector(), (std::vector<float>{3, 4, 5, 6}));
  Tensor dst = Tensor::zeros(Shape{8}, DType::kF32, Device::cuda());
  Tensor window = dst.alias(Shape{3}, 2);
  window.copy_(host.alias(Shape{3}, 5));
  EXPECT_EQ(dst.to_vector(), (std::vector<float>{0, 0, 5, 6, 7, 0, 0, 0}));
}

TEST(CudaTensor, ZerosFullAndFillOnDevice) {
  SY_REQUIRE_GPU();
  const Tensor z = Tensor::zeros(Shape{5, 7}, DType::kF32, Device::cuda());
  EXPECT_TRUE(z.device().is_cuda());
  EXPECT_EQ(z.to_vector(), std::vector<float>(35, 0.0f));

  const Tensor f = Tensor::full(Shape{3, 4}, 2.5f, Device::cuda());
  EXPECT_TRUE(f.device().is_cuda());
  EXPECT_EQ(f.to_vector(), std::vector<float>(12, 2.5f));

  Tensor t = Tensor::empty(Shape{1000}, DType::kF32, Device::cuda());
  t.fill_(-3.0f);
  EXPECT_EQ(t.to_vector(), std::vector<float>(1000, -3.0f));
  t.fill_(0.0f);
  EXPECT_EQ(t.to_vector(), std::vector<float>(1000, 0.0f));
  t.fill_(1.0f);
  t.zero_();
  EXPECT_EQ(t.to_vector(), std::vector<float>(1000, 0.0f));
  EXPECT_FLOAT_EQ(Tensor::full(Shape{}, 4.0f, Device::cuda()).item(), 4.0f);
}

}  // namespace
}  // namespace sy::core
