// float16 / bfloat16 <-> float32 conversions (GLM's half routines do the work).
#pragma once
#include <cstdint>

namespace glint {
float half_to_float(uint16_t h);
uint16_t float_to_half(float f);  // round to nearest even
float bfloat16_to_float(uint16_t b);
uint16_t float_to_bfloat16(float f);
// Rounds a float32 to the nearest float16 value (ties to even), kept as float:
// what a float16 tensor can hold. Equal to half_to_float(float_to_half(f)).
float round_to_half(float f);
}  // namespace glint
