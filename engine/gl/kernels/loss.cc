// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (reduction none /
// sum / mean, class weights, ignore_index), as the CPU kernel defines them.
// SCE first writes the log-softmax over axis 1 (its optional second output,
// else a float32 temporary); the loss pass then picks -logp[n, t, d] * w[t]
// per target element, and for sum / mean one fragment loops over them all.
// Labels are int64 tensors on the GPU (exact floats); a label out of range
// contributes nothing (the CPU kernel reports it as an error).
#include "engine/gl/kernels/glsl_util.h"
#include "engine/gl/kernels/kernels.h"

namespace glint::gl {

bool loss_supports(const KernelContext& ctx, std::string* why) {
  if (ctx.inputs.size() < 2 || !ctx.inputs[0] || !ctx.inputs[1]) return decline(why, "input and target are required");
  if (!input_is_float(ctx, 0, why)) return false;
  if (!is_integer(ctx.inputs[1]->dtype)) return decline(why, "target is not an integer tensor");
  if (!all_gpu_dtypes(ctx, why)) return false;
  const Shape& x = ctx.inputs[0]->shape;
  if (x.size() < 2) return decline(why, "input rank < 2");
  int64_t N = x[0], C = x[1];
  if (N * C == 0) return decline(why, "an empty input");
  if (shape_size(ctx.inputs[1]->shape) != shape_size(x) / C) return decline(why, "target does not match the input");
  if (ctx.inputs.size() > 2 && ctx.inputs[2] && shape_size(ctx.inputs[2]->shape) != C)
    return decline(why, "weight does not have C elements");
  std::string red = ctx.node->attr_string("reduction", "mean");
  if (red != "none" && red != "sum" && red != "mean") return decline(why, "unknown reduction '" + red + "'");
  return true;
}

Result<std::vector<ProgramInfo>> loss_build(const KernelContext& ctx) {
  const Shape& x = ctx.inputs[0]->shape;
  const int64_t N = x[0], C = x[1], D = shape_size(x) / (N * C);
  const bool sce = ctx.node->op_type == "SoftmaxCrossEntropyLoss";
  const bool weighted = ctx.inputs.size() > 2 && ctx.inputs[2].has_value();
  const std::string red = ctx.node->attr_string("reduction", "mean");
  std::vector<ProgramInfo> passes;
  ProgramInput logp{"LP", 0};
  if (sce) {
    // log-softmax over C for each (n, d): flat index (n * C + c) * D + d.
    ProgramInfo ls;
    ls.name = "sce_log_softmax";
    ls.inputs = {{"X", 0}};
    bool want = ctx.node->has_output(1) && ctx.outputs.size() > 1;
    ls.output = want ? ctx.outputs[1] : TensorDesc{DataType::kFloat32, x};
    ls.node_output = want ? 1 : -1;
    std::string at = "getXFlat(base + c * " + glsl_int(D) + ")";
    ls.body = "float process(int oc[OUT_RANK]) {\n  int fi = " + flat_index_expr(x, "oc") +
              ";\n  int n = fi / " + glsl_int(C * D) + ";\n  int d = fi - n * " + glsl_int(C * D) + " - oc[1] * " +
              glsl_int(D) + ";\n  int base = n * " + glsl_int(C * D) + " + d;\n  float m = uintBitsToFloat(0xff800000u);\n" +
              "  for (int c = 0; c < " + glsl_int(C) + "; ++c) m = max(m, " + at + ");\n  float s = 0.0;\n" +
              "  for (int c = 0; c < " + glsl_int(C) + "; ++c) s += exp(" + at + " - m);\n  return getXFlat(fi) - m - log(s);\n}\n";
    passes.push_back(ls);
    logp.source = -1;
  }
  const bool has_ignore = ctx.node->has_attr("ignore_index");
  const int64_t ignore = ctx.node->attr_int("ignore_index", 0);
  // Statements: from the target flat index `i`, set `l` (the loss) and `w`.
  std::string pick = "    int n = i / " + glsl_int(D) + ";\n    int d = i - n * " + glsl_int(D) +
                     ";\n    int t = int(getTFlat(i));\n    float w = 0.0;\n    float l = 0.0;\n";
  pick += "    if (" + std::string(has_ignore ? "t != " + glsl_int(ignore) + " && " : "") + "t >= 0 && t < " + glsl_int(C) +
          ") {\n      w = " + (weighted ? "getWFlat(t)" : std::string("1.0")) + ";\n      l = -getLPFlat((n * " +
          glsl_int(C) + " + t) * " + glsl_int(D) + " + d) * w;\n    }\n";
  ProgramInfo p;
  p.name = sce ? "sce_loss" : "nll_loss";
  p.inputs = {logp, {"T", 1}};
  if (weighted) p.inputs.push_back({"W", 2});
  p.output = ctx.outputs[0];
  p.node_output = 0;
  if (red == "none") {
    p.body = "float process(int oc[OUT_RANK]) {\n  {\n    int i = " + flat_index_expr(ctx.outputs[0].shape, "oc") +
             ";\n" + pick + "    return l;\n  }\n}\n";
  } else {
    p.body = "float process(int oc[OUT_RANK]) {\n  float total = 0.0;\n  float wsum = 0.0;\n  for (int i = 0; i < " +
             glsl_int(N * D) + "; ++i) {\n" + pick + "    total += l;\n    wsum += w;\n  }\n  return " +
             (red == "sum" ? std::string("total") : std::string("wsum != 0.0 ? total / wsum : 0.0")) + ";\n}\n";
  }
  passes.push_back(p);
  return passes;
}

}  // namespace glint::gl
