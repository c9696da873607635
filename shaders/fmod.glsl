// C fmod: the remainder of x / y with the sign of x. x - y * trunc(x / y)
// can land one y off when x / y rounds across an integer; step back in.
float glint_fmod(float x, float y) {
  float r = x - y * trunc(x / y);
  float ay = abs(y);
  if (abs(r) >= ay) r -= sign(r) * ay;
  if (r != 0.0 && sign(r) != sign(x)) r += sign(x) * ay;
  return r;
}
