// The GL context glint draws with: EGL surfaceless (Mesa) natively, a WebGL2
// context under Emscripten. Probes the capabilities the executor depends on
// and refuses to start on a device it cannot compute exactly on (no highp
// float in fragment shaders, or neither R32F nor R32UI render targets).
#pragma once
#include <memory>
#include <string>

#include "engine/core/status.h"
#include "engine/gl/executor.h"
#include "engine/gl/gl_headers.h"

namespace glint::gl {

class GlContext {
 public:
  // Creates the context, makes it current on this thread and probes it.
  static Result<std::unique_ptr<GlContext>> create();
  ~GlContext();
  GlContext(const GlContext&) = delete;
  GlContext& operator=(const GlContext&) = delete;

  const Capabilities& caps() const { return caps_; }
  // Makes this context current on the calling thread if it is not already
  // (a cheap check; several executors may share a thread).
  Status make_current();

  // How glReadPixels reads an R32F color buffer: GL_RED when the driver says
  // so (IMPLEMENTATION_COLOR_READ_FORMAT), else GL_RGBA, the combination GLES
  // guarantees for float color buffers. Type is always GL_FLOAT.
  GLenum r32f_read_format() const { return r32f_read_format_; }
  int max_texture_units() const { return caps_.max_texture_units; }

 private:
  GlContext() = default;
  Status init_platform();
  Status probe();

  Capabilities caps_;
  GLenum r32f_read_format_ = GL_RGBA;

  // Opaque platform handles (EGLDisplay/EGLContext natively, the WebGL
  // context handle under Emscripten), kept as void*/long so this header does
  // not pull in EGL.
#ifdef __EMSCRIPTEN__
  long web_context_ = 0;
#else
  void* display_ = nullptr;
  void* context_ = nullptr;
#endif
};

}  // namespace glint::gl
