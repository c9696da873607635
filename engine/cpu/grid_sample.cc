// GridSample (opset 16, 2-D): bilinear / nearest / bicubic sampling of X at
// normalised grid coordinates, padding zeros / border / reflection, with or
// without align_corners; follows the ONNX reference.
#include <algorithm>
#include <cmath>

#include "engine/cpu/kernels.h"
#include "engine/cpu/util.h"
#include "engine/ops/resize.h"

namespace glint::cpu {

namespace {

double reflect(double x, double lo, double hi) {
  const double range = hi - lo;
  if (range <= 0) return lo;
  if (x < lo) {
    const double dx = lo - x;
    const int64_t n = static_cast<int64_t>(dx / range);
    const double r = dx - n * range;
    return n % 2 == 0 ? lo + r : hi - r;
  }
  if (x > hi) {
    const double dx = x - hi;
    const int64_t n = static_cast<int64_t>(dx / range);
    const double r = dx - n * range;
    return n % 2 == 0 ? hi - r : lo + r;
  }
  return x;
}

}  // namespace

Status infer_grid_sample(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                         const std::vector<const Tensor*>&, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 2));
  const ir::ValueInfo& x = *inputs[0];
  const ir::ValueInfo& g = *inputs[1];
  outputs[0].dtype = x.dtype;
  if (!x.has_shape || !g.has_shape) { outputs[0].has_shape = false; return Status::Ok(); }
  if (x.dims.size() != 4 || g.dims.size() != 4 || (g.dims[3].known() && g.dims[3].value != 2))
    return node_error(node, "X " + x.describe() + " must be [N,C,H,W] and grid " + g.describe() + " [N,H,W,2]");
  outputs[0].has_shape = true;
  outputs[0].dims = {x.dims[0], x.dims[1], g.dims[1], g.dims[2]};
  return Status::Ok();
}

Status grid_sample(const ir::Node& node, const std::vector<const Tensor*>& inputs,
                   std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 2));
  const Tensor& x = *inputs[0];
  const Tensor& grid = *inputs[1];
  if (!is_float(x.dtype())) return node_unsupported(node, "X has dtype " + dtype_name(x.dtype()));
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_grid_sample, node, inputs, outputs));
  if (grid.shape()[0] != x.shape()[0])
    return node_error(node, "grid batch " + tensor_desc(grid) + " differs from X " + tensor_desc(x));
  std::string mode = node.attr_string("mode", "bilinear");
  if (mode == "linear") mode = "bilinear";
  if (mode == "cubic") mode = "bicubic";
  const std::string pad = node.attr_string("padding_mode", "zeros");
  const bool align = node.attr_int("align_corners", 0) != 0;
  if (mode != "bilinear" && mode != "nearest" && mode != "bicubic")
    return node_error(node, "unknown mode '" + mode + "'");
  if (pad != "zeros" && pad != "border" && pad != "reflection")
    return node_error(node, "unknown padding_mode '" + pad + "'");
  const int64_t N = x.shape()[0], C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
  const int64_t HO = grid.shape()[1], WO = grid.shape()[2];
  // An empty X has no pixel to clamp or reflect to (the fuzzer found
  // reflection reading X[-1]); under zeros every sample is outside: all zeros.
  if ((H == 0 || W == 0) && pad != "zeros")
    return node_error(node, "padding_mode '" + pad + "' has no pixel to take in an empty X " + tensor_desc(x));
  if (H == 0 || W == 0) return Status::Ok();  // outputs[0] is allocated zero-filled
  const double xmin = align ? 0 : -0.5, xmax = align ? W - 1 : W - 0.5;
  const double ymin = align ? 0 : -0.5, ymax = align ? H - 1 : H - 0.5;
  Tensor& y = outputs[0];
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c) {
      const int64_t base = (n * C + c) * H * W;
      auto pixel = [&](int64_t yi, int64_t xi) -> double {
        if (pad == "zeros") {
          if (xi < 0 || xi >= W || yi < 0 || yi >= H) return 0.0;
        } else if (pad == "border") {
          xi = std::clamp<int64_t>(xi, 0, W - 1);
          yi = std::clamp<int64_t>(yi, 0, H - 1);
        } else {
          xi = std::clamp<int64_t>(static_cast<int64_t>(reflect(static_cast<double>(xi), xmin, xmax)), 0, W - 1);
          yi = std::clamp<int64_t>(static_cast<int64_t>(reflect(static_cast<double>(yi), ymin, ymax)), 0, H - 1);
        }
        return x.get_as_double(base + yi * W + xi);
      };
      for (int64_t i = 0; i < HO; ++i)
        for (int64_t j = 0; j < WO; ++j) {
          const int64_t g = ((n * HO + i) * WO + j) * 2;
          const double gx = grid.get_as_double(g), gy = grid.get_as_double(g + 1);
          double px = align ? (gx + 1) / 2 * (W - 1) : ((gx + 1) * W - 1) / 2;
          double py = align ? (gy + 1) / 2 * (H - 1) : ((gy + 1) * H - 1) / 2;
          if (pad == "border" && mode != "bicubic") {
            px = std::clamp(px, 0.0, W - 1.0);
            py = std::clamp(py, 0.0, H - 1.0);
          } else if (pad == "reflection" && mode != "bicubic") {
            px = reflect(px, xmin, xmax);
            py = reflect(py, ymin, ymax);
          }
          double v = 0;
          if (mode == "nearest") {
            v = pixel(static_cast<int64_t>(std::nearbyint(py)), static_cast<int64_t>(std::nearbyint(px)));
          } else if (mode == "bilinear") {
            const double fx = std::floor(px), fy = std::floor(py);
            const double tx = px - fx, ty = py - fy;
            const int64_t x0 = static_cast<int64_t>(fx), y0 = static_cast<int64_t>(fy);
            v = (1 - ty) * ((1 - tx) * pixel(y0, x0) + tx * pixel(y0, x0 + 1)) +
                ty * ((1 - tx) * pixel(y0 + 1, x0) + tx * pixel(y0 + 1, x0 + 1));
          } else {
            const double fx = std::floor(px), fy = std::floor(py);
            const double tx = px - fx, ty = py - fy;
            const int64_t x0 = static_cast<int64_t>(fx) - 1, y0 = static_cast<int64_t>(fy) - 1;
            for (int a = 0; a < 4; ++a) {
              double row = 0;
              for (int b = 0; b < 4; ++b) row += ops::cubic_convolution_weight(tx - (b - 1), -0.75) * pixel(y0 + a, x0 + b);
              v += ops::cubic_convolution_weight(ty - (a - 1), -0.75) * row;
            }
          }
          y.set_from_double(((n * C + c) * HO + i) * WO + j, v);
        }
    }
  return Status::Ok();
}

}  // namespace glint::cpu
