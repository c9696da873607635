#version 300 es
// glint: the one vertex shader; a full-screen quad as a 4-vertex triangle
// strip at attribute location 0. Fragment programs use gl_FragCoord only.
layout(location = 0) in vec2 glint_position;
void main() {
  gl_Position = vec4(glint_position, 0.0, 1.0);
}
