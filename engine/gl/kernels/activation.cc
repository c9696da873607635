// Activations: unary maps with their attributes baked as literals (Relu,
// LeakyRelu, Sigmoid, Tanh, Clip, Elu, Selu, ...) and PRelu (slope broadcast).
#include <cmath>
#include <limits>

#include "engine/gl/kernels/glsl_util.h"
#include "engine/gl/kernels/kernels.h"

namespace glint::gl {

namespace {

// Clip's bounds: attributes before opset 11, optional inputs after (baked
// when constant).
// `has_*` false means unbounded on that side.
struct ClipBounds {
  bool has_min = false, has_max = false;
  double min = 0, max = 0;
  // A bound given by a non-constant input (opset >= 11) is sampled instead
  // of baked.
  bool min_input = false, max_input = false;
};

bool clip_bounds(const KernelContext& ctx, ClipBounds* b, std::string* why) {
  const ir::Node& n = *ctx.node;
  if (n.opset < 11) {
    if (n.has_attr("min")) { b->has_min = true; b->min = n.attr_float("min", 0.f); }
    if (n.has_attr("max")) { b->has_max = true; b->max = n.attr_float("max", 0.f); }
    return true;
  }
  for (size_t i = 1; i <= 2; ++i) {
    if (!n.has_input(i)) continue;
    const Tensor* c = ctx.constant(i);
    if (i >= ctx.inputs.size() || !ctx.inputs[i] || shape_size(ctx.inputs[i]->shape) != 1)
      return decline(why, "min/max must hold one element");
    if (!c) {
      (i == 1 ? b->min_input : b->max_input) = true;
      continue;
    }
    (i == 1 ? b->has_min : b->has_max) = true;
    (i == 1 ? b->min : b->max) = c->get_as_double(0);
  }
  return true;
}

}  // namespace

bool activation_supports(const KernelContext& ctx, std::string* why) {
  const std::string& op = ctx.node->op_type;
  // Relu and Clip are exact on integers (max/min of exact floats).
  bool int_ok = (op == "Relu" || op == "Clip") && !ctx.outputs.empty() && is_integer(ctx.outputs[0].dtype);
  if (!(int_ok ? any_dtype_op(ctx, why) : float_op(ctx, why))) return false;
  if (ctx.node->op_type == "Clip") {
    ClipBounds b;
    return clip_bounds(ctx, &b, why);
  }
  return true;
}

Result<std::vector<ProgramInfo>> activation_build(const KernelContext& ctx) {
  const ir::Node& n = *ctx.node;
  const std::string& op = n.op_type;
  auto F = [&](const char* attr, float dflt) { return glsl_float(n.attr_float(attr, dflt)); };
  std::string e;
  const FusedActivation fusable = activation_from_op(n);
  if (fusable.kind != FusedActivation::kNone && op != "Clip") {
    // Relu, LeakyRelu, Sigmoid, HardSigmoid, Tanh: the expression a producer
    // stores when the activation is fused into it.
    e = fused_activation_glsl(fusable, "x");
  } else if (op == "Clip") {
    ClipBounds b;
    std::string why;
    if (!clip_bounds(ctx, &b, &why)) return unsupported(why);
    e = "x";
    if (b.has_min) e = "max(" + e + ", " + glsl_float(b.min) + ")";
    if (b.min_input) e = "max(" + e + ", getMinFlat(0))";
    if (b.has_max) e = "min(" + e + ", " + glsl_float(b.max) + ")";
    if (b.max_input) e = "min(" + e + ", getMaxFlat(0))";
    ProgramInfo p = unary_map(ctx, "act_Clip", e);
    if (b.min_input) p.inputs.push_back({"Min", 1});
    if (b.max_input) p.inputs.push_back({"Max", 2});
    return std::vector<ProgramInfo>{p};
  } else if (op == "Elu") {
    e = "x < 0.0 ? " + F("alpha", 1.f) + " * (exp(x) - 1.0) : x";
  } else if (op == "Celu") {
    std::string a = F("alpha", 1.f);
    e = "max(x, 0.0) + min(0.0, " + a + " * (exp(x / " + a + ") - 1.0))";
  } else if (op == "Selu") {
    std::string a = F("alpha", 1.67326319217681884765625f);
    std::string g = F("gamma", 1.05070102214813232421875f);
    e = g + " * (x <= 0.0 ? " + a + " * (exp(x) - 1.0) : x)";
  } else if (op == "HardSwish") {
    e = "x * clamp(x / 6.0 + 0.5, 0.0, 1.0)";
  } else if (op == "Softplus") {
    // Stable form of log(1 + exp(x)).
    e = "max(x, 0.0) + log(1.0 + exp(-abs(x)))";
  } else if (op == "Mish") {
    e = "x * tanh(clamp(max(x, 0.0) + log(1.0 + exp(-abs(x))), -15.0, 15.0))";
  } else if (op == "Softsign") {
    e = "x / (1.0 + abs(x))";
  } else if (op == "Shrink") {
    std::string l = F("lambd", 0.5f), b = F("bias", 0.f);
    e = "x < -" + l + " ? x + " + b + " : (x > " + l + " ? x - " + b + " : 0.0)";
  } else if (op == "ThresholdedRelu") {
    e = "x > " + F("alpha", 1.f) + " ? x : 0.0";
  } else {
    return unsupported("no GPU activation for " + op);
  }
  return std::vector<ProgramInfo>{unary_map(ctx, "act_" + op, e)};
}

bool prelu_supports(const KernelContext& ctx, std::string* why) {
  if (!ctx.node->has_input(1)) return decline(why, "slope is missing");
  return float_op(ctx, why);
}

Result<std::vector<ProgramInfo>> prelu_build(const KernelContext& ctx) {
  ProgramInfo p;
  p.name = "prelu";
  p.inputs = {{"X", 0}, {"Slope", 1}};
  p.output = ctx.outputs[0];
  p.body = "float process(int oc[OUT_RANK]) {\n  float x = getXBroadcast(oc);\n"
           "  return x < 0.0 ? x * getSlopeBroadcast(oc) : x;\n}\n";
  return std::vector<ProgramInfo>{p};
}

}  // namespace glint::gl
