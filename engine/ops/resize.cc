#include "engine/ops/resize.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>

#include "engine/ops/node_error.h"

namespace glint::ops {

namespace {

// Upsample and Resize-10 take scales as input 1, have no sizes, and map
// output to input coordinates asymmetrically whatever the attributes say.
bool legacy(const ir::Node& node) { return node.op_type == "Upsample" || node.opset < 11; }

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

std::string dims_str(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? "," : "") + (dims[i] < 0 ? "?" : std::to_string(dims[i]));
  return s + "]";
}

}  // namespace

double cubic_convolution_weight(double x, double a) {
  x = std::fabs(x);
  if (x <= 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return 0.0;
}

Status resize_axes(const ir::Node& node, const std::vector<int64_t>& dims,
                   const std::function<const Tensor*(size_t)>& constant, const std::function<bool(size_t)>& present,
                   ResizeAxes* r, bool* known) {
  *known = true;
  const int64_t rank = static_cast<int64_t>(dims.size());
  std::vector<double> scales;
  std::vector<int64_t> sizes;
  if (node.op_type == "Upsample" && node.opset < 9) {
    for (float f : node.attr_floats("scales")) scales.push_back(f);
  } else {
    const size_t scales_at = legacy(node) ? 1 : 2;
    if (present(scales_at)) {
      const Tensor* s = constant(scales_at);
      if (!s) { *known = false; return Status::Ok(); }
      for (int64_t i = 0; i < s->size(); ++i) scales.push_back(s->get_as_double(i));
    }
    if (!legacy(node) && present(3)) {
      const Tensor* s = constant(3);
      if (!s) { *known = false; return Status::Ok(); }
      for (int64_t i = 0; i < s->size(); ++i) sizes.push_back(s->get_as_int64(i));
    }
  }
  if (scales.empty() == sizes.empty())
    return node_error(node, "exactly one of scales and sizes must be given (non-empty)");
  std::vector<int64_t> axes = node.attr_ints("axes");
  if (axes.empty())
    for (int64_t i = 0; i < rank; ++i) axes.push_back(i);
  for (int64_t& a : axes) {
    if (a < -rank || a >= rank)
      return node_error(node, "axes " + std::to_string(a) + " is out of range for rank " + std::to_string(rank) +
                                  " (expected [" + std::to_string(-rank) + ", " + std::to_string(rank - 1) + "])");
    if (a < 0) a += rank;
  }
  std::vector<int64_t> sorted = axes;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
    return node_error(node, "axes contain a repeated axis");
  const size_t n = scales.empty() ? sizes.size() : scales.size();
  if (n != axes.size())
    return node_error(node, "scales/sizes have " + std::to_string(n) + " values for " + std::to_string(axes.size()) +
                                " axes of an input of dims " + dims_str(dims));
  r->scales.assign(rank, 1.0);
  r->out = dims;
  r->roi.clear();
  if (!scales.empty()) {
    for (size_t i = 0; i < n; ++i) {
      if (!(scales[i] > 0) || !std::isfinite(scales[i]))
        return node_error(node, "scales must be positive and finite, given " + scale_str(scales[i]));
      const int64_t a = axes[i];
      r->scales[a] = scales[i];
      r->out[a] = -1;
      if (dims[a] >= 0 && !dim_from_double(std::floor(dims[a] * scales[i] + 1e-9), &r->out[a]))
        return node_error(node, "scale " + scale_str(scales[i]) + " makes axis " + std::to_string(a) +
                                    " of an input of dims " + dims_str(dims) + " longer than an int64 can count");
    }
  } else {
    const std::string policy = node.attr_string("keep_aspect_ratio_policy", "stretch");
    if (policy != "stretch" && policy != "not_larger" && policy != "not_smaller")
      return node_error(node, "unknown keep_aspect_ratio_policy '" + policy + "'");
    double common = policy == "not_larger" ? 1e300 : 0.0;
    for (size_t i = 0; i < n; ++i) {
      const int64_t a = axes[i];
      if (sizes[i] < 0) return node_error(node, "sizes must be non-negative, given " + std::to_string(sizes[i]));
      if (dims[a] < 0) {
        r->out[a] = policy == "stretch" ? sizes[i] : -1;
        continue;
      }
      const double s = dims[a] ? static_cast<double>(sizes[i]) / dims[a] : 1.0;
      r->scales[a] = s;
      r->out[a] = sizes[i];
      common = policy == "not_larger" ? std::min(common, s) : std::max(common, s);
    }
    if (policy != "stretch") {
      for (int64_t a : axes) {
        r->scales[a] = common;
        if (dims[a] >= 0 && !dim_from_double(std::round(dims[a] * common), &r->out[a]))
          return node_error(node, "sizes " + dims_str(sizes) + " with keep_aspect_ratio_policy " + policy +
                                      " make axis " + std::to_string(a) + " of an input of dims " + dims_str(dims) +
                                      " longer than an int64 can count");
      }
    }
  }
  if (!legacy(node) && node.attr_string("coordinate_transformation_mode", "") == "tf_crop_and_resize") {
    const Tensor* roi = constant(1);
    if (!roi || roi->size() != 2 * static_cast<int64_t>(axes.size()))
      return node_error(node, "tf_crop_and_resize needs a constant roi with 2 values per axis");
    r->roi.assign(2 * rank, 0.0);
    for (int64_t i = 0; i < rank; ++i) r->roi[rank + i] = 1.0;
    for (size_t i = 0; i < axes.size(); ++i) {
      r->roi[axes[i]] = roi->get_as_double(i);
      r->roi[rank + axes[i]] = roi->get_as_double(axes.size() + i);
    }
  }
  return Status::Ok();
}

Status resize_taps(const ir::Node& node, int64_t in, int64_t out, double scale, double roi_start, double roi_end,
                   std::vector<std::vector<ResizeTap>>* taps) {
  const bool old = legacy(node);
  std::string mode = node.attr_string("mode", "nearest");
  if (old && mode == "bilinear") mode = "linear";
  const std::string ct = old ? "asymmetric" : node.attr_string("coordinate_transformation_mode", "half_pixel");
  const std::string nearest_mode = node.attr_string("nearest_mode", "round_prefer_floor");
  const double A = node.attr_float("cubic_coeff_a", -0.75f);
  const bool exclude = node.attr_int("exclude_outside", 0) != 0;
  const bool antialias = node.attr_int("antialias", 0) != 0 && mode != "nearest";
  if (mode != "nearest" && mode != "linear" && mode != "cubic") return node_error(node, "unknown mode '" + mode + "'");
  taps->assign(out, {});
  // The reference uses the unrounded output length scale * in.
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
      if (x < 0 || x > in - 1) continue;  // extrapolated
    } else {
      return node_error(node, "unknown coordinate_transformation_mode '" + ct + "'");
    }
    std::vector<ResizeTap>& t = (*taps)[o];
    if (mode == "nearest") {
      double i;
      if (old) i = scale < 1 ? std::ceil(x) : std::floor(x);
      else if (nearest_mode == "floor") i = std::floor(x);
      else if (nearest_mode == "ceil") i = std::ceil(x);
      else if (nearest_mode == "round_prefer_ceil") i = std::floor(x + 0.5);
      else if (nearest_mode == "round_prefer_floor") i = std::ceil(x - 0.5);
      else return node_error(node, "unknown nearest_mode '" + nearest_mode + "'");
      t.push_back({std::clamp<int64_t>(static_cast<int64_t>(i), 0, in - 1), 1.0});
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
      double w = mode == "linear" ? std::max(0.0, 1 - std::fabs(arg)) : cubic_convolution_weight(arg, A);
      const int64_t i = base + start + j;
      if (exclude && (i < 0 || i >= in)) w = 0;
      if (w == 0) continue;
      t.push_back({std::clamp<int64_t>(i, 0, in - 1), w});
      sum += w;
    }
    if (sum != 0 && (antialias || exclude))
      for (ResizeTap& tp : t) tp.weight /= sum;
  }
  return Status::Ok();
}

}  // namespace glint::ops
