#include "engine/gl/views.h"

#include "engine/gl/gl_tensor.h"

namespace glint::gl {

Result<GpuTensorPtr> reshape_view(const GpuTensorPtr& t, const Shape& shape) {
  auto* gt = dynamic_cast<const GlTensor*>(t.get());
  if (!gt) return invalid_argument("reshape_view: not a GL tensor");
  const TensorDesc& from = gt->desc();
  if (shape_size(shape) != shape_size(from.shape)) {
    return invalid_argument("reshape_view: cannot view " + dtype_name(from.dtype) + shape_str(from.shape) +
                            " as " + shape_str(shape) + " (element counts differ)");
  }
  const TextureLayout& l = gt->layout();
  if (l.kind != LayoutKind::kUnpackedR32F) {
    return unsupported(std::string("reshape_view: layout ") + layout_kind_name(l.kind) +
                       " does not keep row-major order; copy instead");
  }
  return GpuTensorPtr(std::make_shared<GlTensor>(TensorDesc{from.dtype, shape}, l, gt->lease(), gt->owner()));
}

}  // namespace glint::gl
