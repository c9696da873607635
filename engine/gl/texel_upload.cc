#include "engine/gl/texel_upload.h"

#include <cstdint>

namespace glint::gl {

void write_texels(GLuint texture, const TextureLayout& layout, const float* data, std::vector<float>* staging) {
  if (layout.half_packed()) {
    std::vector<uint32_t> texels(static_cast<size_t>(layout.texels() * 4));
    pack_half8(layout, data, texels.data());
    glBindTexture(GL_TEXTURE_2D, texture);
    glTexSubImage2D(GL_TEXTURE_2D, 0, 0, 0, layout.width, layout.height, rgba_format(layout), pixel_type(layout),
                    texels.data());
  } else if (layout.channel_packed()) {
    staging->resize(static_cast<size_t>(layout.texels() * 4));
    pack_channels(layout, data, staging->data());
    if (layout.layers > 1) {
      glBindTexture(GL_TEXTURE_2D_ARRAY, texture);
      glTexSubImage3D(GL_TEXTURE_2D_ARRAY, 0, 0, 0, 0, layout.width, layout.height, layout.layers,
                      rgba_format(layout), pixel_type(layout), staging->data());
    } else {
      glBindTexture(GL_TEXTURE_2D, texture);
      glTexSubImage2D(GL_TEXTURE_2D, 0, 0, 0, layout.width, layout.height, rgba_format(layout), pixel_type(layout),
                      staging->data());
    }
  } else if (layout.elements > 0) {
    // Whole rows in one call, then the partial last row: no padded copy.
    glBindTexture(GL_TEXTURE_2D, texture);
    const int64_t w = layout.width;
    const int full_rows = static_cast<int>(layout.elements / w);
    const int rest = static_cast<int>(layout.elements % w);
    if (full_rows > 0)
      glTexSubImage2D(GL_TEXTURE_2D, 0, 0, 0, layout.width, full_rows, red_format(layout), pixel_type(layout), data);
    if (rest > 0)
      glTexSubImage2D(GL_TEXTURE_2D, 0, 0, full_rows, rest, 1, red_format(layout), pixel_type(layout),
                      data + full_rows * w);
  }
}

}  // namespace glint::gl
