// RoiAlign (opset 10, 16): X [N,C,H,W], rois [R,4] (x1,y1,x2,y2),
// batch_indices [R] -> [R,C,output_height,output_width]. Each output bin
// averages (or takes the max of) bilinear samples on a regular grid, as in
// the ONNX reference / onnxruntime (including their edge clamping).
#include <algorithm>
#include <cmath>

#include "engine/cpu/kernels.h"
#include "engine/cpu/util.h"

namespace glint::cpu {

Status infer_roi_align(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                       const std::vector<const Tensor*>&, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 3));
  const ir::ValueInfo& x = *inputs[0];
  const ir::ValueInfo& rois = *inputs[1];
  if (x.has_shape && x.dims.size() != 4) return node_error(node, "X must be [N,C,H,W], given " + x.describe());
  if (rois.has_shape && (rois.dims.size() != 2 || (rois.dims[1].known() && rois.dims[1].value != 4)))
    return node_error(node, "rois must be [num_rois,4], given " + rois.describe());
  outputs[0].dtype = x.dtype;
  outputs[0].has_shape = true;
  outputs[0].dims = {rois.has_shape ? rois.dims[0] : ir::Dim{}, x.has_shape ? x.dims[1] : ir::Dim{},
                     ir::Dim{node.attr_int("output_height", 1), ""}, ir::Dim{node.attr_int("output_width", 1), ""}};
  if (outputs[0].dims[2].value <= 0 || outputs[0].dims[3].value <= 0)
    return node_error(node, "output_height and output_width must be positive");
  return Status::Ok();
}

namespace {

// Bilinear samples one RoiAlign may take: a hostile sampling_ratio (the
// fuzzer found 4194303) or roi would otherwise keep it busy for hours. A big
// real one (Mask R-CNN: 1000 rois x 256 channels x 14x14 bins x 2x2 samples)
// takes 2^27.6.
constexpr double kMaxSamples = double(int64_t{1} << 28);

// One side of a roi's sampling grid per bin: sampling_ratio points, or (0)
// as many as the bin spans pixels; 0 for a roi of no or negative extent, as
// its bins then average nothing.
double grid_side(int64_t sampling, double extent, int64_t bins) {
  if (sampling > 0) return static_cast<double>(sampling);
  return std::max(0.0, std::ceil(extent / static_cast<double>(bins)));
}

}  // namespace

