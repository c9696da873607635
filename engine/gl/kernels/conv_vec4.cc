// 2-D Conv with vec4 bodies: one fragment computes four output channels at
// one (n, h, w), reading four input channels per fetch (getX4) against four
// weight rows (four dot()s): 16 multiply-adds per five fetches; into a
// planes output (texture_layout.h), a tile of 4 pixels x 8 channels per
// fragment: 128 multiply-adds per 12 fetches for a 1x1 conv. The bias is
// copied to four channels per texel first (drawn once per session).
#include "engine/gl/kernels/conv_common.h"
#include "engine/gl/kernels/kernels.h"
#include "engine/gl/layout/texture_layout.h"

namespace glint::gl {

bool conv_vec4_supports(const KernelContext& ctx, std::string* why) {
  return conv::supports_if(
      ctx, why, [](const conv::ConvShape& c) { return c.vec4_ok && (c.group == 1 || (c.cg % 4 == 0 && c.mg % 4 == 0)); },
      "not 2-D float with groups of 4 channels");
}

Result<std::vector<ProgramInfo>> conv_vec4_build(const KernelContext& ctx) {
  GLINT_ASSIGN_OR_RETURN(const conv::ConvShape c, conv::conv_shape(ctx));
  const Window& win = c.win;
  const int64_t group = c.group, cg = c.cg, mg = c.mg;
  const bool bias = c.bias;
  std::vector<ProgramInfo> passes;
  ProgramInfo p;
  p.name = "conv2d_vec4";
  p.inputs = {{"X", 0}, {"W", 1}};
  if (bias) {
    passes.push_back(conv::bias_pass(ctx));
    p.inputs.push_back({"Bias", -1});
  }
  if (c.residual) p.inputs.push_back({"R", 3});
  p.output = ctx.outputs[0];
  p.vec4_body = true;
  p.shape_uniforms = ctx.shape_uniforms;
  const std::vector<std::string> in_extent = conv::input_extents(p, c);
  const int64_t cg4 = (cg + 3) / 4;
  // The first input channel block of output channel m's group.
  const std::string group_block =
      group == 1 ? "  int cb = 0;\n"
                 : "  int cb = (m / " + shape_int(p, "CONV_MG", mg) + ") * " + shape_int(p, "CONV_GROUP_BLOCKS", cg / 4) + ";\n";
  std::string s = "vec4 process4(int oc[4]) {\n  int n = oc[0];\n  int m = oc[1];\n" + group_block;
  s += "  vec4 acc = " + conv::bias4(bias) + ";\n";
  std::string inner;
  if (ctx.inputs[1]->half_exact) {
    // Weights held as exact halves: eight input channels per weight fetch,
    // 32 multiply-adds per six fetches.
    p.name = "conv2d_vec4_half_weights";
    const int64_t cg8 = (cg + 7) / 8;
    const bool odd_tail = cg4 % 2 == 1;  // the last step's second block is past the group
    inner += "      for (int c8 = 0; c8 < " + shape_int(p, "CONV_CG8", cg8) + "; ++c8) {\n";
    inner += "        vec4 x0 = getX4(n, cb + 2 * c8, ih, iw);\n";
    inner += std::string("        vec4 x1 = ") +
             (odd_tail ? "2 * c8 + 1 < " + shape_int(p, "CONV_CG4", cg4) + " ? getX4(n, cb + 2 * c8 + 1, ih, iw) : vec4(0.0)"
                       : "getX4(n, cb + 2 * c8 + 1, ih, iw)") + ";\n";
    inner += "        mat2x4 w0 = getW8(m, c8, ky, kx), w1 = getW8(m + 1, c8, ky, kx);\n";
    inner += "        mat2x4 w2 = getW8(m + 2, c8, ky, kx), w3 = getW8(m + 3, c8, ky, kx);\n";
    inner += "        acc += vec4(dot(w0[0], x0) + dot(w0[1], x1), dot(w1[0], x0) + dot(w1[1], x1),\n";
    inner += "                    dot(w2[0], x0) + dot(w2[1], x1), dot(w3[0], x0) + dot(w3[1], x1));\n";
    inner += "      }\n";
  } else {
    inner += "      for (int c4 = 0; c4 < " + shape_int(p, "CONV_CG4", cg4) + "; ++c4) {\n";
    inner += "        vec4 xv = getX4(n, cb + c4, ih, iw);\n";
    inner += "        acc += vec4(dot(getW4(m, c4, ky, kx), xv), dot(getW4(m + 1, c4, ky, kx), xv),\n";
    inner += "                    dot(getW4(m + 2, c4, ky, kx), xv), dot(getW4(m + 3, c4, ky, kx), xv));\n";
    inner += "      }\n";
  }
  s += conv::window_loops_2d(win, in_extent, inner);
  p.body = s + "  return acc" + conv::residual4(c.residual) + ";\n}\n";
  // A planes tile per fragment: each input fetch then serves eight output
  // channels and each weight fetch four pixels. Not with half weights
  // (they pay off only against one-texel fragments), nor when the tile's
  // two channel blocks may fall in different groups.
  if (!ctx.inputs[1]->half_exact && (group == 1 || mg % (4 * kPlaneBlocks) == 0)) {
    p.tile_body = true;
    const std::string prologue = "  int n = oc[0];\n  int m = oc[1];\n" + group_block +
                                 "  vec4 acc0 = " + conv::bias4(bias) + ", acc1 = " + conv::bias4(bias, "m + 4") +
                                 ";\n";
    p.body += conv::tile_body(win, in_extent, prologue, "for (int c4 = 0; c4 < " + shape_int(p, "CONV_CG4", cg4) + "; ++c4) {", {"cb + c4"},
                        [](int64_t kx, const conv::ColumnFn& x) {
                          const std::string k = glsl_int(kx);
                          // The window row's weights through one cursor: output
                          // channel m + j, tap kx.
                          std::vector<std::string> t;
                          if (kx == 0) t.push_back("vec4 wc = getWCursor(m, c4, ky, 0);");
                          for (int g = 0; g < kPlaneBlocks; ++g) {
                            const std::string w = "w" + std::to_string(g) + "_" + k;
                            std::string decl = "mat4 " + w + " = mat4(";
                            for (int j = 0; j < 4; ++j)
                              decl += std::string(j ? ", " : "") + "getW4At(wc, " + std::to_string(4 * g + j) + ", 0, " + k + ")";
                            t.push_back(decl + ");");
                            for (int p = 0; p < kPlanePixels; ++p)
                              t.push_back("a" + std::to_string(g * kPlanePixels + p) + " += " + x(0, p) + " * " + w + ";");
                          }
                          return t;
                        }, c.residual);
  }
  passes.push_back(p);
  return passes;
}

}  // namespace glint::gl
