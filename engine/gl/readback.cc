#include "engine/gl/readback.h"

#include <cstring>
#include <vector>

#include "engine/gl/layout/texel_codec.h"

#ifdef __EMSCRIPTEN__
// WebGL2's getBufferSubData: Emscripten implements it, GLES 3.0's headers lack it.
extern "C" void glGetBufferSubData(GLenum target, GLintptr offset, GLsizeiptr size, void* data);
#endif

namespace glint::gl {

// (readback.h)
// Copies the bound GL_PIXEL_PACK_BUFFER's first `bytes` to `dst`.
Status read_pack_buffer(void* dst, size_t bytes) {
#ifdef __EMSCRIPTEN__
  glGetBufferSubData(GL_PIXEL_PACK_BUFFER, 0, static_cast<GLsizeiptr>(bytes), dst);
#else
  void* p = glMapBufferRange(GL_PIXEL_PACK_BUFFER, 0, static_cast<GLsizeiptr>(bytes), GL_MAP_READ_BIT);
  if (!p) return gl_error("GL download: mapping the pixel-pack buffer failed");
  std::memcpy(dst, p, bytes);
  glUnmapBuffer(GL_PIXEL_PACK_BUFFER);
#endif
  return Status::Ok();
}

namespace {

// A read into a pixel-pack buffer, fenced: ready() polls the fence, finish()
// copies the buffer out (the GPU has long finished by then when polled).
class GlPendingDownload final : public PendingDownload {
 public:
  GlPendingDownload(GlContext* ctx, TensorDesc desc, const TextureLayout& layout, int components, Buffer pbo,
                    Sync fence)
      : ctx_(ctx), desc_(std::move(desc)), layout_(layout), elements_(layout.elements), components_(components),
        pbo_(std::move(pbo)), fence_(std::move(fence)) {}
  ~GlPendingDownload() override {
    if ((pbo_ || fence_) && !ctx_->make_current().ok()) {
      pbo_.abandon();
      fence_.abandon();
    }
  }

  bool ready() override {
    if (!fence_ || !ctx_->make_current().ok()) return true;  // finish() reports any failure
    return fence_.signaled();
  }

  Result<Tensor> finish() override {
    if (!pbo_) return internal_error("GL download: finish() called twice");
    GLINT_RETURN_IF_ERROR(ctx_->make_current());
#ifndef __EMSCRIPTEN__
    // Natively, wait here (WebGL allows no blocking wait: there the read
    // below stalls instead when the caller did not poll ready() first).
    if (!fence_.signaled()) glClientWaitSync(fence_.get(), GL_SYNC_FLUSH_COMMANDS_BIT, GLuint64{60} * 1000000000u);
#endif
    Tensor out(desc_.dtype, desc_.shape);
    if (layout_.channel_packed()) {  // float storage only (choose_layout)
      std::vector<float> texels(static_cast<size_t>(layout_.texels() * 4));
      glBindBuffer(GL_PIXEL_PACK_BUFFER, pbo_.id());
      Status s = read_pack_buffer(texels.data(), texels.size() * sizeof(float));
      glBindBuffer(GL_PIXEL_PACK_BUFFER, 0);
      pbo_.reset();
      fence_.reset();
      GLINT_RETURN_IF_ERROR(s);
      unpack_channels(layout_, texels.data(), out.data<float>());
      GLINT_RETURN_IF_ERROR(decode_texels(out.data<float>(), elements_, &out));
      return out;
    }
    const bool direct = components_ == 1 && is_float_storage(desc_.dtype);
    std::vector<float> buf;
    if (!direct) buf.resize(static_cast<size_t>(elements_ * components_));
    float* dst = direct ? out.data<float>() : buf.data();
    glBindBuffer(GL_PIXEL_PACK_BUFFER, pbo_.id());
    Status s = read_pack_buffer(dst, static_cast<size_t>(elements_ * components_) * sizeof(float));
    glBindBuffer(GL_PIXEL_PACK_BUFFER, 0);
    pbo_.reset();
    fence_.reset();
    GLINT_RETURN_IF_ERROR(s);
    if (components_ == 4) {  // RGBA reads: keep .r
      float* r = is_float_storage(desc_.dtype) ? out.data<float>() : buf.data();
      for (int64_t i = 0; i < elements_; ++i) r[i] = dst[i * 4];
      dst = r;
    }
    GLINT_RETURN_IF_ERROR(decode_texels(dst, elements_, &out));
    return out;
  }

 private:
  GlContext* ctx_;
  TensorDesc desc_;
  TextureLayout layout_;
  int64_t elements_;
  int components_;
  Buffer pbo_;
  Sync fence_;
};

}  // namespace

std::unique_ptr<PendingDownload> make_pending_download(GlContext* ctx, TensorDesc desc, const TextureLayout& layout,
                                                       int components, Buffer pbo, Sync fence) {
  return std::make_unique<GlPendingDownload>(ctx, std::move(desc), layout, components, std::move(pbo),
                                             std::move(fence));
}

}  // namespace glint::gl
