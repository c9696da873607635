// Resize (opsets 10+) and Upsample (7, 9): the scales, sizes, axes, roi and
// keep_aspect_ratio_policy read and checked once here, and the separable
// filter's taps along one axis as the ONNX reference defines them (the
// neighbour left of an integral coordinate, edge clamping). The CPU kernel
// filters with the taps; the GPU kernel bakes them into its programs. One
// reading, so the two backends cannot disagree about a node.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "engine/core/status.h"
#include "engine/core/tensor.h"
#include "engine/ir/graph.h"

namespace glint::ops {

// Per axis of X.
struct ResizeAxes {
  std::vector<double> scales;
  std::vector<int64_t> out;  // -1: unknown
  std::vector<double> roi;   // tf_crop_and_resize: starts then ends, 2 * rank; empty otherwise
};

// `dims`: X's dims (-1 unknown); `constant(i)`: input i's value where it is
// known now, else nullptr; `present(i)`: whether input i is given at all.
// `*known` is false (and `r` unset) when scales or sizes are given but not
// known yet. Errors name the node and what is wrong with its scales, sizes,
// axes, policy or roi.
Status resize_axes(const ir::Node& node, const std::vector<int64_t>& dims,
                   const std::function<const Tensor*(size_t)>& constant, const std::function<bool(size_t)>& present,
                   ResizeAxes* r, bool* known);

// Keys' cubic convolution kernel with coefficient `a` (ONNX's cubic_coeff_a,
// -0.75 by default): Resize's cubic taps and GridSample's bicubic weights.
double cubic_convolution_weight(double x, double a);

struct ResizeTap {
  int64_t index;  // into the input axis
  double weight;
};

// The taps of every output index along one axis of length `in` resized to
// `out` by `scale` (roi_start / roi_end: that axis's roi, for
// tf_crop_and_resize); an output index with none takes extrapolation_value.
// Errors name the node and the unknown mode, nearest_mode or
// coordinate_transformation_mode.
Status resize_taps(const ir::Node& node, int64_t in, int64_t out, double scale, double roi_start, double roi_end,
                   std::vector<std::vector<ResizeTap>>* taps);

}  // namespace glint::ops
