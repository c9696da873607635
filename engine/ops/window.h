// The sliding-window attributes of Conv, ConvTranspose and the pools, read
// and checked once here and resolved against the input's spatial dims into
// the geometry both backends compute with (CPU kernels, GPU programs, shape
// functions): one reading of auto_pad, pads and ceil_mode, so the two
// backends cannot disagree about a node.
#pragma once
#include <cstdint>
#include <vector>

#include "engine/core/status.h"
#include "engine/ir/graph.h"

namespace glint::ops {

enum class AutoPad { kNotSet, kValid, kSameUpper, kSameLower };

// Per spatial axis: the window, its strides and dilations, the padding at
// each end, and the output size (-1 where the input size is unknown).
struct WindowGeometry {
  std::vector<int64_t> kernel, strides, dilations, pads_begin, pads_end, out;
};

// Conv and pools: from kernel_shape (or `kernel` when the node has none, as
// Conv takes it from W), strides, dilations, pads / auto_pad ("" is NOTSET,
// as ONNX says) and, with `allow_ceil`, ceil_mode, for input spatial dims
// `in` (-1 = unknown). Errors name the node and the offending attribute.
Status window_geometry(const ir::Node& node, const std::vector<int64_t>& in, const std::vector<int64_t>& kernel,
                       bool allow_ceil, WindowGeometry* g);

// ConvTranspose: the same attributes plus output_padding and output_shape;
// pads for output_shape and SAME follow the ONNX spec (the odd pixel at the
// end for SAME_UPPER, at the start otherwise).
Status conv_transpose_geometry(const ir::Node& node, const std::vector<int64_t>& in,
                               const std::vector<int64_t>& kernel_from_w, WindowGeometry* g);

// A window geometry over exactly three spatial dims, leading ones padded
// with extent-1, stride-1, unpadded dims, so that one loop nest serves 1-D
// to 3-D (the CPU conv and pool kernels).
struct Window3 {
  int64_t in[3], out[3], k[3], s[3], d[3], pb[3], pe[3];
};
// `in`: the input's spatial dims (1 to 3 of them).
Window3 to_window3(const std::vector<int64_t>& in, const WindowGeometry& g);

}  // namespace glint::ops
