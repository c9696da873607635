// a / b as a correctly rounded float division gives it (what the CPU kernels
// and ONNX's reference compute). GLSL ES 3.00 allows a division 2.5 ulp of
// error, and NVIDIA's is a reciprocal and a product: DynamicQuantizeLinear's
// expanded form divides -2.5 by 5/255, got -127.5 where the float quotient is
// -127.49999, and its Round then picked the other integer. So the quotient is
// taken as |a| * (1 / |b|) on every GPU alike (a CPU rasterizer runs the same
// path as a real GPU), improved by one step with its exact residual, and the
// last ulp decided exactly:
// - the residual a - q * b is exact: q and b are cut by their bits into
//   12-bit halves, so each partial product is exact, and q * b is so close
//   to a that every partial difference is representable (Dekker's
//   remainder; a fused multiply-add leaves every step as exact);
// - the true quotient lies on the residual's side of q; it rounds to the
//   neighbour on that side when it is more than half the gap to it away,
//   that is when |residual| > |b| * gap / 2 (the gap below a power of two is
//   half the gap above, hence both are taken). A quotient never lies exactly
//   half-way: a midpoint has 25 significant bits, times b it cannot be a.
// Away from the range where these products stay normal floats, and for zero,
// infinity and NaN, GLSL's own division (accurate to a few ulp).

float glint_twelve_bit_head(float v) {
  // sign, exponent and the top 11 stored mantissa bits: 12 significant bits
  return uintBitsToFloat(floatBitsToUint(v) & 0xFFFFF000u);
}

// a - q * b, exactly, for q * b within a few ulp of a (all positive, normal).
float glint_exact_residual(float a, float q, float b) {
  float qh = glint_twelve_bit_head(q), ql = q - qh;
  float bh = glint_twelve_bit_head(b), bl = b - bh;
  return ((a - qh * bh) - qh * bl - ql * bh) - ql * bl;
}

float glint_divide(float a, float b) {
  float x = abs(a), y = abs(b);
  // 2^-100 and 2^100: every product below stays normal
  const float lo = 7.8886091e-31, hi = 1.2676506e30;
  if (!(x >= lo && x <= hi && y >= lo && y <= hi)) return a / b;
  float q = x * (1.0 / y);
  if (!(q >= lo && q <= hi)) return a / b;
  q += glint_exact_residual(x, q, y) * (1.0 / y);
  float r = glint_exact_residual(x, q, y);
  uint bits = floatBitsToUint(q);
  if (r > 0.0) {
    float up = uintBitsToFloat(bits + 1u);
    if (r > y * ((up - q) * 0.5)) q = up;
  } else if (r < 0.0) {
    float down = uintBitsToFloat(bits - 1u);
    if (-r > y * ((q - down) * 0.5)) q = down;
  }
  return (a < 0.0) != (b < 0.0) ? -q : q;
}

vec4 glint_divide(vec4 a, vec4 b) {
  return vec4(glint_divide(a.x, b.x), glint_divide(a.y, b.y), glint_divide(a.z, b.z), glint_divide(a.w, b.w));
}
