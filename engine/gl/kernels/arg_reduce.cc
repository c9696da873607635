// ArgMax / ArgMin along one axis (keepdims, select_last_index): one output
// element per fragment scans the axis; the int64 index is written as an
// exact float. NaN never wins a comparison, as in the CPU kernel's strict
// `>` / `<` scan.
#include "engine/gl/kernels/glsl_util.h"
#include "engine/gl/kernels/kernels.h"

namespace glint::gl {

bool arg_reduce_supports(const KernelContext& ctx, std::string* why) {
  if (!any_dtype_op(ctx, why)) return false;
  int64_t rank = ctx.inputs[0]->shape.size();
  if (rank == 0) return decline(why, "a scalar input");
  int64_t axis = normalize_axis(ctx.node->attr_int("axis", 0), rank);
  if (axis < 0) return decline(why, "axis out of range");
  if (ctx.inputs[0]->shape[axis] == 0) return decline(why, "an empty axis");
  return loop_fits(ctx.inputs[0]->shape[axis], "the search along the axis", why);
}

Result<std::vector<ProgramInfo>> arg_reduce_build(const KernelContext& ctx) {
  const Shape& x = ctx.inputs[0]->shape;
  int64_t rank = x.size();
  int64_t axis = normalize_axis(ctx.node->attr_int("axis", 0), rank);
  bool keep = ctx.node->attr_int("keepdims", 1) != 0;
  bool last = ctx.node->attr_int("select_last_index", 0) != 0;
  bool is_max = ctx.node->op_type == "ArgMax";
  std::vector<std::string> args;
  int64_t od = 0;
  for (int64_t d = 0; d < rank; ++d) {
    if (d == axis) {
      args.push_back("k");
      if (keep) ++od;
    } else {
      args.push_back("oc[" + std::to_string(od++) + "]");
    }
  }
  std::string cmp = is_max ? (last ? ">=" : ">") : (last ? "<=" : "<");
  ProgramInfo p;
  p.name = is_max ? "argmax" : "argmin";
  p.inputs = {{"X", 0}};
  p.output = ctx.outputs[0];
  std::string first = args[axis];
  args[axis] = "0";
  std::string get0 = getter("X", args);
  args[axis] = "k";
  p.body = "float process(int oc[OUT_RANK]) {\n  float best = " + get0 + ";\n  int bi = 0;\n  for (int k = 1; k < " +
           glsl_int(x[axis]) + "; ++k) {\n    float v = " + getter("X", args) + ";\n    if (v " + cmp +
           " best) { best = v; bi = k; }\n  }\n  return float(bi);\n}\n";
  return std::vector<ProgramInfo>{p};
}

}  // namespace glint::gl
