// Cast / CastLike between every dtype the GPU holds. Values reach the body as
// floats (integers exact, see texture_layout.h), so the body only applies the
// conversion rule of the CPU kernel (engine/cpu/cast.cc): float -> integer
// truncates toward zero and saturates to the target's range (NaN gives 0),
// anything -> bool is `!= 0`, integer -> narrower integer wraps (the composer
// wraps narrow integer outputs as it stores them), float -> float16/bfloat16
// rounds (also done by the composer's store).
#include <limits>

#include "engine/gl/kernels/glsl_util.h"
#include "engine/gl/kernels/kernels.h"

namespace glint::gl {

namespace {

// [lo, hi] of an integer dtype, as doubles.
void int_range(DataType t, double* lo, double* hi) {
  switch (t) {
    case DataType::kUint8: *lo = 0; *hi = 255; break;
    case DataType::kInt8: *lo = -128; *hi = 127; break;
    case DataType::kUint16: *lo = 0; *hi = 65535; break;
    case DataType::kInt16: *lo = -32768; *hi = 32767; break;
    case DataType::kInt32: *lo = -2147483648.0; *hi = 2147483647.0; break;
    case DataType::kUint32: *lo = 0; *hi = 4294967295.0; break;
    case DataType::kUint64: *lo = 0; *hi = 1.8446744073709552e19; break;
    default: *lo = -9.2233720368547758e18; *hi = 9.2233720368547758e18; break;
  }
}

}  // namespace

bool cast_supports(const KernelContext& ctx, std::string* why) {
  if (!any_dtype_op(ctx, why)) return false;
  return true;
}

Result<std::vector<ProgramInfo>> cast_build(const KernelContext& ctx) {
  DataType from = ctx.inputs[0]->dtype, to = ctx.outputs[0].dtype;
  std::string expr = "x";
  if (to == DataType::kBool) {
    expr = "x != 0.0 ? 1.0 : 0.0";
  } else if (is_integer(to) && !is_int_like(from)) {
    double lo, hi;
    int_range(to, &lo, &hi);
    expr = "isnan(x) ? 0.0 : clamp(trunc(x), " + glsl_float(lo) + ", " + glsl_float(hi) + ")";
  } else if (is_integer(to) && is_integer(from)) {
    // Unsigned <- signed of the same or wider width wraps negative values;
    // the composer wraps 8/16-bit targets, this covers 32/64-bit ones.
    if ((to == DataType::kUint32 || to == DataType::kUint64) && !(from == DataType::kUint8 || from == DataType::kUint16 ||
                                                                   from == DataType::kUint32 || from == DataType::kUint64)) {
      expr = to == DataType::kUint32 ? "x < 0.0 ? x + 4294967296.0 : x" : "x";
    }
  }
  ProgramInfo p = unary_map(ctx, "cast", expr);
  return std::vector<ProgramInfo>{p};
}

}  // namespace glint::gl
