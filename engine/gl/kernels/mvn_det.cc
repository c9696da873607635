// MeanVarianceNormalization (a statistics pass writing mean and mean of
// squares per group, then the normalising map with the CPU kernel's 1e-9)
// and Det (per matrix, Gaussian elimination with partial pivoting in a local
// array, as the CPU kernel; matrices up to 8x8).
#include <algorithm>

#include "engine/gl/kernels/glsl_util.h"
#include "engine/gl/kernels/kernels.h"

namespace glint::gl {

namespace {

constexpr int64_t kMaxDet = 8;

bool mvn_axes(const KernelContext& ctx, std::vector<int64_t>* axes, std::string* why) {
  int64_t r = ctx.inputs[0]->shape.size();
  *axes = ctx.node->attr_ints("axes", {0, 2, 3});
  for (auto& a : *axes) {
    a = normalize_axis(a, r);
    if (a < 0) return decline(why, "axis out of range");
  }
  std::sort(axes->begin(), axes->end());
  axes->erase(std::unique(axes->begin(), axes->end()), axes->end());
  return true;
}

}  // namespace

bool mvn_det_supports(const KernelContext& ctx, std::string* why) {
  if (!float_op(ctx, why)) return false;
  const Shape& x = ctx.inputs[0]->shape;
  if (ctx.node->op_type == "Det") {
    if (x.size() < 2 || x[x.size() - 1] != x[x.size() - 2]) return decline(why, "Det needs square matrices");
    if (x.back() > kMaxDet) return decline(why, "matrices larger than 8x8");
    return true;
  }
  std::vector<int64_t> axes;
  return mvn_axes(ctx, &axes, why);
}

Result<std::vector<ProgramInfo>> mvn_det_build(const KernelContext& ctx) {
  const Shape& x = ctx.inputs[0]->shape;
  const int64_t r = x.size();
  if (ctx.node->op_type == "Det") {
    const int64_t M = x.back();
    const std::string Ms = glsl_int(M), MM = glsl_int(M * M);
    ProgramInfo p;
    p.name = "det";
    p.inputs = {{"X", 0}};
    p.output = ctx.outputs[0];
    p.body = "float process(int oc[OUT_RANK]) {\n  int base = " + flat_index_expr(ctx.outputs[0].shape, "oc") + " * " + MM +
             ";\n  float a[" + MM + "];\n  for (int i = 0; i < " + MM + "; ++i) a[i] = getXFlat(base + i);\n" +
             "  float d = 1.0;\n  for (int c = 0; c < " + Ms + "; ++c) {\n    int p = c;\n" +
             "    for (int r = c + 1; r < " + Ms + "; ++r) if (abs(a[r * " + Ms + " + c]) > abs(a[p * " + Ms + " + c])) p = r;\n" +
             "    if (a[p * " + Ms + " + c] == 0.0) return 0.0;\n" +
             "    if (p != c) {\n      for (int k = 0; k < " + Ms + "; ++k) { float t = a[p * " + Ms + " + k]; a[p * " + Ms +
             " + k] = a[c * " + Ms + " + k]; a[c * " + Ms + " + k] = t; }\n      d = -d;\n    }\n" +
             "    d *= a[c * " + Ms + " + c];\n    for (int r = c + 1; r < " + Ms + "; ++r) {\n      float f = a[r * " + Ms +
             " + c] / a[c * " + Ms + " + c];\n      for (int k = c; k < " + Ms + "; ++k) a[r * " + Ms + " + k] -= f * a[c * " +
             Ms + " + k];\n    }\n  }\n  return d;\n}\n";
    return std::vector<ProgramInfo>{p};
  }
  std::vector<int64_t> axes;
  std::string why;
  if (!mvn_axes(ctx, &axes, &why)) return unsupported(why);
  // Statistics shape: x with the reduced axes set to 1, plus a trailing 2.
  Shape kept = x;
  int64_t count = 1;
  for (int64_t a : axes) {
    count *= x[a];
    kept[a] = 1;
  }
  Shape stats = kept;
  stats.push_back(2);
  std::vector<int64_t> rdims;
  for (int64_t a : axes) rdims.push_back(x[a]);
  std::string s = "float process(int oc[OUT_RANK]) {\n  int c[" + std::to_string(std::max<int64_t>(r, 1)) + "];\n";
  for (int64_t d = 0; d < r; ++d) s += "  c[" + std::to_string(d) + "] = oc[" + std::to_string(d) + "];\n";
  s += "  float acc = 0.0;\n  for (int t = 0; t < " + glsl_int(count) + "; ++t) {\n    int rem = t;\n";
  for (size_t j = axes.size(); j-- > 0;) {
    s += "    c[" + std::to_string(axes[j]) + "] = rem % " + glsl_int(rdims[j]) + "; rem /= " + glsl_int(rdims[j]) + ";\n";
  }
  std::vector<std::string> xa;
  for (int64_t d = 0; d < r; ++d) xa.push_back("c[" + std::to_string(d) + "]");
  s += "    float v = " + getter("X", xa) + ";\n    acc += oc[" + std::to_string(r) + "] == 0 ? v : v * v;\n  }\n  return acc / " +
       glsl_float(static_cast<double>(count)) + ";\n}\n";
  ProgramInfo st;
  st.name = "mvn_stats";
  st.inputs = {{"X", 0}};
  st.output = TensorDesc{DataType::kFloat32, stats};
  st.node_output = -1;
  st.body = s;
  std::vector<std::string> sa;
  for (int64_t d = 0; d < r; ++d)
    sa.push_back(std::binary_search(axes.begin(), axes.end(), d) ? "0" : "oc[" + std::to_string(d) + "]");
  auto sa0 = sa, sa1 = sa;
  sa0.push_back("0");
  sa1.push_back("1");
  ProgramInfo nm;
  nm.name = "mvn";
  nm.inputs = {{"X", 0}, {"S", -1}};
  nm.output = ctx.outputs[0];
  nm.body = "float process(int oc[OUT_RANK]) {\n  float mean = " + getter("S", sa0) + ";\n  float var = max(0.0, " +
            getter("S", sa1) + " - mean * mean);\n  return (" + getter_oc("X", r) + " - mean) / sqrt(var + 1e-9);\n}\n";
  return std::vector<ProgramInfo>{st, nm};
}

}  // namespace glint::gl
