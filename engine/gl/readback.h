// Asynchronous GPU -> CPU reads: glReadPixels into a pixel-pack buffer
// behind a fence, polled by the caller (WebGL updates a fence only between
// tasks, so the page never stalls on the GPU).
#pragma once
#include "engine/gl/context.h"
#include "engine/gl/executor.h"
#include "engine/gl/objects.h"

namespace glint::gl {

// A read into a pixel-pack buffer, fenced: ready() polls the fence, finish()
// copies the buffer out (the GPU has long finished by then when polled).
// `components`: floats per texel the read returned (1 or 4).
std::unique_ptr<PendingDownload> make_pending_download(GlContext* ctx, TensorDesc desc, const TextureLayout& layout,
                                                       int components, Buffer pbo, Sync fence);

// Copies the bound GL_PIXEL_PACK_BUFFER's first `bytes` to `dst`.
Status read_pack_buffer(void* dst, size_t bytes);

}  // namespace glint::gl
