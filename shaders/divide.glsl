// a / b as a correctly rounded float division gives it (what the CPU kernels
// and ONNX's reference compute). GLSL ES 3.00 allows a division 2.5 ulp of
// error, and NVIDIA's is a reciprocal and a product: DynamicQuantizeLinear's
// expanded form divides -2.5 by 5/255, got -127.5 where the float quotient is
// -127.49999, and its Round then picked the other integer. The quantizing
// kernels round this quotient too (roundEven(glint_divide(x, scale))).
//
// So the quotient is taken as |a| * (1 / |b|) on every GPU alike (a CPU
// rasterizer runs the same path as a real GPU), improved by one step with its
// float residual, which leaves it within an ulp, and the last ulp is then
// decided exactly (twice, so that even two ulps off would be mended): the
// quotient moves to a neighbour when |a| lies past m * |b| for the midpoint m
// between them. That comparison is made in integers on the mantissas, so no
// float rounding and no compiler's reordering of float arithmetic changes it:
// the float residual alone was exact on llvmpipe, but not as NVIDIA's compiler
// built it for a constant numerator. A quotient never lies exactly on a
// midpoint: that has 25 significant bits, and times b it cannot be a.
// Away from the range where every float involved is normal, and for zero,
// infinity and NaN, GLSL's own division (accurate to a few ulp).
//
// Straight-line code, selects only, and 32-bit integers: with a loop and
// branches (and 64-bit products as two uints), inlined four times into each
// of a program's many process4 calls, one Div took llvmpipe's compiler
// minutes and SwiftShader's over a second.

// v = mantissa * 2^exponent, the mantissa an integer in [2^23, 2^24) (normal v)
uint glint_mantissa(float v) { return (floatBitsToUint(v) & 0x7FFFFFu) | 0x800000u; }
int glint_exponent(float v) { return int((floatBitsToUint(v) >> 23) & 0xFFu) - 150; }

// a - q * b for q * b within an ulp or two of a (all positive, normal): q and b
// cut by their bits into 12-bit halves, so each partial product is exact
// (Dekker's remainder). Exact under IEEE arithmetic; it only has to bring q
// within an ulp or two, which the integer decision then settles.
float glint_residual(float a, float q, float b) {
  float qh = uintBitsToFloat(floatBitsToUint(q) & 0xFFFFF000u), ql = q - qh;
  float bh = uintBitsToFloat(floatBitsToUint(b) & 0xFFFFF000u), bl = b - bh;
  return ((a - qh * bh) - qh * bl - ql * bh) - ql * bl;
}

// q moved an ulp toward x / y where x lies past a midpoint (x, y, q positive
// normal floats, q within a few ulp of x / y; mx, my, ex, ey: x's and y's
// mantissas and exponents). With eq q's exponent and s = ex - eq - ey + 1,
// x - m * y for the midpoint above, m = (2 mq + 1) * 2^(eq - 1), is
// d * 2^(eq - 1 + ey) with d = mx * 2^s - (2 mq + 1) * my; q being near x / y,
// |d| < 2^31, so its low 32 bits (uint arithmetic wraps) are all of it. The
// midpoint below gives d + 2 my, or, below a power of two where the
// neighbour is half as far, (2 d + 3 my) / 2.
float glint_divide_step(uint mx, int ex, uint my, int ey, float q) {
  uint mq = glint_mantissa(q);
  int s = clamp(ex - glint_exponent(q) - ey + 1, 1, 31);
  uint d = (mx << uint(s)) - (2u * mq + 1u) * my;
  uint below = mq == 0x800000u ? 2u * d + 3u * my : d + 2u * my;
  bool up = d != 0u && d < 0x80000000u, down = below >= 0x80000000u;
  return uintBitsToFloat(floatBitsToUint(q) + (up ? 1u : 0u) - (down ? 1u : 0u));
}

float glint_divide(float a, float b) {
  float x = abs(a), y = abs(b);
  float r = 1.0 / y;
  float q = x * r;
  q += glint_residual(x, q, y) * r;
  // 2^-100 and 2^100: x, y and the quotient are normal floats
  const float lo = 7.8886091e-31, hi = 1.2676506e30;
  bool exact = x >= lo && x <= hi && y >= lo && y <= hi && q >= lo && q <= hi;
  uint mx = glint_mantissa(x), my = glint_mantissa(y);
  int ex = glint_exponent(x), ey = glint_exponent(y);
  q = glint_divide_step(mx, ex, my, ey, glint_divide_step(mx, ex, my, ey, q));
  q = (a < 0.0) != (b < 0.0) ? -q : q;
  return exact ? q : a / b;
}

vec4 glint_divide(vec4 a, vec4 b) {
  return vec4(glint_divide(a.x, b.x), glint_divide(a.y, b.y), glint_divide(a.z, b.z), glint_divide(a.w, b.w));
}
