// Resize (opset 10-19+) and Upsample (7-9): nearest / linear / cubic, every
// coordinate_transformation_mode, exclude_outside, extrapolation for
// tf_crop_and_resize, antialias, axes and keep_aspect_ratio_policy. The
// filter is separable, so the kernel resizes one axis at a time; taps follow
// the ONNX reference (the neighbour left of an integral coordinate, edge
// clamping). The node's reading and the taps are the GPU kernel's too
// (engine/ops/resize.h).
#include <algorithm>
#include <cmath>

#include "engine/cpu/kernels.h"
#include "engine/cpu/util.h"
#include "engine/ops/resize.h"

namespace glint::cpu {

Status infer_resize(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                    const std::vector<const Tensor*>& constants, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 1));
  const ir::ValueInfo& x = *inputs[0];
  outputs[0] = x;
  if (!x.has_shape) return Status::Ok();
  std::vector<int64_t> dims;  // -1: unknown
  for (const ir::Dim& d : x.dims) dims.push_back(d.known() ? d.value : -1);
  ops::ResizeAxes p;
  bool known;
  GLINT_RETURN_IF_ERROR(ops::resize_axes(
      node, dims, [&](size_t i) { return i < constants.size() ? constants[i] : nullptr; },
      [&](size_t i) { return i < inputs.size() && inputs[i] != nullptr; }, &p, &known));
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
  // Every input is a tensor now: the reading straight from them.
  auto input = [&](size_t i) { return i < inputs.size() ? inputs[i] : nullptr; };
  ops::ResizeAxes p;
  bool known;
  GLINT_RETURN_IF_ERROR(ops::resize_axes(node, x.shape(), input, [&](size_t i) { return input(i) != nullptr; }, &p,
                                         &known));
  if (!known) return internal_error(node.describe() + ": scales or sizes unknown at run time");
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
    std::vector<std::vector<ops::ResizeTap>> taps;
    GLINT_RETURN_IF_ERROR(ops::resize_taps(node, in, out, p.scales[a], crop ? p.roi[a] : 0.0,
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
        for (const ops::ResizeTap& t : taps[j]) {
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
