// ConvTranspose (1-D to 3-D, groups, strides, dilations, pads / auto_pad,
// output_padding, output_shape) in gather form: each output element sums
// x[n, c, i] * w[c, m, k] over the input positions i with
// o + pad_begin - k * dilation == i * stride. The begin pads follow the ONNX
// spec (and the CPU kernel): from the inferred output size for SAME and
// output_shape, the odd pixel at the end for SAME_UPPER, at the start otherwise.
#include <algorithm>

#include "engine/gl/kernels/glsl_util.h"
#include "engine/gl/kernels/kernels.h"

namespace glint::gl {

namespace {

bool begin_pads(const KernelContext& ctx, std::vector<int64_t>* begin, std::string* why) {
  const ir::Node& n = *ctx.node;
  const Shape& x = ctx.inputs[0]->shape;
  const Shape& w = ctx.inputs[1]->shape;
  const Shape& y = ctx.outputs[0].shape;
  const size_t k = x.size() - 2;
  std::vector<int64_t> strides = n.attr_ints("strides", std::vector<int64_t>(k, 1));
  std::vector<int64_t> dil = n.attr_ints("dilations", std::vector<int64_t>(k, 1));
  std::vector<int64_t> pads = n.attr_ints("pads", std::vector<int64_t>(2 * k, 0));
  std::vector<int64_t> out_pad = n.attr_ints("output_padding", std::vector<int64_t>(k, 0));
  std::string auto_pad = n.attr_string("auto_pad", "NOTSET");
  if (auto_pad.empty()) auto_pad = "NOTSET";
  if (strides.size() != k || dil.size() != k || pads.size() != 2 * k || out_pad.size() != k)
    return decline(why, "strides/dilations/pads/output_padding do not match the rank");
  const bool same = auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER";
  const bool targeted = n.has_attr("output_shape") || same;
  begin->assign(k, 0);
  for (size_t i = 0; i < k; ++i) {
    if (auto_pad == "NOTSET") (*begin)[i] = pads[i];
    if (targeted) {
      int64_t full = (x[i + 2] - 1) * strides[i] + out_pad[i] + (w[i + 2] - 1) * dil[i] + 1;
      int64_t total = std::max<int64_t>(0, full - y[i + 2]);
      (*begin)[i] = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
    }
  }
  return true;
}

}  // namespace

bool conv_transpose_supports(const KernelContext& ctx, std::string* why) {
  if (!float_op(ctx, why)) return false;
  if (ctx.inputs.size() < 2 || !ctx.inputs[1]) return decline(why, "W is missing");
  const Shape& x = ctx.inputs[0]->shape;
  const Shape& w = ctx.inputs[1]->shape;
  if (x.size() < 3 || x.size() > 5) return decline(why, "only 1-D to 3-D ConvTranspose");
  if (w.size() != x.size()) return decline(why, "W rank differs from X rank");
  int64_t group = ctx.node->attr_int("group", 1);
  if (group <= 0 || x[1] % group != 0 || w[0] != x[1]) return decline(why, "channels do not match the groups");
  if (ctx.node->has_attr("kernel_shape") &&
      ctx.node->attr_ints("kernel_shape") != std::vector<int64_t>(w.begin() + 2, w.end()))
    return decline(why, "kernel_shape disagrees with W");
  std::vector<int64_t> b;
  return begin_pads(ctx, &b, why);
}

Result<std::vector<ProgramInfo>> conv_transpose_build(const KernelContext& ctx) {
  const ir::Node& n = *ctx.node;
  const Shape& x = ctx.inputs[0]->shape;
  const Shape& w = ctx.inputs[1]->shape;
  const size_t k = x.size() - 2;
  std::vector<int64_t> begin;
  std::string why;
  if (!begin_pads(ctx, &begin, &why)) return unsupported(why);
  std::vector<int64_t> strides = n.attr_ints("strides", std::vector<int64_t>(k, 1));
  std::vector<int64_t> dil = n.attr_ints("dilations", std::vector<int64_t>(k, 1));
  const int64_t group = n.attr_int("group", 1), Cg = x[1] / group, Mg = w[1];
  const bool bias = ctx.inputs.size() > 2 && ctx.inputs[2].has_value();
  ProgramInfo p;
  p.name = "conv_transpose";
  p.inputs = {{"X", 0}, {"W", 1}};
  if (bias) p.inputs.push_back({"B", 2});
  p.output = ctx.outputs[0];
  std::string b = "float process(int oc[OUT_RANK]) {\n  int g = oc[1] / " + glsl_int(Mg) + ";\n  int ml = oc[1] - g * " +
                  glsl_int(Mg) + ";\n  float acc = " + (bias ? std::string("getBFlat(oc[1])") : std::string("0.0")) +
                  ";\n  for (int cl = 0; cl < " + glsl_int(Cg) + "; ++cl) {\n    int c = g * " + glsl_int(Cg) + " + cl;\n";
  std::string indent = "    ";
  std::vector<std::string> xa = {"oc[0]", "c"}, wa = {"c", "ml"};
  for (size_t i = 0; i < k; ++i) {
    std::string K = "k" + std::to_string(i), I = "i" + std::to_string(i), T = "t" + std::to_string(i);
    b += indent + "for (int " + K + " = 0; " + K + " < " + glsl_int(w[i + 2]) + "; ++" + K + ") {\n";
    indent += "  ";
    b += indent + "int " + T + " = oc[" + std::to_string(i + 2) + "] + " + glsl_int(begin[i]) + " - " + K + " * " +
         glsl_int(dil[i]) + ";\n";
    b += indent + "if (" + T + " < 0 || " + T + " % " + glsl_int(strides[i]) + " != 0) continue;\n";
    b += indent + "int " + I + " = " + T + " / " + glsl_int(strides[i]) + ";\n";
    b += indent + "if (" + I + " >= " + glsl_int(x[i + 2]) + ") continue;\n";
    xa.push_back(I);
    wa.push_back(K);
  }
  b += indent + "acc += " + getter("X", xa) + " * " + getter("W", wa) + ";\n";
  for (size_t i = 0; i < k; ++i) {
    indent.resize(indent.size() - 2);
    b += indent + "}\n";
  }
  p.body = b + "  }\n  return acc;\n}\n";
  return std::vector<ProgramInfo>{p};
}

}  // namespace glint::gl
