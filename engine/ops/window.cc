#include "engine/ops/window.h"

#include <algorithm>
#include <string>

#include "engine/ops/node_error.h"

namespace glint::ops {

namespace {

Result<AutoPad> parse_auto_pad(const ir::Node& node) {
  const std::string s = node.attr_string("auto_pad", "NOTSET");
  if (s.empty() || s == "NOTSET") return AutoPad::kNotSet;
  if (s == "VALID") return AutoPad::kValid;
  if (s == "SAME_UPPER") return AutoPad::kSameUpper;
  if (s == "SAME_LOWER") return AutoPad::kSameLower;
  return node_error(node, "unknown auto_pad '" + s + "'");
}

}  // namespace

Window3 to_window3(const std::vector<int64_t>& in, const WindowGeometry& g) {
  Window3 r;
  const size_t off = 3 - in.size();
  for (size_t i = 0; i < 3; ++i) {
    if (i < off) {
      r.in[i] = r.out[i] = r.k[i] = r.s[i] = r.d[i] = 1;
      r.pb[i] = r.pe[i] = 0;
      continue;
    }
    const size_t j = i - off;
    r.in[i] = in[j];
    r.out[i] = g.out[j];
    r.k[i] = g.kernel[j];
    r.s[i] = g.strides[j];
    r.d[i] = g.dilations[j];
    r.pb[i] = g.pads_begin[j];
    r.pe[i] = g.pads_end[j];
  }
  return r;
}

Status window_geometry(const ir::Node& node, const std::vector<int64_t>& in,
                       const std::vector<int64_t>& kernel, bool allow_ceil, WindowGeometry* g) {
  g->kernel = node.has_attr("kernel_shape") ? node.attr_ints("kernel_shape") : kernel;
  const size_t n = in.size();
  if (g->kernel.size() != n)
    return node_error(node, "kernel_shape has " + std::to_string(g->kernel.size()) +
                                " dims but the input has " + std::to_string(n) + " spatial dims");
  g->strides = node.attr_ints("strides", std::vector<int64_t>(n, 1));
  g->dilations = node.attr_ints("dilations", std::vector<int64_t>(n, 1));
  std::vector<int64_t> pads = node.attr_ints("pads", std::vector<int64_t>(2 * n, 0));
  if (g->strides.size() != n || g->dilations.size() != n || pads.size() != 2 * n)
    return node_error(node, "strides/dilations need " + std::to_string(n) + " values and pads " +
                                std::to_string(2 * n) + " (given " +
                                std::to_string(g->strides.size()) + ", " +
                                std::to_string(g->dilations.size()) + ", " +
                                std::to_string(pads.size()) + ")");
  GLINT_ASSIGN_OR_RETURN(const AutoPad auto_pad, parse_auto_pad(node));
  const bool ceil_mode = allow_ceil && node.attr_int("ceil_mode", 0) != 0;
  g->pads_begin.assign(n, 0);
  g->pads_end.assign(n, 0);
  g->out.assign(n, -1);
  for (size_t i = 0; i < n; ++i) {
    int64_t k = g->kernel[i], s = g->strides[i], d = g->dilations[i];
    if (k <= 0 || s <= 0 || d <= 0)
      return node_error(node, "kernel, strides and dilations must be positive (axis " +
                                  std::to_string(i) + ": kernel " + std::to_string(k) +
                                  ", stride " + std::to_string(s) + ", dilation " +
                                  std::to_string(d) + ")");
    if (pads[i] < 0 || pads[i + n] < 0) return node_error(node, "pads must be non-negative");
    const int64_t ek = (k - 1) * d + 1;
    if (auto_pad == AutoPad::kNotSet) {
      g->pads_begin[i] = pads[i];
      g->pads_end[i] = pads[i + n];
    }
    if (in[i] < 0) continue;
    if (auto_pad == AutoPad::kSameUpper || auto_pad == AutoPad::kSameLower) {
      int64_t o = (in[i] + s - 1) / s;
      int64_t total = std::max<int64_t>(0, (o - 1) * s + ek - in[i]);
      int64_t small = total / 2;
      g->pads_begin[i] = auto_pad == AutoPad::kSameUpper ? small : total - small;
      g->pads_end[i] = total - g->pads_begin[i];
      g->out[i] = o;
      continue;
    }
    int64_t span = in[i] + g->pads_begin[i] + g->pads_end[i] - ek;
    if (span < 0)
      return node_error(node, "spatial axis " + std::to_string(i) + " of size " +
                                  std::to_string(in[i]) + " (padded " +
                                  std::to_string(in[i] + g->pads_begin[i] + g->pads_end[i]) +
                                  ") is smaller than the kernel extent " + std::to_string(ek));
    int64_t o = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
    // A last window that would start inside the end padding is dropped.
    if (ceil_mode && (o - 1) * s >= in[i] + g->pads_begin[i]) --o;
    g->out[i] = o;
  }
  return Status::Ok();
}

Status conv_transpose_geometry(const ir::Node& node, const std::vector<int64_t>& in,
                               const std::vector<int64_t>& kernel_from_w, WindowGeometry* g) {
  const size_t n = in.size();
  g->kernel = node.has_attr("kernel_shape") ? node.attr_ints("kernel_shape") : kernel_from_w;
  g->strides = node.attr_ints("strides", std::vector<int64_t>(n, 1));
  g->dilations = node.attr_ints("dilations", std::vector<int64_t>(n, 1));
  std::vector<int64_t> pads = node.attr_ints("pads", std::vector<int64_t>(2 * n, 0));
  std::vector<int64_t> out_pad = node.attr_ints("output_padding", std::vector<int64_t>(n, 0));
  std::vector<int64_t> out_shape = node.attr_ints("output_shape");
  if (out_shape.size() > n) out_shape.erase(out_shape.begin(), out_shape.end() - n);  // N, C given too
  if (g->kernel.size() != n || g->strides.size() != n || g->dilations.size() != n ||
      pads.size() != 2 * n || out_pad.size() != n || (!out_shape.empty() && out_shape.size() != n))
    return node_error(node, "kernel_shape, strides, dilations, output_padding (and output_shape) need " +
                                std::to_string(n) + " values and pads " + std::to_string(2 * n));
  GLINT_ASSIGN_OR_RETURN(const AutoPad auto_pad, parse_auto_pad(node));
  const bool same = auto_pad == AutoPad::kSameUpper || auto_pad == AutoPad::kSameLower;
  g->pads_begin.assign(n, 0);
  g->pads_end.assign(n, 0);
  g->out.assign(n, -1);
  for (size_t i = 0; i < n; ++i) {
    const int64_t k = g->kernel[i], s = g->strides[i], d = g->dilations[i];
    if (k <= 0 || s <= 0 || d <= 0)
      return node_error(node, "kernel, strides and dilations must be positive");
    if (auto_pad == AutoPad::kNotSet) {
      g->pads_begin[i] = pads[i];
      g->pads_end[i] = pads[i + n];
    }
    if (in[i] < 0) continue;
    const int64_t full = (in[i] - 1) * s + out_pad[i] + (k - 1) * d + 1;
    int64_t target = !out_shape.empty() ? out_shape[i] : same ? in[i] * s : -1;
    if (target >= 0) {
      const int64_t total = std::max<int64_t>(0, full - target);
      const int64_t half = total / 2;
      g->pads_begin[i] = auto_pad == AutoPad::kSameUpper ? half : total - half;
      g->pads_end[i] = total - g->pads_begin[i];
      g->out[i] = target;
    } else {
      g->out[i] = full - g->pads_begin[i] - g->pads_end[i];
    }
    if (g->out[i] <= 0)
      return node_error(node, "output spatial axis " + std::to_string(i) + " would have size " +
                                  std::to_string(g->out[i]));
  }
  return Status::Ok();
}

}  // namespace glint::ops
