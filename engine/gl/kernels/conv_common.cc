// Conv, 1-D and 2-D, direct: what the candidates share. Groups (incl.
// depthwise), strides, dilations, explicit and auto pads (ops/window.h),
// optional bias.
#include "engine/gl/kernels/conv_common.h"

#include <set>

#include "engine/gl/kernels/kernels.h"
#include "engine/gl/layout/texture_layout.h"
#include "engine/ops/fused_activation.h"

namespace glint::gl::conv {

bool common_supports(const KernelContext& ctx, std::string* why) {
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

bool supports_if(const KernelContext& ctx, std::string* why, bool (*accepts)(const ConvShape&), const char* reason) {
  if (!common_supports(ctx, why)) return false;
  auto c = conv_shape(ctx);
  if (!c.ok()) return decline(why, c.status().message());
  return accepts(*c) || decline(why, reason);
}

Result<ConvShape> conv_shape(const KernelContext& ctx) {
  ConvShape c;
  const ir::Node& node = *ctx.node;
  c.x = ctx.inputs[0]->shape;
  c.w = ctx.inputs[1]->shape;
  c.y = ctx.outputs[0].shape;
  c.k = c.x.size() - 2;
  c.in_sp = Shape(c.x.begin() + 2, c.x.end());
  c.out_sp = Shape(c.y.begin() + 2, c.y.end());
  GLINT_ASSIGN_OR_RETURN(c.win, resolve_window(node, c.in_sp, c.out_sp,
                                               std::vector<int64_t>(c.w.begin() + 2, c.w.end())));
  c.group = node.attr_int("group", 1);
  c.cg = c.w[1];
  c.mg = c.w[0] / c.group;
  c.bias = node.has_input(2) && ctx.inputs.size() > 2 && ctx.inputs[2];
  if (fused_residual_input(node) >= 0) {
    if (ctx.inputs.size() <= 3 || !ctx.inputs[3] || ctx.inputs[3]->shape != c.y ||
        ctx.inputs[3]->dtype != ctx.outputs[0].dtype)
      return invalid_argument(node.describe() + ": the fused residual does not match the output " + shape_str(c.y));
    c.residual = true;
  }
  c.vec4_ok = c.k == 2 && !is_int_like(ctx.outputs[0].dtype);
  return c;
}

// Loops over the 2-D window of output pixel (oc[2], oc[3]) declaring ih/iw
// and skipping taps in the padding; `inner` is the loop body. Per axis: a
// loop over the taps, or none for a 1-wide window; the bounds check only
// where a tap can fall into the padding.
std::vector<std::string> input_extents(ProgramInfo& p, const ConvShape& c) {
  std::vector<std::string> e(2);
  const char* names[2] = {"CONV_IN_H", "CONV_IN_W"};
  for (int d = 0; d < 2; ++d)
    if (c.win.pad_begin[d] > 0 || c.win.pad_end[d] > 0) e[d] = shape_int(p, names[d], c.in_sp[d]);
  return e;
}

std::string window_loops_2d(const Window& win, const std::vector<std::string>& in_extent, const std::string& inner) {
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
    if (may_pad) s += ind + "if (" + idx[d] + " < 0 || " + idx[d] + " >= " + in_extent[d] + ") continue;\n";
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
std::string tile_body(const Window& win, const std::vector<std::string>& in_extent, const std::string& prologue,
                      const std::string& channel_loop, const std::vector<std::string>& x_blocks,
                      const std::function<std::vector<std::string>(int64_t kx, const ColumnFn& x)>& tap,
                      bool residual, const std::string& pad) {
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
  if (pad_y) s += ind + "if (ih < 0 || ih >= " + in_extent[0] + ") continue;\n";
  s += ind + "int iw = oc[3] * " + glsl_int(win.strides[1]) + " - " + glsl_int(win.pad_begin[1]) + ";\n";
  // The columns (offsets from iw) the row's taps read.
  const int64_t sx = win.strides[1], dx = win.dilations[1], kw = win.kernel[1];
  std::set<int64_t> columns;
  for (int p = 0; p < kPlanePixels; ++p)
    for (int64_t kx = 0; kx < kw; ++kx) columns.insert(p * sx + kx * dx);
  // Columns in the padding read `pad`: a select, not a branch, which a SIMD
  // rasterizer would run for every pixel anyway. Pixels past the output
  // row's end are computed from whatever lies there and never stored.
  const bool guard = win.pad_begin[1] > 0 || win.pad_end[1] > 0;
  auto col = [](int64_t j) { return j == 0 ? std::string("iw") : "iw + " + glsl_int(j); };
  if (guard)
    for (int64_t j : columns)
      s += ind + "bvec4 in" + std::to_string(j) + " = bvec4(" + col(j) + " >= 0 && " + col(j) + " < " +
           in_extent[1] + ");\n";
  if (!channel_loop.empty()) {
    s += ind + channel_loop + "\n";
    close = ind + "}\n" + close;
    ind += "  ";
  }
  // One cursor per block at the tile's first column (oc[3] * stride, a
  // multiple of 4 as a planes cursor needs), each column a literal from it.
  auto x_name = [](size_t b, int64_t j) { return "x" + std::to_string(b) + "_" + std::to_string(j); };
  for (size_t b = 0; b < x_blocks.size(); ++b) {
    const std::string cursor = "xc" + std::to_string(b);
    s += ind + "vec4 " + cursor + " = getXCursor(n, " + x_blocks[b] + ", ih, oc[3] * " + glsl_int(win.strides[1]) + ");\n";
    for (int64_t j : columns) {
      const std::string g = "getX4At(" + cursor + ", 0, 0, " + glsl_int(j - win.pad_begin[1]) + ")";
      s += ind + "vec4 " + x_name(b, j) + " = " +
           (guard ? "mix(" + pad + ", " + g + ", in" + std::to_string(j) + ")" : g) + ";\n";
    }
  }
  for (int64_t kx = 0; kx < kw; ++kx)
    for (const std::string& statement : tap(kx, [&](int b, int p) { return x_name(b, p * sx + kx * dx); }))
      s += ind + statement + "\n";
  s += close;
  for (int g = 0; g < kPlaneBlocks; ++g)
    for (int p = 0; p < kPlanePixels; ++p) {
      const std::string t = std::to_string(g * kPlanePixels + p);
      s += "  q" + t + " = a" + t +
           residual4(residual, g ? "m + " + std::to_string(4 * g) : "m", p ? "oc[3] + " + std::to_string(p) : "oc[3]") +
           ";\n";
    }
  return s + "}\n";
}

std::string residual4(bool residual, const std::string& m0, const std::string& w) {
  return residual ? " + getR4(n, (" + m0 + ") >> 2, oc[2], " + w + ")" : "";
}

// vec4 of the bias for channels m0 .. m0+3 (m0 a multiple of 4, a GLSL int
// expression), read from the bias pass's channel-packed copy (zero past M),
// or zero without a bias.
std::string bias4(bool bias, const std::string& m0) {
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
  b.reshape_of = 2;
  return b;
}

}  // namespace glint::gl::conv

namespace glint::gl {

namespace {
struct ConvCandidate {
  GpuSupportsFn supports;
  GpuBuildFn build;
};
// In the op table's order (engine/registry/op_table.cc).
constexpr ConvCandidate kConvCandidates[] = {
    {conv_depthwise_supports, conv_depthwise_build},
    {conv_vec4_supports, conv_vec4_build},
    {conv_generic_supports, conv_generic_build},
};
}  // namespace

bool conv_supports(const KernelContext& ctx, std::string* why) {
  for (const ConvCandidate& c : kConvCandidates)
    if (c.supports(ctx, why)) return true;
  return false;
}

Result<std::vector<ProgramInfo>> conv_build(const KernelContext& ctx) {
  std::string why;
  for (const ConvCandidate& c : kConvCandidates)
    if (c.supports(ctx, &why)) return c.build(ctx);
  return unsupported(ctx.node->describe() + ": " + why);
}

}  // namespace glint::gl
