// ConvTranspose (1-D to 3-D, groups, strides, dilations, pads / auto_pad,
// output_padding, output_shape) in gather form: each output element sums
// x[n, c, i] * w[c, m, k] over the input positions i with
// o + pad_begin - k * dilation == i * stride. The begin pads follow the ONNX
// spec (and the CPU kernel): from the inferred output size for SAME and
// output_shape, the odd pixel at the end for SAME_UPPER, at the start otherwise.
#include <algorithm>

#include "engine/gl/kernels/glsl_util.h"
#include "engine/gl/kernels/kernels.h"
#include "engine/ops/window.h"

namespace glint::gl {

namespace {

// The begin pads, from the geometry the CPU kernel uses (engine/ops/window.h).
bool begin_pads(const KernelContext& ctx, std::vector<int64_t>* begin, std::string* why) {
  const Shape& x = ctx.inputs[0]->shape;
  const Shape& w = ctx.inputs[1]->shape;
  ops::WindowGeometry g;
  Status s = ops::conv_transpose_geometry(*ctx.node, std::vector<int64_t>(x.begin() + 2, x.end()),
                                          std::vector<int64_t>(w.begin() + 2, w.end()), &g);
  if (!s.ok()) return decline(why, s.message());
  *begin = g.pads_begin;
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
  // The window positions outside, the input channels inside: a position's
  // tests are made once, not once per channel. Without dilation, only the
  // kernel taps that land on a stride multiple are visited (k starts at
  // (o + pad) mod stride and steps by the stride): a 2x2 stride-2 upsample
  // makes one tap per output instead of four tested ones.
  std::string b = "float process(int oc[OUT_RANK]) {\n  int g = oc[1] / " + glsl_int(Mg) + ";\n  int ml = oc[1] - g * " +
                  glsl_int(Mg) + ";\n  float acc = " + (bias ? std::string("getBFlat(oc[1])") : std::string("0.0")) + ";\n";
  std::string indent = "  ";
  std::vector<std::string> xa = {"oc[0]", "c"}, wa = {"c", "ml"};
  for (size_t i = 0; i < k; ++i) {
    std::string K = "k" + std::to_string(i), I = "i" + std::to_string(i), T = "t" + std::to_string(i);
    const std::string o = "oc[" + std::to_string(i + 2) + "] + " + glsl_int(begin[i]);
    if (dil[i] == 1 && begin[i] >= 0) {
      b += indent + "for (int " + K + " = (" + o + ") % " + glsl_int(strides[i]) + "; " + K + " < " + glsl_int(w[i + 2]) +
           "; " + K + " += " + glsl_int(strides[i]) + ") {\n";
      indent += "  ";
      b += indent + "int " + T + " = " + o + " - " + K + ";\n";
      b += indent + "if (" + T + " < 0) break;\n";
    } else {
      b += indent + "for (int " + K + " = 0; " + K + " < " + glsl_int(w[i + 2]) + "; ++" + K + ") {\n";
      indent += "  ";
      b += indent + "int " + T + " = " + o + " - " + K + " * " + glsl_int(dil[i]) + ";\n";
      b += indent + "if (" + T + " < 0 || " + T + " % " + glsl_int(strides[i]) + " != 0) continue;\n";
    }
    b += indent + "int " + I + " = " + T + " / " + glsl_int(strides[i]) + ";\n";
    b += indent + "if (" + I + " >= " + glsl_int(x[i + 2]) + ") continue;\n";
    xa.push_back(I);
    wa.push_back(K);
  }
  b += indent + "for (int cl = 0; cl < " + glsl_int(Cg) + "; ++cl) {\n" + indent + "  int c = g * " + glsl_int(Cg) +
       " + cl;\n" + indent + "  acc += " + getter("X", xa) + " * " + getter("W", wa) + ";\n" + indent + "}\n";
  for (size_t i = 0; i < k; ++i) {
    indent.resize(indent.size() - 2);
    b += indent + "}\n";
  }
  p.body = b + "  return acc;\n}\n";
  return std::vector<ProgramInfo>{p};
}

}  // namespace glint::gl
