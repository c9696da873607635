// Softmax / LogSoftmax in two passes: the row statistics (max, and the sum
// of exp(x - max)), then the normalising map.
// Opset < 13 flattens at `axis` (default 1) and normalises the whole trailing
// block; opset >= 13 normalises along `axis` (default -1) only.
#include "engine/gl/kernels/glsl_util.h"
#include "engine/gl/kernels/kernels.h"

namespace glint::gl {

namespace {

struct Rows {
  int64_t outer = 1, d = 1, inner = 1;
};

bool rows_of(const KernelContext& ctx, Rows* r, std::string* why) {
  const Shape& x = ctx.inputs[0]->shape;
  int64_t rank = x.size();
  if (rank == 0) return decline(why, "softmax of a scalar");
  bool old = ctx.node->opset < 13;
  int64_t axis = normalize_axis(ctx.node->attr_int("axis", old ? 1 : -1), rank);
  if (axis < 0) return decline(why, "axis out of range");
  for (int64_t i = 0; i < rank; ++i) {
    if (i < axis) r->outer *= x[i];
    else if (i == axis || old) r->d *= x[i];
    else r->inner *= x[i];
  }
  return true;
}

}  // namespace

bool softmax_supports(const KernelContext& ctx, std::string* why) {
  if (!float_op(ctx, why)) return false;
  Rows r;
  return rows_of(ctx, &r, why) && loop_fits(r.d, "a row of " + std::to_string(r.d), why);
}

Result<std::vector<ProgramInfo>> softmax_build(const KernelContext& ctx) {
  Rows r;
  std::string why;
  if (!rows_of(ctx, &r, &why)) return unsupported(why);
  bool log_form = ctx.node->op_type == "LogSoftmax";
  std::string row = "  int base = oc[0] * " + glsl_int(r.d * r.inner) + " + oc[1];\n";
  auto at = [&](const std::string& d) {
    return "getXFlat(base + (" + d + ") * " + glsl_int(r.inner) + ")";
  };
  int64_t d4 = r.d / 4 * 4;

  // One pass for both statistics, a [outer, inner, 2] temporary: the row's
  // max, then the sum of exp(x - max), whose fragment takes the max again
  // rather than read it (the same values two passes gave, a draw fewer: a
  // draw costs about as much as a short row's arithmetic).
  ProgramInfo stats;
  stats.name = "softmax_stats";
  stats.inputs = {{"X", 0}};
  stats.output = TensorDesc{DataType::kFloat32, {r.outer, r.inner, 2}};
  stats.node_output = -1;
  std::string s = "float process(int oc[OUT_RANK]) {\n" + row + "  float m = " + at("0") + ";\n  for (int d = 1; d < " +
                  glsl_int(r.d) + "; ++d) m = max(m, " + at("d") + ");\n  if (oc[2] == 0) return m;\n  float acc = 0.0;\n";
  if (d4 > 0)
    s += "  for (int d = 0; d < " + glsl_int(d4) + "; d += 4) acc += dot(exp(vec4(" + at("d") + ", " +
         at("d + 1") + ", " + at("d + 2") + ", " + at("d + 3") + ") - m), vec4(1.0));\n";
  for (int64_t d = d4; d < r.d; ++d) s += "  acc += exp(" + at(glsl_int(d)) + " - m);\n";
  stats.body = s + "  return acc;\n}\n";

  ProgramInfo norm;
  norm.name = log_form ? "logsoftmax_norm" : "softmax_norm";
  norm.inputs = {{"X", 0}, {"Stats", -1}};
  norm.output = ctx.outputs[0];
  norm.node_output = 0;
  const Shape& y = ctx.outputs[0].shape;
  std::string flat = flat_index_expr(y, "oc");
  norm.body = "float getMax(int o, int i) { return getStats(o, i, 0); }\n"
              "float getSum(int o, int i) { return getStats(o, i, 1); }\n"
              "float process(int oc[OUT_RANK]) {\n  int fi = " + flat + ";\n  int o = fi / " +
              glsl_int(r.d * r.inner) + ";\n  int i = fi - (fi / " + glsl_int(r.inner) + ") * " +
              glsl_int(r.inner) + ";\n  float x = getXFlat(fi) - getMax(o, i);\n" +
              (log_form ? "  return x - log(getSum(o, i));\n" : "  return exp(x) / getSum(o, i);\n") +
              "}\n";
  return std::vector<ProgramInfo>{stats, norm};
}

}  // namespace glint::gl

namespace glint::gl {

// Hardmax: a pass for the index of the first maximum of each row, then the
// one-hot map. Same row semantics as Softmax for the opset.
bool hardmax_supports(const KernelContext& ctx, std::string* why) { return softmax_supports(ctx, why); }

Result<std::vector<ProgramInfo>> hardmax_build(const KernelContext& ctx) {
  Rows r;
  std::string why;
  if (!rows_of(ctx, &r, &why)) return unsupported(why);
  auto at = [&](const std::string& d) { return "getXFlat(base + (" + d + ") * " + glsl_int(r.inner) + ")"; };
  ProgramInfo arg;
  arg.name = "hardmax_argmax";
  arg.inputs = {{"X", 0}};
  arg.output = TensorDesc{DataType::kFloat32, {r.outer, r.inner}};
  arg.node_output = -1;
  arg.body = "float process(int oc[OUT_RANK]) {\n  int base = oc[0] * " + glsl_int(r.d * r.inner) +
             " + oc[1];\n  float m = " + at("0") + ";\n  int best = 0;\n  for (int d = 1; d < " + glsl_int(r.d) +
             "; ++d) {\n    float v = " + at("d") + ";\n    if (v > m) { m = v; best = d; }\n  }\n" +
             "  return float(best);\n}\n";
  ProgramInfo hot;
  hot.name = "hardmax_onehot";
  hot.inputs = {{"X", 0}, {"Arg", -1}};
  hot.output = ctx.outputs[0];
  hot.node_output = 0;
  hot.body = "float process(int oc[OUT_RANK]) {\n  int fi = " + flat_index_expr(ctx.outputs[0].shape, "oc") +
             ";\n  int o = fi / " + glsl_int(r.d * r.inner) + ";\n  int q = fi / " + glsl_int(r.inner) +
             ";\n  int i = fi - q * " + glsl_int(r.inner) + ";\n  int d = q - o * " + glsl_int(r.d) +
             ";\n  return int(getArg(o, i)) == d ? 1.0 : 0.0;\n}\n";
  return std::vector<ProgramInfo>{arg, hot};
}

}  // namespace glint::gl
