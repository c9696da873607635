// Portable 4-lane float vectors (GCC/Clang vector extensions): the same
// source compiles to SSE natively and to WASM SIMD (simd128) under em++
// -msimd128, so the CPU kernels have one code path for both.
#pragma once
#include <cstring>

namespace glint::cpu::simd {

typedef float v4 __attribute__((vector_size(16)));
// Unaligned access: packed buffers and tensor rows are only 4-byte aligned.
typedef float v4u __attribute__((vector_size(16), aligned(4)));
typedef int i4 __attribute__((vector_size(16)));

inline v4 load(const float* p) { return *reinterpret_cast<const v4u*>(p); }
inline void store(float* p, v4 v) { *reinterpret_cast<v4u*>(p) = v; }
inline v4 splat(float x) { return v4{x, x, x, x}; }
inline v4 max(v4 a, v4 b) { return a > b ? a : b; }
// v < lo ? lo : (v > hi ? hi : v), lane-wise (a fused Relu / Clip; NaN kept).
inline v4 clamp(v4 v, v4 lo, v4 hi) {
  v4 t = v > hi ? hi : v;
  return v < lo ? lo : t;
}
// Lanes I0..I3 of the eight lanes a[0..3], b[0..3] (indices 4..7 are b's).
template <int I0, int I1, int I2, int I3>
inline v4 shuffle(v4 a, v4 b) {
#if defined(__clang__)
  return __builtin_shufflevector(a, b, I0, I1, I2, I3);
#else
  return __builtin_shuffle(a, b, i4{I0, I1, I2, I3});
#endif
}
// Lanes p[0], p[2], p[4], p[6] (stride-2 windows).
inline v4 load_even(const float* p) { return shuffle<0, 2, 4, 6>(load(p), load(p + 4)); }

// e^x lane-wise, within 2 ulp of expf (Cephes' range reduction and degree-6
// polynomial): x = n ln2 + r with |r| <= ln2 / 2, e^r by the polynomial,
// 2^n by building the exponent bits of 2^(n-1) and doubling (so n = 128
// does not overflow the bits). Below -86.6 it is 0 (expf's result there is
// under 2.6e-38), above 88.72 +inf, NaN stays NaN. For the
// Softmax rows of an attention, where a libm call per element cost more than
// the matrix products around it.
inline v4 exp(v4 x) {
  const v4 hi = splat(88.72f), lo = splat(-86.6f);
  v4 xc = x > hi ? hi : x;
  xc = xc < lo ? lo : xc;
  const v4 t = xc * splat(1.44269504088896341f) + splat(0.5f);
  v4 n = __builtin_convertvector(__builtin_convertvector(t, i4), v4);
  n = n > t ? n - splat(1.f) : n;  // floor
  const v4 r = xc - n * splat(0.693359375f) - n * splat(-2.12194440e-4f);
  v4 p = splat(1.9875691500e-4f);
  p = p * r + splat(1.3981999507e-3f);
  p = p * r + splat(8.3334519073e-3f);
  p = p * r + splat(4.1665795894e-2f);
  p = p * r + splat(1.6666665459e-1f);
  p = p * r + splat(5.0000001201e-1f);
  const v4 e = p * (r * r) + r + splat(1.f);
  const i4 bits = (__builtin_convertvector(n, i4) + 126) << 23;
  v4 scale;
  std::memcpy(&scale, &bits, sizeof scale);
  v4 y = e * scale * splat(2.f);
  y = x > hi ? splat(__builtin_inff()) : y;
  return x < lo ? splat(0.f) : y;
}

// erf(x) lane-wise within 2e-7 (Abramowitz & Stegun 7.1.26 on |x|:
// 1 - t (a1 + a2 t + ... + a5 t^4) e^(-x^2), t = 1 / (1 + p |x|), odd in x).
// For the erf GELU of transformer MLPs, where a libm erf per element cost as
// much as a sixth of a BERT layer in wasm.
inline v4 erf(v4 x) {
  const v4 z = x < splat(0.f) ? -x : x;
  const v4 t = splat(1.f) / (splat(1.f) + splat(0.3275911f) * z);
  v4 p = splat(1.061405429f);
  p = p * t + splat(-1.453152027f);
  p = p * t + splat(1.421413741f);
  p = p * t + splat(-0.284496736f);
  p = p * t + splat(0.254829592f);
  const v4 e = splat(1.f) - p * t * exp(-(z * z));
  return x < splat(0.f) ? -e : e;
}

// GELU by erf, 0.5 x (1 + erf(x / sqrt 2)), lane-wise: the Gelu kernel's and
// a MatMul's fused Gelu (one formula, so fusing changes no bit).
inline v4 gelu_erf(v4 x) { return splat(0.5f) * x * (splat(1.f) + erf(x * splat(0.70710678118654752f))); }

}  // namespace glint::cpu::simd
