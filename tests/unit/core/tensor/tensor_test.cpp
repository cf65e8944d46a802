// Tensor: factories, views, copies, alignment, autograd flags.
#include "core/tensor/tensor.h"

#include <gtest/gtest.h>

#include <cstdint>

#include "core/backends/device_memory.h"
#include "core/common/error.h"
#include "core/ops/view_ops.h"

namespace sy::core {
namespace {

TEST(Tensor, FactoriesAndValues) {
  EXPECT_EQ(Tensor::zeros({2, 2}).to_vector(), (std::vector<float>{0, 0, 0, 0}));
  EXPECT_EQ(Tensor::full({3}, 1.5f).to_vector(), (std::vector<float>{1.5f, 1.5f, 1.5f}));
  EXPECT_EQ(Tensor::from_ints({1, -2}, {2}).to_int_vector(), (std::vector<int32_t>{1, -2}));
  EXPECT_FLOAT_EQ(Tensor::scalar(4).item(), 4.0f);
  EXPECT_FALSE(Tensor().defined());
  EXPECT_THROW(Tensor::from_vector({1, 2, 3}, {2, 2}), Error);
}

TEST(Tensor, CpuStorageIs64ByteAligned) {
  for (int64_t n : {1, 3, 17, 1000}) {
    Tensor t = Tensor::empty({n});
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.f32()) % kCpuAlignment, 0u) << n;
  }
}

TEST(Tensor, DtypeIsChecked) {
  Tensor f = Tensor::zeros({2});
  Tensor i = Tensor::zeros({2}, DType::kI32);
  EXPECT_THROW(f.i32(), Error);
  EXPECT_THROW(i.f32(), Error);
  EXPECT_THROW(i.to_vector(), Error);
  EXPECT_THROW(i.set_requires_grad(true), Error);
}

TEST(Tensor, AliasAndDetachShareStorage) {
  Tensor x = Tensor::from_vector({1, 2, 3, 4, 5, 6}, {3, 2});
  Tensor row = x.alias({2}, 2);
  EXPECT_EQ(row.to_vector(), (std::vector<float>{3, 4}));
  row.fill_(9.0f);
  EXPECT_EQ(x.to_vector(), (std::vector<float>{1, 2, 9, 9, 5, 6}));
  EXPECT_TRUE(x.detach().shares_storage_with(x));
  EXPECT_THROW(x.alias({4}, 3), Error);  // past the end
}

TEST(Tensor, CloneIsDeepAndDetached) {
  Tensor x = Tensor::from_vector({1, 2}, {2});
  x.set_requires_grad(true);
  Tensor c = x.clone();
  EXPECT_FALSE(c.shares_storage_with(x));
  EXPECT_FALSE(c.requires_grad());
  c.fill_(0.0f);
  EXPECT_EQ(x.to_vector(), (std::vector<float>{1, 2}));
}

TEST(Tensor, CopyChecksSizes) {
  Tensor a = Tensor::zeros({4});
  a.copy_(Tensor::from_vector({1, 2, 3, 4}, {2, 2}));  // same numel, any shape
  EXPECT_EQ(a.to_vector(), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_THROW(a.copy_(Tensor::zeros({3})), Error);
}

TEST(Tensor, LeafAndNonLeaf) {
  Tensor x = Tensor::from_vector({1, 2}, {2});
  EXPECT_TRUE(x.is_leaf());
  x.set_requires_grad(true);
  Tensor y = reshape(x, {1, 2});
  EXPECT_FALSE(y.is_leaf());
  EXPECT_TRUE(y.requires_grad());
  EXPECT_THROW(y.set_requires_grad(false), Error);  // only leaves are marked by hand
  EXPECT_THROW(x.set_grad(Tensor::zeros({3})), Error);
}

TEST(Tensor, CudaWithoutDeviceIsAClearError) {
  if (cuda_available()) GTEST_SKIP() << "a GPU is present; covered by the gpu suite";
  EXPECT_THROW(Tensor::zeros({2}).to(Device::cuda()), Error);
}

}  // namespace
}  // namespace sy::core
