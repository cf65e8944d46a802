// Philox RNG: known-answer vectors, reproducibility, state save/restore, distribution moments.
#include "core/tensor/rng.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/tensor/tensor.h"

namespace sy::core {
namespace {

TEST(Rng, PhiloxKnownAnswers) {
  // Known-answer tests of Philox4x32-10 from the Random123 distribution (kat_vectors).
  EXPECT_EQ(Rng::philox({0, 0, 0, 0}, 0),
            (std::array<uint32_t, 4>{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}));
  EXPECT_EQ(
      Rng::philox({0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}, 0xffffffffffffffffull),
      (std::array<uint32_t, 4>{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}));
  EXPECT_EQ(
      Rng::philox({0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}, 0x299f31d0a4093822ull),
      (std::array<uint32_t, 4>{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}));
}

TEST(Rng, SameSeedSameNumbersDifferentSeedDifferent) {
  Rng a(42), b(42), c(43);
  const auto va = a.normal(Shape{1000}).to_vector();
  EXPECT_EQ(va, b.normal(Shape{1000}).to_vector());
  EXPECT_NE(va, c.normal(Shape{1000}).to_vector());
}

TEST(Rng, StateSaveAndRestoreReplaysTheStream) {
  Rng rng(7);
  rng.uniform(Shape{13});
  const RngState saved = rng.state();
  const auto first = rng.normal(Shape{100}).to_vector();
  rng.set_state(saved);
  EXPECT_EQ(rng.normal(Shape{100}).to_vector(), first);
  EXPECT_EQ(saved.seed, 7u);
  EXPECT_EQ(saved.offset, 4u);  // 13 numbers use ceil(13/4) counters
}

TEST(Rng, ElementDependsOnlyOnPosition) {
  // Large fills run multi-threaded; each element must equal the one from a small fill.
  Rng big(9), small(9);
  const auto many = big.normal(Shape{200000}).to_vector();
  const auto few = small.normal(Shape{8}).to_vector();
  for (size_t i = 0; i < few.size(); ++i) EXPECT_EQ(many[i], few[i]);
}

TEST(Rng, MomentsOfNormalAndUniform) {
  Rng rng(1);
  const auto n = rng.normal(Shape{400000}, 2.0f, 3.0f).to_vector();
  double mean = 0, var = 0;
  for (float v : n) mean += v;
  mean /= static_cast<double>(n.size());
  for (float v : n) var += (v - mean) * (v - mean);
  var /= static_cast<double>(n.size());
  EXPECT_NEAR(mean, 2.0, 0.02);
  EXPECT_NEAR(std::sqrt(var), 3.0, 0.02);
  const auto u = rng.uniform(Shape{400000}, -1.0f, 1.0f).to_vector();
  double umean = 0;
  float lo = 1, hi = -1;
  for (float v : u) {
    umean += v;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  EXPECT_NEAR(umean / static_cast<double>(u.size()), 0.0, 0.01);
  EXPECT_GE(lo, -1.0f);
  EXPECT_LT(hi, 1.0f);
}

}  // namespace
}  // namespace sy::core
