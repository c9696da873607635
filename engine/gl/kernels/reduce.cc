// Reduce* ops: one output element per fragment, looping over the reduced
// block (baked strides) of the input's flat index. Axes come from the
// attribute (before the opset where they became an input) or a constant
// input; keepdims and noop_with_empty_axes as ONNX says.
#include <algorithm>
#include <map>

#include "engine/gl/kernels/glsl_util.h"
#include "engine/gl/kernels/kernels.h"

namespace glint::gl {

namespace {

struct ReduceDef {
  const char* init;   // accumulator start
  const char* step;   // new acc from `acc` and `v`
  const char* final;  // result from `acc` and `float(N)` as `cnt`
};

const std::map<std::string, ReduceDef>& reduce_defs() {
  static const std::map<std::string, ReduceDef> d = {
      {"ReduceSum", {"0.0", "acc + v", "acc"}},
      {"ReduceMean", {"0.0", "acc + v", "acc / cnt"}},
      {"ReduceMax", {"uintBitsToFloat(0xff800000u)", "max(acc, v)", "acc"}},
      {"ReduceMin", {"uintBitsToFloat(0x7f800000u)", "min(acc, v)", "acc"}},
      {"ReduceProd", {"1.0", "acc * v", "acc"}},
      {"ReduceSumSquare", {"0.0", "acc + v * v", "acc"}},
      {"ReduceL1", {"0.0", "acc + abs(v)", "acc"}},
      {"ReduceL2", {"0.0", "acc + v * v", "sqrt(acc)"}},
      {"ReduceLogSum", {"0.0", "acc + v", "log(acc)"}},
      // Shifted by the block's max (`mx`, a first loop) so exp cannot overflow.
      {"ReduceLogSumExp", {"0.0", "acc + exp(v - mx)", "mx + log(acc)"}},
  };
  return d;
}

// The opset from which `axes` is an input instead of an attribute.
int axes_input_since(const std::string& op) { return op == "ReduceSum" ? 13 : 18; }

// Reduced axes (sorted, normalised, unique); `noop` for empty axes with
// noop_with_empty_axes set.
bool reduced_axes(const KernelContext& ctx, std::vector<int64_t>* axes, bool* noop, std::string* why) {
  const ir::Node& n = *ctx.node;
  int64_t rank = ctx.inputs[0]->shape.size();
  std::vector<int64_t> a;
  if (n.opset >= axes_input_since(n.op_type)) {
    if (n.has_input(1)) {
      const Tensor* c = ctx.constant(1);
      if (!c) return decline(why, "axes is not a constant");
      for (int64_t i = 0; i < c->size(); ++i) a.push_back(c->get_as_int64(i));
    }
  } else {
    a = n.attr_ints("axes");
  }
  *noop = false;
  if (a.empty()) {
    if (n.attr_int("noop_with_empty_axes", 0) != 0) {
      *noop = true;
      return true;
    }
    for (int64_t i = 0; i < rank; ++i) a.push_back(i);
  }
  for (auto& x : a) {
    x = normalize_axis(x, rank);
    if (x < 0) return decline(why, "axis out of range");
  }
  std::sort(a.begin(), a.end());
  a.erase(std::unique(a.begin(), a.end()), a.end());
  *axes = a;
  return true;
}

}  // namespace

bool reduce_supports(const KernelContext& ctx, std::string* why) {
  if (!reduce_defs().count(ctx.node->op_type)) return decline(why, "no GPU kernel for " + ctx.node->op_type);
  if (!any_dtype_op(ctx, why)) return false;
  const std::string& op = ctx.node->op_type;
  DataType t = ctx.outputs[0].dtype;
  // Integer reductions are exact where the GLSL arithmetic is (sums and
  // products of exact integers below 2^24, max, min); the others need floats.
  bool exact_int = op == "ReduceSum" || op == "ReduceMax" || op == "ReduceMin" || op == "ReduceProd" ||
                   op == "ReduceSumSquare" || op == "ReduceL1";
  if (is_int_like(ctx.inputs[0]->dtype) && !exact_int)
    return decline(why, op + " of " + dtype_name(ctx.inputs[0]->dtype) + " needs float arithmetic");
  if (ctx.inputs[0]->dtype != t) return decline(why, "output dtype differs from the input's");
  std::vector<int64_t> axes;
  bool noop;
  if (!reduced_axes(ctx, &axes, &noop, why)) return false;
  int64_t count = 1;
  for (int64_t a : axes) count *= ctx.inputs[0]->shape[a];  // none when noop
  return loop_fits(op == "ReduceLogSumExp" ? 2 * count : count, "the reduction over " + std::to_string(count) +
                   " elements", why);
}

Result<std::vector<ProgramInfo>> reduce_build(const KernelContext& ctx) {
  const ir::Node& n = *ctx.node;
  const ReduceDef& def = reduce_defs().at(n.op_type);
  std::vector<int64_t> axes;
  bool noop;
  std::string why;
  if (!reduced_axes(ctx, &axes, &noop, &why)) return unsupported(why);
  const Shape& x = ctx.inputs[0]->shape;
  auto strides = shape_strides(x);
  bool keep = n.attr_int("keepdims", 1) != 0;
  ProgramInfo p;
  p.name = "reduce_" + n.op_type;
  p.inputs = {{"X", 0}};
  p.output = ctx.outputs[0];
  if (noop) {
    // noop_with_empty_axes with no axes: the spec's output is the input.
    p.body = "float process(int oc[OUT_RANK]) {\n  return " + getter_oc("X", x.size()) + ";\n}\n";
    return std::vector<ProgramInfo>{p};
  }
  // base: the kept coordinates' part of the input flat index.
  std::string base;
  int64_t out_dim = 0;
  std::vector<int64_t> rdims, rstrides;
  for (int64_t d = 0; d < static_cast<int64_t>(x.size()); ++d) {
    bool reduced = std::binary_search(axes.begin(), axes.end(), d);
    if (reduced) {
      rdims.push_back(x[d]);
      rstrides.push_back(strides[d]);
      if (keep) ++out_dim;
      continue;
    }
    if (x[d] != 1) base += (base.empty() ? "" : " + ") + std::string("oc[") + std::to_string(out_dim) + "] * " +
                           glsl_int(strides[d]);
    ++out_dim;
  }
  if (base.empty()) base = "0";
  int64_t count = 1;
  for (auto d : rdims) count *= d;
  // offset(t): t unflattened over the reduced dims, times the input strides.
  std::string off;
  int64_t inner = 1;
  for (size_t i = rdims.size(); i-- > 0;) {
    if (rdims[i] == 1) continue;
    std::string coord = inner == 1 ? "t" : "(t / " + glsl_int(inner) + ")";
    if (i != 0) coord = "(" + coord + " % " + glsl_int(rdims[i]) + ")";  // t < count
    off += (off.empty() ? "" : " + ") + coord + " * " + glsl_int(rstrides[i]);
    inner *= rdims[i];
  }
  if (off.empty()) off = "0";
  // Reduced axes that are the trailing dims: the block is contiguous in X.
  bool trailing = !axes.empty() && axes.back() == static_cast<int64_t>(x.size()) - 1 &&
                  axes.back() - axes.front() + 1 == static_cast<int64_t>(axes.size());
  if (trailing) off = "t";
  // Sum-like reductions over a contiguous block (offset == t) go four at a
  // time through dot().
  const std::string& op = n.op_type;
  bool sum_like = op == "ReduceSum" || op == "ReduceMean" || op == "ReduceSumSquare" || op == "ReduceL1";
  if (off == "t" && sum_like && count >= 4) {
    auto at = [](const std::string& i) { return "getXFlat(base + " + i + ")"; };
    std::string term = op == "ReduceL1" ? "abs(v)" : "v";
    std::string weight = op == "ReduceSumSquare" ? "v" : "vec4(1.0)";
    p.body = "float process(int oc[OUT_RANK]) {\n  int base = " + base + ";\n  float acc = 0.0;\n" +
             vec4_sum(count, at, "acc", term, weight) + "  float cnt = " +
             glsl_float(static_cast<double>(count)) + ";\n  return " + def.final + ";\n}\n";
    return std::vector<ProgramInfo>{p};
  }
  std::string mx;
  if (n.op_type == "ReduceLogSumExp")
    mx = "  float mx = uintBitsToFloat(0xff800000u);\n  for (int t = 0; t < " + glsl_int(count) +
         "; ++t) mx = max(mx, getXFlat(base + " + off + "));\n" +
         "  if (isinf(mx)) mx = 0.0;\n";  // all -inf (or +inf): no shift
  p.body = "float process(int oc[OUT_RANK]) {\n  int base = " + base + ";\n" + mx + "  float acc = " + def.init +
           ";\n  for (int t = 0; t < " + glsl_int(count) + "; ++t) {\n    float v = getXFlat(base + " + off +
           ");\n    acc = " + def.step + ";\n  }\n  float cnt = " + glsl_float(static_cast<double>(count)) +
           ";\n  return " + def.final + ";\n}\n";
  return std::vector<ProgramInfo>{p};
}

}  // namespace glint::gl
