// Resize (opsets 10-19: nearest with every nearest_mode, linear, cubic with
// cubic_coeff_a / exclude_outside, antialias, every
// coordinate_transformation_mode, tf_crop_and_resize extrapolation, axes,
// keep_aspect_ratio_policy) and Upsample (7, 9). The filter is separable:
// the taps (input index, weight) of each output index along a resized axis
// are computed at build time, by the CPU kernel's reading of the node
// (engine/ops/resize.h), and baked as const arrays; one pass per resized
// axis sums them. scales / sizes / roi must be known when the programs are built (a
// constant, or a CPU-side input such as a feed).
#include <algorithm>
#include <cmath>

#include "engine/gl/kernels/glsl_util.h"
#include "engine/gl/kernels/kernels.h"
#include "engine/ops/resize.h"

namespace glint::gl {

namespace {

constexpr int64_t kMaxBakedTaps = 8192;  // per axis: output length x taps per output

// The node's scales, sizes and roi against X's shape (ops/resize.h); false
// with the reason when they are not known when the programs are built or
// the node is invalid.
bool axes_of(const KernelContext& ctx, ops::ResizeAxes* r, std::string* why) {
  const Shape& x = ctx.inputs[0]->shape;
  bool known = false;
  Status st = ops::resize_axes(
      *ctx.node, x, [&](size_t i) { return ctx.constant(i); },
      [&](size_t i) { return i < ctx.inputs.size() && ctx.inputs[i].has_value(); }, r, &known);
  if (!st.ok()) return decline(why, st.message());
  if (!known) return decline(why, "scales or sizes is not known when the program is built");
  if (r->out != ctx.outputs[0].shape) return decline(why, "the output shape differs from the resized one");
  return true;
}

bool taps_of(const KernelContext& ctx, int64_t in, int64_t out, double scale, double roi_start, double roi_end,
             std::vector<std::vector<ops::ResizeTap>>* taps, std::string* why) {
  Status st = ops::resize_taps(*ctx.node, in, out, scale, roi_start, roi_end, taps);
  return st.ok() || decline(why, st.message());
}

// One pass resizing axis `a` of `in_shape` to `out_len` with `taps`.
ProgramInfo axis_pass(const Shape& in_shape, int64_t a, const std::vector<std::vector<ops::ResizeTap>>& taps,
                      double extrapolation, ProgramInput src, TensorDesc out, int node_output) {
  size_t k = 1;
  for (auto& t : taps) k = std::max(k, t.size());
  std::string idx, w;
  for (auto& t : taps)
    for (size_t j = 0; j < k; ++j) {
      idx += (idx.empty() ? "" : ", ") + std::to_string(j < t.size() ? t[j].index : -1);
      w += (w.empty() ? "" : ", ") + glsl_float(j < t.size() ? t[j].weight : 0.0);
    }
  size_t n = std::max<size_t>(taps.size() * k, 1);
  if (taps.empty()) idx = "-1", w = "0.0";
  std::vector<std::string> args;
  for (size_t d = 0; d < in_shape.size(); ++d)
    args.push_back(static_cast<int64_t>(d) == a ? "i" : "oc[" + std::to_string(d) + "]");
  ProgramInfo p;
  p.name = "resize_axis";
  p.inputs = {src};
  p.output = std::move(out);
  p.node_output = node_output;
  const std::string N = std::to_string(n), K = std::to_string(k);
  p.body = "const int TAP_I[" + N + "] = int[" + N + "](" + idx + ");\nconst float TAP_W[" + N + "] = float[" + N +
           "](" + w + ");\nfloat process(int oc[OUT_RANK]) {\n  int base = oc[" + std::to_string(a) + "] * " + K +
           ";\n  if (TAP_I[base] < 0) return " + glsl_float(extrapolation) + ";\n  float acc = 0.0;\n  for (int j = 0; j < " +
           K + "; ++j) {\n    int i = TAP_I[base + j];\n    if (i < 0) break;\n    acc += TAP_W[base + j] * " +
           getter("X", args) + ";\n  }\n  return acc;\n}\n";
  return p;
}

}  // namespace

bool resize_supports(const KernelContext& ctx, std::string* why) {
  if (!any_dtype_op(ctx, why)) return false;
  if (ctx.outputs[0].dtype == DataType::kBool) return decline(why, "bool resize");
  ops::ResizeAxes p;
  if (!axes_of(ctx, &p, why)) return false;
  const Shape& x = ctx.inputs[0]->shape;
  for (size_t a = 0; a < x.size(); ++a) {
    if (x[a] == 0 && p.out[a] > 0) return decline(why, "cannot resize an empty axis");
    std::vector<std::vector<ops::ResizeTap>> taps;
    if (x[a] == p.out[a] && p.scales[a] == 1.0 && p.roi.empty()) continue;
    // At least one tap an output index: a longer axis is too long to bake
    // before its taps are made.
    if (p.out[a] > kMaxBakedTaps) return decline(why, "too many taps to bake");
    if (!taps_of(ctx, x[a], p.out[a], p.scales[a], 0, 1, &taps, why)) return false;
    size_t k = 1;
    for (auto& t : taps) k = std::max(k, t.size());
    if (static_cast<int64_t>(k * taps.size()) > kMaxBakedTaps) return decline(why, "too many taps to bake");
  }
  return true;
}

Result<std::vector<ProgramInfo>> resize_build(const KernelContext& ctx) {
  ops::ResizeAxes p;
  std::string why;
  if (!axes_of(ctx, &p, &why)) return unsupported(why);
  const Shape& x = ctx.inputs[0]->shape;
  const int64_t rank = x.size();
  const double extrapolation = ctx.node->attr_float("extrapolation_value", 0.f);
  const bool crop = !p.roi.empty();
  std::vector<int64_t> resized;
  for (int64_t a = 0; a < rank; ++a)
    if (!(x[a] == p.out[a] && p.scales[a] == 1.0 && !crop)) resized.push_back(a);
  std::vector<ProgramInfo> passes;
  if (resized.empty()) {
    passes.push_back(flat_copy(ctx, "resize_copy"));
    return passes;
  }
  const bool integral = is_integer(ctx.outputs[0].dtype);
  Shape cur = x;
  ProgramInput src{"X", 0};
  for (size_t i = 0; i < resized.size(); ++i) {
    int64_t a = resized[i];
    std::vector<std::vector<ops::ResizeTap>> taps;
    if (!taps_of(ctx, cur[a], p.out[a], p.scales[a], crop ? p.roi[a] : 0.0, crop ? p.roi[rank + a] : 1.0, &taps,
                 &why))
      return unsupported(why);
    Shape next = cur;
    next[a] = p.out[a];
    bool last = i + 1 == resized.size();
    TensorDesc out = last && !integral ? ctx.outputs[0] : TensorDesc{DataType::kFloat32, next};
    passes.push_back(axis_pass(cur, a, taps, extrapolation, src, out, last && !integral ? 0 : -1));
    src = ProgramInput{"X", -static_cast<int>(passes.size())};
    cur = next;
  }
  if (integral) {
    // Integer outputs round the filtered value half to even, as the CPU kernel.
    ProgramInfo r;
    r.name = "resize_round";
    r.inputs = {src};
    r.output = ctx.outputs[0];
    r.body = "float process(int oc[OUT_RANK]) {\n  return roundEven(" + getter_oc("X", cur.size()) + ");\n}\n";
    passes.push_back(r);
  }
  return passes;
}

}  // namespace glint::gl
