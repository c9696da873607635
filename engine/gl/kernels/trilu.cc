// Trilu (upper / lower triangle of the last two dims, diagonal offset k from
// an optional scalar input, sampled so a run-time k stays on the GPU) and
// CumSum (exclusive / reverse; the axis input is sampled too and each
// possible axis is a baked loop, so a run-time axis needs no readback).
#include "engine/gl/kernels/glsl_util.h"
#include "engine/gl/kernels/kernels.h"

namespace glint::gl {

bool trilu_supports(const KernelContext& ctx, std::string* why) {
  if (!any_dtype_op(ctx, why)) return false;
  if (ctx.inputs[0]->shape.size() < 2) return decline(why, "Trilu needs rank >= 2");
  if (ctx.inputs.size() > 1 && ctx.inputs[1] && shape_size(ctx.inputs[1]->shape) != 1)
    return decline(why, "k must be a scalar");
  return true;
}

Result<std::vector<ProgramInfo>> trilu_build(const KernelContext& ctx) {
  size_t r = ctx.inputs[0]->shape.size();
  bool upper = ctx.node->attr_int("upper", 1) != 0;
  ProgramInfo p;
  p.name = "trilu";
  p.inputs = {{"X", 0}};
  std::string k = "0";
  if (ctx.inputs.size() > 1 && ctx.inputs[1]) {
    p.inputs.push_back({"K", 1});
    k = "int(getKFlat(0))";
  }
  p.output = ctx.outputs[0];
  std::string d = "oc[" + std::to_string(r - 1) + "] - oc[" + std::to_string(r - 2) + "]";
  p.body = "float process(int oc[OUT_RANK]) {\n  int k = " + k + ";\n  bool keep = " + d + (upper ? " >= k" : " <= k") +
           ";\n  return keep ? " + getter_oc("X", r) + " : 0.0;\n}\n";
  return std::vector<ProgramInfo>{p};
}

bool cumsum_supports(const KernelContext& ctx, std::string* why) {
  if (!any_dtype_op(ctx, why)) return false;
  if (ctx.inputs.size() < 2 || !ctx.inputs[1] || shape_size(ctx.inputs[1]->shape) != 1)
    return decline(why, "axis must be a scalar input");
  if (ctx.inputs[0]->shape.empty()) return decline(why, "a scalar input");
  return true;
}

Result<std::vector<ProgramInfo>> cumsum_build(const KernelContext& ctx) {
  const Shape& x = ctx.inputs[0]->shape;
  int64_t r = x.size();
  bool exclusive = ctx.node->attr_int("exclusive", 0) != 0;
  bool reverse = ctx.node->attr_int("reverse", 0) != 0;
  ProgramInfo p;
  p.name = "cumsum";
  p.inputs = {{"X", 0}, {"Axis", 1}};
  p.output = ctx.outputs[0];
  std::string body = "float process(int oc[OUT_RANK]) {\n  int a = int(getAxisFlat(0));\n  if (a < 0) a += " +
                     glsl_int(r) + ";\n  float acc = 0.0;\n  int c[OUT_RANK] = oc;\n";
  for (int64_t a = 0; a < r; ++a) {
    std::string lo, hi, pos = "oc[" + std::to_string(a) + "]";
    // The summed positions along axis a for this output element.
    if (!reverse) {
      lo = "0";
      hi = exclusive ? pos : pos + " + 1";
    } else {
      lo = exclusive ? pos + " + 1" : pos;
      hi = glsl_int(x[a]);
    }
    body += std::string(a ? "  else " : "  ") + "if (a == " + std::to_string(a) + ") {\n    for (int k = 0; k < " +
            glsl_int(x[a]) + "; ++k) {\n      if (k < " + lo + " || k >= " + hi + ") continue;\n      c[" +
            std::to_string(a) + "] = k;\n      acc += " + getter_oc("X", r, "c") + ";\n    }\n  }\n";
  }
  p.body = body + "  return acc;\n}\n";
  return std::vector<ProgramInfo>{p};
}

}  // namespace glint::gl
