#include "engine/gl/layout/texture_layout.h"

#include <cmath>

namespace glint::gl {

const char* layout_kind_name(LayoutKind k) {
  switch (k) {
    case LayoutKind::kUnpackedR32F: return "unpacked_r32f";
  }
  return "unknown";
}

std::string layout_str(const TextureLayout& l) {
  return std::string(layout_kind_name(l.kind)) + " " + std::to_string(l.width) + "x" +
         std::to_string(l.height) + " (" + std::to_string(l.elements) + " elements)";
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

Result<TextureLayout> choose_layout(const TensorDesc& desc, int max_texture_size) {
  if (!gpu_holds_dtype(desc.dtype)) {
    return unsupported("texture layout: dtype " + dtype_name(desc.dtype) +
                       " is not supported on the GPU (R32F texels hold floats, bool and integers up to 2^24)");
  }
  for (int64_t d : desc.shape) {
    if (d < 0) return invalid_argument("texture layout: shape " + shape_str(desc.shape) + " has an unknown dimension");
  }
  return unpacked_r32f_layout(shape_size(desc.shape), max_texture_size);
}

}  // namespace glint::gl
