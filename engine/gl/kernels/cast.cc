// Cast between the float types the GPU holds (float32 <-> float16): a copy.
// The output carries the node's dtype tag; the composer rounds what a
// float16 output holds to half precision as it is written.
#include "engine/gl/kernels/glsl_util.h"
#include "engine/gl/kernels/kernels.h"

namespace glint::gl {

bool cast_supports(const KernelContext& ctx, std::string* why) {
  if (!float_op(ctx, why)) return false;
  return true;
}

Result<std::vector<ProgramInfo>> cast_build(const KernelContext& ctx) {
  return std::vector<ProgramInfo>{flat_copy(ctx, "cast")};
}

}  // namespace glint::gl
