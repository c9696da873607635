// Ops whose output length depends on the data, run on the GPU when that
// length is known when the programs are built (the deciding input lives on
// the CPU, e.g. a feed or a constant): Compress (the j-th selected position
// along the axis, found by scanning the sampled condition) and NonZero (the
// j-th non-zero element's coordinates, int64). MaxUnpool scatters by its
// sampled indices: each output element scans for the input that lands on it.
#include "engine/gl/kernels/glsl_util.h"
#include "engine/gl/kernels/kernels.h"

namespace glint::gl {

bool select_supports(const KernelContext& ctx, std::string* why) {
  if (!any_dtype_op(ctx, why)) return false;
  const std::string& op = ctx.node->op_type;
  if (op == "Compress") {
    if (ctx.inputs.size() < 2 || !ctx.inputs[1] || ctx.inputs[1]->shape.size() != 1)
      return decline(why, "condition must be 1-D");
    if (ctx.node->has_attr("axis") &&
        normalize_axis(ctx.node->attr_int("axis", 0), ctx.inputs[0]->shape.size()) < 0)
      return decline(why, "axis out of range");
  } else if (op == "MaxUnpool") {
    if (ctx.inputs.size() < 2 || !ctx.inputs[1] || ctx.inputs[1]->shape != ctx.inputs[0]->shape)
      return decline(why, "indices must match X");
    if (ctx.inputs[0]->shape.size() < 3 || ctx.outputs[0].shape.size() != ctx.inputs[0]->shape.size())
      return decline(why, "MaxUnpool needs N, C and spatial dims");
  }
  return true;
}

Result<std::vector<ProgramInfo>> select_build(const KernelContext& ctx) {
  const std::string& op = ctx.node->op_type;
  const Shape& x = ctx.inputs[0]->shape;
  ProgramInfo p;
  p.output = ctx.outputs[0];
  if (op == "Compress") {
    const bool has_axis = ctx.node->has_attr("axis");
    const int64_t axis = has_axis ? normalize_axis(ctx.node->attr_int("axis", 0), x.size()) : 0;
    const int64_t limit = std::min<int64_t>(ctx.inputs[1]->shape[0], has_axis ? x[axis] : shape_size(x));
    p.name = "compress";
    p.inputs = {{"X", 0}, {"C", 1}};
    std::string find = "  int j = oc[" + std::to_string(axis) + "];\n  int pos = 0;\n  int count = 0;\n  for (int q = 0; q < " +
                       glsl_int(limit) + "; ++q) {\n    if (getCFlat(q) != 0.0) {\n      if (count == j) { pos = q; break; }\n" +
                       "      ++count;\n    }\n  }\n";
    if (!has_axis) {
      p.body = "float process(int oc[OUT_RANK]) {\n" + find + "  return getXFlat(pos);\n}\n";
    } else {
      std::vector<std::string> args;
      for (size_t d = 0; d < x.size(); ++d)
        args.push_back(static_cast<int64_t>(d) == axis ? "pos" : "oc[" + std::to_string(d) + "]");
      p.body = "float process(int oc[OUT_RANK]) {\n" + find + "  return " + getter("X", args) + ";\n}\n";
    }
  } else if (op == "NonZero") {
    const size_t r = std::max<size_t>(x.size(), 1);
    Shape xs = x.empty() ? Shape{1} : x;
    auto st = shape_strides(xs);
    std::string strides, dims;
    for (size_t d = 0; d < r; ++d) {
      strides += (d ? ", " : "") + glsl_int(st[d]);
      dims += (d ? ", " : "") + glsl_int(xs[d]);
    }
    const std::string R = std::to_string(r);
    p.name = "nonzero";
    p.inputs = {{"X", 0}};
    p.body = "const int NZ_STRIDE[" + R + "] = int[" + R + "](" + strides + ");\nconst int NZ_DIM[" + R + "] = int[" + R +
             "](" + dims + ");\nfloat process(int oc[OUT_RANK]) {\n  int j = oc[1];\n  int count = 0;\n  int pos = 0;\n" +
             "  for (int q = 0; q < " + glsl_int(shape_size(x)) + "; ++q) {\n    if (getXFlat(q) != 0.0) {\n" +
             "      if (count == j) { pos = q; break; }\n      ++count;\n    }\n  }\n" +
             "  return float((pos / NZ_STRIDE[oc[0]]) % NZ_DIM[oc[0]]);\n}\n";
  } else {
    // Indices address the default unpooled shape; with an explicit
    // output_shape they are re-laid out on it, as the CPU kernel does.
    const size_t k = x.size() - 2;
    auto kernel = ctx.node->attr_ints("kernel_shape");
    auto strides = ctx.node->attr_ints("strides", std::vector<int64_t>(k, 1));
    auto pads = ctx.node->attr_ints("pads", std::vector<int64_t>(2 * k, 0));
    if (kernel.size() != k || strides.size() != k || pads.size() != 2 * k)
      return invalid_argument(ctx.node->describe() + ": kernel_shape/strides/pads do not match the input rank");
    Shape dflt = {x[0], x[1]};
    for (size_t d = 0; d < k; ++d) dflt.push_back((x[d + 2] - 1) * strides[d] - pads[d] - pads[d + k] + kernel[d]);
    std::string inside = "true";
    for (size_t d = 0; d < dflt.size(); ++d) inside += " && oc[" + std::to_string(d) + "] < " + glsl_int(dflt[d]);
    p.name = "max_unpool";
    p.inputs = {{"X", 0}, {"I", 1}};
    p.body = "float process(int oc[OUT_RANK]) {\n  if (!(" + inside + ")) return 0.0;\n  float here = float(" +
             flat_index_expr(dflt, "oc") + ");\n  float v = 0.0;\n  for (int q = 0; q < " + glsl_int(shape_size(x)) +
             "; ++q) {\n    if (getIFlat(q) == here) v = getXFlat(q);\n  }\n  return v;\n}\n";
  }
  return std::vector<ProgramInfo>{p};
}

}  // namespace glint::gl
