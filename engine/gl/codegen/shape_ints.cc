#include "engine/gl/codegen/shape_ints.h"

namespace glint::gl {

std::string ShapeInts::operator()(const std::string& name, int64_t value) {
  if (!as_uniforms_) return std::to_string(value);
  for (const auto& [n, v] : uniforms_) {
    if (n != name) continue;
    if (v != value && conflict_.empty())
      conflict_ = name + " is both " + std::to_string(v) + " and " + std::to_string(value);
    return name;
  }
  uniforms_.push_back({name, static_cast<int>(value)});
  return name;
}

std::string extent_name(const std::string& tensor, const char* what) { return "glint_" + tensor + "_" + what; }

std::string split_off(const std::string& target, const std::string& rest, const std::string& extent, bool uniform) {
  if (!uniform) return target + " = " + rest + " % " + extent + "; " + rest + " /= " + extent + ";";
  return "{ int glint_q = int((float(" + rest + ") + 0.5) / float(" + extent + ")); " + target + " = " + rest +
         " - glint_q * " + extent + "; " + rest + " = glint_q; }";
}

}  // namespace glint::gl
