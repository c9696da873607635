#include "engine/gl/program_uniforms.h"

#include <algorithm>

namespace glint::gl {

LocatedUniforms locate_uniforms(GLuint program, const std::vector<std::pair<std::string, int>>& uniforms) {
  LocatedUniforms located;
  for (const auto& [name, value] : uniforms) {
    const GLint location = glGetUniformLocation(program, name.c_str());
    if (location >= 0) located.emplace_back(location, value);
  }
  return located;
}

void ProgramUniforms::set(GLuint program, const LocatedUniforms& uniforms) {
  if (uniforms.empty()) return;
  LocatedUniforms& held = held_[program];
  for (const auto& [location, value] : uniforms) {
    const GLint at = location;  // a structured binding cannot be captured in C++17
    auto it = std::find_if(held.begin(), held.end(), [at](const std::pair<GLint, int>& h) { return h.first == at; });
    if (it == held.end()) {
      held.emplace_back(location, value);
    } else if (it->second == value) {
      continue;
    } else {
      it->second = value;
    }
    glUniform1i(location, value);
  }
}

}  // namespace glint::gl
