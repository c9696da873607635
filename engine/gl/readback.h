// Asynchronous GPU -> CPU reads: glReadPixels into a pixel-pack buffer
// behind a fence, polled by the caller (WebGL updates a fence only between
// tasks, so the page never stalls on the GPU).
#pragma once
#include "engine/gl/context.h"
#include "engine/gl/executor.h"
#include "engine/gl/objects.h"

namespace glint::gl {

// One tensor's read into a pixel-pack buffer shared with other reads:
// `components` floats per texel (4 for the channel-packed layouts, which are
// read whole; else 1 or 4 as the context reads R32F), from byte `offset`.
struct PackRead {
  TensorDesc desc;
  TextureLayout layout;
  int components = 1;
  size_t offset = 0;
  size_t bytes() const;  // what the read takes in the buffer
};

// Issues `read`'s glReadPixels: its texture attached to the read
// framebuffer's first color attachment, the buffer bound to
// GL_PIXEL_PACK_BUFFER.
void read_pixels_into_pack_buffer(const PackRead& read);

// A PendingDownload per read, all in `pbo` behind `fence`: ready() polls the
// one fence, and the first finish() copies the whole buffer out in one call
// (in a browser each copy out of a buffer is a round trip to the GPU
// process: a GPT decode step's 13 outputs cost 3.6 ms read one by one);
// every finish() then decodes its own part.
std::vector<std::unique_ptr<PendingDownload>> make_pending_downloads(GlContext* ctx, std::vector<PackRead> reads,
                                                                     Buffer pbo, Sync fence);

// Copies the bound GL_PIXEL_PACK_BUFFER's first `bytes` to `dst`.
Status read_pack_buffer(void* dst, size_t bytes);

}  // namespace glint::gl
