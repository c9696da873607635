// Resize (opsets 10-19: nearest with every nearest_mode, linear, cubic with
// cubic_coeff_a / exclude_outside, antialias, every
// coordinate_transformation_mode, tf_crop_and_resize extrapolation, axes,
// keep_aspect_ratio_policy) and Upsample (7, 9). The filter is separable:
// the taps (input index, weight) of each output index along a resized axis
// are computed here at build time, as the ONNX reference (and the CPU kernel)
// defines them, and baked as const arrays; one pass per resized axis sums
// them. scales / sizes / roi must be known when the programs are built (a
// constant, or a CPU-side input such as a feed).
#include <algorithm>
#include <cmath>

#include "engine/gl/kernels/glsl_util.h"
#include "engine/gl/kernels/kernels.h"

namespace glint::gl {

namespace {

constexpr int64_t kMaxBakedTaps = 8192;  // per axis: output length x taps per output

struct Tap {
  int64_t index;
  double weight;
};

struct Plan {
  std::vector<double> scales;
  std::vector<int64_t> out;
  std::vector<double> roi;  // 2 * rank when tf_crop_and_resize
};

bool legacy(const ir::Node& n) { return n.op_type == "Upsample" || n.opset < 11; }

bool plan_of(const KernelContext& ctx, Plan* p, std::string* why) {
  const ir::Node& n = *ctx.node;
  const Shape& x = ctx.inputs[0]->shape;
  const int64_t rank = x.size();
  auto constant = [&](size_t i) { return ctx.constant(i); };
  auto present = [&](size_t i) { return i < ctx.inputs.size() && ctx.inputs[i].has_value(); };
  std::vector<double> scales;
  std::vector<int64_t> sizes;
  if (n.op_type == "Upsample" && n.opset < 9) {
    for (float f : n.attr_floats("scales")) scales.push_back(f);
  } else {
    size_t scales_at = 2, sizes_at = 3;
    if (legacy(n)) scales_at = 1, sizes_at = 100;
    if (present(scales_at)) {
      if (!constant(scales_at)) return decline(why, "scales is not known when the program is built");
      for (int64_t i = 0; i < constant(scales_at)->size(); ++i) scales.push_back(constant(scales_at)->get_as_double(i));
    }
    if (present(sizes_at)) {
      if (!constant(sizes_at)) return decline(why, "sizes is not known when the program is built");
      for (int64_t i = 0; i < constant(sizes_at)->size(); ++i) sizes.push_back(constant(sizes_at)->get_as_int64(i));
    }
  }
  if (scales.empty() == sizes.empty()) return decline(why, "exactly one of scales and sizes must be given");
  std::vector<int64_t> axes = n.attr_ints("axes");
  if (axes.empty())
    for (int64_t i = 0; i < rank; ++i) axes.push_back(i);
  for (auto& a : axes) {
    a = normalize_axis(a, rank);
    if (a < 0) return decline(why, "axis out of range");
  }
  size_t cnt = scales.empty() ? sizes.size() : scales.size();
  if (cnt != axes.size()) return decline(why, "scales/sizes do not match the axes");
  p->scales.assign(rank, 1.0);
  p->out = ctx.outputs[0].shape;
  if (static_cast<int64_t>(p->out.size()) != rank) return decline(why, "output rank differs");
  if (!scales.empty()) {
    for (size_t i = 0; i < cnt; ++i) {
      if (!(scales[i] > 0)) return decline(why, "scales must be positive");
      p->scales[axes[i]] = scales[i];
    }
  } else {
    std::string policy = n.attr_string("keep_aspect_ratio_policy", "stretch");
    double common = policy == "not_larger" ? 1e300 : 0.0;
    for (size_t i = 0; i < cnt; ++i) {
      int64_t a = axes[i];
      double s = x[a] ? static_cast<double>(sizes[i]) / x[a] : 1.0;
      p->scales[a] = s;
      common = policy == "not_larger" ? std::min(common, s) : std::max(common, s);
    }
    if (policy != "stretch")
      for (int64_t a : axes) p->scales[a] = common;
  }
  if (!legacy(n) && n.attr_string("coordinate_transformation_mode", "") == "tf_crop_and_resize") {
    const Tensor* roi = constant(1);
    if (!roi || roi->size() != 2 * static_cast<int64_t>(axes.size()))
      return decline(why, "tf_crop_and_resize needs a known roi with 2 values per axis");
    p->roi.assign(2 * rank, 0.0);
    for (int64_t i = 0; i < rank; ++i) p->roi[rank + i] = 1.0;
    for (size_t i = 0; i < axes.size(); ++i) {
      p->roi[axes[i]] = roi->get_as_double(i);
      p->roi[rank + axes[i]] = roi->get_as_double(axes.size() + i);
    }
  }
  return true;
}

double cubic(double x, double a) {
  x = std::fabs(x);
  if (x <= 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return 0.0;
}

// The taps of every output index along one axis (none: extrapolated).
bool axis_taps(const ir::Node& n, int64_t in, int64_t out, double scale, double roi_start, double roi_end,
               std::vector<std::vector<Tap>>* taps, std::string* why) {
  const bool old = legacy(n);
  std::string mode = n.attr_string("mode", "nearest");
  if (old && mode == "bilinear") mode = "linear";
  const std::string ct = old ? "asymmetric" : n.attr_string("coordinate_transformation_mode", "half_pixel");
  const std::string nm = n.attr_string("nearest_mode", "round_prefer_floor");
  const double A = n.attr_float("cubic_coeff_a", -0.75f);
  const bool exclude = n.attr_int("exclude_outside", 0) != 0;
  const bool antialias = n.attr_int("antialias", 0) != 0 && mode != "nearest";
  if (mode != "nearest" && mode != "linear" && mode != "cubic") return decline(why, "unknown mode '" + mode + "'");
  taps->assign(out, {});
  const double out_f = scale * in;
  for (int64_t o = 0; o < out; ++o) {
    double x;
    if (ct == "half_pixel") x = (o + 0.5) / scale - 0.5;
    else if (ct == "half_pixel_symmetric") x = in / 2.0 * (1 - out / out_f) + (o + 0.5) / scale - 0.5;
    else if (ct == "pytorch_half_pixel") x = out > 1 ? (o + 0.5) / scale - 0.5 : 0.0;
    else if (ct == "align_corners") x = out_f == 1 ? 0.0 : o * (in - 1.0) / (out_f - 1.0);
    else if (ct == "asymmetric") x = o / scale;
    else if (ct == "tf_half_pixel_for_nn") x = (o + 0.5) / scale;
    else if (ct == "tf_crop_and_resize") {
      x = out_f > 1 ? roi_start * (in - 1) + o * (roi_end - roi_start) * (in - 1) / (out_f - 1.0)
                    : 0.5 * (roi_start + roi_end) * (in - 1);
      if (x < 0 || x > in - 1) continue;
    } else {
      return decline(why, "unknown coordinate_transformation_mode '" + ct + "'");
    }
    auto& t = (*taps)[o];
    if (mode == "nearest") {
      double i;
      if (old) i = scale < 1 ? std::ceil(x) : std::floor(x);
      else if (nm == "floor") i = std::floor(x);
      else if (nm == "ceil") i = std::ceil(x);
      else if (nm == "round_prefer_ceil") i = std::floor(x + 0.5);
      else if (nm == "round_prefer_floor") i = std::ceil(x - 0.5);
      else return decline(why, "unknown nearest_mode '" + nm + "'");
      t.push_back({std::clamp<int64_t>(static_cast<int64_t>(i), 0, in - 1), 1.0});
      continue;
    }
    const double fl = std::floor(x);
    const int64_t base = static_cast<int64_t>(x == fl ? fl - 1 : fl);
    const double ratio = x - base;
    const double s = antialias ? std::min(scale, 1.0) : 1.0;
    const int64_t start = mode == "linear" ? static_cast<int64_t>(std::floor(-1 / s) + 1)
                                           : static_cast<int64_t>(std::floor(-2 / s) + 1);
    const int64_t cnt = 2 - 2 * start;
    double sum = 0;
    for (int64_t j = 0; j < cnt; ++j) {
      const double arg = s * ((start + j) - ratio);
      double w = mode == "linear" ? std::max(0.0, 1 - std::fabs(arg)) : cubic(arg, A);
      const int64_t i = base + start + j;
      if (exclude && (i < 0 || i >= in)) w = 0;
      if (w == 0) continue;
      t.push_back({std::clamp<int64_t>(i, 0, in - 1), w});
      sum += w;
    }
    if (sum != 0 && (antialias || exclude))
      for (auto& tp : t) tp.weight /= sum;
  }
  return true;
}

// One pass resizing axis `a` of `in_shape` to `out_len` with `taps`.
ProgramInfo axis_pass(const Shape& in_shape, int64_t a, const std::vector<std::vector<Tap>>& taps,
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
  Plan p;
  if (!plan_of(ctx, &p, why)) return false;
  const Shape& x = ctx.inputs[0]->shape;
  for (size_t a = 0; a < x.size(); ++a) {
    if (x[a] == 0 && p.out[a] > 0) return decline(why, "cannot resize an empty axis");
    std::vector<std::vector<Tap>> taps;
    if (x[a] == p.out[a] && p.scales[a] == 1.0 && p.roi.empty()) continue;
    if (!axis_taps(*ctx.node, x[a], p.out[a], p.scales[a], 0, 1, &taps, why)) return false;
    size_t k = 1;
    for (auto& t : taps) k = std::max(k, t.size());
    if (static_cast<int64_t>(k * taps.size()) > kMaxBakedTaps) return decline(why, "too many taps to bake");
  }
  return true;
}

Result<std::vector<ProgramInfo>> resize_build(const KernelContext& ctx) {
  Plan p;
  std::string why;
  if (!plan_of(ctx, &p, &why)) return unsupported(why);
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
    std::vector<std::vector<Tap>> taps;
    if (!axis_taps(*ctx.node, cur[a], p.out[a], p.scales[a], crop ? p.roi[a] : 0.0, crop ? p.roi[rank + a] : 1.0,
                   &taps, &why))
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
