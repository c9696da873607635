// DepthToSpace (DCR / CRD) and SpaceToDepth as index maps over NCHW, and
// OneHot (run-time indices and on/off values sampled; depth from the
// inferred output shape).
#include "engine/gl/kernels/glsl_util.h"
#include "engine/gl/kernels/kernels.h"

namespace glint::gl {

bool rearrange_supports(const KernelContext& ctx, std::string* why) {
  if (!any_dtype_op(ctx, why)) return false;
  const std::string& op = ctx.node->op_type;
  if (op == "OneHot") {
    if (ctx.inputs.size() != 3 || !ctx.inputs[1] || !ctx.inputs[2]) return decline(why, "OneHot needs 3 inputs");
    if (shape_size(ctx.inputs[2]->shape) != 2) return decline(why, "values must hold 2 elements");
    int64_t r = ctx.outputs[0].shape.size();
    if (normalize_axis(ctx.node->attr_int("axis", -1), r) < 0) return decline(why, "axis out of range");
    return true;
  }
  if (ctx.inputs[0]->shape.size() != 4) return decline(why, "input is not 4-D");
  if (ctx.node->attr_int("blocksize", 0) < 1) return decline(why, "blocksize < 1");
  return true;
}

Result<std::vector<ProgramInfo>> rearrange_build(const KernelContext& ctx) {
  const std::string& op = ctx.node->op_type;
  ProgramInfo p;
  p.output = ctx.outputs[0];
  if (op == "OneHot") {
    const Shape& out = ctx.outputs[0].shape;
    int64_t r = out.size();
    int64_t axis = normalize_axis(ctx.node->attr_int("axis", -1), r);
    std::vector<std::string> ia;
    for (int64_t d = 0; d < r; ++d)
      if (d != axis) ia.push_back("oc[" + std::to_string(d) + "]");
    p.name = "onehot";
    p.inputs = {{"I", 0}, {"V", 2}};
    p.body = "float process(int oc[OUT_RANK]) {\n  float i = " + getter("I", ia) + ";\n  if (i < 0.0) i += " +
             glsl_float(static_cast<double>(out[axis])) + ";\n  return float(oc[" + std::to_string(axis) +
             "]) == trunc(i) ? getVFlat(1) : getVFlat(0);\n}\n";
    return std::vector<ProgramInfo>{p};
  }
  const Shape& x = ctx.inputs[0]->shape;
  const std::string b = glsl_int(ctx.node->attr_int("blocksize", 1));
  p.inputs = {{"X", 0}};
  if (op == "DepthToSpace") {
    const std::string cp = glsl_int(ctx.outputs[0].shape[1]);
    bool crd = ctx.node->attr_string("mode", "DCR") == "CRD";
    std::string blk = "(oc[2] % " + b + ") * " + b + " + oc[3] % " + b;
    std::string c = crd ? "oc[1] * " + b + " * " + b + " + " + blk : "(" + blk + ") * " + cp + " + oc[1]";
    p.name = "depth_to_space";
    p.body = "float process(int oc[OUT_RANK]) {\n  return getX(oc[0], " + c + ", oc[2] / " + b + ", oc[3] / " + b +
             ");\n}\n";
  } else {
    const std::string C = glsl_int(x[1]);
    p.name = "space_to_depth";
    p.body = "float process(int oc[OUT_RANK]) {\n  int c = oc[1] % " + C + ";\n  int blk = oc[1] / " + C +
             ";\n  return getX(oc[0], c, oc[2] * " + b + " + blk / " + b + ", oc[3] * " + b + " + blk % " + b +
             ");\n}\n";
  }
  return std::vector<ProgramInfo>{p};
}

}  // namespace glint::gl
