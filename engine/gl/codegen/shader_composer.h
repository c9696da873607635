// The shader composer: turns a ProgramInfo plus the layouts of its inputs and
// output into a complete `#version 300 es` fragment shader. It generates, per
// input X, the accessors promised in engine/ops/program.h (getX,
// getXFlat, getXBroadcast, X_RANK, X_SIZE, X_SHAPE) from X's layout, the
// OUT_* constants, the requested snippets, then the kernel body and a main()
// that maps gl_FragCoord to the output coordinates `oc` and calls process(oc).
// Shapes are literals, or with ProgramInfo::shape_uniforms uniforms (then
// only which extents are 1 and the remainders that decide guards shape the
// text); either way the source is the program cache key.
//
// Reserved in bodies and snippets: identifiers starting with `glint_` (the
// composer's own), OUT_* and the per-input names above. Snippets are the
// shaders/NAME.glsl files named in ProgramInfo::snippets, each included once,
// after the accessors and before the body; "preamble" and "quad_vertex" are
// infrastructure and cannot be requested.
#pragma once
#include <string>
#include <vector>

#include "engine/core/status.h"
#include "engine/ops/program.h"
#include "engine/gl/layout/texture_layout.h"

namespace glint::gl {

struct ComposerInput {
  std::string name;  // ProgramInput::name
  TensorDesc desc;
  TextureLayout layout;
  // Read with texelFetch rather than texture() at texel centres (the
  // executor's choice: Capabilities::texel_fetch_reads, or the switch
  // GLINT_DISABLE=texture-reads).
  bool texel_fetch = false;
};

// The text of the one vertex shader (a full-screen quad at location 0).
const std::string& quad_vertex_shader();

// A fragment shader and every integer uniform the executor sets for each
// draw of it: ProgramInfo::int_uniforms, or with ProgramInfo::shape_uniforms
// the glint_set_NAME uniforms of the shape ints (the int_uniforms among
// them).
struct ComposedShader {
  std::string source;
  std::vector<std::pair<std::string, int>> uniforms;
};

// What the device lets a shader do more cheaply.
struct ComposerDevice {
  // The device's division is correctly rounded (the executor's choice:
  // Capabilities::division_rounded, unless GLINT_DISABLE=native-division):
  // the "divide" snippet is then GLSL's own `/` (divide_native.glsl), not
  // the exact division of divide.glsl.
  bool native_division = false;
};

// `inputs` in ProgramInfo::inputs order. Fails (kInvalidArgument) on a bad or
// duplicate input name or an unknown snippet; messages name info.name.
Result<ComposedShader> compose_fragment_shader(const ProgramInfo& info,
                                               const std::vector<ComposerInput>& inputs,
                                               const TextureLayout& output_layout,
                                               const ComposerDevice& device = {});

// Sampler name for input X: the body never references it directly.
std::string sampler_uniform_name(const std::string& input_name);

}  // namespace glint::gl
