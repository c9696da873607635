// roundEven(x / s) with the quotient a correctly rounded float division gives
// (what the CPU kernels and ONNX's reference compute). GLSL's division may be
// a reciprocal and a product (NVIDIA's is: DynamicQuantizeLinear's -2.5 /
// (5 / 255) came out -127.5, a tie, where the float quotient is -127.49999),
// and a quotient within its error of k + 0.5 can round the wrong way. So the
// quotient is taken as x * (1 / s) on every GPU alike, and near a tie m =
// k + 0.5 the side is decided exactly: the residual x - m * s is computed
// without error (s cut into four six-bit pieces, so that each product m * s_i
// is exact, 2m being an odd integer under 2^18, and each partial difference
// is representable), and the float quotient is m itself when the residual is
// at most half an ulp of m times |s| (a tie between m and a neighbour goes to
// m, whose mantissa is even at these sizes). Off the window (1/16, well over
// the product's few-ulp error) the approximate quotient rounds as the exact
// one would.

float glint_six_bit_head(float v) {
  // sign, exponent and the top 5 stored mantissa bits: 6 significant bits
  return uintBitsToFloat(floatBitsToUint(v) & 0xFFFC0000u);
}

float glint_round_quotient(float x, float s) {
  float q = x * (1.0 / s);
  float m = floor(q) + 0.5;
  if (!(abs(q - m) < 0.0625) || !(abs(m) < 131071.0)) return roundEven(q);
  float s1 = glint_six_bit_head(s);
  float t = s - s1;
  float s2 = glint_six_bit_head(t);
  t -= s2;
  float s3 = glint_six_bit_head(t);
  float s4 = t - s3;
  float r = x - m * s1;
  r -= m * s2;
  r -= m * s3;
  r -= m * s4;
  // half an ulp of m: 2^(exponent - 24), m being at least 0.5
  float half_ulp = uintBitsToFloat((((floatBitsToUint(m) >> 23) & 0xFFu) - 24u) << 23);
  if (abs(r) <= abs(s) * half_ulp) return roundEven(m);
  if (s < 0.0) r = -r;
  return r > 0.0 ? m + 0.5 : m - 0.5;
}
