// Portable 4-lane float vectors (GCC/Clang vector extensions): the same
// source compiles to SSE natively and to WASM SIMD (simd128) under em++
// -msimd128, so the CPU kernels have one code path for both.
#pragma once
#include <cstring>

namespace glint::cpu::simd {

typedef float v4 __attribute__((vector_size(16)));
// Unaligned access: packed buffers and tensor rows are only 4-byte aligned.
typedef float v4u __attribute__((vector_size(16), aligned(4)));

inline v4 load(const float* p) { return *reinterpret_cast<const v4u*>(p); }
inline void store(float* p, v4 v) { *reinterpret_cast<v4u*>(p) = v; }
inline v4 splat(float x) { return v4{x, x, x, x}; }
inline v4 max(v4 a, v4 b) { return a > b ? a : b; }
// v < lo ? lo : (v > hi ? hi : v), lane-wise (a fused Relu / Clip; NaN kept).
inline v4 clamp(v4 v, v4 lo, v4 hi) {
  v4 t = v > hi ? hi : v;
  return v < lo ? lo : t;
}
// Lanes p[0], p[2], p[4], p[6] (stride-2 windows).
inline v4 load_even(const float* p) {
  v4 a = load(p), b = load(p + 4);
#if defined(__clang__)
  return __builtin_shufflevector(a, b, 0, 2, 4, 6);
#else
  typedef int i4 __attribute__((vector_size(16)));
  return __builtin_shuffle(a, b, i4{0, 2, 4, 6});
#endif
}

}  // namespace glint::cpu::simd
