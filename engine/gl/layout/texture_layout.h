// How a tensor's elements sit in a texture. A layout is chosen per tensor
// (choose_layout); everything that knows how a flat element index maps to a
// texel lives here and in the sampler generator (engine/gl/codegen), never
// in kernels. GL-free: the executor maps TextureFormat to GL enums.
#pragma once
#include <cstdint>
#include <string>

#include "engine/core/status.h"
#include "engine/gl/kernels/kernel.h"

namespace glint::gl {

enum class LayoutKind {
  // One float per texel in an R32F texture; flat (row-major) element index i
  // is texel (i % width, i / width). Texels past `elements` are padding.
  kUnpackedR32F,
  // Later: kPackedRGBA2x2 (matmul/conv), kPackedRGBAChannels, oversize splits.
};

enum class TextureFormat { kR32F };

struct TextureLayout {
  LayoutKind kind = LayoutKind::kUnpackedR32F;
  int width = 1;
  int height = 1;
  int64_t elements = 0;  // tensor elements held (<= texels * channels)

  TextureFormat format() const { return TextureFormat::kR32F; }
  int channels() const { return 1; }
  int64_t texels() const { return static_cast<int64_t>(width) * height; }
  int64_t byte_size() const { return texels() * channels() * 4; }
  bool operator==(const TextureLayout& o) const {
    return kind == o.kind && width == o.width && height == o.height && elements == o.elements;
  }
  bool operator!=(const TextureLayout& o) const { return !(*this == o); }
};

const char* layout_kind_name(LayoutKind k);
std::string layout_str(const TextureLayout& l);  // "unpacked_r32f 1733x1732 (3000000 elements)"

// The unpacked R32F layout for `elements` floats: a squarish texture within
// `max_texture_size` (an empty tensor still gets one 1x1 texel). Fails as
// unsupported when the tensor does not fit one texture.
Result<TextureLayout> unpacked_r32f_layout(int64_t elements, int max_texture_size);

// How the R32F texels hold each dtype (the encoding lives only here, in the
// composer's output store and in the executor's upload/download):
//  - float32, float16, bfloat16: the float itself (16-bit floats widened).
//  - bool, int8/uint8, int16/uint16, int32/uint32, int64/uint64: the integer
//    as an exact float32, so |v| <= 2^24 (kGpuExactIntLimit); bool is 0 or 1.
// Why R32F rather than R32I/R32UI textures with isampler2D: every accessor
// and every kernel body stays `float`, one program can mix float data with
// integer indices or masks (Gather, Where, NLL loss) without per-dtype
// sampler/output variants, float and integer tensors share one texture pool
// and one readback path, and WebGL2 has no filtering or blending we would
// gain from integer formats. Shape subgraphs, indices, labels and masks are
// far below 2^24; uploads of values beyond it fail as kUnsupported (naming
// the dtype, the value and the limit) so the node can run on the CPU, and
// downloads check the range again before converting back to the exact dtype.
constexpr int64_t kGpuExactIntLimit = int64_t{1} << 24;

// True for the dtypes the GPU holds (the list above).
bool gpu_holds_dtype(DataType t);

// The layout the executor gives a tensor of `desc`: unpacked R32F for every
// dtype gpu_holds_dtype() accepts; other dtypes are unsupported (named in the message). This
// must stay a pure function of (desc, max_texture_size) while Executor::prepare
// only receives descs.
Result<TextureLayout> choose_layout(const TensorDesc& desc, int max_texture_size);

}  // namespace glint::gl
