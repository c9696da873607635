#include "engine/core/half.h"

#include <cmath>
#include <cstring>
#include <glm/gtc/packing.hpp>

namespace glint {

// Decoding is exact, so GLM's routine serves. Encoding is written out here:
// GLM's packHalf1x16 does not round ties to even for small values (float bits
// 0x38811000 round up where IEEE and numpy round down), and the ONNX test data
// is made with numpy.
float half_to_float(uint16_t h) { return glm::unpackHalf1x16(h); }

uint16_t float_to_half(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t mag = x & 0x7fffffffu;
  if (mag >= 0x7f800000u) return static_cast<uint16_t>(sign | (mag > 0x7f800000u ? 0x7e00u : 0x7c00u));
  if (mag >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // >= 65520 rounds to infinity
  if (mag < 0x38800000u) {  // half subnormals (and zero): multiples of 2^-24
    float a;
    std::memcpy(&a, &mag, 4);
    return static_cast<uint16_t>(sign | static_cast<uint32_t>(std::nearbyint(a * 16777216.f)));
  }
  // Normal: round the mantissa to 10 bits (nearest, ties to even), rebias the
  // exponent from 127 to 15; a mantissa carry moves into the exponent.
  uint32_t r = mag + 0xfffu + ((mag >> 13) & 1u);
  r -= 112u << 23;
  return static_cast<uint16_t>(sign | (r >> 13));
}

float round_to_half(float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, 4);
  const uint32_t mag = bits & 0x7fffffffu;
  if (mag >= 0x7f800000u) return v;  // inf, NaN
  if (mag < 0x38800000u) return std::nearbyint(v * 16777216.f) * (1.f / 16777216.f);
  uint32_t r = (bits + 0xfffu + ((bits >> 13) & 1u)) & ~0x1fffu;
  float out;
  std::memcpy(&out, &r, 4);
  if (std::fabs(out) > 65504.f) return v < 0 ? -INFINITY : INFINITY;
  return out;
}

float bfloat16_to_float(uint16_t b) {
  uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t float_to_bfloat16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40);  // NaN
  uint32_t rounding = 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>((bits + rounding) >> 16);
}

}  // namespace glint
