// Slice (attributes before opset 10, constant inputs with steps from 10) and
// Split (one pass per output; the offsets along the axis come from the
// inferred output shapes, so every opset's way of giving `split` works).
#include <algorithm>

#include "engine/gl/kernels/glsl_util.h"
#include "engine/gl/kernels/kernels.h"

namespace glint::gl {

namespace {

// Per input axis: the first element taken and the step (the count is the
// output's extent).
bool slice_starts(const KernelContext& ctx, std::vector<int64_t>* start, std::vector<int64_t>* step,
                  std::string* why) {
  const ir::Node& n = *ctx.node;
  const Shape& x = ctx.inputs[0]->shape;
  int64_t rank = x.size();
  std::vector<int64_t> starts, ends, axes, steps;
  auto ints = [&](size_t i, std::vector<int64_t>* out, const char* what) {
    if (!n.has_input(i)) return true;
    const Tensor* t = ctx.constant(i);
    if (!t) return decline(why, std::string(what) + " is not a constant");
    for (int64_t k = 0; k < t->size(); ++k) out->push_back(t->get_as_int64(k));
    return true;
  };
  if (n.opset < 10) {
    starts = n.attr_ints("starts");
    ends = n.attr_ints("ends");
    axes = n.attr_ints("axes");
  } else if (!ints(1, &starts, "starts") || !ints(2, &ends, "ends") || !ints(3, &axes, "axes") ||
             !ints(4, &steps, "steps")) {
    return false;
  }
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (starts.size() != ends.size() || axes.size() != starts.size() || steps.size() != starts.size())
    return decline(why, "starts/ends/axes/steps lengths differ");
  start->assign(rank, 0);
  step->assign(rank, 1);
  for (size_t i = 0; i < axes.size(); ++i) {
    int64_t a = normalize_axis(axes[i], rank);
    if (a < 0) return decline(why, "axis out of range");
    int64_t dim = x[a], s = starts[i], st = steps[i];
    if (st == 0) return decline(why, "step 0");
    if (s < 0) s += dim;
    s = st > 0 ? std::clamp<int64_t>(s, 0, dim) : std::clamp<int64_t>(s, 0, dim - 1);
    (*start)[a] = s;
    (*step)[a] = st;
  }
  return true;
}

}  // namespace

bool slice_supports(const KernelContext& ctx, std::string* why) {
  if (!any_dtype_op(ctx, why)) return false;
  if (ctx.outputs[0].shape.size() != ctx.inputs[0]->shape.size()) return decline(why, "rank changed");
  std::vector<int64_t> start, step;
  return slice_starts(ctx, &start, &step, why);
}

Result<std::vector<ProgramInfo>> slice_build(const KernelContext& ctx) {
  std::vector<int64_t> start, step;
  std::string why;
  if (!slice_starts(ctx, &start, &step, &why)) return unsupported(why);
  std::vector<std::string> args;
  for (size_t d = 0; d < start.size(); ++d) {
    std::string a = "oc[" + std::to_string(d) + "]";
    if (step[d] != 1) a += " * " + glsl_int(step[d]);
    if (start[d] != 0) a += " + " + glsl_int(start[d]);
    args.push_back(a);
  }
  ProgramInfo p;
  p.name = "slice";
  p.inputs = {{"X", 0}};
  p.output = ctx.outputs[0];
  p.body = "float process(int oc[OUT_RANK]) {\n  return " + getter("X", args) + ";\n}\n";
  return std::vector<ProgramInfo>{p};
}

bool split_supports(const KernelContext& ctx, std::string* why) {
  if (!any_dtype_op(ctx, why)) return false;
  int64_t rank = ctx.inputs[0]->shape.size();
  if (normalize_axis(ctx.node->attr_int("axis", 0), rank) < 0) return decline(why, "axis out of range");
  for (auto& o : ctx.outputs)
    if (o.shape.size() != static_cast<size_t>(rank)) return decline(why, "output rank differs");
  return true;
}

Result<std::vector<ProgramInfo>> split_build(const KernelContext& ctx) {
  const Shape& x = ctx.inputs[0]->shape;
  int64_t axis = normalize_axis(ctx.node->attr_int("axis", 0), x.size());
  std::vector<ProgramInfo> passes;
  int64_t offset = 0;
  for (size_t i = 0; i < ctx.outputs.size(); ++i) {
    const TensorDesc& out = ctx.outputs[i];
    if (ctx.node->has_output(i)) {
      std::vector<std::string> args;
      for (size_t d = 0; d < x.size(); ++d) {
        std::string a = "oc[" + std::to_string(d) + "]";
        if (static_cast<int64_t>(d) == axis && offset != 0) a += " + " + glsl_int(offset);
        args.push_back(a);
      }
      ProgramInfo p;
      p.name = "split";
      p.inputs = {{"X", 0}};
      p.output = out;
      p.node_output = static_cast<int>(i);
      p.body = "float process(int oc[OUT_RANK]) {\n  return " + getter("X", args) + ";\n}\n";
      passes.push_back(p);
    }
    offset += out.shape[axis];
  }
  return passes;
}

}  // namespace glint::gl
