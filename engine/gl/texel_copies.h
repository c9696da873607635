// Passes done by copying texels instead of drawing: a channel concat
// (ProgramInfo::concat_channel_offsets) whose parts line up with its planes
// output (texture_layout.h: plane_rows_in) is glCopyTexSubImage3D calls, a
// layer and an image at a time, through a read framebuffer of its own. On a
// software rasterizer a copy costs a tenth of the draw (web/bench/README.md).
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "engine/gl/layout/texture_layout.h"
#include "engine/gl/objects.h"
#include "engine/ops/program.h"

namespace glint::gl {

// copies[j]: the rows of pass input j, the same in every layer.
using ConcatCopies = std::vector<std::vector<RowCopy>>;

class TexelCopier {
 public:
  // `float_render`: the context renders to float32 textures (without it no
  // float read framebuffer exists to copy from). `main_fbo`: the read
  // framebuffer to bind again after copying.
  TexelCopier(bool float_render, GLuint main_fbo) : float_render_(float_render), main_fbo_(main_fbo) {}

  // The copies that fill `pass`'s output from inputs laid out as `in`, or
  // nullopt when the pass must be drawn: no concat offsets, a layout that
  // does not line up, or a context that cannot copy float layers (probed
  // once, at the first concat asked about).
  std::optional<ConcatCopies> concat(const ProgramInfo& pass, const std::vector<const TextureLayout*>& in,
                                     const TextureLayout& out);

  // Copies each source texture's rows into `out` (a 2-D array texture of
  // layout `out_layout`), layer by layer.
  void copy(const std::vector<GLuint>& sources, const ConcatCopies& copies, GLuint out, const TextureLayout& out_layout);

  // Passes done by copies so far.
  int64_t passes() const { return passes_; }

 private:
  bool float_layer_copies();

  bool float_render_;
  GLuint main_fbo_;
  std::optional<bool> supported_;  // float_layer_copies(), once probed
  Framebuffer fbo_;
  int64_t passes_ = 0;
};

}  // namespace glint::gl
