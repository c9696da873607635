// Conv, 1-D and 2-D, direct. Groups (incl. depthwise), strides, dilations,
// explicit and auto pads, optional bias.
//  - 2-D, float: vec4 bodies — one fragment computes four output channels
//    at one (n, h, w), reading four input channels per fetch (getX4) against
//    four weight rows (mat4-like, four dot()s): 16 multiply-adds per five
//    fetches. Depthwise convs first copy W [C,1,kh,kw] to [1,C,kh,kw] so
//    four channels' taps arrive in one fetch too.
//  - otherwise one output element per fragment, channels in vec4 chunks.
#include <functional>

#include "engine/gl/kernels/glsl_util.h"
#include "engine/gl/kernels/kernels.h"

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
// where a tap can fall into the padding, and on x only with `check_x` (a
// caller computing several pixels per tap guards them itself).
std::string window_loops_2d(const Window& win, const Shape& in_sp, const std::string& inner, bool check_x = true) {
  std::string s, close;
  std::string ind = "  ";
  const char* tap[2] = {"ky", "kx"};
  const char* idx[2] = {"ih", "iw"};
  for (int d = 0; d < 2; ++d) {
    std::string pos = "oc[" + std::to_string(d + 2) + "] * " + glsl_int(win.strides[d]);
    const bool may_pad = (d == 0 || check_x) && (win.pad_begin[d] > 0 || win.pad_end[d] > 0);
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

// `mat4 process4x4(int oc[4])`: the same conv at the four pixels oc[3] ..
// oc[3]+3 of a row (columns a0 .. a3), so that each weight fetch serves four
// pixels. `inner(x_at)` is the tap's body: x_at(p, c4) is the GLSL vec4 of
// input channel block c4 under pixel p (zero in the padding).
std::string quad_body(const Window& win, const Shape& in_sp, const std::string& prologue,
                      const std::function<std::string(const std::function<std::string(int, const std::string&)>&)>& inner) {
  std::string s = "mat4 process4x4(int oc[4]) {\n" + prologue;
  s += "  vec4 a0 = acc, a1 = acc, a2 = acc, a3 = acc;\n";
  // Taps in the padding read zero: a select (mix with a bvec4), not a
  // branch, which a SIMD rasterizer would run for every pixel anyway. Pixels
  // past the output row's end (rows not a multiple of four) are computed
  // from whatever lies there and never stored.
  const int64_t sx = win.strides[1];
  const bool guard = win.pad_begin[1] > 0 || win.pad_end[1] > 0;
  auto iw_p = [&](int p) { return p == 0 ? std::string("iw") : "iw + " + glsl_int(p * sx); };
  std::string body;
  if (guard) {
    for (int p = 0; p < 4; ++p)
      body += "  bvec4 in" + std::to_string(p) + " = bvec4(" + iw_p(p) + " >= 0 && " + iw_p(p) + " < " +
              glsl_int(in_sp[1]) + ");\n";
  }
  auto x_at = [&](int p, const std::string& c4) {
    std::string g = "getX4(n, " + c4 + ", ih, " + iw_p(p) + ")";
    return guard ? "mix(vec4(0.0), " + g + ", in" + std::to_string(p) + ")" : g;
  };
  s += window_loops_2d(win, in_sp, body + inner(x_at), /*check_x=*/false);
  return s + "  return mat4(a0, a1, a2, a3);\n}\n";
}

// vec4 of the bias for channels m .. m+3 (zero past M, or without a bias).
std::string bias4(bool bias, int64_t m_count) {
  if (!bias) return "vec4(0.0)";
  std::string s = "vec4(";
  for (int j = 0; j < 4; ++j) {
    std::string mj = j ? "m + " + std::to_string(j) : "m";
    std::string g = "getB(" + mj + ")";
    s += (j ? ", " : "") + (m_count % 4 == 0 ? g : "(" + mj + " < " + glsl_int(m_count) + " ? " + g + " : 0.0)");
  }
  return s + ")";
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
    ProgramInfo p;
    p.name = "conv2d_depthwise";
    p.inputs = {{"X", 0}, {"T", -1}};
    if (bias) p.inputs.push_back({"B", 2});
    p.output = ctx.outputs[0];
    p.vec4_body = true;
    std::string s = "vec4 process4(int oc[4]) {\n  int n = oc[0];\n  int m = oc[1];\n  int m4 = m / 4;\n";
    s += "  vec4 acc = " + bias4(bias, m_out) + ";\n";
    s += window_loops_2d(win, in_sp, "      acc += getX4(n, m4, ih, iw) * getT4(0, m4, ky, kx);\n");
    p.body = s + "  return acc;\n}\n";
    p.quad_body = true;
    p.body += quad_body(win, in_sp,
                        "  int n = oc[0];\n  int m = oc[1];\n  int m4 = m / 4;\n  vec4 acc = " + bias4(bias, m_out) + ";\n",
                        [](const std::function<std::string(int, const std::string&)>& x) {
                          std::string t = "  vec4 t = getT4(0, m4, ky, kx);\n";
                          for (int p = 0; p < 4; ++p)
                            t += "  a" + std::to_string(p) + " += " + x(p, "m4") + " * t;\n";
                          return t;
                        });
    return std::vector<ProgramInfo>{taps, p};
  }
  if (vec4_ok && (group == 1 || (cg % 4 == 0 && mg % 4 == 0))) {
    ProgramInfo p;
    p.name = "conv2d_vec4";
    p.inputs = {{"X", 0}, {"W", 1}};
    if (bias) p.inputs.push_back({"B", 2});
    p.output = ctx.outputs[0];
    p.vec4_body = true;
    const int64_t cg4 = (cg + 3) / 4;
    std::string s = "vec4 process4(int oc[4]) {\n  int n = oc[0];\n  int m = oc[1];\n";
    s += group == 1 ? "  int cb = 0;\n" : "  int cb = (m / " + glsl_int(mg) + ") * " + glsl_int(cg / 4) + ";\n";
    s += "  vec4 acc = " + bias4(bias, m_out) + ";\n";
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
    // Four pixels per fragment when the output has planes: each weight
    // fetch then serves four pixels (8 multiply-adds per fetch, 10.7 with
    // half weights, against 3.2 and 5.3).
    p.quad_body = true;
    const std::string prologue = "  int n = oc[0];\n  int m = oc[1];\n" +
                                 std::string(group == 1 ? "  int cb = 0;\n"
                                                        : "  int cb = (m / " + glsl_int(mg) + ") * " +
                                                              glsl_int(cg / 4) + ";\n") +
                                 "  vec4 acc = " + bias4(bias, m_out) + ";\n";
    const bool half = ctx.inputs[1]->half_exact;
    p.body += quad_body(win, in_sp, prologue, [&](const std::function<std::string(int, const std::string&)>& x) {
      std::string t;
      if (half) {
        t += "  for (int c8 = 0; c8 < " + glsl_int((cg + 7) / 8) + "; ++c8) {\n";
        t += "    mat2x4 w0 = getW8(m, c8, ky, kx), w1 = getW8(m + 1, c8, ky, kx);\n";
        t += "    mat2x4 w2 = getW8(m + 2, c8, ky, kx), w3 = getW8(m + 3, c8, ky, kx);\n";
        t += "    mat4 lo = mat4(w0[0], w1[0], w2[0], w3[0]), hi = mat4(w0[1], w1[1], w2[1], w3[1]);\n";
        const bool odd_tail = cg4 % 2 == 1;
        for (int q = 0; q < 4; ++q) {
          std::string x1 = x(q, "cb + 2 * c8 + 1");
          if (odd_tail) x1 = "(2 * c8 + 1 < " + glsl_int(cg4) + " ? " + x1 + " : vec4(0.0))";
          t += "    a" + std::to_string(q) + " += " + x(q, "cb + 2 * c8") + " * lo + " + x1 + " * hi;\n";
        }
      } else {
        t += "  for (int c4 = 0; c4 < " + glsl_int(cg4) + "; ++c4) {\n";
        t += "    mat4 wm = mat4(getW4(m, c4, ky, kx), getW4(m + 1, c4, ky, kx), getW4(m + 2, c4, ky, kx),\n";
        t += "                   getW4(m + 3, c4, ky, kx));\n";
        for (int q = 0; q < 4; ++q) t += "    a" + std::to_string(q) + " += " + x(q, "cb + c4") + " * wm;\n";
      }
      return t + "  }\n";
    });
    return std::vector<ProgramInfo>{p};
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
