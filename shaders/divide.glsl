// a / b as a correctly rounded float division gives it (what the CPU kernels
// and ONNX's reference compute). GLSL ES 3.00 allows a division 2.5 ulp of
// error, and NVIDIA's is a reciprocal and a product: DynamicQuantizeLinear's
// expanded form divides -2.5 by 5/255, got -127.5 where the float quotient is
// -127.49999, and its Round then picked the other integer.
//
// So the quotient is taken as |a| * (1 / |b|) on every GPU alike (a CPU
// rasterizer runs the same path as a real GPU), improved by one step with its
// float residual, which leaves it within an ulp, and the last ulp is then
// decided exactly: the quotient moves to a neighbour when |a| lies past
// m * |b| for the midpoint m between them (m has 25 significant bits; the
// product is compared in integers, 64 bits as two uints, so no float rounding
// and no compiler's reordering of float arithmetic changes the answer: the
// float residual alone was exact on llvmpipe but not as NVIDIA's compiler
// built it for a constant numerator). A quotient never lies exactly on a
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

// a - q * b for q * b within an ulp or two of a (all positive, normal): q and b
// cut by their bits into 12-bit halves, so each partial product is exact
// (Dekker's remainder). Exact under IEEE arithmetic; only used to bring q
// within an ulp, which the integer decision below then settles.
float glint_residual(float a, float q, float b) {
  float qh = uintBitsToFloat(floatBitsToUint(q) & 0xFFFFF000u), ql = q - qh;
  float bh = uintBitsToFloat(floatBitsToUint(b) & 0xFFFFF000u), bl = b - bh;
  return ((a - qh * bh) - qh * bl - ql * bh) - ql * bl;
}

// Branch-free (selects only): a loop or branches here, inlined four times
// into each of a program's many process4 calls, took llvmpipe's compiler
// minutes for one Div.
float glint_divide(float a, float b) {
  float x = abs(a), y = abs(b);
  float r = 1.0 / y;
  float q = x * r;
  q += glint_residual(x, q, y) * r;
  // 2^-100 and 2^100: x, y and the quotient are normal floats
  const float lo = 7.8886091e-31, hi = 1.2676506e30;
  bool exact = x >= lo && x <= hi && y >= lo && y <= hi && q >= lo && q <= hi;
  uint mx = glint_mantissa(x), my = glint_mantissa(y), mq = glint_mantissa(q);
  // x against m * y, m = (2 mq +- 1) * 2^(eq - 1): x * 2^s against (2 mq +- 1) * my
  int s = clamp(glint_exponent(x) - glint_exponent(q) - glint_exponent(y) + 1, 1, 30);
  bool up = glint_compare_wide(mx, s, glint_multiply_wide(2u * mq + 1u, my)) > 0;
  // below a power of two the neighbour is half as far: m = (4 mq - 1) * 2^(eq - 2)
  bool power = mq == 0x800000u;
  bool down = glint_compare_wide(mx, power ? s + 1 : s, glint_multiply_wide(power ? 4u * mq - 1u : 2u * mq - 1u, my)) < 0;
  float rounded = uintBitsToFloat(floatBitsToUint(q) + (up ? 1u : 0u) - (down ? 1u : 0u));
  rounded = (a < 0.0) != (b < 0.0) ? -rounded : rounded;
  return exact ? rounded : a / b;
}

vec4 glint_divide(vec4 a, vec4 b) {
  return vec4(glint_divide(a.x, b.x), glint_divide(a.y, b.y), glint_divide(a.z, b.z), glint_divide(a.w, b.w));
}
