// Unique (sorted or first-occurrence order, with or without axis) when its
// output length is known when the programs are built (input on the CPU).
// Slices along the axis (or single elements without one) are compared
// lexicographically in the shader; each output replays the grouping for the
// positions it needs, as the CPU kernel defines them: Y, the first index of
// each unique slice, the inverse indices and the counts. Cubic in the axis
// length, so limited to small inputs.
#include "engine/gl/kernels/glsl_util.h"
#include "engine/gl/kernels/kernels.h"

namespace glint::gl {

namespace {

constexpr int64_t kMaxWork = int64_t{1} << 22;  // len^3 * slice

struct Geometry {
  bool has_axis = false;
  int64_t axis = 0, len = 1, outer = 1, inner = 1;
};

Geometry geometry_of(const KernelContext& ctx) {
  const Shape& x = ctx.inputs[0]->shape;
  Geometry g;
  g.has_axis = ctx.node->has_attr("axis");
  if (g.has_axis) {
    g.axis = normalize_axis(ctx.node->attr_int("axis", 0), x.size());
    g.len = x[g.axis];
    for (int64_t i = 0; i < g.axis; ++i) g.outer *= x[i];
    for (size_t i = g.axis + 1; i < x.size(); ++i) g.inner *= x[i];
  } else {
    g.len = shape_size(x);
  }
  return g;
}

}  // namespace

bool unique_supports(const KernelContext& ctx, std::string* why) {
  if (!any_dtype_op(ctx, why)) return false;
  const Shape& x = ctx.inputs[0]->shape;
  if (ctx.node->has_attr("axis") && normalize_axis(ctx.node->attr_int("axis", 0), x.size()) < 0)
    return decline(why, "axis out of range");
  Geometry g = geometry_of(ctx);
  if (g.len * g.len * g.len * g.outer * g.inner > kMaxWork) return decline(why, "input too large for the GPU Unique");
  return true;
}

Result<std::vector<ProgramInfo>> unique_build(const KernelContext& ctx) {
  const Geometry g = geometry_of(ctx);
  const bool sorted = ctx.node->attr_int("sorted", 1) != 0;
  const std::string L = glsl_int(g.len);
  std::string h =
      "int uq_cmp(int a, int b) {\n  for (int o = 0; o < " + glsl_int(g.outer) + "; ++o) {\n    for (int i = 0; i < " +
      glsl_int(g.inner) + "; ++i) {\n      float va = getXFlat((o * " + L + " + a) * " + glsl_int(g.inner) +
      " + i);\n      float vb = getXFlat((o * " + L + " + b) * " + glsl_int(g.inner) +
      " + i);\n      if (va < vb) return -1;\n      if (va > vb) return 1;\n    }\n  }\n  return 0;\n}\n"
      "int uq_rep(int a) {\n  for (int s = 0; s < " + L + "; ++s) { if (s >= a) break; if (uq_cmp(s, a) == 0) return s; }\n  return a;\n}\n"
      "int uq_pos(int a) {\n  int r = uq_rep(a);\n  int n = 0;\n  for (int s = 0; s < " + L +
      "; ++s) {\n    if (uq_rep(s) != s) continue;\n" +
      (sorted ? "    if (uq_cmp(s, r) < 0) ++n;\n" : "    if (s < r) ++n;\n") +
      "  }\n  return n;\n}\n"
      "int uq_find(int j) {\n  for (int s = 0; s < " + L + "; ++s) if (uq_rep(s) == s && uq_pos(s) == j) return s;\n  return 0;\n}\n";
  std::vector<ProgramInfo> passes;
  auto add = [&](int out, const std::string& name, const std::string& body) {
    if (!ctx.node->has_output(out) || static_cast<size_t>(out) >= ctx.outputs.size()) return;
    ProgramInfo p;
    p.name = name;
    p.inputs = {{"X", 0}};
    p.output = ctx.outputs[out];
    p.node_output = out;
    p.body = h + "float process(int oc[OUT_RANK]) {\n" + body + "}\n";
    passes.push_back(p);
  };
  if (g.has_axis) {
    std::vector<std::string> args;
    for (size_t d = 0; d < ctx.inputs[0]->shape.size(); ++d)
      args.push_back(static_cast<int64_t>(d) == g.axis ? "uq_find(oc[" + std::to_string(d) + "])" : "oc[" + std::to_string(d) + "]");
    add(0, "unique_y", "  return " + getter("X", args) + ";\n");
  } else {
    add(0, "unique_y", "  return getXFlat(uq_find(oc[0]));\n");
  }
  add(1, "unique_indices", "  return float(uq_find(oc[0]));\n");
  add(2, "unique_inverse", "  return float(uq_pos(oc[0]));\n");
  add(3, "unique_counts", "  int a = uq_find(oc[0]);\n  int n = 0;\n  for (int s = 0; s < " + L +
                              "; ++s) if (uq_cmp(s, a) == 0) ++n;\n  return float(n);\n");
  return passes;
}

}  // namespace glint::gl
