// TopK (largest / smallest along an axis; ties keep the lower index first,
// as the CPU kernel's stable sort) and ReverseSequence (sequence_lens
// sampled). TopK's first pass finds, for each output slot j, the input
// position whose rank is j (rank = how many elements precede it in the
// order), writing the int64 index; the values pass gathers through it.
#include "engine/gl/kernels/glsl_util.h"
#include "engine/gl/kernels/kernels.h"

namespace glint::gl {

bool topk_supports(const KernelContext& ctx, std::string* why) {
  if (!any_dtype_op(ctx, why)) return false;
  const Shape& x = ctx.inputs[0]->shape;
  if (x.empty()) return decline(why, "a scalar input");
  if (normalize_axis(ctx.node->attr_int("axis", -1), x.size()) < 0) return decline(why, "axis out of range");
  if (ctx.outputs[0].shape.size() != x.size()) return decline(why, "output rank differs");
  // The rank search loops len x len times per output element.
  const int64_t len = x[normalize_axis(ctx.node->attr_int("axis", -1), x.size())];
  if (len * len > kMaxFragmentLoopIterations)
    return decline(why, "an axis of " + std::to_string(len) + ": the rank search would loop " +
                            std::to_string(len * len) + " times per output (at most " +
                            std::to_string(kMaxFragmentLoopIterations) + ")");
  return true;
}

Result<std::vector<ProgramInfo>> topk_build(const KernelContext& ctx) {
  const Shape& x = ctx.inputs[0]->shape;
  const int64_t r = x.size();
  const int64_t axis = normalize_axis(ctx.node->attr_int("axis", -1), r);
  const bool largest = ctx.node->attr_int("largest", 1) != 0;
  const std::string better = largest ? ">" : "<";
  std::vector<std::string> at_e, at_f, at_b;
  for (int64_t d = 0; d < r; ++d) {
    std::string o = "oc[" + std::to_string(d) + "]";
    at_e.push_back(d == axis ? "e" : o);
    at_f.push_back(d == axis ? "f" : o);
    at_b.push_back(d == axis ? "int(getIFlat(" + flat_index_expr(ctx.outputs[0].shape, "oc") + "))" : o);
  }
  const std::string len = glsl_int(x[axis]);
  ProgramInfo ip;
  ip.name = "topk_indices";
  ip.inputs = {{"X", 0}};
  bool want_idx = ctx.node->has_output(1) && ctx.outputs.size() > 1;
  ip.output = want_idx ? ctx.outputs[1] : TensorDesc{DataType::kFloat32, ctx.outputs[0].shape};
  ip.node_output = want_idx ? 1 : -1;
  ip.body = "float process(int oc[OUT_RANK]) {\n  int j = oc[" + std::to_string(axis) + "];\n  for (int e = 0; e < " + len +
            "; ++e) {\n    float ve = " + getter("X", at_e) + ";\n    int rank = 0;\n    for (int f = 0; f < " + len +
            "; ++f) {\n      float vf = " + getter("X", at_f) + ";\n      if (vf " + better +
            " ve || (vf == ve && f < e)) ++rank;\n    }\n    if (rank == j) return float(e);\n  }\n  return 0.0;\n}\n";
  ProgramInfo vp;
  vp.name = "topk_values";
  vp.inputs = {{"X", 0}, {"I", -1}};
  vp.output = ctx.outputs[0];
  vp.node_output = 0;
  vp.body = "float process(int oc[OUT_RANK]) {\n  return " + getter("X", at_b) + ";\n}\n";
  return std::vector<ProgramInfo>{ip, vp};
}

bool reverse_sequence_supports(const KernelContext& ctx, std::string* why) {
  if (!any_dtype_op(ctx, why)) return false;
  if (ctx.inputs.size() < 2 || !ctx.inputs[1]) return decline(why, "sequence_lens is missing");
  int64_t b = ctx.node->attr_int("batch_axis", 1), t = ctx.node->attr_int("time_axis", 0);
  const Shape& x = ctx.inputs[0]->shape;
  if (x.size() < 2 || (b != 0 && b != 1) || (t != 0 && t != 1) || b == t) return decline(why, "invalid batch/time axes");
  if (shape_size(ctx.inputs[1]->shape) != x[b]) return decline(why, "sequence_lens does not match the batch");
  return true;
}

Result<std::vector<ProgramInfo>> reverse_sequence_build(const KernelContext& ctx) {
  const int64_t b = ctx.node->attr_int("batch_axis", 1), t = ctx.node->attr_int("time_axis", 0);
  const size_t r = ctx.inputs[0]->shape.size();
  std::vector<std::string> args;
  for (size_t d = 0; d < r; ++d) args.push_back(static_cast<int64_t>(d) == t ? "src" : "oc[" + std::to_string(d) + "]");
  ProgramInfo p;
  p.name = "reverse_sequence";
  p.inputs = {{"X", 0}, {"L", 1}};
  p.output = ctx.outputs[0];
  p.body = "float process(int oc[OUT_RANK]) {\n  int len = int(getLFlat(oc[" + std::to_string(b) + "]));\n  int tt = oc[" +
           std::to_string(t) + "];\n  int src = tt < len ? len - 1 - tt : tt;\n  return " + getter("X", args) + ";\n}\n";
  return std::vector<ProgramInfo>{p};
}

}  // namespace glint::gl
