// Conv (1-D to 3-D, groups, pads / auto_pad, strides, dilations, bias) as
// im2col written straight into the packed panels of the SIMD GEMM (gemm.cc),
// bias added in the GEMM's epilogue; a 1x1 stride-1 unpadded conv packs the
// input itself; depthwise 3x3 (MobileNet's) has its own vector kernel; a
// 3x3 stride-1 conv whose weights the CPU backend transformed runs as
// Winograd F(2x2, 3x3) (conv_winograd.cc).
#include <algorithm>
#include <cstring>
#include <vector>

#include "engine/ops/fused_activation.h"
#include "engine/cpu/conv_winograd.h"
#include "engine/cpu/gemm.h"
#include "engine/cpu/kernels.h"
#include "engine/cpu/simd.h"
#include "engine/cpu/threadpool.h"
#include "engine/cpu/util.h"

namespace glint::cpu {

namespace {


// Writes panels [q0, q1) of the im2col matrix of channels [0, C) of `x`
// (C x D x H x W) in the GEMM's panel layout (gemm.h): panel q holds rows
// k = (c, kd, kh, kw) of output pixels [8q, 8q+8). Without pads, each
// lane's input origin is computed once per panel; with pads (negative ones:
// conv() zero-pads every other padded input first), lanes that share an
// output row form a run that is copied as one block when it lies inside the
// image and is tested lane by lane where it touches a border.
void im2col_panels(const float* x, int64_t C, const Window3& g, int64_t q0, int64_t q1, float* d) {
  const int64_t ID = g.in[0], IH = g.in[1], IW = g.in[2];
  const int64_t OH = g.out[1], OW = g.out[2];
  const int64_t out_pix = g.out[0] * OH * OW;
  const int64_t in_pix = ID * IH * IW;
  constexpr int64_t NR = kGemmNr;
  bool pads = false;
  for (int i = 0; i < 3; ++i) pads = pads || g.pb[i] != 0 || g.pe[i] != 0;
  if (!pads) {
    // Every tap inside the image (an unpadded conv, or conv() padded the
    // input first: pad_input): lane l of row (c, kd, kh, kw) reads
    // x[origin[l] + that row's offset], so the lanes' origins are worked
    // out once per panel and each row is 8 loads (two vectors when the lanes
    // are one contiguous run). The runs below, worked through row by row
    // with a bounds test, were 40% of MNIST's instructions natively, and
    // this path a third of that (callgrind).
    for (int64_t q = q0; q < q1; ++q) {
      const int64_t p0 = q * NR, lanes = std::min(NR, out_pix - p0);
      int64_t origin[NR];
      for (int64_t l = 0; l < lanes; ++l) {
        const int64_t p = p0 + l;
        const int64_t ow = p % OW, oh = (p / OW) % OH, od = p / (OW * OH);
        origin[l] = (od * g.s[0] * IH + oh * g.s[1]) * IW + ow * g.s[2];
      }
      const bool contiguous = lanes == NR && origin[NR - 1] - origin[0] == NR - 1;
      for (int64_t c = 0; c < C; ++c)
        for (int64_t kd = 0; kd < g.k[0]; ++kd)
          for (int64_t kh = 0; kh < g.k[1]; ++kh)
            for (int64_t kw = 0; kw < g.k[2]; ++kw, d += NR) {
              const float* src = x + c * in_pix + (kd * g.d[0] * IH + kh * g.d[1]) * IW + kw * g.d[2];
              if (contiguous) {
                simd::store(d, simd::load(src + origin[0]));
                simd::store(d + 4, simd::load(src + origin[0] + 4));
                continue;
              }
              for (int64_t l = 0; l < lanes; ++l) d[l] = src[origin[l]];
              for (int64_t l = lanes; l < NR; ++l) d[l] = 0.f;
            }
    }
    return;
  }
  for (int64_t q = q0; q < q1; ++q) {
    // Runs of lanes in the same output row: [lane, lane + len), input origin.
    struct Run { int64_t lane, len, id0, ih0, iw0; };
    Run runs[NR];
    int nruns = 0;
    const int64_t p0 = q * NR, lanes = std::min(NR, out_pix - p0);
    for (int64_t l = 0; l < lanes;) {
      const int64_t p = p0 + l;
      const int64_t ow = p % OW, oh = (p / OW) % OH, od = p / (OW * OH);
      const int64_t len = std::min(lanes - l, OW - ow);
      runs[nruns++] = {l, len, od * g.s[0] - g.pb[0], oh * g.s[1] - g.pb[1], ow * g.s[2] - g.pb[2]};
      l += len;
    }
    for (int64_t c = 0; c < C; ++c) {
      const float* xc = x + c * in_pix;
      for (int64_t kd = 0; kd < g.k[0]; ++kd)
        for (int64_t kh = 0; kh < g.k[1]; ++kh)
          for (int64_t kw = 0; kw < g.k[2]; ++kw, d += NR) {
            if (lanes < NR) std::fill(d + lanes, d + NR, 0.f);
            for (int r = 0; r < nruns; ++r) {
              const Run& run = runs[r];
              const int64_t id = run.id0 + kd * g.d[0], ih = run.ih0 + kh * g.d[1];
              float* o = d + run.lane;
              if (id < 0 || id >= ID || ih < 0 || ih >= IH) {
                std::fill(o, o + run.len, 0.f);
                continue;
              }
              const float* xr = xc + (id * IH + ih) * IW;
              const int64_t iw0 = run.iw0 + kw * g.d[2];
              if (g.s[2] == 1 && iw0 >= 0 && iw0 + run.len <= IW) {
                std::memcpy(o, xr + iw0, sizeof(float) * run.len);
                continue;
              }
              for (int64_t l = 0; l < run.len; ++l) {
                const int64_t iw = iw0 + l * g.s[2];
                o[l] = (iw >= 0 && iw < IW) ? xr[iw] : 0.f;
              }
            }
          }
    }
  }
}

// g's input grown by its pads, the pads gone: the geometry im2col_panels
// reads a zero-padded copy of the input with (pad_input), every window then
// inside the image, so it takes its unpadded path (a 5x5 pad-2 conv on a
// 14x14 image, MNIST's, has a border in most of its runs).
Window3 padded_window(const Window3& g) {
  Window3 p = g;
  for (int i = 0; i < 3; ++i) {
    p.in[i] = g.in[i] + g.pb[i] + g.pe[i];
    p.pb[i] = p.pe[i] = 0;
  }
  return p;
}

// Copies C channels of g.in into the interior of `d` (C channels of p.in,
// p = padded_window(g)); the border, zeroed once by the caller, stays zero.
void pad_input(const float* x, int64_t C, const Window3& g, const Window3& p, float* d) {
  for (int64_t c = 0; c < C; ++c)
    for (int64_t id = 0; id < g.in[0]; ++id)
      for (int64_t ih = 0; ih < g.in[1]; ++ih) {
        const float* src = x + ((c * g.in[0] + id) * g.in[1] + ih) * g.in[2];
        float* dst = d + ((c * p.in[0] + id + g.pb[0]) * p.in[1] + ih + g.pb[1]) * p.in[2] + g.pb[2];
        std::memcpy(dst, src, sizeof(float) * static_cast<size_t>(g.in[2]));
      }
}

// Depthwise 2-D conv (group == C == M) with a 3x3 kernel, dilation 1, stride
// 1 or 2, read straight from the input: 9 vector multiply-adds per 4 output
// pixels where the whole window row lies inside the image, scalar taps with
// bounds checks at the borders. Nothing is allocated (worker threads must not
// grow the wasm heap under the JS views of the main thread).
bool depthwise3x3_applies(const Tensor& x, const Tensor& w, int64_t group, const Window3& g) {
  return x.rank() == 4 && group == x.shape()[1] && w.shape()[0] == group && w.shape()[1] == 1 &&
         g.k[1] == 3 && g.k[2] == 3 && g.d[1] == 1 && g.d[2] == 1 && g.s[1] == g.s[2] &&
         (g.s[1] == 1 || g.s[1] == 2);
}

template <int S>
void depthwise3x3_plane(const float* xc, const float* wc, float bias, float* yc, const Window3& g,
                        GemmClamp clamp) {
  using simd::v4;
  const int64_t IH = g.in[1], IW = g.in[2], OH = g.out[1], OW = g.out[2];
  const int64_t pt = g.pb[1], pl = g.pb[2];
  // Output columns [v0, v1) whose vector loads stay inside the row: a load
  // at column c reads [c, c + 4) (stride 1) or [c, c + 8) (stride 2).
  const int64_t reach = S == 1 ? 5 : 9;
  const int64_t v0 = (pl + S - 1) / S;
  int64_t v1 = v0;
  while (v1 + 4 <= OW && v1 * S - pl + reach <= IW - 1) v1 += 4;
  v4 wv[9];
  for (int i = 0; i < 9; ++i) wv[i] = simd::splat(wc[i]);
  const v4 lo = simd::splat(clamp.lo), hi = simd::splat(clamp.hi);
  for (int64_t oh = 0; oh < OH; ++oh) {
    const int64_t ih0 = oh * S - pt;
    float* yr = yc + oh * OW;
    auto scalar = [&](int64_t ow) {
      float acc = bias;
      const int64_t iw0 = ow * S - pl;
      for (int kh = 0; kh < 3; ++kh) {
        const int64_t ih = ih0 + kh;
        if (ih < 0 || ih >= IH) continue;
        const float* xr = xc + ih * IW;
        for (int kw = 0; kw < 3; ++kw) {
          const int64_t iw = iw0 + kw;
          if (iw >= 0 && iw < IW) acc += wc[kh * 3 + kw] * xr[iw];
        }
      }
      yr[ow] = acc < clamp.lo ? clamp.lo : (acc > clamp.hi ? clamp.hi : acc);
    };
    for (int64_t ow = 0; ow < std::min(v0, OW); ++ow) scalar(ow);
    for (int64_t ow = v0; ow < v1; ow += 4) {
      v4 acc = simd::splat(bias);
      const int64_t iw0 = ow * S - pl;
      for (int kh = 0; kh < 3; ++kh) {
        const int64_t ih = ih0 + kh;
        if (ih < 0 || ih >= IH) continue;
        const float* p = xc + ih * IW + iw0;
        if (S == 1) {
          acc += wv[kh * 3] * simd::load(p) + wv[kh * 3 + 1] * simd::load(p + 1) +
                 wv[kh * 3 + 2] * simd::load(p + 2);
        } else {
          acc += wv[kh * 3] * simd::load_even(p) + wv[kh * 3 + 1] * simd::load_even(p + 1) +
                 wv[kh * 3 + 2] * simd::load_even(p + 2);
        }
      }
      simd::store(yr + ow, simd::clamp(acc, lo, hi));
    }
    for (int64_t ow = std::max(v0, v1); ow < OW; ++ow) scalar(ow);
  }
}

void depthwise3x3(const float* x, const float* w, const float* bias, float* y, int64_t planes,
                  int64_t C, const Window3& g, GemmClamp clamp) {
  const int64_t in_pix = g.in[1] * g.in[2], out_pix = g.out[1] * g.out[2];
  parallel_for(planes, [&](int64_t plane) {
    const int64_t c = plane % C;
    const float b = bias ? bias[c] : 0.f;
    if (g.s[1] == 1)
      depthwise3x3_plane<1>(x + plane * in_pix, w + c * 9, b, y + plane * out_pix, g, clamp);
    else
      depthwise3x3_plane<2>(x + plane * in_pix, w + c * 9, b, y + plane * out_pix, g, clamp);
  }, grain_for(9 * out_pix));
}

}  // namespace

Status infer_conv(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                  const std::vector<const Tensor*>&, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 2));
  const bool fused_residual = fused_residual_input(node) >= 0;
  // A Conv's fourth input is only ever glint's own fused residual (the
  // quantized convs that share this inference have more inputs).
  if (node.op_type == "Conv" && node.has_input(3) && !fused_residual)
    return node_error(node, "takes at most 3 inputs (X, W, B), given " + std::to_string(node.inputs.size()));
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
  // Winograd weights (passes::winograd_conv_weights) are [16, M, C] for a
  // 2-D 3x3 kernel.
  const bool winograd = is_winograd(node);
  if (winograd && (x.dims.size() != 4 || w.dims.size() != 3 ||
                   (w.dims[0].known() && w.dims[0].value != kWinogradPoints)))
    return node_error(node, "Winograd weights " + w.describe() + " must be [16, M, C] for a 2-D X, given X " +
                                x.describe());
  if (!winograd && (x.dims.size() < 3 || x.dims.size() != w.dims.size()))
    return node_error(node, "X " + x.describe() + " and W " + w.describe() +
                                " must have the same rank >= 3");
  const int64_t group = node.attr_int("group", 1);
  if (group <= 0) return node_error(node, "group must be positive, given " + std::to_string(group));
  if (winograd && group != 1) return node_error(node, "Winograd weights need group 1, given " + std::to_string(group));
  const ir::Dim& c = x.dims[1];
  const ir::Dim& m = w.dims[winograd ? 1 : 0];
  const ir::Dim& wc = w.dims[winograd ? 2 : 1];
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
    kernel.push_back(winograd ? 3 : w.dims[i].value);
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
  if (fused_residual && inputs.size() > 3 && inputs[3]) {
    const ir::ValueInfo& r = *inputs[3];
    bool same = r.dtype == x.dtype && (!r.has_shape || r.dims.size() == outputs[0].dims.size());
    for (size_t i = 0; same && r.has_shape && i < r.dims.size(); ++i)
      same = !r.dims[i].known() || !outputs[0].dims[i].known() || r.dims[i].value == outputs[0].dims[i].value;
    if (!same)
      return node_error(node, "the fused residual " + r.describe() + " is not of the output's dtype and shape " +
                                  outputs[0].describe());
  }
  return Status::Ok();
}

