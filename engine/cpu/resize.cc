// Resize (opset 10-19+) and Upsample (7-9): nearest / linear / cubic, every
// coordinate_transformation_mode, exclude_outside, extrapolation for
// tf_crop_and_resize, antialias, axes and keep_aspect_ratio_policy. The
// filter is separable, so the kernel resizes one axis at a time; taps follow
// the ONNX reference (the neighbour left of an integral coordinate, edge
// clamping).
#include <algorithm>
#include <cmath>
#include <sstream>

#include "engine/cpu/kernels.h"
#include "engine/cpu/util.h"

namespace glint::cpu {

namespace {

struct ResizeParams {
  std::vector<double> scales;    // per axis of X
  std::vector<int64_t> out;      // per axis of X (-1 unknown)
  std::vector<double> roi;       // 2*rank (start..., end...) for tf_crop_and_resize
};

bool is_upsample(const ir::Node& node) { return node.op_type == "Upsample"; }

// floor(v) as a dim, or false when it is past what an int64 holds (casting
// such a double is undefined behaviour: hostile scales like 1e30 get here).
bool dim_from_double(double v, int64_t* dim) {
  if (!(v >= 0 && v < 9.2e18)) return false;
  *dim = static_cast<int64_t>(v);
  return true;
}

std::string scale_str(double scale) {
  std::ostringstream os;
  os << scale;  // 1e+30, inf: what the model gave, short
  return os.str();
}

// Reads scales / sizes (attribute for Upsample-7, inputs otherwise); `*known`
// false when they are not constant.
Status resize_params(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                     const std::vector<const Tensor*>& c, ResizeParams* p, bool* known) {
  *known = true;
  const ir::ValueInfo& x = *inputs[0];
  const int64_t rank = static_cast<int64_t>(x.dims.size());
  auto input = [&](size_t i) -> const Tensor* { return i < c.size() ? c[i] : nullptr; };
  auto present = [&](size_t i) { return i < inputs.size() && inputs[i] != nullptr; };
  std::vector<double> scales;
  std::vector<int64_t> sizes;
  size_t scales_at = 2, sizes_at = 3;
  if (is_upsample(node) && node.opset < 9) {
    for (float f : node.attr_floats("scales")) scales.push_back(f);
  } else {
    if (is_upsample(node) || node.opset < 11) scales_at = 1, sizes_at = 100;
    if (present(scales_at)) {
      if (!input(scales_at)) { *known = false; return Status::Ok(); }
      for (int64_t i = 0; i < input(scales_at)->size(); ++i) scales.push_back(input(scales_at)->get_as_double(i));
    }
    if (present(sizes_at)) {
      if (!input(sizes_at)) { *known = false; return Status::Ok(); }
      sizes = to_int64s(*input(sizes_at));
    }
  }
  if (scales.empty() == sizes.empty())
    return node_error(node, "exactly one of scales and sizes must be given (non-empty)");
  std::vector<int64_t> axes = node.attr_ints("axes");
  if (axes.empty()) for (int64_t i = 0; i < rank; ++i) axes.push_back(i);
  GLINT_RETURN_IF_ERROR(normalize_axes(node, axes, rank));
  const size_t n = scales.empty() ? sizes.size() : scales.size();
  if (n != axes.size())
    return node_error(node, "scales/sizes have " + std::to_string(n) + " values for " +
                                std::to_string(axes.size()) + " axes of " + x.describe());
  p->scales.assign(rank, 1.0);
  p->out.assign(rank, -1);
  for (int64_t i = 0; i < rank; ++i) p->out[i] = x.dims[i].value;
  if (!scales.empty()) {
    for (size_t i = 0; i < n; ++i) {
      if (!(scales[i] > 0) || !std::isfinite(scales[i]))
        return node_error(node, "scales must be positive and finite, given " + scale_str(scales[i]));
      const int64_t a = axes[i];
      p->scales[a] = scales[i];
      p->out[a] = -1;
      if (x.dims[a].known() && !dim_from_double(std::floor(x.dims[a].value * scales[i] + 1e-9), &p->out[a]))
        return node_error(node, "scale " + scale_str(scales[i]) + " makes axis " + std::to_string(a) + " of " +
                                    x.describe() + " longer than an int64 can count");
    }
  } else {
    const std::string policy = node.attr_string("keep_aspect_ratio_policy", "stretch");
    double common = policy == "not_larger" ? 1e300 : 0.0;
    for (size_t i = 0; i < n; ++i) {
      const int64_t a = axes[i];
      if (sizes[i] < 0) return node_error(node, "sizes must be non-negative");
      if (!x.dims[a].known()) { p->out[a] = policy == "stretch" ? sizes[i] : -1; continue; }
      const double s = x.dims[a].value ? static_cast<double>(sizes[i]) / x.dims[a].value : 1.0;
      p->scales[a] = s;
      p->out[a] = sizes[i];
      common = policy == "not_larger" ? std::min(common, s) : std::max(common, s);
    }
    if (policy != "stretch") {
      if (policy != "not_larger" && policy != "not_smaller")
        return node_error(node, "unknown keep_aspect_ratio_policy '" + policy + "'");
      for (int64_t a : axes) {
        p->scales[a] = common;
        if (x.dims[a].known() && !dim_from_double(std::round(x.dims[a].value * common), &p->out[a]))
          return node_error(node, "sizes " + shape_str(sizes) + " with keep_aspect_ratio_policy " + policy +
                                      " make axis " + std::to_string(a) + " of " + x.describe() +
                                      " longer than an int64 can count");
      }
    }
  }
  if (node.attr_string("coordinate_transformation_mode", "") == "tf_crop_and_resize") {
    const Tensor* roi = input(1);
    if (!roi || roi->size() != 2 * static_cast<int64_t>(axes.size()))
      return node_error(node, "tf_crop_and_resize needs a constant roi with 2 values per axis");
    p->roi.assign(2 * rank, 0.0);
    for (int64_t i = 0; i < rank; ++i) p->roi[rank + i] = 1.0;
    for (size_t i = 0; i < axes.size(); ++i) {
      p->roi[axes[i]] = roi->get_as_double(i);
      p->roi[rank + axes[i]] = roi->get_as_double(axes.size() + i);
    }
  }
  return Status::Ok();
}

struct Tap { int64_t index; double weight; };

double cubic(double x, double a) {
  x = std::fabs(x);
  if (x <= 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return 0.0;
}

// Taps (input index, weight) of every output index along one axis; an output
// index with no taps takes the extrapolation value.
Status axis_taps(const ir::Node& node, int64_t in, int64_t out, double scale, double roi_start,
                 double roi_end, std::vector<std::vector<Tap>>* taps) {
  const bool legacy = is_upsample(node) || node.opset < 11;
  std::string mode = node.attr_string("mode", "nearest");
  if (legacy && mode == "bilinear") mode = "linear";
  const std::string ct = legacy ? "asymmetric" : node.attr_string("coordinate_transformation_mode", "half_pixel");
  const std::string nearest_mode = node.attr_string("nearest_mode", "round_prefer_floor");
  const double A = node.attr_float("cubic_coeff_a", -0.75f);
  const bool exclude = node.attr_int("exclude_outside", 0) != 0;
  const bool antialias = node.attr_int("antialias", 0) != 0 && mode != "nearest";
  if (mode != "nearest" && mode != "linear" && mode != "cubic")
    return node_error(node, "unknown mode '" + mode + "'");
  taps->assign(out, {});
  // The reference uses the unrounded output length scale * in.
  const double out_f = scale * in;
  for (int64_t o = 0; o < out; ++o) {
    double x;
    if (ct == "half_pixel") x = (o + 0.5) / scale - 0.5;
    else if (ct == "half_pixel_symmetric") {
      const double adj = out / out_f, center = in / 2.0;
      x = center * (1 - adj) + (o + 0.5) / scale - 0.5;
    } else if (ct == "pytorch_half_pixel") x = out > 1 ? (o + 0.5) / scale - 0.5 : 0.0;
    else if (ct == "align_corners") x = out_f == 1 ? 0.0 : o * (in - 1.0) / (out_f - 1.0);
    else if (ct == "asymmetric") x = o / scale;
    else if (ct == "tf_half_pixel_for_nn") x = (o + 0.5) / scale;
    else if (ct == "tf_crop_and_resize") {
      x = out_f > 1 ? roi_start * (in - 1) + o * (roi_end - roi_start) * (in - 1) / (out_f - 1.0)
                  : 0.5 * (roi_start + roi_end) * (in - 1);
      if (x < 0 || x > in - 1) continue;  // extrapolated
    } else {
      return node_error(node, "unknown coordinate_transformation_mode '" + ct + "'");
    }
    auto& t = (*taps)[o];
    if (mode == "nearest") {
      int64_t i;
      if (legacy) i = scale < 1 ? static_cast<int64_t>(std::ceil(x)) : static_cast<int64_t>(std::floor(x));
      else if (nearest_mode == "floor") i = static_cast<int64_t>(std::floor(x));
      else if (nearest_mode == "ceil") i = static_cast<int64_t>(std::ceil(x));
      else if (nearest_mode == "round_prefer_ceil") i = static_cast<int64_t>(std::floor(x + 0.5));
      else if (nearest_mode == "round_prefer_floor") i = static_cast<int64_t>(std::ceil(x - 0.5));
      else return node_error(node, "unknown nearest_mode '" + nearest_mode + "'");
      t.push_back({std::clamp<int64_t>(i, 0, in - 1), 1.0});
      continue;
    }
    // Base pixel: the one left of x, also when x is integral (ratio in (0, 1]).
    const double fl = std::floor(x);
    const int64_t base = static_cast<int64_t>(x == fl ? fl - 1 : fl);
    const double ratio = x - base;
    const double s = antialias ? std::min(scale, 1.0) : 1.0;
    const int64_t start = mode == "linear" ? static_cast<int64_t>(std::floor(-1 / s) + 1)
                                           : static_cast<int64_t>(std::floor(-2 / s) + 1);
    const int64_t n = 2 - 2 * start;
    double sum = 0;
    for (int64_t j = 0; j < n; ++j) {
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
  return Status::Ok();
}

}  // namespace

Status infer_resize(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                    const std::vector<const Tensor*>& constants, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 1));
  const ir::ValueInfo& x = *inputs[0];
  outputs[0] = x;
  if (!x.has_shape) return Status::Ok();
  ResizeParams p;
  bool known;
  GLINT_RETURN_IF_ERROR(resize_params(node, inputs, constants, &p, &known));
  for (size_t i = 0; i < x.dims.size(); ++i) {
    ir::Dim& d = outputs[0].dims[i];
    if (!known) d = ir::Dim{};
    else if (p.out[i] != d.value) d = ir::Dim{p.out[i], ""};
  }
  return Status::Ok();
}

Status resize(const ir::Node& node, const std::vector<const Tensor*>& inputs,
              std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
  const Tensor& x = *inputs[0];
  if (!is_float(x.dtype()) && !is_integer(x.dtype()))
    return node_unsupported(node, "input dtype " + dtype_name(x.dtype()) + " is not supported");
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_resize, node, inputs, outputs));
  std::vector<ir::ValueInfo> vi(inputs.size());
  std::vector<const ir::ValueInfo*> vp(inputs.size(), nullptr);
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i]) { vi[i] = ir::ValueInfo::of(*inputs[i]); vp[i] = &vi[i]; }
  ResizeParams p;
  bool known;
  GLINT_RETURN_IF_ERROR(resize_params(node, vp, inputs, &p, &known));
  const double extrapolation = node.attr_float("extrapolation_value", 0.f);
  const int64_t rank = x.rank();
  std::vector<double> cur(static_cast<size_t>(x.size()));
  for (int64_t i = 0; i < x.size(); ++i) cur[i] = x.get_as_double(i);
  Shape shape = x.shape();
  for (int64_t a = 0; a < rank; ++a) {
    const int64_t in = shape[a], out = p.out[a];
    const bool crop = !p.roi.empty();
    if (in == out && p.scales[a] == 1.0 && !crop) continue;
    if (in == 0 && out > 0) return node_error(node, "cannot resize an empty axis to " + std::to_string(out));
    std::vector<std::vector<Tap>> taps;
    GLINT_RETURN_IF_ERROR(axis_taps(node, in, out, p.scales[a], crop ? p.roi[a] : 0.0,
                                    crop ? p.roi[rank + a] : 1.0, &taps));
    int64_t outer = 1, inner = 1;
    for (int64_t i = 0; i < a; ++i) outer *= shape[i];
    for (int64_t i = a + 1; i < rank; ++i) inner *= shape[i];
    std::vector<double> next(static_cast<size_t>(outer * out * inner));
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t j = 0; j < out; ++j) {
        double* dst = next.data() + (o * out + j) * inner;
        if (taps[j].empty()) { std::fill(dst, dst + inner, extrapolation); continue; }
        std::fill(dst, dst + inner, 0.0);
        for (const Tap& t : taps[j]) {
          const double* src = cur.data() + (o * in + t.index) * inner;
          for (int64_t k = 0; k < inner; ++k) dst[k] += t.weight * src[k];
        }
      }
    cur.swap(next);
    shape[a] = out;
  }
  Tensor& y = outputs[0];
  const bool integral = is_integer(y.dtype());
  for (int64_t i = 0; i < y.size(); ++i) y.set_from_double(i, integral ? std::nearbyint(cur[i]) : cur[i]);
  return Status::Ok();
}

}  // namespace glint::cpu
