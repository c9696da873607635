// RAII, move-only owners of GL objects. Each destructor calls the matching
// glDelete*; the executor guarantees its context is current whenever one of
// these is destroyed. `abandon()` forgets a name without deleting it, for
// objects whose context has already been destroyed (which freed them).
#pragma once
#include <utility>

#include "engine/gl/gl_headers.h"

namespace glint::gl {

template <class Traits>
class GlObject {
 public:
  GlObject() = default;
  explicit GlObject(GLuint id) : id_(id) {}
  ~GlObject() { reset(); }
  GlObject(const GlObject&) = delete;
  GlObject& operator=(const GlObject&) = delete;
  GlObject(GlObject&& o) noexcept : id_(std::exchange(o.id_, 0)) {}
  GlObject& operator=(GlObject&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = std::exchange(o.id_, 0);
    }
    return *this;
  }

  // Generates a fresh name (glGen*/glCreate*).
  static GlObject create() { return GlObject(Traits::create()); }

  GLuint id() const { return id_; }
  explicit operator bool() const { return id_ != 0; }
  void reset() {
    if (id_ != 0) Traits::destroy(id_);
    id_ = 0;
  }
  void abandon() { id_ = 0; }

 private:
  GLuint id_ = 0;
};

struct TextureTraits {
  static GLuint create() { GLuint id = 0; glGenTextures(1, &id); return id; }
  static void destroy(GLuint id) { glDeleteTextures(1, &id); }
};
struct FramebufferTraits {
  static GLuint create() { GLuint id = 0; glGenFramebuffers(1, &id); return id; }
  static void destroy(GLuint id) { glDeleteFramebuffers(1, &id); }
};
struct BufferTraits {
  static GLuint create() { GLuint id = 0; glGenBuffers(1, &id); return id; }
  static void destroy(GLuint id) { glDeleteBuffers(1, &id); }
};
struct VertexArrayTraits {
  static GLuint create() { GLuint id = 0; glGenVertexArrays(1, &id); return id; }
  static void destroy(GLuint id) { glDeleteVertexArrays(1, &id); }
};
struct ProgramTraits {
  static GLuint create() { return glCreateProgram(); }
  static void destroy(GLuint id) { glDeleteProgram(id); }
};
struct FragmentShaderTraits {
  static GLuint create() { return glCreateShader(GL_FRAGMENT_SHADER); }
  static void destroy(GLuint id) { glDeleteShader(id); }
};
struct VertexShaderTraits {
  static GLuint create() { return glCreateShader(GL_VERTEX_SHADER); }
  static void destroy(GLuint id) { glDeleteShader(id); }
};

using Texture = GlObject<TextureTraits>;
using Framebuffer = GlObject<FramebufferTraits>;
using Buffer = GlObject<BufferTraits>;
using VertexArray = GlObject<VertexArrayTraits>;
using Program = GlObject<ProgramTraits>;
// Two shader types so that the stage is part of the type; `Shader` names the
// fragment stage, which is what every kernel produces.
using Shader = GlObject<FragmentShaderTraits>;
using VertexShader = GlObject<VertexShaderTraits>;

// A fence (GLsync is a pointer, not a GLuint name).
class Sync {
 public:
  Sync() = default;
  explicit Sync(GLsync s) : sync_(s) {}
  static Sync fence() { return Sync(glFenceSync(GL_SYNC_GPU_COMMANDS_COMPLETE, 0)); }
  ~Sync() { reset(); }
  Sync(const Sync&) = delete;
  Sync& operator=(const Sync&) = delete;
  Sync(Sync&& o) noexcept : sync_(std::exchange(o.sync_, nullptr)) {}
  Sync& operator=(Sync&& o) noexcept {
    if (this != &o) {
      reset();
      sync_ = std::exchange(o.sync_, nullptr);
    }
    return *this;
  }
  GLsync get() const { return sync_; }
  explicit operator bool() const { return sync_ != nullptr; }
  // True once the GPU has passed the fence; never blocks.
  bool signaled() const;
  void reset();
  void abandon() { sync_ = nullptr; }

 private:
  GLsync sync_ = nullptr;
};

}  // namespace glint::gl
