// The GELU family and the bias adds of optimized transformer exports
// (ONNX Gelu, com.microsoft Gelu, FastGelu, BiasGelu, QuickGelu, BiasAdd): one pass
// each, the bias (last dim) and skip inputs read with numpy broadcasting, so
// an exported encoder does not leave the GPU between its MatMuls for them.
// The CPU kernels (engine/cpu/contrib.cc) state the formulas.
#include "engine/gl/kernels/glsl_util.h"
#include "engine/gl/kernels/kernels.h"

namespace glint::gl {

namespace {

// GELU by erf, and by its tanh approximation (the argument clamped: tanh of
// a large value overflows exp on some drivers).
const char* kGeluErf = "0.5 * v * (1.0 + glint_erf(v * 0.7071067811865476))";
const char* kGeluTanh = "0.5 * v * (1.0 + tanh(clamp(0.7978845608028654 * (v + 0.044715 * v * v * v), -15.0, 15.0)))";

// Gelu and QuickGelu take X alone; FastGelu an optional bias; BiasGelu and
// BiasAdd a bias (BiasAdd then a skip).
bool takes_bias(const KernelContext& ctx) {
  const std::string& op = ctx.node->op_type;
  return op != "QuickGelu" && op != "Gelu" && ctx.inputs.size() > 1 && ctx.inputs[1];
}

}  // namespace

bool gelu_supports(const KernelContext& ctx, std::string* why) {
  if (!float_op(ctx, why)) return false;
  const std::string& op = ctx.node->op_type;
  const std::string approximate = op == "Gelu" ? gelu_approximation(*ctx.node) : "none";
  if (approximate != "none" && approximate != "tanh")
    return decline(why, "approximate must be 'none' or 'tanh', given '" + approximate + "'");
  const size_t needed = op == "BiasAdd" ? 3 : op == "BiasGelu" ? 2 : 1;
  for (size_t i = 0; i < needed; ++i)
    if (i >= ctx.inputs.size() || !ctx.inputs[i]) return decline(why, op + " needs input " + std::to_string(i));
  // Bias: one value per last-dim element; skip: the input's shape.
  const Shape& x = ctx.inputs[0]->shape;
  if (x.empty()) return decline(why, "a scalar input");
  if (takes_bias(ctx) && ctx.inputs[1]->shape != Shape{x.back()})
    return decline(why, "the bias is not one value per last-dim element");
  if (op == "BiasAdd" && ctx.inputs[2]->shape != x) return decline(why, "skip does not have the input's shape");
  return true;
}

Result<std::vector<ProgramInfo>> gelu_build(const KernelContext& ctx) {
  const ir::Node& n = *ctx.node;
  const std::string& op = n.op_type;
  const bool has_bias = takes_bias(ctx);
  ProgramInfo p;
  p.name = "contrib_" + op;
  p.output = ctx.outputs[0];
  p.node_output = 0;
  p.inputs = {{"X", 0}};
  std::string v = "getXBroadcast(oc)";
  if (has_bias) {
    p.inputs.push_back({"Bias", 1});
    v += " + getBiasBroadcast(oc)";
  }
  std::string result;
  if (op == "BiasAdd") {
    p.inputs.push_back({"Skip", 2});
    result = "v + getSkipBroadcast(oc)";
  } else if (op == "FastGelu" || (op == "Gelu" && gelu_approximation(n) == "tanh")) {
    result = kGeluTanh;
  } else if (op == "QuickGelu") {
    result = "v / (1.0 + exp(-" + glsl_float(n.attr_float("alpha", 1.702f)) + " * v))";
  } else {  // Gelu, BiasGelu
    result = kGeluErf;
    p.snippets = {"erf"};
  }
  p.body = "float process(int oc[OUT_RANK]) {\n  float v = " + v + ";\n  return " + result + ";\n}\n";
  return std::vector<ProgramInfo>{p};
}

}  // namespace glint::gl
