// Depthwise 2-D Conv (one input channel per group, as many outputs as
// inputs): pass 0 lays the taps W [C,1,kh,kw] out channel-major
// ([1,C,kh,kw]) so four channels' taps arrive in one fetch; it reads only
// constants and is drawn once per session (PassCache). The conv is a vec4
// body, and into a planes output a tile of 4 pixels x 8 channels.
#include "engine/gl/kernels/conv_common.h"
#include "engine/gl/kernels/kernels.h"
#include "engine/gl/layout/texture_layout.h"

namespace glint::gl {

bool conv_depthwise_supports(const KernelContext& ctx, std::string* why) {
  return conv::supports_if(ctx, why, [](const conv::ConvShape& c) { return c.vec4_ok && c.depthwise(); }, "not a 2-D float depthwise conv");
}

Result<std::vector<ProgramInfo>> conv_depthwise_build(const KernelContext& ctx) {
  GLINT_ASSIGN_OR_RETURN(const conv::ConvShape c, conv::conv_shape(ctx));
  const Shape& w = c.w;
  const Window& win = c.win;
  const int64_t m_out = c.w[0];
  const bool bias = c.bias;
  // Depthwise: pass 0 lays the taps out channel-major ([1, C, kh, kw]).
  ProgramInfo taps;
  taps.name = "conv2d_depthwise_taps";
  taps.inputs = {{"W", 1}};
  taps.output = {ctx.inputs[1]->dtype, Shape{1, m_out, w[2], w[3]}};
  taps.node_output = -1;
  taps.body = "float process(int oc[OUT_RANK]) { return getW(oc[1], 0, oc[2], oc[3]); }\n";
  taps.reshape_of = 1;
  std::vector<ProgramInfo> passes = {taps};
  ProgramInfo p;
  p.name = "conv2d_depthwise";
  p.inputs = {{"X", 0}, {"T", -1}};
  if (bias) {
    passes.push_back(conv::bias_pass(ctx));
    p.inputs.push_back({"Bias", -2});
  }
  if (c.residual) p.inputs.push_back({"R", 3});
  p.output = ctx.outputs[0];
  p.vec4_body = true;
  p.shape_uniforms = ctx.shape_uniforms;
  const std::vector<std::string> in_extent = conv::input_extents(p, c);
  std::string s = "vec4 process4(int oc[4]) {\n  int n = oc[0];\n  int m = oc[1];\n  int m4 = m / 4;\n";
  s += "  vec4 acc = " + conv::bias4(bias) + ";\n";
  s += conv::window_loops_2d(win, in_extent, "      acc += getX4(n, m4, ih, iw) * getT4(0, m4, ky, kx);\n");
  p.body = s + "  return acc" + conv::residual4(c.residual) + ";\n}\n";
  p.tile_body = true;
  p.body += conv::tile_body(win, in_extent,
                      "  int n = oc[0];\n  int m = oc[1];\n  int m4 = m / 4;\n  vec4 acc0 = " + conv::bias4(bias) +
                          ", acc1 = " + conv::bias4(bias, "m + 4") + ";\n",
                      "", {"m4", "m4 + 1"}, [](int64_t kx, const conv::ColumnFn& x) {
                        // The window row's taps through one cursor (m4 is even).
                        std::vector<std::string> t;
                        if (kx == 0) t.push_back("vec4 tc = getTCursor(0, m4, ky, 0);");
                        for (int g = 0; g < kPlaneBlocks; ++g) {
                          const std::string tg = "t" + std::to_string(g) + "_" + std::to_string(kx);
                          t.push_back("vec4 " + tg + " = getT4At(tc, 0, " + std::to_string(g) + ", " + glsl_int(kx) + ");");
                          for (int p = 0; p < kPlanePixels; ++p)
                            t.push_back("a" + std::to_string(g * kPlanePixels + p) + " += " + x(g, p) + " * " + tg + ";");
                        }
                        return t;
                      }, c.residual);
  passes.push_back(p);
  return passes;
}

}  // namespace glint::gl
