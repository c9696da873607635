// Free views of GPU tensors: same texture, different shape or dtype tag
// (Reshape / Flatten / Squeeze / Unsqueeze cost nothing). Only valid where
// the view's layout equals the source's: true for the unpacked R32F layout,
// whose texel order is the row-major flat order whatever the shape.
#pragma once
#include "engine/core/status.h"
#include "engine/gl/executor.h"

namespace glint::gl {

// A tensor sharing `t`'s texture with `shape` (same element count). Fails
// (unsupported) when `t`'s layout would not read as `shape` unchanged.
Result<GpuTensorPtr> reshape_view(const GpuTensorPtr& t, const Shape& shape);

}  // namespace glint::gl
