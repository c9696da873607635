// ONNX/C pow: GLSL's pow is undefined for x < 0 and for x == 0, y <= 0.
float glint_pow(float x, float y) {
  if (y == 0.0) return 1.0;
  if (x == 0.0) return y > 0.0 ? 0.0 : uintBitsToFloat(0x7f800000u);
  float p = pow(abs(x), y);
  if (x > 0.0) return p;
  if (fract(y) != 0.0) return uintBitsToFloat(0x7fc00000u);
  return mod(y, 2.0) == 1.0 ? -p : p;
}
