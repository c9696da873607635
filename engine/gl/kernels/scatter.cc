// Index-driven data movement with run-time (sampled) indices: GatherElements,
// GatherND (batch_dims), ScatterElements and ScatterND (reduction none / add
// / mul / max / min). A scatter's output element scans every update for the
// ones that land on it (indices are small in the models that use these;
// later updates win, as in the CPU kernel's sequential loop). Negative
// indices count from the end of their axis.
#include "engine/gl/kernels/glsl_util.h"
#include "engine/gl/kernels/kernels.h"

namespace glint::gl {

namespace {

constexpr int64_t kMaxScanned = 1 << 16;  // updates a scatter fragment may scan

std::string wrap_index(const std::string& v, int64_t dim) {
  return "int(" + v + ") < 0 ? int(" + v + ") + " + glsl_int(dim) + " : int(" + v + ")";
}

std::string combine(const std::string& red, const std::string& acc, const std::string& u) {
  if (red == "add") return acc + " + " + u;
  if (red == "mul") return acc + " * " + u;
  if (red == "max") return "max(" + acc + ", " + u + ")";
  if (red == "min") return "min(" + acc + ", " + u + ")";
  return u;
}

bool reduction_ok(const KernelContext& ctx, std::string* why) {
  std::string r = ctx.node->attr_string("reduction", "none");
  if (r != "none" && r != "add" && r != "mul" && r != "max" && r != "min")
    return decline(why, "unknown reduction '" + r + "'");
  return true;
}

}  // namespace

bool index_data_supports(const KernelContext& ctx, std::string* why) {
  if (!any_dtype_op(ctx, why)) return false;
  const std::string& op = ctx.node->op_type;
  bool scatter = op == "ScatterElements" || op == "ScatterND" || op == "Scatter";
  size_t want = scatter ? 3 : 2;
  if (ctx.inputs.size() < want) return decline(why, op + " needs " + std::to_string(want) + " inputs");
  for (size_t i = 0; i < want; ++i)
    if (!ctx.inputs[i]) return decline(why, "an input is missing");
  const Shape& x = ctx.inputs[0]->shape;
  const Shape& idx = ctx.inputs[1]->shape;
  if (x.empty()) return decline(why, "a scalar data input");
  if (scatter && !reduction_ok(ctx, why)) return false;
  if (scatter && shape_size(idx) > kMaxScanned) return decline(why, "too many updates to scan per element");
  if (op == "GatherElements" || op == "ScatterElements" || op == "Scatter") {
    if (idx.size() != x.size()) return decline(why, "indices rank differs from the data rank");
    if (normalize_axis(ctx.node->attr_int("axis", 0), x.size()) < 0) return decline(why, "axis out of range");
  } else {
    if (idx.empty()) return decline(why, "scalar indices");
    int64_t b = ctx.node->attr_int("batch_dims", 0);
    int64_t k = idx.back();
    if (b != 0 && op == "ScatterND") return decline(why, "batch_dims");
    if (b < 0 || k < 1 || b + k > static_cast<int64_t>(x.size()) || b >= static_cast<int64_t>(idx.size()))
      return decline(why, "index depth does not fit the data rank");
  }
  return true;
}

Result<std::vector<ProgramInfo>> index_data_build(const KernelContext& ctx) {
  const std::string& op = ctx.node->op_type;
  const Shape& x = ctx.inputs[0]->shape;
  const Shape& is = ctx.inputs[1]->shape;
  const int64_t r = x.size();
  ProgramInfo p;
  p.name = op;
  for (auto& c : p.name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  p.inputs = {{"X", 0}, {"I", 1}};
  p.output = ctx.outputs[0];
  std::string body = "float process(int oc[OUT_RANK]) {\n";
  if (op == "GatherElements") {
    int64_t axis = normalize_axis(ctx.node->attr_int("axis", 0), r);
    body += "  int c[OUT_RANK] = oc;\n  float v = " + getter_oc("I", r) + ";\n  c[" + std::to_string(axis) +
            "] = " + wrap_index("v", x[axis]) + ";\n  return " + getter_oc("X", r, "c") + ";\n";
  } else if (op == "GatherND") {
    const int64_t b = ctx.node->attr_int("batch_dims", 0), k = is.back(), ri = is.size();
    // Output dims: indices dims [0, ri-1), then data dims [b + k, r).
    body += "  int c[" + std::to_string(r) + "];\n";
    for (int64_t d = 0; d < b; ++d) body += "  c[" + std::to_string(d) + "] = oc[" + std::to_string(d) + "];\n";
    for (int64_t j = 0; j < k; ++j) {
      std::vector<std::string> ia;
      for (int64_t d = 0; d < ri - 1; ++d) ia.push_back("oc[" + std::to_string(d) + "]");
      ia.push_back(std::to_string(j));
      std::string v = "v" + std::to_string(j);
      body += "  float " + v + " = " + getter("I", ia) + ";\n  c[" + std::to_string(b + j) + "] = " +
              wrap_index(v, x[b + j]) + ";\n";
    }
    for (int64_t d = b + k; d < r; ++d)
      body += "  c[" + std::to_string(d) + "] = oc[" + std::to_string(ri - 1 + d - b - k) + "];\n";
    std::vector<std::string> xa;
    for (int64_t d = 0; d < r; ++d) xa.push_back("c[" + std::to_string(d) + "]");
    body += "  return " + getter("X", xa) + ";\n";
  } else {
    // Scatters: start from the data, apply every update aimed at oc.
    p.inputs.push_back({"U", 2});
    std::string red = ctx.node->attr_string("reduction", "none");
    body += "  float acc = " + getter_oc("X", r) + ";\n";
    if (op == "ScatterND") {
      const int64_t k = is.back(), rows = shape_size(is) / k;
      const int64_t slice = shape_size(Shape(x.begin() + k, x.end()));
      body += "  for (int row = 0; row < " + glsl_int(rows) + "; ++row) {\n    bool hit = true;\n";
      for (int64_t j = 0; j < k; ++j) {
        std::string v = "getIFlat(row * " + glsl_int(k) + " + " + std::to_string(j) + ")";
        body += "    if ((" + wrap_index(v, x[j]) + ") != oc[" + std::to_string(j) + "]) hit = false;\n";
      }
      std::string rest = "0";
      {
        auto st = shape_strides(x);
        for (int64_t d = k; d < r; ++d) rest += " + oc[" + std::to_string(d) + "] * " + glsl_int(st[d]);
      }
      body += "    if (hit) acc = " + combine(red, "acc", "getUFlat(row * " + glsl_int(slice) + " + " + rest + ")") +
              ";\n  }\n";
    } else {
      int64_t axis = normalize_axis(ctx.node->attr_int("axis", 0), r);
      body += "  for (int j = 0; j < " + glsl_int(shape_size(is)) + "; ++j) {\n    " +
              unflatten_stmt(is, "j", "u") + "    bool hit = true;\n";
      for (int64_t d = 0; d < r; ++d) {
        if (d == axis) continue;
        body += "    if (u[" + std::to_string(d) + "] != oc[" + std::to_string(d) + "]) hit = false;\n";
      }
      body += "    float iv = getIFlat(j);\n    if ((" + wrap_index("iv", x[axis]) + ") != oc[" +
              std::to_string(axis) + "]) hit = false;\n    if (hit) acc = " +
              combine(red, "acc", "getUFlat(j)") + ";\n  }\n";
    }
    body += "  return acc;\n";
  }
  p.body = body + "}\n";
  return std::vector<ProgramInfo>{p};
}

}  // namespace glint::gl
