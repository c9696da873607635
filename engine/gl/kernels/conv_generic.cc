// Conv, 1-D and 2-D, any dtype the GPU holds: one output element per
// fragment, input channels in vec4 chunks. The candidate of last resort.
#include "engine/gl/kernels/conv_common.h"
#include "engine/gl/kernels/kernels.h"
#include "engine/gl/layout/texture_layout.h"

namespace glint::gl {

bool conv_generic_supports(const KernelContext& ctx, std::string* why) {
  if (!conv::common_supports(ctx, why)) return false;
  auto c = conv::conv_shape(ctx);
  return c.ok() || decline(why, c.status().message());
}

Result<std::vector<ProgramInfo>> conv_generic_build(const KernelContext& ctx) {
  GLINT_ASSIGN_OR_RETURN(const conv::ConvShape c, conv::conv_shape(ctx));
  const Shape& w = c.w;
  const Shape& in_sp = c.in_sp;
  const Window& win = c.win;
  const int64_t group = c.group, cg = c.cg, mg = c.mg;
  const bool bias = c.bias;
  const size_t k = c.k;
  const std::vector<int64_t> kernel(w.begin() + 2, w.end());
  ProgramInfo p;
  p.name = "conv" + std::to_string(k) + "d";
  p.inputs = {{"X", 0}, {"W", 1}};
  if (bias) p.inputs.push_back({"B", 2});
  if (c.residual) p.inputs.push_back({"R", 3});
  p.output = ctx.outputs[0];
  std::string s = "float process(int oc[OUT_RANK]) {\n  int n = oc[0];\n  int m = oc[1];\n";
  s += group == 1 ? "  int c0 = 0;\n" : "  int c0 = (m / " + glsl_int(mg) + ") * " + glsl_int(cg) + ";\n";
  s += std::string("  float acc = ") + (bias ? "getB(m)" : "0.0") + ";\n";
  std::string ind = "  ";
  std::vector<std::string> xi = {"n", ""}, wi = {"m", ""};
  for (size_t d = 0; d < k; ++d) {
    std::string i = "i" + std::to_string(d), kv = "k" + std::to_string(d);
    s += ind + "for (int " + kv + " = 0; " + kv + " < " + glsl_int(kernel[d]) + "; ++" + kv + ") {\n";
    ind += "  ";
    s += ind + "int " + i + " = oc[" + std::to_string(d + 2) + "] * " + glsl_int(win.strides[d]) +
         " + " + kv + " * " + glsl_int(win.dilations[d]) + " - " + glsl_int(win.pad_begin[d]) + ";\n";
    s += ind + "if (" + i + " < 0 || " + i + " >= " + glsl_int(in_sp[d]) + ") continue;\n";
    xi.push_back(i);
    wi.push_back(kv);
  }
  auto x_at = [&](const std::string& c) { auto a = xi; a[1] = "c0 + " + c; return getter("X", a); };
  auto w_at = [&](const std::string& c) { auto a = wi; a[1] = c; return getter("W", a); };
  int64_t c4 = cg / 4 * 4;
  if (c4 > 0) {
    s += ind + "for (int c = 0; c < " + glsl_int(c4) + "; c += 4) {\n";
    s += ind + "  vec4 xv = vec4(" + x_at("c") + ", " + x_at("c + 1") + ", " + x_at("c + 2") + ", " +
         x_at("c + 3") + ");\n";
    s += ind + "  vec4 wv = vec4(" + w_at("c") + ", " + w_at("c + 1") + ", " + w_at("c + 2") + ", " +
         w_at("c + 3") + ");\n";
    s += ind + "  acc += dot(xv, wv);\n" + ind + "}\n";
  }
  for (int64_t c = c4; c < cg; ++c) {
    std::string cs = glsl_int(c);
    s += ind + "acc += " + x_at(cs) + " * " + w_at(cs) + ";\n";
  }
  for (size_t d = 0; d < k; ++d) {
    ind.resize(ind.size() - 2);
    s += ind + "}\n";
  }
  p.body = s + "  return acc" + (c.residual ? " + getRBroadcast(oc)" : "") + ";\n}\n";
  return std::vector<ProgramInfo>{p};

}

}  // namespace glint::gl
