// glint_divide as GLSL's own division, for a device whose division is
// correctly rounded (the CPU rasterizers: context.cc, division_rounded); the
// composer puts it where a kernel asks for the "divide" snippet. Elsewhere
// divide.glsl's exact division, which costs a CPU rasterizer's compiler far
// more (SwiftShader: BERT's first run 2.6 -> 3.3 s).
float glint_divide(float a, float b) { return a / b; }
vec4 glint_divide(vec4 a, vec4 b) { return a / b; }