// Relu and Clip on float32 outputs go into the GEMM / depthwise epilogue.
bool conv_epilogue_applies(const FusedActivation& a, DataType out) {
  return out == DataType::kFloat32 && (a.kind == FusedActivation::kRelu || a.kind == FusedActivation::kClip);
}

Status conv(const ir::Node& node, const std::vector<const Tensor*>& inputs, std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 2));
  GLINT_RETURN_IF_ERROR(check_float(node, *inputs[0], "X"));
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_conv, node, inputs, outputs, OutputFill::kUnfilled));
  const Tensor& x = *inputs[0];
  const Tensor& w = *inputs[1];
  const Tensor* bias = inputs.size() > 2 ? inputs[2] : nullptr;
  // A residual fused into this Conv (passes::fuse_residual_add) starts the
  // output, and the products accumulate onto it: (conv + bias) + residual,
  // the unfused Add's sum, before the epilogue's activation.
  const bool fused_residual = fused_residual_input(node) >= 0;
  const Tensor* residual = fused_residual && inputs.size() > 3 ? inputs[3] : nullptr;
  Tensor& y = outputs[0];
  if (fused_residual && (!residual || residual->dtype() != y.dtype() || residual->shape() != y.shape()))
    return node_error(node, "the fused residual " + (residual ? tensor_desc(*residual) : std::string("(absent)")) +
                                " does not match the output " + tensor_desc(y));
  if (x.rank() > 5) return node_unsupported(node, "Conv beyond 3 spatial dims is not supported");
  const bool winograd = is_winograd(node);  // W is [16, M, C] (infer_conv checked)
  std::vector<int64_t> in(x.shape().begin() + 2, x.shape().end());
  std::vector<int64_t> kernel = winograd ? std::vector<int64_t>{3, 3} : Shape(w.shape().begin() + 2, w.shape().end());
  WindowGeometry wg;
  GLINT_RETURN_IF_ERROR(window_geometry(node, in, kernel, false, &wg));
  const Window3 g = to_window3(in, wg);
  const int64_t N = x.shape()[0], C = x.shape()[1], M = w.shape()[winograd ? 1 : 0];
  const int64_t group = node.attr_int("group", 1);
  const int64_t Cg = C / group, Mg = M / group;
  const int64_t in_pix = g.in[0] * g.in[1] * g.in[2];
  const int64_t out_pix = g.out[0] * g.out[1] * g.out[2];
  const int64_t ks = g.k[0] * g.k[1] * g.k[2];
  const int64_t K = Cg * ks;
  const float* px = x.data<float>();
  const float* pw = w.data<float>();
  const float* pbias = bias ? bias->data<float>() : nullptr;
  float* py = y.data<float>();
  if (out_pix == 0 || N == 0 || M == 0) {
    round_to_dtype(y);
    return Status::Ok();
  }
  if (residual) std::memcpy(py, residual->data<float>(), static_cast<size_t>(y.size()) * sizeof(float));
  // A Relu / Clip fused into this node (passes::fuse_activations) is applied
  // in the kernels' epilogue on float32 outputs; the runtime applies the
  // others (conv_epilogue_applies in the registry row).
  GemmClamp clamp;
  const FusedActivation act = fused_activation_of(node);
  if (conv_epilogue_applies(act, y.dtype())) {
    if (act.kind == FusedActivation::kRelu) clamp.lo = 0.f;
    if (act.kind == FusedActivation::kClip) { clamp.lo = act.alpha; clamp.hi = act.beta; }
  }
  if (winograd) {
    conv3x3_winograd(px, N, C, g, pw, M, pbias, residual != nullptr, clamp, py);
    round_to_dtype(y);
    return Status::Ok();
  }
  if (!residual && depthwise3x3_applies(x, w, group, g)) {
    depthwise3x3(px, pw, pbias, py, N * C, C, g, clamp);
    round_to_dtype(y);
    return Status::Ok();
  }
  // A 1x1, stride-1, unpadded conv is a GEMM on the input itself.
  bool direct = ks == 1;
  for (int i = 0; i < 3; ++i) direct = direct && g.s[i] == 1 && g.pb[i] == 0 && g.in[i] == g.out[i];
  bool pads = false, pads_valid = true;
  for (int i = 0; i < 3; ++i) {
    pads = pads || g.pb[i] > 0 || g.pe[i] > 0;
    pads_valid = pads_valid && g.pb[i] >= 0 && g.pe[i] >= 0;
  }
  const bool pad_first = !direct && pads && pads_valid;
  const Window3 gx = pad_first ? padded_window(g) : g;  // what im2col reads
  float* padded = nullptr;
  if (pad_first) {
    const int64_t n = Cg * gx.in[0] * gx.in[1] * gx.in[2];
    padded = scratch_floats(Scratch::kConvInput, n);
    std::fill(padded, padded + n, 0.f);  // the border, for every image and group
  }
  for (int64_t n = 0; n < N; ++n)
    for (int64_t gi = 0; gi < group; ++gi) {
      const float* xg = px + (n * C + gi * Cg) * in_pix;
      float* yg = py + (n * M + gi * Mg) * out_pix;
      const float* wg_ = pw + gi * Mg * K;
      const float* bg = pbias ? pbias + gi * Mg : nullptr;
      if (pad_first) pad_input(xg, Cg, g, gx, padded);
      const float* xs = pad_first ? padded : xg;
      gemm_packing(Mg, out_pix, K, wg_, K, [&](int64_t q0, int64_t q1, float* dst) {
        if (direct) pack_b_panels(false, K, out_pix, xg, out_pix, q0, q1, dst);
        else im2col_panels(xs, Cg, gx, q0, q1, dst);
      }, yg, out_pix, bg, residual != nullptr, clamp);
    }
  round_to_dtype(y);
  return Status::Ok();
}

}  // namespace glint::cpu
