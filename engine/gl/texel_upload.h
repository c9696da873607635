// Writing a tensor's floats into a texture of its layout (texture_layout.h),
// and the GL formats a layout's texels travel as, in uploads and reads.
#pragma once
#include <vector>

#include "engine/gl/gl_headers.h"
#include "engine/gl/layout/texture_layout.h"

namespace glint::gl {

// Floats as GL_FLOAT; float bits (TextureLayout::bits) as GL_UNSIGNED_INT of
// the same bytes, so the host buffers stay float either way.
inline GLenum pixel_type(const TextureLayout& l) { return l.bits ? GL_UNSIGNED_INT : GL_FLOAT; }
inline GLenum rgba_format(const TextureLayout& l) { return l.bits ? GL_RGBA_INTEGER : GL_RGBA; }
inline GLenum red_format(const TextureLayout& l) { return l.bits ? GL_RED_INTEGER : GL_RED; }

// Writes `layout.elements` floats (row-major tensor order) into `texture`,
// packed as the layout says; `staging` holds the packed texels on the way.
// Padding texels of an unpacked layout keep whatever they held (no accessor
// reads them); packed layouts' padding channels are written as zero.
void write_texels(GLuint texture, const TextureLayout& layout, const float* data, std::vector<float>* staging);

}  // namespace glint::gl
