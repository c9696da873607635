#include "engine/gl/layout/texture_layout.h"

#include "engine/core/half.h"

#include <algorithm>
#include <cmath>

namespace glint::gl {

const char* layout_kind_name(LayoutKind k) {
  switch (k) {
    case LayoutKind::kUnpackedR32F: return "unpacked_r32f";
    case LayoutKind::kChannelsRGBA: return "channels_rgba";
    case LayoutKind::kChannelsRowsRGBA: return "channels_rows_rgba";
    case LayoutKind::kChannelsPlanes: return "channels_planes_rgba";
    case LayoutKind::kChannelsHalf8: return "channels_half8_rgba32ui";
  }
  return "unknown";
}

std::string layout_str(const TextureLayout& l) {
  return std::string(layout_kind_name(l.kind)) + " " + std::to_string(l.width) + "x" +
         std::to_string(l.height) + (l.layers > 1 ? "x" + std::to_string(l.layers) : "") + " (" +
         std::to_string(l.elements) + " elements" + (l.bits ? ", float bits in uint32" : "") + ")";
}

Result<TextureLayout> unpacked_r32f_layout(int64_t elements, int max_texture_size) {
  if (elements < 0) return invalid_argument("texture layout: negative element count " + std::to_string(elements));
  if (max_texture_size <= 0) return internal_error("texture layout: max texture size is not known");
  const int64_t max = max_texture_size;
  if (elements > max * max) {
    return unsupported("texture layout: a tensor of " + std::to_string(elements) +
                       " elements does not fit one " + std::to_string(max) + "x" + std::to_string(max) +
                       " R32F texture (splitting oversize tensors is not implemented)");
  }
  TextureLayout l;
  l.kind = LayoutKind::kUnpackedR32F;
  l.elements = elements;
  const int64_t n = elements > 0 ? elements : 1;
  int64_t w = static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(n))));
  while (w * w < n) ++w;  // guard against sqrt rounding down
  if (w > max) w = max;
  int64_t h = (n + w - 1) / w;
  l.width = static_cast<int>(w);
  l.height = static_cast<int>(h);
  return l;
}

bool gpu_holds_dtype(DataType t) {
  switch (t) {
    case DataType::kFloat32: case DataType::kFloat16: case DataType::kBFloat16:
    case DataType::kBool: case DataType::kInt8: case DataType::kUint8: case DataType::kInt16:
    case DataType::kUint16: case DataType::kInt32: case DataType::kUint32: case DataType::kInt64:
    case DataType::kUint64:
      return true;
    default:
      return false;
  }
}

namespace {

Result<TextureLayout> choose_arrangement(const TensorDesc& desc, const LayoutPolicy& limits) {
  const int max_texture_size = limits.max_texture_size;
  if (!gpu_holds_dtype(desc.dtype)) {
    return unsupported("texture layout: dtype " + dtype_name(desc.dtype) +
                       " is not supported on the GPU (R32F texels hold floats, bool and integers up to 2^24)");
  }
  for (int64_t d : desc.shape) {
    if (d < 0) return invalid_argument("texture layout: shape " + shape_str(desc.shape) + " has an unknown dimension");
  }
  int64_t elements = 0;
  if (!checked_shape_size(desc.shape, &elements))
    return unsupported("texture layout: shape " + shape_str(desc.shape) + " has more elements than can be counted");
  if (limits.packed && is_float_storage(desc.dtype) && desc.shape.size() == 4 && shape_size(desc.shape) > 0) {
    const Shape& s = desc.shape;
    const int64_t c8 = (s[1] + 7) / 8;
    if (desc.half_exact && c8 * s[2] * s[3] <= max_texture_size && s[0] <= max_texture_size) {
      TextureLayout l;
      l.kind = LayoutKind::kChannelsHalf8;
      l.elements = shape_size(s);
      for (int d = 0; d < 4; ++d) l.dims[d] = s[d];
      l.width = static_cast<int>(c8 * s[2] * s[3]);
      l.height = static_cast<int>(s[0]);
      return l;
    }
    if (auto l = channels_rgba_layout(desc.shape, limits)) return *l;
  }
  return unpacked_r32f_layout(shape_size(desc.shape), max_texture_size);
}

}  // namespace

