// The integer uniforms an executor sets on its programs: each pass's
// (ComposedShader::uniforms) located once, and set for each draw only where
// the program holds another value. Passes that share a program
// (ProgramInfo::shape_uniforms) each need their own values, but each
// glUniform is a validated call in WebGL, and consecutive passes of one
// size need none.
#pragma once
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/gl/gl_headers.h"

namespace glint::gl {

using LocatedUniforms = std::vector<std::pair<GLint, int>>;  // (location, value)

// `uniforms` (name, value) as locations in `program`; those the compiler
// dropped (location -1) are left out.
LocatedUniforms locate_uniforms(GLuint program, const std::vector<std::pair<std::string, int>>& uniforms);

class ProgramUniforms {
 public:
  // Sets `uniforms` on `program`, which is bound, skipping values it holds.
  void set(GLuint program, const LocatedUniforms& uniforms);
  // `program` was deleted: GL may hand its name to a new program.
  void forget(GLuint program) { held_.erase(program); }

 private:
  std::unordered_map<GLuint, LocatedUniforms> held_;  // per program, as last set
};

}  // namespace glint::gl
