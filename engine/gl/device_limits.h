// Limits imposed on the GL device, so that a desktop behaves as a phone or
// an old laptop would and the engine can be tested under them:
// GLINT_GL_LIMITS natively (or set_device_limits(), which the web build calls
// with env.webgl.limits), a comma-separated list such as
//   max_texture_size=4096,max_draw_buffers=4,max_texture_units=8,float_render=0
// (also half_float_render=0, and fragment_highp=0 for a GPU whose fragment
// shaders lack 32-bit floats, which glint then does not use).
// Each limit can only lower what the device has. Read when the GL context is
// made (once per process natively, once per page in the browser).
#pragma once
#include <optional>
#include <string>

#include "engine/core/status.h"
#include "engine/gl/executor.h"

namespace glint::gl {

struct DeviceLimits {
  std::optional<int> max_texture_size, max_draw_buffers, max_texture_units;
  std::optional<bool> float_render, half_float_render, fragment_highp;
};

// Parses a spec; an unknown key or a bad value is an error naming it.
Result<DeviceLimits> parse_device_limits(const std::string& spec);

// The spec in force: what set_device_limits() gave, else GLINT_GL_LIMITS.
void set_device_limits(const std::string& spec);
std::string device_limits_spec();

// `caps` lowered to `limits` (never raised).
Capabilities apply_device_limits(Capabilities caps, const DeviceLimits& limits);

// "max_texture_size 4096, max_draw_buffers 4, max_texture_units 16,
// float_render 1, half_float_render 1, fragment_highp 1" for `glint info`
// and errors.
std::string describe_limits(const Capabilities& caps);

}  // namespace glint::gl
