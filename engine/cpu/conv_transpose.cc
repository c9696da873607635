// ConvTranspose (1-D to 3-D, groups, strides, dilations, pads / auto_pad,
// output_padding, output_shape) as GEMM (W^T X) + col2im scatter-add.
// Padding for output_shape / SAME follows the ONNX spec: the odd pixel of
// padding goes at the end for SAME_UPPER, at the start otherwise.
#include <algorithm>

#include "engine/cpu/kernels.h"
#include "engine/cpu/util.h"

namespace glint::cpu {

namespace {

}  // namespace

Status infer_conv_transpose(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                            const std::vector<const Tensor*>&, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 2));
  const ir::ValueInfo& x = *inputs[0];
  const ir::ValueInfo& w = *inputs[1];
  outputs[0].dtype = x.dtype;
  if (w.dtype != x.dtype)
    return node_error(node, "dtypes differ: X is " + x.describe() + ", W is " + w.describe());
  if (!x.has_shape || !w.has_shape) {
    outputs[0].has_shape = false;
    return Status::Ok();
  }
  if (x.dims.size() < 3 || x.dims.size() != w.dims.size())
    return node_error(node, "X " + x.describe() + " and W " + w.describe() + " must have the same rank >= 3");
  const int64_t group = node.attr_int("group", 1);
  if (group <= 0) return node_error(node, "group must be positive");
  if (x.dims[1].known() && w.dims[0].known() && x.dims[1].value != w.dims[0].value)
    return node_error(node, "X has " + std::to_string(x.dims[1].value) + " channels but W " + w.describe() +
                                " expects " + std::to_string(w.dims[0].value));
  ir::Dim m = w.dims[1];
  if (m.known()) m.value *= group;
  std::vector<int64_t> in, kernel;
  for (size_t i = 2; i < x.dims.size(); ++i) {
    in.push_back(x.dims[i].value);
    kernel.push_back(w.dims[i].known() ? w.dims[i].value : 1);
  }
  ops::WindowGeometry g;
  GLINT_RETURN_IF_ERROR(ops::conv_transpose_geometry(node, in, kernel, &g));
  outputs[0].has_shape = true;
  outputs[0].dims = {x.dims[0], m};
  for (int64_t o : g.out) outputs[0].dims.push_back(ir::Dim{o, ""});
  return Status::Ok();
}

Status conv_transpose(const ir::Node& node, const std::vector<const Tensor*>& inputs,
                      std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 2));
  GLINT_RETURN_IF_ERROR(check_float(node, *inputs[0], "X"));
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_conv_transpose, node, inputs, outputs));
  const Tensor& x = *inputs[0];
  const Tensor& w = *inputs[1];
  const Tensor* bias = inputs.size() > 2 ? inputs[2] : nullptr;
  Tensor& y = outputs[0];
  if (x.rank() > 5) return node_unsupported(node, "ConvTranspose beyond 3 spatial dims is not supported");
  std::vector<int64_t> in(x.shape().begin() + 2, x.shape().end());
  std::vector<int64_t> kernel(w.shape().begin() + 2, w.shape().end());
  ops::WindowGeometry tg;
  GLINT_RETURN_IF_ERROR(ops::conv_transpose_geometry(node, in, kernel, &tg));
  if (tg.kernel != kernel) return node_error(node, "kernel_shape attribute disagrees with W " + tensor_desc(w));
  // Spatial dims padded to 3 with leading 1s.
  const size_t off = 3 - in.size();
  int64_t I[3], O[3], K[3], S[3], D[3], P[3];
  for (size_t i = 0; i < 3; ++i) {
    const bool pad = i < off;
    I[i] = pad ? 1 : in[i - off];
    O[i] = pad ? 1 : tg.out[i - off];
    K[i] = pad ? 1 : tg.kernel[i - off];
    S[i] = pad ? 1 : tg.strides[i - off];
    D[i] = pad ? 1 : tg.dilations[i - off];
    P[i] = pad ? 0 : tg.pads_begin[i - off];
  }
  const int64_t N = x.shape()[0], C = x.shape()[1], group = node.attr_int("group", 1);
  const int64_t M = y.shape()[1], Cg = C / group, Mg = M / group;
  if (C % group != 0) return node_error(node, "channels " + std::to_string(C) + " not divisible by group");
  if (bias && bias->size() != M)
    return node_error(node, "B " + tensor_desc(*bias) + " must have " + std::to_string(M) + " elements");
  const int64_t in_pix = I[0] * I[1] * I[2], out_pix = O[0] * O[1] * O[2], ks = K[0] * K[1] * K[2];
  std::vector<float> col(static_cast<size_t>(Mg * ks * in_pix));
  const float* px = x.data<float>();
  float* py = y.data<float>();
  // W_g^T [Mg*ks, Cg] for every group (W_g is [Cg, Mg*ks]), once for the batch.
  std::vector<float> wt(static_cast<size_t>(group * Mg * ks * Cg));
  const float* pw = w.data<float>();
  for (int64_t gi = 0; gi < group; ++gi)
    for (int64_t c = 0; c < Cg; ++c)
      for (int64_t r = 0; r < Mg * ks; ++r) wt[(gi * Mg * ks + r) * Cg + c] = pw[(gi * Cg + c) * Mg * ks + r];
  for (int64_t n = 0; n < N; ++n)
    for (int64_t gi = 0; gi < group; ++gi) {
      // col[Mg*ks, in_pix] = W_g^T x X_g [Cg, in_pix]
      gemm(false, false, Mg * ks, in_pix, Cg, 1.f, wt.data() + gi * Mg * ks * Cg, Cg,
           px + (n * C + gi * Cg) * in_pix, in_pix, 0.f, col.data(), in_pix);
      float* yg = py + (n * M + gi * Mg) * out_pix;
      for (int64_t m = 0; m < Mg; ++m) {
        float* ym = yg + m * out_pix;
        if (bias) std::fill(ym, ym + out_pix, bias->data<float>()[gi * Mg + m]);
        for (int64_t kd = 0; kd < K[0]; ++kd)
          for (int64_t kh = 0; kh < K[1]; ++kh)
            for (int64_t kw = 0; kw < K[2]; ++kw) {
              const float* c = col.data() + ((m * K[0] + kd) * K[1] * K[2] + kh * K[2] + kw) * in_pix;
              for (int64_t id = 0; id < I[0]; ++id) {
                const int64_t od = id * S[0] - P[0] + kd * D[0];
                if (od < 0 || od >= O[0]) continue;
                for (int64_t ih = 0; ih < I[1]; ++ih) {
                  const int64_t oh = ih * S[1] - P[1] + kh * D[1];
                  if (oh < 0 || oh >= O[1]) continue;
                  const float* cr = c + (id * I[1] + ih) * I[2];
                  float* yr = ym + (od * O[1] + oh) * O[2];
                  for (int64_t iw = 0; iw < I[2]; ++iw) {
                    const int64_t ow = iw * S[2] - P[2] + kw * D[2];
                    if (ow >= 0 && ow < O[2]) yr[ow] += cr[iw];
                  }
                }
              }
            }
      }
    }
  round_to_dtype(y);
  return Status::Ok();
}

}  // namespace glint::cpu
