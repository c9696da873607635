#include "engine/core/half.h"

#include <cstring>
#include <glm/gtc/packing.hpp>

namespace glint {

float half_to_float(uint16_t h) { return glm::unpackHalf1x16(h); }
uint16_t float_to_half(float f) { return glm::packHalf1x16(f); }

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
