#include "engine/gl/readback.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "engine/gl/layout/texel_codec.h"
#include "engine/gl/texel_upload.h"

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

size_t PackRead::bytes() const {
  const int64_t texels = layout.channel_packed() ? layout.texels() : layout.elements;
  return static_cast<size_t>(texels * components) * sizeof(float);
}

void read_pixels_into_pack_buffer(const PackRead& read) {
  const TextureLayout& l = read.layout;
  const GLenum format = read.components == 1 ? red_format(l) : rgba_format(l);
  auto at = [&](size_t bytes) { return reinterpret_cast<void*>(static_cast<intptr_t>(read.offset + bytes)); };
  if (l.channel_packed()) {
    glReadPixels(0, 0, l.width, l.height, format, pixel_type(l), at(0));
    return;
  }
  // The elements only: the texels past them are padding.
  const int64_t w = l.width;
  const int full_rows = static_cast<int>(l.elements / w);
  const int rest = static_cast<int>(l.elements % w);
  if (full_rows > 0) glReadPixels(0, 0, l.width, full_rows, format, pixel_type(l), at(0));
  if (rest > 0) glReadPixels(0, full_rows, rest, 1, format, pixel_type(l), at(full_rows * w * read.components * sizeof(float)));
}

namespace {

// The pixel-pack buffer of one or more reads and its fence; its contents
// come out once, on the first contents().
class SharedPackBuffer {
 public:
  SharedPackBuffer(GlContext* ctx, size_t bytes, Buffer pbo, Sync fence)
      : ctx_(ctx), bytes_(bytes), pbo_(std::move(pbo)), fence_(std::move(fence)) {}
  ~SharedPackBuffer() {
    if ((pbo_ || fence_) && !ctx_->make_current().ok()) {
      pbo_.abandon();
      fence_.abandon();
    }
  }

  bool ready() {
    if (!fence_ || !ctx_->make_current().ok()) return true;  // contents() reports any failure
    return fence_.signaled();
  }

  // The buffer's floats.
  Result<const float*> contents() {
    if (!copied_) {
      copied_ = true;
      status_ = copy_out();
    }
    if (!status_.ok()) return status_;
    return host_.get();
  }

 private:
  Status copy_out() {
    GLINT_RETURN_IF_ERROR(ctx_->make_current());
#ifndef __EMSCRIPTEN__
    // Natively, wait here (WebGL allows no blocking wait: there the read
    // below stalls instead when the caller did not poll ready() first).
    if (!fence_.signaled()) glClientWaitSync(fence_.get(), GL_SYNC_FLUSH_COMMANDS_BIT, GLuint64{60} * 1000000000u);
#endif
    host_.reset(new float[bytes_ / sizeof(float)]);  // not zeroed: the read fills it
    glBindBuffer(GL_PIXEL_PACK_BUFFER, pbo_.id());
    Status s = read_pack_buffer(host_.get(), bytes_);
    glBindBuffer(GL_PIXEL_PACK_BUFFER, 0);
    pbo_.reset();
    fence_.reset();
    return s;
  }

  GlContext* ctx_;
  size_t bytes_;
  Buffer pbo_;
  Sync fence_;
  bool copied_ = false;
  Status status_;
  std::unique_ptr<float[]> host_;
};

// One tensor's part of a SharedPackBuffer.
class GlPendingDownload final : public PendingDownload {
 public:
  GlPendingDownload(std::shared_ptr<SharedPackBuffer> buffer, PackRead read)
      : buffer_(std::move(buffer)), read_(std::move(read)) {}

  bool ready() override { return !buffer_ || buffer_->ready(); }

  Result<Tensor> finish() override {
    if (!buffer_) return internal_error("GL download: finish() called twice");
    // Held until this part is decoded; the last part's finish() lets it go.
    const std::shared_ptr<SharedPackBuffer> buffer = std::move(buffer_);
    auto contents = buffer->contents();
    if (!contents.ok()) return contents.status();
    const float* src = contents.value() + read_.offset / sizeof(float);
    const TextureLayout& l = read_.layout;
    const TensorDesc& d = read_.desc;
    Tensor out(d.dtype, d.shape, Tensor::kUninitialized);  // every element is written below
    if (l.channel_packed()) {  // float storage only (choose_layout)
      unpack_channels(l, src, out.data<float>());
      GLINT_RETURN_IF_ERROR(decode_texels(out.data<float>(), l.elements, &out));
      return out;
    }
    // The values as floats (bits for float storage, exact floats for the
    // integer dtypes until decode_texels), .r of RGBA reads.
    const bool float_storage = is_float_storage(d.dtype);
    std::vector<float> buf;
    if (!float_storage) buf.resize(static_cast<size_t>(l.elements));
    float* dst = float_storage ? out.data<float>() : buf.data();
    if (read_.components == 1) {
      std::memcpy(dst, src, static_cast<size_t>(l.elements) * sizeof(float));
    } else {
      for (int64_t i = 0; i < l.elements; ++i) dst[i] = src[i * 4];
    }
    GLINT_RETURN_IF_ERROR(decode_texels(dst, l.elements, &out));
    return out;
  }

 private:
  std::shared_ptr<SharedPackBuffer> buffer_;
  PackRead read_;
};

}  // namespace

std::vector<std::unique_ptr<PendingDownload>> make_pending_downloads(GlContext* ctx, std::vector<PackRead> reads,
                                                                     Buffer pbo, Sync fence) {
  size_t bytes = 0;
  for (const PackRead& r : reads) bytes = std::max(bytes, r.offset + r.bytes());
  auto buffer = std::make_shared<SharedPackBuffer>(ctx, bytes, std::move(pbo), std::move(fence));
  std::vector<std::unique_ptr<PendingDownload>> out;
  for (PackRead& r : reads) out.push_back(std::make_unique<GlPendingDownload>(buffer, std::move(r)));
  return out;
}

}  // namespace glint::gl
