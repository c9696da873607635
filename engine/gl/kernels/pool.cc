// MaxPool / AveragePool / LpPool (1-D to 3-D windows: pads, auto_pad,
// strides, dilations, ceil_mode via the inferred output shape,
// count_include_pad) and GlobalAveragePool / GlobalMaxPool / GlobalLpPool.
// One output element per fragment, or for a 2-D float MaxPool into a planes
// output a tile of 4 pixels x 8 channels (conv::tile_body: neighbouring
// windows share their columns' fetches).
#include <algorithm>

#include "engine/gl/kernels/conv_common.h"
#include "engine/gl/kernels/glsl_util.h"
#include "engine/gl/kernels/kernels.h"
#include "engine/gl/layout/texture_layout.h"

namespace glint::gl {

namespace {

// -infinity as GLSL: where a max starts, and what padding reads in the tile.
const std::string kMinusInf = "uintBitsToFloat(0xff800000u)";

bool spatial_ok(const KernelContext& ctx, std::string* why) {
  // MaxPool is exact on integers (a max of exact floats) and writes int64
  // Indices; the other pools average.
  bool int_ok = ctx.node->op_type == "MaxPool";
  if (!(int_ok ? any_dtype_op(ctx, why) : float_op(ctx, why))) return false;
  size_t rank = ctx.inputs[0]->shape.size();
  if (rank < 3 || rank > 5) return decline(why, "input rank " + std::to_string(rank) + " is not 1-D..3-D pooling");
  return true;
}

// LpPool's p: a float attribute in opset 1, an int from opset 2 (default 2).
double lp_p(const ir::Node& n) {
  const ir::Attribute* a = n.attr("p");
  if (!a) return 2.0;
  return a->kind == ir::Attribute::Kind::kFloat ? a->f : static_cast<double>(a->i);
}
std::string lp_term(double p, const std::string& v) {
  if (p == 1.0) return "abs(" + v + ")";
  if (p == 2.0) return "(" + v + ") * (" + v + ")";
  return "pow(abs(" + v + "), " + glsl_float(p) + ")";
}
std::string lp_root(double p, const std::string& acc) {
  if (p == 1.0) return acc;
  if (p == 2.0) return "sqrt(" + acc + ")";
  return "pow(" + acc + ", " + glsl_float(1.0 / p) + ")";
}

}  // namespace

bool pool_supports(const KernelContext& ctx, std::string* why) {
  if (ctx.node->has_output(1) && ctx.node->op_type != "MaxPool")
    return decline(why, "the Indices output is MaxPool's only");
  if (!spatial_ok(ctx, why)) return false;
  size_t k = ctx.inputs[0]->shape.size() - 2;
  if (ctx.node->attr_ints("kernel_shape").size() != k)
    return decline(why, "kernel_shape does not match the input rank");
  const Shape& x = ctx.inputs[0]->shape;
  const Shape& y = ctx.outputs[0].shape;
  if (y.size() != x.size()) return decline(why, "output rank differs from input rank");
  auto win = resolve_window(*ctx.node, Shape(x.begin() + 2, x.end()), Shape(y.begin() + 2, y.end()),
                            ctx.node->attr_ints("kernel_shape"));
  if (!win.ok()) return decline(why, win.status().message());
  return true;
}

Result<std::vector<ProgramInfo>> pool_build(const KernelContext& ctx) {
  const ir::Node& node = *ctx.node;
  bool is_max = node.op_type == "MaxPool";
  bool is_lp = node.op_type == "LpPool";
  const Shape& x = ctx.inputs[0]->shape;
  const Shape& y = ctx.outputs[0].shape;
  size_t k = x.size() - 2;
  Shape in_sp(x.begin() + 2, x.end()), out_sp(y.begin() + 2, y.end());
  GLINT_ASSIGN_OR_RETURN(Window win, resolve_window(node, in_sp, out_sp, node.attr_ints("kernel_shape")));
  bool include_pad = !is_lp && node.attr_int("count_include_pad", 0) != 0;

  ProgramInfo p;
  p.name = is_max ? "maxpool" : is_lp ? "lppool" : "avgpool";
  p.inputs = {{"X", 0}};
  p.output = ctx.outputs[0];
  // 2-D float pools: four channels per fragment (one fetch per tap).
  const bool v4 = k == 2 && !is_lp && !is_int_like(ctx.outputs[0].dtype);
  const std::string T = v4 ? "vec4" : "float";
  p.vec4_body = v4;
  // The vec4 body reads X through getX4 only, so its extents can be uniforms.
  p.shape_uniforms = v4 && ctx.shape_uniforms;
  const char* const extent_names[2] = {"POOL_IN_H", "POOL_IN_W"};
  auto in_extent = [&](size_t d, int64_t plus) {
    return d < 2 ? shape_int(p, std::string(extent_names[d]) + (plus ? "_PADDED" : ""), in_sp[d] + plus)
                 : glsl_int(in_sp[d] + plus);
  };
  std::string s = v4 ? "vec4 process4(int oc[4]) {\n" : "float process(int oc[OUT_RANK]) {\n";
  s += is_max ? "  " + T + " acc = " + T + "(" + kMinusInf + ");\n"
              : "  " + T + " acc = " + T + "(0.0);\n  int count = 0;\n";
  if (!is_max && include_pad) {
    // The divisor counts window positions inside the padded input (a ceil_mode
    // window may run past the end padding; those positions do not count).
    std::string cnt = "1";
    for (size_t d = 0; d < k; ++d) {
      std::string lo = "oc[" + std::to_string(d + 2) + "] * " + glsl_int(win.strides[d]) + " - " +
                       glsl_int(win.pad_begin[d]);
      std::string kv = "c" + std::to_string(d);
      s += "  int " + kv + " = 0;\n";
      s += "  for (int k = 0; k < " + glsl_int(win.kernel[d]) + "; ++k) { int i = " + lo + " + k * " +
           glsl_int(win.dilations[d]) + "; if (i >= " + glsl_int(-win.pad_begin[d]) + " && i < " +
           in_extent(d, win.pad_end[d]) + ") ++" + kv + "; }\n";
      cnt += " * " + kv;
    }
    s += "  count = " + cnt + ";\n";
  }
  std::string ind = "  ";
  std::vector<std::string> xi = {"oc[0]", "oc[1]"};
  for (size_t d = 0; d < k; ++d) {
    std::string i = "i" + std::to_string(d), kv = "k" + std::to_string(d);
    s += ind + "for (int " + kv + " = 0; " + kv + " < " + glsl_int(win.kernel[d]) + "; ++" + kv + ") {\n";
    ind += "  ";
    s += ind + "int " + i + " = oc[" + std::to_string(d + 2) + "] * " + glsl_int(win.strides[d]) +
         " + " + kv + " * " + glsl_int(win.dilations[d]) + " - " + glsl_int(win.pad_begin[d]) + ";\n";
    s += ind + "if (" + i + " < 0 || " + i + " >= " + in_extent(d, 0) + ") continue;\n";
    xi.push_back(i);
  }
  const std::string x_at = v4 ? "getX4(oc[0], oc[1] / 4, i0, i1)" : getter("X", xi);
  if (is_max) {
    s += ind + "acc = max(acc, " + x_at + ");\n";
  } else if (is_lp) {
    s += ind + "acc += " + lp_term(lp_p(node), getter("X", xi)) + ";\n";
  } else {
    s += ind + "acc += " + x_at + ";\n";
    if (!include_pad) s += ind + "++count;\n";
  }
  for (size_t d = 0; d < k; ++d) {
    ind.resize(ind.size() - 2);
    s += ind + "}\n";
  }
  if (is_lp) s += "  return " + lp_root(lp_p(node), "acc") + ";\n}\n";
  else s += is_max ? "  return acc;\n}\n" : "  return count > 0 ? acc / float(count) : " + T + "(0.0);\n}\n";
  p.body = s;
  if (is_max && v4) {
    // A ceil_mode window may run past the end padding: the tile guards
    // those columns and rows as padding too.
    Window tile_win = win;
    for (size_t d = 0; d < 2; ++d)
      tile_win.pad_end[d] = std::max(tile_win.pad_end[d], (out_sp[d] - 1) * win.strides[d] +
                                                             (win.kernel[d] - 1) * win.dilations[d] + 1 -
                                                             win.pad_begin[d] - in_sp[d]);
    std::vector<std::string> extents(2);
    for (size_t d = 0; d < 2; ++d)
      if (tile_win.pad_begin[d] > 0 || tile_win.pad_end[d] > 0) extents[d] = in_extent(d, 0);
    const std::string lowest = "vec4(" + kMinusInf + ")";
    p.tile_body = true;
    p.body += conv::tile_body(tile_win, extents,
                              "  int n = oc[0];\n  int m4 = oc[1] / 4;\n  vec4 acc0 = " + lowest + ", acc1 = acc0;\n", "",
                              {"m4", "m4 + 1"},
                              [](int64_t, const conv::ColumnFn& x) {
                                std::vector<std::string> t;
                                for (int g = 0; g < kPlaneBlocks; ++g)
                                  for (int q = 0; q < kPlanePixels; ++q) {
                                    const std::string a = "a" + std::to_string(g * kPlanePixels + q);
                                    t.push_back(a + " = max(" + a + ", " + x(g, q) + ");");
                                  }
                                return t;
                              }, false, lowest);
  }
  std::vector<ProgramInfo> passes{p};
  if (is_max && node.has_output(1) && ctx.outputs.size() > 1) {
    // Indices: the flat input index of the first maximum (row-major, or with
    // the last two spatial dims swapped for storage_order 1), as the CPU kernel.
    bool col = node.attr_int("storage_order", 0) != 0;
    std::vector<int64_t> st(k);
    int64_t acc = 1;
    std::vector<size_t> order(k);
    for (size_t d = 0; d < k; ++d) order[d] = d;
    if (col && k >= 2) std::swap(order[k - 1], order[k - 2]);
    for (size_t j = k; j-- > 0;) {
      st[order[j]] = acc;
      acc *= in_sp[order[j]];
    }
    std::string flat = "(oc[0] * " + glsl_int(x[1]) + " + oc[1]) * " + glsl_int(acc);
    for (size_t d = 0; d < k; ++d) flat += " + i" + std::to_string(d) + " * " + glsl_int(st[d]);
    std::string t = "float process(int oc[OUT_RANK]) {\n  float acc = " + kMinusInf + ";\n  int best = -1;\n";
    std::string in2 = "  ";
    for (size_t d = 0; d < k; ++d) {
      std::string i = "i" + std::to_string(d), kv = "k" + std::to_string(d);
      t += in2 + "for (int " + kv + " = 0; " + kv + " < " + glsl_int(win.kernel[d]) + "; ++" + kv + ") {\n";
      in2 += "  ";
      t += in2 + "int " + i + " = oc[" + std::to_string(d + 2) + "] * " + glsl_int(win.strides[d]) + " + " + kv +
           " * " + glsl_int(win.dilations[d]) + " - " + glsl_int(win.pad_begin[d]) + ";\n";
      t += in2 + "if (" + i + " < 0 || " + i + " >= " + glsl_int(in_sp[d]) + ") continue;\n";
    }
    t += in2 + "float v = " + getter("X", xi) + ";\n" + in2 + "if (best < 0 || v > acc) { acc = v; best = " + flat +
         "; }\n";
    for (size_t d = 0; d < k; ++d) {
      in2.resize(in2.size() - 2);
      t += in2 + "}\n";
    }
    ProgramInfo ip;
    ip.name = "maxpool_indices";
    ip.inputs = {{"X", 0}};
    ip.output = ctx.outputs[1];
    ip.node_output = 1;
    ip.body = t + "  return float(best);\n}\n";
    passes.push_back(ip);
  }
  return passes;
}

bool global_pool_supports(const KernelContext& ctx, std::string* why) {
  if (!spatial_ok(ctx, why)) return false;
  const Shape& x = ctx.inputs[0]->shape;
  return loop_fits(shape_size(Shape(x.begin() + 2, x.end())), "the pool over every pixel", why);
}

Result<std::vector<ProgramInfo>> global_pool_build(const KernelContext& ctx) {
  bool is_max = ctx.node->op_type == "GlobalMaxPool";
  bool is_lp = ctx.node->op_type == "GlobalLpPool";
  const Shape& x = ctx.inputs[0]->shape;
  Shape sp(x.begin() + 2, x.end());
  int64_t area = shape_size(sp);
  ProgramInfo p;
  p.name = is_max ? "global_maxpool" : is_lp ? "global_lppool" : "global_avgpool";
  p.inputs = {{"X", 0}};
  p.output = ctx.outputs[0];
  if (x.size() == 4 && !is_lp && !is_int_like(ctx.outputs[0].dtype)) {
    // Four channels per fragment, one fetch per pixel.
    p.vec4_body = true;
    std::string s = "vec4 process4(int oc[4]) {\n  int c4 = oc[1] / 4;\n";
    s += is_max ? "  vec4 acc = vec4(" + kMinusInf + ");\n" : "  vec4 acc = vec4(0.0);\n";
    s += "  for (int h = 0; h < " + glsl_int(x[2]) + "; ++h) {\n    for (int w = 0; w < " + glsl_int(x[3]) +
         "; ++w) {\n";
    s += is_max ? "      acc = max(acc, getX4(oc[0], c4, h, w));\n" : "      acc += getX4(oc[0], c4, h, w);\n";
    s += "    }\n  }\n";
    s += is_max ? "  return acc;\n}\n" : "  return acc / " + glsl_float(static_cast<double>(area)) + ";\n}\n";
    p.body = s;
    return std::vector<ProgramInfo>{p};
  }
  // Walk the spatial block through flat indices: it is contiguous in X.
  std::string base = "(oc[0] * " + glsl_int(x[1]) + " + oc[1]) * " + glsl_int(area);
  std::string s = "float process(int oc[OUT_RANK]) {\n  int base = " + base + ";\n";
  if (is_max) {
    s += "  float acc = " + kMinusInf + ";\n";
    s += "  for (int i = 0; i < " + glsl_int(area) + "; ++i) acc = max(acc, getXFlat(base + i));\n";
    s += "  return acc;\n}\n";
  } else if (is_lp) {
    double lp = lp_p(*ctx.node);
    s += "  float acc = 0.0;\n  for (int i = 0; i < " + glsl_int(area) + "; ++i) { float v = getXFlat(base + i); acc += " +
         lp_term(lp, "v") + "; }\n  return " + lp_root(lp, "acc") + ";\n}\n";
  } else {
    int64_t a4 = area / 4 * 4;
    s += "  float acc = 0.0;\n";
    if (a4 > 0)
      s += "  for (int i = 0; i < " + glsl_int(a4) + "; i += 4) acc += dot(vec4(getXFlat(base + i), "
           "getXFlat(base + i + 1), getXFlat(base + i + 2), getXFlat(base + i + 3)), vec4(1.0));\n";
    for (int64_t i = a4; i < area; ++i) s += "  acc += getXFlat(base + " + glsl_int(i) + ");\n";
    s += "  return acc / " + glsl_float(static_cast<double>(area)) + ";\n}\n";
  }
  p.body = s;
  return std::vector<ProgramInfo>{p};
}

}  // namespace glint::gl
