#include "engine/gl/device_limits.h"

#include <algorithm>
#include <cstdlib>
#include <sstream>

namespace glint::gl {

namespace {
// set_device_limits()'s spec; unset: GLINT_GL_LIMITS decides.
std::optional<std::string>& imposed_spec() {
  static std::optional<std::string> spec;
  return spec;
}
}  // namespace

Result<DeviceLimits> parse_device_limits(const std::string& spec) {
  DeviceLimits limits;
  std::stringstream ss(spec);
  std::string item;
  while (std::getline(ss, item, ',')) {
    item.erase(std::remove_if(item.begin(), item.end(), [](char c) { return c == ' ' || c == '\t'; }), item.end());
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    const std::string key = item.substr(0, eq), value = eq == std::string::npos ? "" : item.substr(eq + 1);
    char* end = nullptr;
    const long n = std::strtol(value.c_str(), &end, 10);
    if (value.empty() || !end || *end || n < 0)
      return invalid_argument("GL limits: '" + item + "' is not key=value with a value >= 0");
    if (key == "max_texture_size") {
      if (n < 1) return invalid_argument("GL limits: max_texture_size must be at least 1");
      limits.max_texture_size = static_cast<int>(n);
    } else if (key == "max_draw_buffers") {
      if (n < 1) return invalid_argument("GL limits: max_draw_buffers must be at least 1");
      limits.max_draw_buffers = static_cast<int>(n);
    } else if (key == "max_texture_units") {
      if (n < 2) return invalid_argument("GL limits: max_texture_units must be at least 2");
      limits.max_texture_units = static_cast<int>(n);
    } else if (key == "float_render") {
      limits.float_render = n != 0;
    } else if (key == "half_float_render") {
      limits.half_float_render = n != 0;
    } else if (key == "fragment_highp") {
      limits.fragment_highp = n != 0;
    } else {
      return invalid_argument("GL limits: unknown key '" + key +
                              "' (known: max_texture_size, max_draw_buffers, max_texture_units, float_render, "
                              "half_float_render, fragment_highp)");
    }
  }
  return limits;
}

void set_device_limits(const std::string& spec) { imposed_spec() = spec; }

std::string device_limits_spec() {
  if (imposed_spec()) return *imposed_spec();
  const char* env = std::getenv("GLINT_GL_LIMITS");
  return env ? env : "";
}

Capabilities apply_device_limits(Capabilities caps, const DeviceLimits& limits) {
  if (limits.max_texture_size) caps.max_texture_size = std::min(caps.max_texture_size, *limits.max_texture_size);
  if (limits.max_draw_buffers) caps.max_draw_buffers = std::min(caps.max_draw_buffers, *limits.max_draw_buffers);
  if (limits.max_texture_units) caps.max_texture_units = std::min(caps.max_texture_units, *limits.max_texture_units);
  if (limits.float_render) caps.float_render = caps.float_render && *limits.float_render;
  if (limits.half_float_render) caps.half_float_render = caps.half_float_render && *limits.half_float_render;
  if (limits.fragment_highp) caps.fragment_highp = caps.fragment_highp && *limits.fragment_highp;
  return caps;
}

std::string describe_limits(const Capabilities& caps) {
  std::ostringstream os;
  os << "max_texture_size " << caps.max_texture_size << ", max_draw_buffers " << caps.max_draw_buffers
     << ", max_texture_units " << caps.max_texture_units << ", float_render " << caps.float_render
     << ", half_float_render " << caps.half_float_render << ", fragment_highp " << caps.fragment_highp
     << "; textures hold " << (caps.float_render ? "float32" : "float32 bits as uint32 (R32UI/RGBA32UI)");
  return os.str();
}

}  // namespace glint::gl
