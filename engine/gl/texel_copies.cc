#include "engine/gl/texel_copies.h"

#include <cstring>

namespace glint::gl {

std::optional<ConcatCopies> TexelCopier::concat(const ProgramInfo& pass, const std::vector<const TextureLayout*>& in,
                                                const TextureLayout& out) {
  if (pass.concat_channel_offsets.empty() || pass.concat_channel_offsets.size() != in.size() || !out.planar())
    return std::nullopt;
  ConcatCopies copies;
  for (size_t j = 0; j < in.size(); ++j) {
    auto rows = plane_rows_in(*in[j], out, pass.concat_channel_offsets[j]);
    if (!rows) return std::nullopt;
    copies.push_back(std::move(*rows));
  }
  if (!float_layer_copies()) return std::nullopt;
  return copies;
}

void TexelCopier::copy(const std::vector<GLuint>& sources, const ConcatCopies& copies, GLuint out,
                       const TextureLayout& out_layout) {
  glBindFramebuffer(GL_READ_FRAMEBUFFER, fbo_.id());
  glBindTexture(GL_TEXTURE_2D_ARRAY, out);
  for (size_t j = 0; j < sources.size(); ++j) {
    for (int layer = 0; layer < out_layout.layers; ++layer) {
      glFramebufferTextureLayer(GL_READ_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, sources[j], 0, layer);
      for (const RowCopy& c : copies[j])
        glCopyTexSubImage3D(GL_TEXTURE_2D_ARRAY, 0, 0, c.dst_row, layer, 0, c.src_row, out_layout.width, c.rows);
    }
  }
  // Detached, so that no released texture stays attached here.
  glFramebufferTextureLayer(GL_READ_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, 0, 0, 0);
  glBindTexture(GL_TEXTURE_2D_ARRAY, 0);
  glBindFramebuffer(GL_READ_FRAMEBUFFER, main_fbo_);
  ++passes_;
}

// Whether glCopyTexSubImage3D copies float32 texels from a layer of one 2-D
// array texture into another here (GLES 3.0 leaves float read buffers to
// extensions): one texel copied and read back.
bool TexelCopier::float_layer_copies() {
  if (supported_) return *supported_;
  supported_ = false;
  if (!float_render_) return false;
  fbo_ = Framebuffer::create();
  Texture from = Texture::create(), to = Texture::create();
  for (GLuint id : {from.id(), to.id()}) {
    glBindTexture(GL_TEXTURE_2D_ARRAY, id);
    glTexStorage3D(GL_TEXTURE_2D_ARRAY, 1, GL_RGBA32F, 1, 2, 2);
  }
  const float value[4] = {1.5f, -2.f, 3.25f, 7.f};
  glBindTexture(GL_TEXTURE_2D_ARRAY, from.id());
  glTexSubImage3D(GL_TEXTURE_2D_ARRAY, 0, 0, 1, 1, 1, 1, 1, GL_RGBA, GL_FLOAT, value);
  glBindFramebuffer(GL_READ_FRAMEBUFFER, fbo_.id());
  glFramebufferTextureLayer(GL_READ_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, from.id(), 0, 1);
  glBindTexture(GL_TEXTURE_2D_ARRAY, to.id());
  glCopyTexSubImage3D(GL_TEXTURE_2D_ARRAY, 0, 0, 0, 0, 0, 1, 1, 1);  // (0, 1) of layer 1 -> (0, 0) of layer 0
  glFramebufferTextureLayer(GL_READ_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, to.id(), 0, 0);
  float got[4] = {0.f, 0.f, 0.f, 0.f};
  glReadPixels(0, 0, 1, 1, GL_RGBA, GL_FLOAT, got);
  glFramebufferTextureLayer(GL_READ_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, 0, 0, 0);
  glBindFramebuffer(GL_READ_FRAMEBUFFER, main_fbo_);
  glBindTexture(GL_TEXTURE_2D_ARRAY, 0);
  bool ok = true;
  for (int i = 0; i < 8; ++i) {  // bounded: a lost context may keep reporting
    if (glGetError() == GL_NO_ERROR) break;
    ok = false;
  }
  supported_ = ok && std::memcmp(got, value, sizeof value) == 0;
  return *supported_;
}

}  // namespace glint::gl
