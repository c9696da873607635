// Reproducible random test data shared by the unit tests.
#pragma once
#include <cstdint>
#include <random>
#include <vector>

namespace glint::test {

// n floats uniform in [lo, hi) from a seeded mt19937.
inline std::vector<float> random_floats(size_t n, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

}  // namespace glint::test
