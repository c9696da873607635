// Conv (1-D to 3-D, groups, pads / auto_pad, strides, dilations, bias) as
// im2col + the blocked float GEMM; a 1x1 stride-1 unpadded conv reads the
// input directly as the GEMM's B matrix.
#include <algorithm>
#include <cstring>

#include "engine/cpu/kernels.h"
#include "engine/cpu/util.h"

namespace glint::cpu {

namespace {

// Spatial dims padded to 3 (leading 1s) so one loop nest serves 1-D..3-D.
struct Geometry3 {
  int64_t in[3], out[3], k[3], s[3], d[3], p[3];
};

Geometry3 to3(const std::vector<int64_t>& in, const WindowGeometry& g) {
  Geometry3 r;
  const size_t n = in.size(), off = 3 - n;
  for (size_t i = 0; i < 3; ++i) {
    if (i < off) {
      r.in[i] = r.out[i] = r.k[i] = r.s[i] = r.d[i] = 1;
      r.p[i] = 0;
      continue;
    }
    size_t j = i - off;
    r.in[i] = in[j];
    r.out[i] = g.out[j];
    r.k[i] = g.kernel[j];
    r.s[i] = g.strides[j];
    r.d[i] = g.dilations[j];
    r.p[i] = g.pads_begin[j];
  }
  return r;
}

// col[(c*KD*KH*KW + kidx), opix] for channels [0, C) of `x` (C x D x H x W).
void im2col(const float* x, int64_t C, const Geometry3& g, float* col) {
  const int64_t ID = g.in[0], IH = g.in[1], IW = g.in[2];
  const int64_t OD = g.out[0], OH = g.out[1], OW = g.out[2];
  for (int64_t c = 0; c < C; ++c)
    for (int64_t kd = 0; kd < g.k[0]; ++kd)
      for (int64_t kh = 0; kh < g.k[1]; ++kh)
        for (int64_t kw = 0; kw < g.k[2]; ++kw) {
          float* row = col;
          col += OD * OH * OW;
          const float* xc = x + c * ID * IH * IW;
          for (int64_t od = 0; od < OD; ++od) {
            const int64_t id = od * g.s[0] - g.p[0] + kd * g.d[0];
            for (int64_t oh = 0; oh < OH; ++oh, row += OW) {
              const int64_t ih = oh * g.s[1] - g.p[1] + kh * g.d[1];
              if (id < 0 || id >= ID || ih < 0 || ih >= IH) {
                std::fill(row, row + OW, 0.f);
                continue;
              }
              const float* xr = xc + (id * IH + ih) * IW;
              const int64_t iw0 = -g.p[2] + kw * g.d[2];
              if (g.s[2] == 1 && iw0 >= 0 && iw0 + OW <= IW) {
                std::memcpy(row, xr + iw0, OW * sizeof(float));
                continue;
              }
              for (int64_t ow = 0; ow < OW; ++ow) {
                const int64_t iw = ow * g.s[2] + iw0;
                row[ow] = (iw >= 0 && iw < IW) ? xr[iw] : 0.f;
              }
            }
          }
        }
}

}  // namespace

Status infer_conv(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                  const std::vector<const Tensor*>&, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 2));
  const ir::ValueInfo& x = *inputs[0];
  const ir::ValueInfo& w = *inputs[1];
  const ir::ValueInfo* b = inputs.size() > 2 ? inputs[2] : nullptr;
  outputs[0].dtype = x.dtype;
  if (w.dtype != x.dtype || (b && b->dtype != x.dtype))
    return node_error(node, "dtypes differ: X is " + x.describe() + ", W is " + w.describe() +
                                ", B is " + info_str(b));
  if (!x.has_shape || !w.has_shape) {
    outputs[0].has_shape = false;
    return Status::Ok();
  }
  if (x.dims.size() < 3 || x.dims.size() != w.dims.size())
    return node_error(node, "X " + x.describe() + " and W " + w.describe() +
                                " must have the same rank >= 3");
  const int64_t group = node.attr_int("group", 1);
  if (group <= 0) return node_error(node, "group must be positive, given " + std::to_string(group));
  const ir::Dim& c = x.dims[1];
  const ir::Dim& m = w.dims[0];
  const ir::Dim& wc = w.dims[1];
  if (c.known() && wc.known() && c.value != wc.value * group)
    return node_error(node, "X has " + std::to_string(c.value) + " channels but W " +
                                w.describe() + " with group " + std::to_string(group) +
                                " expects " + std::to_string(wc.value * group));
  if (m.known() && m.value % group != 0)
    return node_error(node, "W has " + std::to_string(m.value) +
                                " output channels, not divisible by group " + std::to_string(group));
  if (b && b->has_shape && (b->dims.size() != 1 || (b->dims[0].known() && m.known() &&
                                                    b->dims[0].value != m.value)))
    return node_error(node, "B " + b->describe() + " must be 1-D with " +
                                (m.known() ? std::to_string(m.value) : std::string("M")) +
                                " elements");
  std::vector<int64_t> in, kernel;
  for (size_t i = 2; i < x.dims.size(); ++i) {
    in.push_back(x.dims[i].value);
    kernel.push_back(w.dims[i].value);
  }
  if (node.has_attr("kernel_shape")) {
    auto ks = node.attr_ints("kernel_shape");
    for (size_t i = 0; i < ks.size() && i < kernel.size(); ++i)
      if (kernel[i] >= 0 && ks[i] != kernel[i])
        return node_error(node, "kernel_shape attribute disagrees with W " + w.describe());
  } else {
    for (int64_t k : kernel)
      if (k < 0) {  // unknown kernel size: spatial output dims unknown
        outputs[0].has_shape = true;
        outputs[0].dims.assign(x.dims.size(), ir::Dim{});
        outputs[0].dims[0] = x.dims[0];
        outputs[0].dims[1] = m;
        return Status::Ok();
      }
  }
  WindowGeometry g;
  GLINT_RETURN_IF_ERROR(window_geometry(node, in, kernel, false, &g));
  outputs[0].has_shape = true;
  outputs[0].dims = {x.dims[0], m};
  for (int64_t o : g.out) outputs[0].dims.push_back(ir::Dim{o, ""});
  return Status::Ok();
}