Result<TextureLayout> choose_layout(const TensorDesc& desc, const LayoutPolicy& limits) {
  GLINT_ASSIGN_OR_RETURN(TextureLayout l, choose_arrangement(desc, limits));
  l.bits = limits.float_bits;
  return l;
}

std::optional<TextureLayout> channels_rgba_layout(const Shape& shape, const LayoutPolicy& limits) {
  const int max_texture_size = limits.max_texture_size;
  if (shape.size() != 4 || max_texture_size <= 0) return std::nullopt;
  const int64_t n = shape[0], c = shape[1], h = shape[2], w = shape[3];
  if (n <= 0 || c <= 0 || h <= 0 || w <= 0) return std::nullopt;
  const int64_t c4 = (c + 3) / 4, max = max_texture_size;
  TextureLayout l;
  l.elements = n * c * h * w;
  l.dims[0] = n; l.dims[1] = c; l.dims[2] = h; l.dims[3] = w;
  // Planes where at most a quarter of the pixels would be padding, for more
  // than one channel block (a single block would leave half the layers
  // empty; weights, whose rows are the kernel window, stay in one layer),
  // when the context has a render target per layer.
  const int64_t wp = (w + kPlanePixels - 1) / kPlanePixels, c8 = (c4 + kPlaneBlocks - 1) / kPlaneBlocks;
  if (limits.planes && limits.max_draw_buffers >= kPlanes && c4 > 1 && (wp * kPlanePixels - w) * 4 <= w && wp <= max &&
      n * c8 * h <= max) {
    l.kind = LayoutKind::kChannelsPlanes;
    l.width = static_cast<int>(wp);
    l.height = static_cast<int>(n * c8 * h);
    l.layers = kPlanes;
    return l;
  }
  if (w <= max && n * c4 * h <= max) {
    l.kind = LayoutKind::kChannelsRGBA;
    l.width = static_cast<int>(w);
    l.height = static_cast<int>(n * c4 * h);
    return l;
  }
  if (c4 * h * w <= max && n <= max) {
    l.kind = LayoutKind::kChannelsRowsRGBA;
    l.width = static_cast<int>(c4 * h * w);
    l.height = static_cast<int>(n);
    return l;
  }
  return std::nullopt;
}

std::optional<std::vector<RowCopy>> plane_rows_in(const TextureLayout& src, const TextureLayout& dst,
                                                  int64_t channel_offset) {
  constexpr int64_t kRowChannels = 4 * kPlaneBlocks;
  if (!src.planar() || !dst.planar() || src.bits || dst.bits) return std::nullopt;
  if (src.dims[0] != dst.dims[0] || src.dims[2] != dst.dims[2] || src.dims[3] != dst.dims[3]) return std::nullopt;
  if (src.width != dst.width || src.layers != dst.layers) return std::nullopt;
  if (channel_offset < 0 || channel_offset % kRowChannels != 0 || channel_offset + src.dims[1] > dst.dims[1])
    return std::nullopt;
  const int64_t H = src.dims[2], src_rows = src.plane_rows() * H;
  std::vector<RowCopy> copies;
  for (int64_t n = 0; n < src.dims[0]; ++n) {
    const int64_t dst_row = (n * dst.plane_rows() + channel_offset / kRowChannels) * H;
    copies.push_back({static_cast<int>(n * src_rows), static_cast<int>(dst_row), static_cast<int>(src_rows)});
  }
  return copies;
}

namespace {
// Index of the first float of texel (n, c4, h, w) in a texel array.
int64_t texel_offset(const TextureLayout& l, int64_t n, int64_t c4, int64_t h, int64_t w) {
  const int64_t C4 = l.channel_blocks(), H = l.dims[2], W = l.dims[3];
  if (l.kind == LayoutKind::kChannelsRGBA) return (((n * C4 + c4) * H + h) * W + w) * 4;
  if (l.kind == LayoutKind::kChannelsPlanes) {  // layer-major, as glTexSubImage3D reads it
    const int64_t layer = (c4 % kPlaneBlocks) * kPlanePixels + w % kPlanePixels, x = w / kPlanePixels;
    return ((layer * l.height + (n * l.plane_rows() + c4 / kPlaneBlocks) * H + h) * l.width + x) * 4;
  }
  return (n * (C4 * H * W) + (c4 * H + h) * W + w) * 4;
}
}  // namespace

