// The shaders/*.glsl library, embedded into the binary at build time by
// tools/embed_shaders.cmake (generated/embedded_shaders.cc): file stem -> text.
#pragma once
#include <map>
#include <string>

namespace glint::gl {
const std::map<std::string, std::string>& embedded_shaders();
}  // namespace glint::gl
