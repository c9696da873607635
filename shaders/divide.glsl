// a / b as a correctly rounded float division gives it (what the CPU kernels
// and ONNX's reference compute). GLSL ES 3.00 allows a division 2.5 ulp of
// error, and NVIDIA's is a reciprocal and a product: DynamicQuantizeLinear's
// expanded form divides -2.5 by 5/255, got -127.5 where the float quotient is
// -127.49999, and its Round then picked the other integer.
//
// So the quotient is taken as |a| * (1 / |b|) on every GPU alike (a CPU
// rasterizer runs the same path as a real GPU), a few ulp off at most, and
// then moved an ulp at a time while the exact quotient lies past the midpoint
// to a neighbour: |a| > m * |b| for the midpoint m above, |a| < m * |b| for the
// one below (m has 25 significant bits; the product is compared in integers,
// 64 bits as two uints, so no float rounding and no compiler's reordering of
// float arithmetic can change the answer; a float residual with Dekker's split
// was exact in theory and on llvmpipe, but not as NVIDIA's compiler built it
// when the numerator was a constant). A quotient never lies exactly on a
// midpoint: that has 25 significant bits, and times b it cannot be a.
// Away from the range where every float involved is normal, and for zero,
// infinity and NaN, GLSL's own division (accurate to a few ulp).

// v = mantissa * 2^exponent, the mantissa an integer in [2^23, 2^24) (normal v)
uint glint_mantissa(float v) { return (floatBitsToUint(v) & 0x7FFFFFu) | 0x800000u; }
int glint_exponent(float v) { return int((floatBitsToUint(v) >> 23) & 0xFFu) - 150; }

// u * v as (high, low) 32-bit words, for u < 2^26 and v < 2^24
uvec2 glint_multiply_wide(uint u, uint v) {
  uint u0 = u & 0xFFFFu, u1 = u >> 16, v0 = v & 0xFFFFu, v1 = v >> 16;
  uint mid = u1 * v0 + u0 * v1;
  uint low = u0 * v0;
  uint sum = low + (mid << 16);
  return uvec2(u1 * v1 + (mid >> 16) + (sum < low ? 1u : 0u), sum);
}

// sign of m * 2^s - p, for m < 2^24 and s in [1, 31]
int glint_compare_wide(uint m, int s, uvec2 p) {
  uvec2 w = uvec2(m >> uint(32 - s), m << uint(s));
  if (w.x != p.x) return w.x > p.x ? 1 : -1;
  if (w.y != p.y) return w.y > p.y ? 1 : -1;
  return 0;
}

float glint_divide(float a, float b) {
  float x = abs(a), y = abs(b);
  // 2^-100 and 2^100: x, y and the quotient stay normal floats
  const float lo = 7.8886091e-31, hi = 1.2676506e30;
  if (!(x >= lo && x <= hi && y >= lo && y <= hi)) return a / b;
  float q = x * (1.0 / y);
  if (!(q >= lo && q <= hi)) return a / b;
  uint mx = glint_mantissa(x), my = glint_mantissa(y);
  int ex = glint_exponent(x), ey = glint_exponent(y);
  for (int step = 0; step < 3; ++step) {
    uint mq = glint_mantissa(q);
    // x against m * y, m = (2 mq +- 1) * 2^(eq - 1): x * 2^s against (2 mq +- 1) * my
    int s = ex - glint_exponent(q) - ey + 1;
    if (s < 1 || s > 30) break;  // q far off: cannot happen with the product above
    if (glint_compare_wide(mx, s, glint_multiply_wide(2u * mq + 1u, my)) > 0) {
      q = uintBitsToFloat(floatBitsToUint(q) + 1u);
      continue;
    }
    // below a power of two the neighbour is half as far: m = (4 mq - 1) * 2^(eq - 2)
    int below = mq > 0x800000u ? glint_compare_wide(mx, s, glint_multiply_wide(2u * mq - 1u, my))
                               : glint_compare_wide(mx, s + 1, glint_multiply_wide(4u * mq - 1u, my));
    if (below >= 0) break;
    q = uintBitsToFloat(floatBitsToUint(q) - 1u);
  }
  return (a < 0.0) != (b < 0.0) ? -q : q;
}

vec4 glint_divide(vec4 a, vec4 b) {
  return vec4(glint_divide(a.x, b.x), glint_divide(a.y, b.y), glint_divide(a.z, b.z), glint_divide(a.w, b.w));
}
