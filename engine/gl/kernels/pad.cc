// Pad: constant, reflect, edge and wrap modes as an index map from each
// output coordinate to the input (negative pads crop). Pads come from the
// attribute before opset 11, else from constant inputs (pads, constant_value,
// and axes from opset 18).
#include "engine/gl/kernels/glsl_util.h"
#include "engine/gl/kernels/kernels.h"

namespace glint::gl {

namespace {

struct PadParams {
  std::vector<int64_t> begin;
  std::string mode;
  double value = 0;
};

bool pad_params(const KernelContext& ctx, PadParams* p, std::string* why) {
  const ir::Node& n = *ctx.node;
  int64_t rank = ctx.inputs[0]->shape.size();
  p->mode = n.attr_string("mode", "constant");
  if (p->mode != "constant" && p->mode != "reflect" && p->mode != "edge" && p->mode != "wrap")
    return decline(why, "unknown mode '" + p->mode + "'");
  std::vector<int64_t> pads;
  std::vector<int64_t> axes;
  auto constant = [&](size_t i) { return ctx.constant(i); };
  if (n.opset < 11) {
    pads = n.attr_ints(n.opset < 2 ? "paddings" : "pads");
    p->value = n.attr_float("value", 0.f);
  } else {
    const Tensor* t = constant(1);
    if (!t) return decline(why, "pads is not a constant");
    for (int64_t i = 0; i < t->size(); ++i) pads.push_back(t->get_as_int64(i));
    if (n.has_input(2)) {
      const Tensor* v = constant(2);
      if (!v) return decline(why, "constant_value is not a constant");
      if (v->size() > 0) p->value = v->get_as_double(0);
    }
    if (n.has_input(3)) {
      const Tensor* a = constant(3);
      if (!a) return decline(why, "axes is not a constant");
      for (int64_t i = 0; i < a->size(); ++i) {
        int64_t ax = normalize_axis(a->get_as_int64(i), rank);
        if (ax < 0) return decline(why, "axis out of range");
        axes.push_back(ax);
      }
    }
  }
  if (axes.empty())
    for (int64_t i = 0; i < rank; ++i) axes.push_back(i);
  if (pads.size() != 2 * axes.size()) return decline(why, "pads length does not match the axes");
  p->begin.assign(rank, 0);
  for (size_t i = 0; i < axes.size(); ++i) p->begin[axes[i]] = pads[i];
  return true;
}

// A multiple of `period` that makes i = oc - begin non-negative for every oc >= 0.
int64_t shift(int64_t period, int64_t begin) {
  return begin <= 0 ? 0 : (begin + period - 1) / period * period;
}

}  // namespace

bool pad_supports(const KernelContext& ctx, std::string* why) {
  if (!any_dtype_op(ctx, why)) return false;
  PadParams p;
  if (!pad_params(ctx, &p, why)) return false;
  if (p.mode != "constant")
    for (int64_t d : ctx.inputs[0]->shape)
      if (d == 0) return decline(why, p.mode + " padding of an empty tensor");
  return true;
}

Result<std::vector<ProgramInfo>> pad_build(const KernelContext& ctx) {
  PadParams pp;
  std::string why;
  if (!pad_params(ctx, &pp, &why)) return unsupported(why);
  const Shape& x = ctx.inputs[0]->shape;
  ProgramInfo p;
  p.name = "pad_" + pp.mode;
  p.inputs = {{"X", 0}};
  p.output = ctx.outputs[0];
  std::string s = "float process(int oc[OUT_RANK]) {\n";
  std::vector<std::string> args;
  for (size_t d = 0; d < x.size(); ++d) {
    std::string i = "i" + std::to_string(d), n = glsl_int(x[d]);
    s += "  int " + i + " = oc[" + std::to_string(d) + "] - " + glsl_int(pp.begin[d]) + ";\n";
    if (pp.mode == "constant") {
      s += "  if (" + i + " < 0 || " + i + " >= " + n + ") return " + glsl_float(pp.value) + ";\n";
    } else if (pp.mode == "edge") {
      s += "  " + i + " = clamp(" + i + ", 0, " + glsl_int(x[d] - 1) + ");\n";
    } else if (pp.mode == "wrap") {
      // GLSL's % is undefined for negative operands: shift i to >= 0 first.
      s += "  " + i + " = (" + i + " + " + glsl_int(shift(x[d], pp.begin[d])) + ") % " + n + ";\n";
    } else if (x[d] == 1) {
      s += "  " + i + " = 0;\n";
    } else {  // reflect (mirror without repeating the edge), period 2n-2
      std::string per = glsl_int(2 * x[d] - 2);
      s += "  " + i + " = (" + i + " + " + glsl_int(shift(2 * x[d] - 2, pp.begin[d])) + ") % " + per + ";\n";
      s += "  if (" + i + " >= " + n + ") " + i + " = " + per + " - " + i + ";\n";
    }
    args.push_back(i);
  }
  p.body = s + "  return " + getter("X", args) + ";\n}\n";
  return std::vector<ProgramInfo>{p};
}

}  // namespace glint::gl
