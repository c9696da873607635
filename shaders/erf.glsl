// erf(x), Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7).
float glint_erf(float x) {
  float s = sign(x);
  float a = abs(x);
  float t = 1.0 / (1.0 + 0.3275911 * a);
  float y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t +
                   0.254829592) * t * exp(-a * a);
  return s * y;
}

// The same, component-wise (a fused Gelu's vec4 store).
vec4 glint_erf(vec4 x) {
  vec4 a = abs(x);
  vec4 t = 1.0 / (1.0 + 0.3275911 * a);
  vec4 y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t +
                  0.254829592) * t * exp(-a * a);
  return sign(x) * y;
}