Status conv(const ir::Node& node, const std::vector<const Tensor*>& inputs,
            std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 2));
  GLINT_RETURN_IF_ERROR(check_float(node, *inputs[0], "X"));
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_conv, node, inputs, outputs));
  const Tensor& x = *inputs[0];
  const Tensor& w = *inputs[1];
  const Tensor* bias = inputs.size() > 2 ? inputs[2] : nullptr;
  Tensor& y = outputs[0];
  if (x.rank() > 5) return node_unsupported(node, "Conv beyond 3 spatial dims is not supported");
  std::vector<int64_t> in(x.shape().begin() + 2, x.shape().end());
  std::vector<int64_t> kernel(w.shape().begin() + 2, w.shape().end());
  WindowGeometry wg;
  GLINT_RETURN_IF_ERROR(window_geometry(node, in, kernel, false, &wg));
  const Geometry3 g = to3(in, wg);
  const int64_t N = x.shape()[0], C = x.shape()[1], M = w.shape()[0];
  const int64_t group = node.attr_int("group", 1);
  const int64_t Cg = C / group, Mg = M / group;
  const int64_t in_pix = g.in[0] * g.in[1] * g.in[2];
  const int64_t out_pix = g.out[0] * g.out[1] * g.out[2];
  const int64_t ks = g.k[0] * g.k[1] * g.k[2];
  const int64_t K = Cg * ks;
  bool direct = ks == 1;
  for (int i = 0; i < 3; ++i) direct = direct && g.s[i] == 1 && g.p[i] == 0 && g.in[i] == g.out[i];
  std::vector<float> col(direct ? 0 : static_cast<size_t>(K * out_pix));
  const float* px = x.data<float>();
  const float* pw = w.data<float>();
  float* py = y.data<float>();
  for (int64_t n = 0; n < N; ++n)
    for (int64_t gi = 0; gi < group; ++gi) {
      const float* xg = px + (n * C + gi * Cg) * in_pix;
      const float* bm = xg;
      if (!direct) {
        im2col(xg, Cg, g, col.data());
        bm = col.data();
      }
      float* yg = py + (n * M + gi * Mg) * out_pix;
      gemm(false, false, Mg, out_pix, K, 1.f, pw + gi * Mg * K, K, bm, out_pix, 0.f, yg, out_pix);
      if (bias) {
        const float* pb = bias->data<float>() + gi * Mg;
        for (int64_t m = 0; m < Mg; ++m) {
          float* row = yg + m * out_pix;
          for (int64_t p = 0; p < out_pix; ++p) row[p] += pb[m];
        }
      }
    }
  round_to_dtype(y);
  return Status::Ok();
}

}  // namespace glint::cpu
