// Host-side conversion between a tensor's values and the float texels that
// hold them (texture_layout.h: integers and bool as exact float32, 16-bit
// floats widened): what an upload writes and a download reads back, checked
// against the GPU's exact integer range. GL-free.
#pragma once
#include <vector>

#include "engine/core/status.h"
#include "engine/core/tensor.h"

namespace glint::gl {

// An integer or bool tensor as one float per element; unsupported (naming
// the value, the element and the limit) beyond kGpuExactIntLimit.
Status encode_integer_texels(const Tensor& t, std::vector<float>* out);

// What a read gave (one float per element at `src`; for float storage
// already `out`'s own buffer) -> `out`'s values, rounded to its dtype.
Status decode_texels(float* src, int64_t n, Tensor* out);

}  // namespace glint::gl
