#include "engine/gl/objects.h"

namespace glint::gl {

bool Sync::signaled() const {
  if (!sync_) return true;
  GLint status = GL_UNSIGNALED;
  glGetSynciv(sync_, GL_SYNC_STATUS, 1, nullptr, &status);
  return status == GL_SIGNALED;
}

void Sync::reset() {
  if (sync_) glDeleteSync(sync_);
  sync_ = nullptr;
}

}  // namespace glint::gl