Status roi_align(const ir::Node& node, const std::vector<const Tensor*>& inputs,
                 std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 3));
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_roi_align, node, inputs, outputs));
  const Tensor& X = *inputs[0];
  const Tensor& rois = *inputs[1];
  const Tensor& bidx = *inputs[2];
  Tensor& Y = outputs[0];
  const int64_t N = X.shape()[0], C = X.shape()[1], H = X.shape()[2], W = X.shape()[3];
  const int64_t R = rois.shape()[0], OH = Y.shape()[2], OW = Y.shape()[3];
  if (bidx.size() != R)
    return node_error(node, "batch_indices must have " + std::to_string(R) + " entries, given " + tensor_desc(bidx));
  const std::string ctm = node.attr_string("coordinate_transformation_mode", "half_pixel");
  const bool half_pixel = node.opset >= 16 && ctm == "half_pixel";
  if (node.opset >= 16 && ctm != "half_pixel" && ctm != "output_half_pixel")
    return node_error(node, "coordinate_transformation_mode must be half_pixel or output_half_pixel, given " + ctm);
  const std::string mode = node.attr_string("mode", "avg");
  if (mode != "avg" && mode != "max") return node_error(node, "mode must be avg or max, given " + mode);
  const bool is_max = mode == "max";
  const int64_t sampling = node.attr_int("sampling_ratio", 0);
  if (sampling < 0) return node_error(node, "sampling_ratio must be >= 0, given " + std::to_string(sampling));
  const double scale = node.attr_float("spatial_scale", 1.f);
  const double offset = half_pixel ? 0.5 : 0.0;
  // A roi's extent in input pixels along one axis (at least 1 without half_pixel).
  auto extent = [&](int64_t r, int lo) {
    const double e = (rois.get_as_double(r * 4 + lo + 2) - rois.get_as_double(r * 4 + lo)) * scale;
    return half_pixel ? e : std::max(e, 1.0);
  };
  if (Y.size() == 0) return Status::Ok();  // no channel or bin: no grid is sampled, however large
  double samples = 0;
  for (int64_t r = 0; r < R; ++r) {
    const double rw = extent(r, 0), rh = extent(r, 1);
    if (!std::isfinite(rw) || !std::isfinite(rh)) continue;  // its outputs are NaN, sampled nowhere
    samples += static_cast<double>(C) * OH * OW * grid_side(sampling, rh, OH) * grid_side(sampling, rw, OW);
  }
  if (samples > kMaxSamples) {
    return node_error(node, "would take " + std::to_string(static_cast<double>(samples)) +
                                " bilinear samples (sampling_ratio " + std::to_string(sampling) +
                                "), more than 2^28: sampling_ratio or the rois are out of range");
  }
  for (int64_t r = 0; r < R; ++r) {
    const int64_t b = bidx.get_as_int64(r);
    if (b < 0 || b >= N)
      return node_error(node, "batch index " + std::to_string(b) + " of roi " + std::to_string(r) +
                                  " is outside [0, " + std::to_string(N) + ")");
    const double x0 = rois.get_as_double(r * 4) * scale - offset;
    const double y0 = rois.get_as_double(r * 4 + 1) * scale - offset;
    const double rw = extent(r, 0), rh = extent(r, 1);
    if (!std::isfinite(x0) || !std::isfinite(y0) || !std::isfinite(rw) || !std::isfinite(rh)) {
      for (int64_t i = 0; i < C * OH * OW; ++i) Y.set_from_double(r * C * OH * OW + i, std::nan(""));
      continue;
    }
    const double bh = rh / OH, bw = rw / OW;
    // A grid with no side samples nothing, however long its other side (the
    // sample budget above counts the product, so that side is unbounded).
    const double gh_side = grid_side(sampling, rh, OH), gw_side = grid_side(sampling, rw, OW);
    const bool empty_grid = gh_side == 0 || gw_side == 0;
    const auto gh = empty_grid ? int64_t{0} : static_cast<int64_t>(gh_side);
    const auto gw = empty_grid ? int64_t{0} : static_cast<int64_t>(gw_side);
    const double count = std::max<double>(static_cast<double>(gh) * static_cast<double>(gw), 1.0);
    for (int64_t c = 0; c < C; ++c) {
      const int64_t plane = (b * C + c) * H * W;
      auto at = [&](int64_t yy, int64_t xx) { return X.get_as_double(plane + yy * W + xx); };
      for (int64_t ph = 0; ph < OH; ++ph) {
        for (int64_t pw = 0; pw < OW; ++pw) {
          double acc = 0;
          bool first = true;
          for (int64_t iy = 0; iy < gh; ++iy) {
            double y = y0 + ph * bh + (iy + 0.5) * bh / gh;
            for (int64_t ix = 0; ix < gw; ++ix) {
              double x = x0 + pw * bw + (ix + 0.5) * bw / gw;
              double v = 0;
              if (!(y < -1.0 || y > H || x < -1.0 || x > W) && H > 0 && W > 0) {
                double yc = std::max(y, 0.0), xc = std::max(x, 0.0);
                int64_t yl = static_cast<int64_t>(yc), xl = static_cast<int64_t>(xc), yh, xh;
                if (yl >= H - 1) { yl = yh = H - 1; yc = static_cast<double>(yl); } else { yh = yl + 1; }
                if (xl >= W - 1) { xl = xh = W - 1; xc = static_cast<double>(xl); } else { xh = xl + 1; }
                const double ly = yc - yl, lx = xc - xl, hy = 1 - ly, hx = 1 - lx;
                const double v1 = hy * hx * at(yl, xl), v2 = hy * lx * at(yl, xh);
                const double v3 = ly * hx * at(yh, xl), v4 = ly * lx * at(yh, xh);
                v = is_max ? std::max(std::max(v1, v2), std::max(v3, v4)) : v1 + v2 + v3 + v4;
              }
              if (!is_max) acc += v;
              else if (first || v > acc) acc = v;
              first = false;
            }
          }
          Y.set_from_double(((r * C + c) * OH + ph) * OW + pw, is_max ? acc : acc / count);
        }
      }
    }
  }
  round_to_dtype(Y);
  return Status::Ok();
}

}  // namespace glint::cpu
