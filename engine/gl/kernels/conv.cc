// Conv, 1-D and 2-D, direct. Groups (incl. depthwise), strides, dilations,
// explicit and auto pads, optional bias.
//  - 2-D, float: vec4 bodies — one fragment computes four output channels
//    at one (n, h, w), reading four input channels per fetch (getX4) against
//    four weight rows (mat4-like, four dot()s): 16 multiply-adds per five
//    fetches; into a planes output (texture_layout.h), a tile of 4 pixels x
//    8 channels per fragment: 128 multiply-adds per 12 fetches for a 1x1
//    conv. Depthwise convs first copy W [C,1,kh,kw] to [1,C,kh,kw] so four
//    channels' taps arrive in one fetch too; the bias is copied to four
//    channels per texel. Both copies read only constants: the runtime draws
//    them once per session (PassCache).
//  - otherwise one output element per fragment, channels in vec4 chunks.
#include <functional>
#include <set>

#include "engine/gl/kernels/glsl_util.h"
#include "engine/gl/kernels/kernels.h"
#include "engine/gl/layout/texture_layout.h"

namespace glint::gl {

bool conv_supports(const KernelContext& ctx, std::string* why) {
  if (!float_op(ctx, why)) return false;
  if (!ctx.inputs[0] || ctx.inputs.size() < 2 || !ctx.inputs[1])
    return decline(why, "X and W are required");
  size_t rank = ctx.inputs[0]->shape.size();
  if (rank == 5) return decline(why, "3-D convolution has no GPU kernel");
  if (rank != 3 && rank != 4) return decline(why, "input rank " + std::to_string(rank) + " is not 1-D/2-D conv");
  if (ctx.inputs[1]->shape.size() != rank) return decline(why, "W rank differs from X rank");
  int64_t group = ctx.node->attr_int("group", 1);
  int64_t c = ctx.inputs[0]->shape[1], m = ctx.inputs[1]->shape[0];
  if (group < 1 || c % group || m % group || ctx.inputs[1]->shape[1] * group != c)
    return decline(why, "channels do not match group " + std::to_string(group));
  const Shape& x = ctx.inputs[0]->shape;
  const Shape& w = ctx.inputs[1]->shape;
  const Shape& y = ctx.outputs[0].shape;
  if (y.size() != rank) return decline(why, "output rank differs from input rank");
  auto win = resolve_window(*ctx.node, Shape(x.begin() + 2, x.end()), Shape(y.begin() + 2, y.end()),
                            std::vector<int64_t>(w.begin() + 2, w.end()));
  if (!win.ok()) return decline(why, win.status().message());
  return true;
}

namespace {

// Loops over the 2-D window of output pixel (oc[2], oc[3]) declaring ih/iw
// and skipping taps in the padding; `inner` is the loop body. Per axis: a
// loop over the taps, or none for a 1-wide window; the bounds check only
// where a tap can fall into the padding.
std::string window_loops_2d(const Window& win, const Shape& in_sp, const std::string& inner) {
  std::string s, close;
  std::string ind = "  ";
  const char* tap[2] = {"ky", "kx"};
  const char* idx[2] = {"ih", "iw"};
  for (int d = 0; d < 2; ++d) {
    std::string pos = "oc[" + std::to_string(d + 2) + "] * " + glsl_int(win.strides[d]);
    const bool may_pad = win.pad_begin[d] > 0 || win.pad_end[d] > 0;
    if (win.kernel[d] == 1 && !may_pad) {
      s += ind + "const int " + tap[d] + " = 0;\n";
    } else {
      s += ind + "for (int " + tap[d] + " = 0; " + tap[d] + " < " + glsl_int(win.kernel[d]) + "; ++" + tap[d] +
           ") {\n";
      close = ind + "}\n" + close;
      ind += "  ";
      pos += " + " + std::string(tap[d]) + " * " + glsl_int(win.dilations[d]);
    }
    s += ind + "int " + idx[d] + " = " + pos + " - " + glsl_int(win.pad_begin[d]) + ";\n";
    if (may_pad) s += ind + "if (" + idx[d] + " < 0 || " + idx[d] + " >= " + glsl_int(in_sp[d]) + ") continue;\n";
  }
  // `inner` is written for six spaces of indent; it is valid at any depth.
  return s + inner + close;
}

// The GLSL vec4 of input channel block `b` (an index into tile_body's
// `x_blocks`) under pixel p of the tile at the current tap.
using ColumnFn = std::function<std::string(int b, int p)>;

// `void processTile(int oc[4], out vec4 q0, ..., out vec4 q7)`: the conv at
// the 4 pixels x 2 channel blocks of a planes texel position (q{g * 4 + p}).
// Per window row (and input channel block, inside `channel_loop` when it is
// not empty), each input column that a pixel's taps touch is fetched once
// per block in `x_blocks` (a 3-wide stride-1 window over 4 pixels: 6
// columns, not 12), and the statements of tap `tap(kx, x)` (kx a literal)
// fetch each weight once for the tile. The prologue declares acc0 and acc1,
// the two blocks' starting values.
std::string tile_body(const Window& win, const Shape& in_sp, const std::string& prologue,
                      const std::string& channel_loop, const std::vector<std::string>& x_blocks,
                      const std::function<std::vector<std::string>(int64_t kx, const ColumnFn& x)>& tap) {
  std::string s = "void processTile(int oc[4]";
  for (int t = 0; t < kPlanes; ++t) s += ", out vec4 q" + std::to_string(t);
  s += ") {\n" + prologue;
  for (int g = 0; g < kPlaneBlocks; ++g) {
    s += "  vec4 ";
    for (int p = 0; p < kPlanePixels; ++p)
      s += (p ? ", a" : "a") + std::to_string(g * kPlanePixels + p) + " = acc" + std::to_string(g);
    s += ";\n";
  }
  std::string ind = "  ", close;
  const bool pad_y = win.pad_begin[0] > 0 || win.pad_end[0] > 0;
  if (win.kernel[0] == 1 && !pad_y) {
    s += ind + "const int ky = 0;\n";
  } else {
    s += ind + "for (int ky = 0; ky < " + glsl_int(win.kernel[0]) + "; ++ky) {\n";
    close = ind + "}\n";
    ind += "  ";
  }
  s += ind + "int ih = oc[2] * " + glsl_int(win.strides[0]) + " + ky * " + glsl_int(win.dilations[0]) + " - " +
       glsl_int(win.pad_begin[0]) + ";\n";
  if (pad_y) s += ind + "if (ih < 0 || ih >= " + glsl_int(in_sp[0]) + ") continue;\n";
  s += ind + "int iw = oc[3] * " + glsl_int(win.strides[1]) + " - " + glsl_int(win.pad_begin[1]) + ";\n";
  // The columns (offsets from iw) the row's taps read.
  const int64_t sx = win.strides[1], dx = win.dilations[1], kw = win.kernel[1];
  std::set<int64_t> columns;
  for (int p = 0; p < kPlanePixels; ++p)
    for (int64_t kx = 0; kx < kw; ++kx) columns.insert(p * sx + kx * dx);
  // Columns in the padding read zero: a select, not a branch, which a SIMD
  // rasterizer would run for every pixel anyway. Pixels past the output
  // row's end are computed from whatever lies there and never stored.
  const bool guard = win.pad_begin[1] > 0 || win.pad_end[1] > 0;
  auto col = [](int64_t j) { return j == 0 ? std::string("iw") : "iw + " + glsl_int(j); };
  if (guard)
    for (int64_t j : columns)
      s += ind + "bvec4 in" + std::to_string(j) + " = bvec4(" + col(j) + " >= 0 && " + col(j) + " < " +
           glsl_int(in_sp[1]) + ");\n";
  if (!channel_loop.empty()) {
    s += ind + channel_loop + "\n";
    close = ind + "}\n" + close;
    ind += "  ";
  }
  auto x_name = [](size_t b, int64_t j) { return "x" + std::to_string(b) + "_" + std::to_string(j); };
  for (size_t b = 0; b < x_blocks.size(); ++b)
    for (int64_t j : columns) {
      const std::string g = "getX4(n, " + x_blocks[b] + ", ih, " + col(j) + ")";
      s += ind + "vec4 " + x_name(b, j) + " = " +
           (guard ? "mix(vec4(0.0), " + g + ", in" + std::to_string(j) + ")" : g) + ";\n";
    }
  for (int64_t kx = 0; kx < kw; ++kx)
    for (const std::string& statement : tap(kx, [&](int b, int p) { return x_name(b, p * sx + kx * dx); }))
      s += ind + statement + "\n";
  s += close;
  for (int t = 0; t < kPlanes; ++t) s += "  q" + std::to_string(t) + " = a" + std::to_string(t) + ";\n";
  return s + "}\n";
}

// vec4 of the bias for channels m0 .. m0+3 (m0 a multiple of 4, a GLSL int
// expression), read from the bias pass's channel-packed copy (zero past M),
// or zero without a bias.
std::string bias4(bool bias, const std::string& m0 = "m") {
  return bias ? "getBias4(0, (" + m0 + ") >> 2, 0, 0)" : "vec4(0.0)";
}

// The pass that lays bias B [M] out as [1, M, 1, 1], four channels per
// texel, for bias4(): one fetch for four channels instead of four. It reads
// only a constant of the model, so the runtime draws it once (PassCache).
ProgramInfo bias_pass(const KernelContext& ctx) {
  ProgramInfo b;
  b.name = "conv_bias_channels";
  b.inputs = {{"B", 2}};
  b.output = {ctx.inputs[2]->dtype, Shape{1, ctx.inputs[2]->shape[0], 1, 1}};
  b.node_output = -1;
  b.body = "float process(int oc[OUT_RANK]) { return getB(oc[1]); }\n";
  return b;
}

}  // namespace

Result<std::vector<ProgramInfo>> conv_build(const KernelContext& ctx) {
  const ir::Node& node = *ctx.node;
  const Shape& x = ctx.inputs[0]->shape;
  const Shape& w = ctx.inputs[1]->shape;
  const Shape& y = ctx.outputs[0].shape;
  size_t k = x.size() - 2;
  Shape in_sp(x.begin() + 2, x.end()), out_sp(y.begin() + 2, y.end());
  std::vector<int64_t> kernel(w.begin() + 2, w.end());
  GLINT_ASSIGN_OR_RETURN(Window win, resolve_window(node, in_sp, out_sp, kernel));
  int64_t group = node.attr_int("group", 1);
  int64_t cg = w[1];            // input channels per group
  int64_t mg = w[0] / group;    // output channels per group
  bool bias = node.has_input(2) && ctx.inputs.size() > 2 && ctx.inputs[2];

  const int64_t c_in = x[1], m_out = w[0];
  const bool vec4_ok = k == 2 && !is_int_like(ctx.outputs[0].dtype);
  if (vec4_ok && group == c_in && cg == 1 && m_out == c_in) {
    // Depthwise: pass 0 lays the taps out channel-major ([1, C, kh, kw]).
    ProgramInfo taps;
    taps.name = "conv2d_depthwise_taps";
    taps.inputs = {{"W", 1}};
    taps.output = {ctx.inputs[1]->dtype, Shape{1, m_out, w[2], w[3]}};
    taps.node_output = -1;
    taps.body = "float process(int oc[OUT_RANK]) { return getW(oc[1], 0, oc[2], oc[3]); }\n";
    std::vector<ProgramInfo> passes = {taps};
    ProgramInfo p;
    p.name = "conv2d_depthwise";
    p.inputs = {{"X", 0}, {"T", -1}};
    if (bias) {
      passes.push_back(bias_pass(ctx));
      p.inputs.push_back({"Bias", -2});
    }
    p.output = ctx.outputs[0];
    p.vec4_body = true;
    std::string s = "vec4 process4(int oc[4]) {\n  int n = oc[0];\n  int m = oc[1];\n  int m4 = m / 4;\n";
    s += "  vec4 acc = " + bias4(bias) + ";\n";
    s += window_loops_2d(win, in_sp, "      acc += getX4(n, m4, ih, iw) * getT4(0, m4, ky, kx);\n");
    p.body = s + "  return acc;\n}\n";
    p.tile_body = true;
    p.body += tile_body(win, in_sp,
                        "  int n = oc[0];\n  int m = oc[1];\n  int m4 = m / 4;\n  vec4 acc0 = " + bias4(bias) +
                            ", acc1 = " + bias4(bias, "m + 4") + ";\n",
                        "", {"m4", "m4 + 1"}, [](int64_t kx, const ColumnFn& x) {
                          std::vector<std::string> t;
                          for (int g = 0; g < kPlaneBlocks; ++g) {
                            const std::string tg = "t" + std::to_string(g) + "_" + std::to_string(kx);
                            t.push_back("vec4 " + tg + " = getT4(0, m4 + " + std::to_string(g) + ", ky, " + glsl_int(kx) + ");");
                            for (int p = 0; p < kPlanePixels; ++p)
                              t.push_back("a" + std::to_string(g * kPlanePixels + p) + " += " + x(g, p) + " * " + tg + ";");
                          }
                          return t;
                        });
    passes.push_back(p);
    return passes;
  }
  if (vec4_ok && (group == 1 || (cg % 4 == 0 && mg % 4 == 0))) {
    std::vector<ProgramInfo> passes;
    ProgramInfo p;
    p.name = "conv2d_vec4";
    p.inputs = {{"X", 0}, {"W", 1}};
    if (bias) {
      passes.push_back(bias_pass(ctx));
      p.inputs.push_back({"Bias", -1});
    }
    p.output = ctx.outputs[0];
    p.vec4_body = true;
    const int64_t cg4 = (cg + 3) / 4;
    std::string s = "vec4 process4(int oc[4]) {\n  int n = oc[0];\n  int m = oc[1];\n";
    s += group == 1 ? "  int cb = 0;\n" : "  int cb = (m / " + glsl_int(mg) + ") * " + glsl_int(cg / 4) + ";\n";
    s += "  vec4 acc = " + bias4(bias) + ";\n";
    std::string inner;
    if (ctx.inputs[1]->half_exact) {
      // Weights held as exact halves: eight input channels per weight fetch,
      // 32 multiply-adds per six fetches.
      p.name = "conv2d_vec4_half_weights";
      const int64_t cg8 = (cg + 7) / 8;
      const bool odd_tail = cg4 % 2 == 1;  // the last step's second block is past the group
      inner += "      for (int c8 = 0; c8 < " + glsl_int(cg8) + "; ++c8) {\n";
      inner += "        vec4 x0 = getX4(n, cb + 2 * c8, ih, iw);\n";
      inner += std::string("        vec4 x1 = ") +
               (odd_tail ? "2 * c8 + 1 < " + glsl_int(cg4) + " ? getX4(n, cb + 2 * c8 + 1, ih, iw) : vec4(0.0)"
                         : "getX4(n, cb + 2 * c8 + 1, ih, iw)") + ";\n";
      inner += "        mat2x4 w0 = getW8(m, c8, ky, kx), w1 = getW8(m + 1, c8, ky, kx);\n";
      inner += "        mat2x4 w2 = getW8(m + 2, c8, ky, kx), w3 = getW8(m + 3, c8, ky, kx);\n";
      inner += "        acc += vec4(dot(w0[0], x0) + dot(w0[1], x1), dot(w1[0], x0) + dot(w1[1], x1),\n";
      inner += "                    dot(w2[0], x0) + dot(w2[1], x1), dot(w3[0], x0) + dot(w3[1], x1));\n";
      inner += "      }\n";
    } else {
      inner += "      for (int c4 = 0; c4 < " + glsl_int(cg4) + "; ++c4) {\n";
      inner += "        vec4 xv = getX4(n, cb + c4, ih, iw);\n";
      inner += "        acc += vec4(dot(getW4(m, c4, ky, kx), xv), dot(getW4(m + 1, c4, ky, kx), xv),\n";
      inner += "                    dot(getW4(m + 2, c4, ky, kx), xv), dot(getW4(m + 3, c4, ky, kx), xv));\n";
      inner += "      }\n";
    }
    s += window_loops_2d(win, in_sp, inner);
    p.body = s + "  return acc;\n}\n";
    // A planes tile per fragment: each input fetch then serves eight output
    // channels and each weight fetch four pixels. Not with half weights
    // (they pay off only against one-texel fragments), nor when the tile's
    // two channel blocks may fall in different groups.
    if (!ctx.inputs[1]->half_exact && (group == 1 || mg % (4 * kPlaneBlocks) == 0)) {
      p.tile_body = true;
      const std::string prologue = "  int n = oc[0];\n  int m = oc[1];\n" +
                                   std::string(group == 1 ? "  int cb = 0;\n"
                                                          : "  int cb = (m / " + glsl_int(mg) + ") * " +
                                                                glsl_int(cg / 4) + ";\n") +
                                   "  vec4 acc0 = " + bias4(bias) + ", acc1 = " + bias4(bias, "m + 4") +
                                   ";\n";
      p.body += tile_body(win, in_sp, prologue, "for (int c4 = 0; c4 < " + glsl_int(cg4) + "; ++c4) {", {"cb + c4"},
                          [](int64_t kx, const ColumnFn& x) {
                            const std::string k = glsl_int(kx);
                            std::vector<std::string> t;
                            for (int g = 0; g < kPlaneBlocks; ++g) {
                              const std::string w = "w" + std::to_string(g) + "_" + k;
                              std::string decl = "mat4 " + w + " = mat4(";
                              for (int j = 0; j < 4; ++j)
                                decl += std::string(j ? ", " : "") + "getW4(m + " + std::to_string(4 * g + j) + ", c4, ky, " + k + ")";
                              t.push_back(decl + ");");
                              for (int p = 0; p < kPlanePixels; ++p)
                                t.push_back("a" + std::to_string(g * kPlanePixels + p) + " += " + x(0, p) + " * " + w + ";");
                            }
                            return t;
                          });
    }
    passes.push_back(p);
    return passes;
  }

  ProgramInfo p;
  p.name = "conv" + std::to_string(k) + "d";
  p.inputs = {{"X", 0}, {"W", 1}};
  if (bias) p.inputs.push_back({"B", 2});
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
  p.body = s + "  return acc;\n}\n";
  return std::vector<ProgramInfo>{p};
}

}  // namespace glint::gl