void pack_half8(const TextureLayout& l, const float* src, uint32_t* texels) {
  const int64_t N = l.dims[0], C = l.dims[1], H = l.dims[2], W = l.dims[3], C8 = l.half_blocks();
  std::fill(texels, texels + l.texels() * 4, 0u);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t w = 0; w < W; ++w) {
          // Lane c%8: uint (c%8)/2, low half for even channels (packHalf2x16).
          uint32_t* t = texels + (n * (C8 * H * W) + ((c / 8) * H + h) * W + w) * 4 + (c % 8) / 2;
          const uint32_t bits = float_to_half(src[((n * C + c) * H + h) * W + w]);
          *t |= (c % 2) ? bits << 16 : bits;
        }
  for (int64_t i = 0, n = l.texels() * 4; i < n; ++i) texels[i] ^= kHalf8Flip;
}

void unpack_half8(const TextureLayout& l, const uint32_t* texels, float* dst) {
  const int64_t N = l.dims[0], C = l.dims[1], H = l.dims[2], W = l.dims[3], C8 = l.half_blocks();
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t w = 0; w < W; ++w) {
          const uint32_t t =
              texels[(n * (C8 * H * W) + ((c / 8) * H + h) * W + w) * 4 + (c % 8) / 2] ^ kHalf8Flip;
          dst[((n * C + c) * H + h) * W + w] = half_to_float(static_cast<uint16_t>((c % 2) ? t >> 16 : t & 0xffffu));
        }
}

bool values_half_exact(const float* data, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float v = data[i];
    if (!std::isfinite(v)) return false;
    const uint16_t h = float_to_half(v);
    if (half_to_float(h) != v) return false;
    // As the high half of a pair: the float's exponent bits must be neither 0 nor 255.
    const uint32_t exponent = ((static_cast<uint32_t>(h ^ 0x4000u) << 16) >> 23) & 0xffu;
    if (exponent == 0 || exponent == 0xff) return false;
  }
  return true;
}

bool held_as_half_weights(const Tensor& t, const LayoutPolicy& policy) {
  return policy.half_weights && t.rank() == 4 && (t.dtype() == DataType::kFloat32 || t.dtype() == DataType::kFloat16) &&
         values_half_exact(t.data<float>(), t.size());
}

namespace {
// Calls visit(row, texel_index) for every element of a channel-packed
// layout: `row` the element's row-major index at w = 0 of its (n, c, h) row
// plus w, `texel_index` its float in the texel array. The texel offsets of
// a row repeat every 4 pixels with a fixed step (planes: the next texel
// position of the same layer; the other kinds: 4 texels on), so the
// addressing is done once per row, not per element: the per-element form
// cost a GPT decode step's 12 KV-cache uploads 1.9 ms in Chromium.
template <class Visit>
void for_each_channel_element(const TextureLayout& l, Visit visit) {
  const int64_t N = l.dims[0], C = l.dims[1], H = l.dims[2], W = l.dims[3];
  const int64_t step = l.kind == LayoutKind::kChannelsPlanes ? 4 : 16;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t h = 0; h < H; ++h) {
        const int64_t row = ((n * C + c) * H + h) * W;
        int64_t first[4] = {0, 0, 0, 0};  // pixels 0..3 of the row
        for (int64_t p = 0; p < 4 && p < W; ++p) first[p] = texel_offset(l, n, c / 4, h, p) + c % 4;
        for (int64_t w0 = 0, at = 0; w0 < W; w0 += 4, at += step)
          for (int64_t p = 0; p < 4 && w0 + p < W; ++p) visit(row + w0 + p, first[p] + at);
      }
}
}  // namespace

void pack_channels(const TextureLayout& l, const float* src, float* texels) {
  std::fill(texels, texels + l.texels() * 4, 0.0f);
  for_each_channel_element(l, [&](int64_t i, int64_t t) { texels[t] = src[i]; });
}

void unpack_channels(const TextureLayout& l, const float* texels, float* dst) {
  for_each_channel_element(l, [&](int64_t i, int64_t t) { dst[i] = texels[t]; });
}

Result<TextureLayout> pass_output_layout(const ProgramInfo& pass, LayoutPolicy limits) {
  if (!pass.vec4_body) limits.planes = false;
  return choose_layout(pass.output, limits);
}

}  // namespace glint::gl
