// MaxPool (with optional Indices), AveragePool (count_include_pad), LpPool and
// the Global* pools, over 1 to 3 spatial dims.
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "engine/cpu/kernels.h"
#include "engine/cpu/simd.h"
#include "engine/cpu/threadpool.h"
#include "engine/cpu/util.h"

namespace glint::cpu {

namespace {

enum class PoolKind { kMax, kAvg, kLp };

PoolKind kind_of(const ir::Node& node) {
  if (node.op_type == "MaxPool" || node.op_type == "GlobalMaxPool") return PoolKind::kMax;
  if (node.op_type == "LpPool" || node.op_type == "GlobalLpPool") return PoolKind::kLp;
  return PoolKind::kAvg;
}

bool is_global(const ir::Node& node) { return node.op_type.rfind("Global", 0) == 0; }

// First and one-past-last window positions k (0..kernel) whose input index
// lo + k*d lies in [0, n).
inline void valid_taps(int64_t lo, int64_t k, int64_t d, int64_t n, int64_t* k0, int64_t* k1) {
  *k0 = lo >= 0 ? 0 : (-lo + d - 1) / d;
  *k1 = lo >= n ? 0 : std::min<int64_t>(k, (n - 1 - lo) / d + 1);
  if (*k1 < *k0) *k1 = *k0;
}

template <class T>
void pool_loop(const T* x, T* y, int64_t* idx, int64_t NC, const Window3& g, PoolKind kind,
               bool include_pad, double p, bool col_major) {
  const int64_t ID = g.in[0], IH = g.in[1], IW = g.in[2];
  const int64_t in_pix = ID * IH * IW;
  const int64_t out_pix = g.out[0] * g.out[1] * g.out[2];
  parallel_for(NC, [&](int64_t nc) {  // one plane per task
    int64_t out_at = nc * out_pix;
    const T* xc = x + nc * in_pix;
    for (int64_t od = 0; od < g.out[0]; ++od)
      for (int64_t oh = 0; oh < g.out[1]; ++oh)
        for (int64_t ow = 0; ow < g.out[2]; ++ow, ++out_at) {
          const int64_t o[3] = {od, oh, ow};
          int64_t lo[3], k0[3], k1[3], padded = 1;
          for (int i = 0; i < 3; ++i) {
            lo[i] = o[i] * g.s[i] - g.pb[i];
            valid_taps(lo[i], g.k[i], g.d[i], g.in[i], &k0[i], &k1[i]);
            if (kind == PoolKind::kAvg && include_pad) {
              // Taps inside the padded extent [-pb, in + pe).
              int64_t a, b;
              valid_taps(lo[i] + g.pb[i], g.k[i], g.d[i], g.in[i] + g.pb[i] + g.pe[i], &a, &b);
              padded *= b - a;
            }
          }
          const int64_t count = (k1[0] - k0[0]) * (k1[1] - k0[1]) * (k1[2] - k0[2]);
          if (kind == PoolKind::kMax) {
            T best = count ? xc[((lo[0] + k0[0] * g.d[0]) * IH + lo[1] + k0[1] * g.d[1]) * IW +
                                lo[2] + k0[2] * g.d[2]]
                           : std::numeric_limits<T>::lowest();
            int64_t best_at = -1;
            for (int64_t a = k0[0]; a < k1[0]; ++a) {
              const int64_t id = lo[0] + a * g.d[0];
              for (int64_t b = k0[1]; b < k1[1]; ++b) {
                const int64_t ih = lo[1] + b * g.d[1];
                const T* row = xc + (id * IH + ih) * IW + lo[2];
                for (int64_t c = k0[2]; c < k1[2]; ++c) {
                  const T v = row[c * g.d[2]];
                  if (v > best || best_at < 0) {
                    best = v;
                    best_at = (id * IH + ih) * IW + lo[2] + c * g.d[2];
                  }
                }
              }
            }
            y[out_at] = best;
            if (idx) {
              int64_t at = std::max<int64_t>(best_at, 0);
              if (col_major) {  // (w, h, d) order instead of (d, h, w)
                const int64_t iw = at % IW, ih = (at / IW) % IH, id = at / (IW * IH);
                at = (iw * IH + ih) * ID + id;
              }
              idx[out_at] = nc * in_pix + at;
            }
            continue;
          }
          double acc = 0;
          for (int64_t a = k0[0]; a < k1[0]; ++a) {
            const int64_t id = lo[0] + a * g.d[0];
            for (int64_t b = k0[1]; b < k1[1]; ++b) {
              const T* row = xc + (id * IH + lo[1] + b * g.d[1]) * IW + lo[2];
              for (int64_t c = k0[2]; c < k1[2]; ++c) {
                const double v = static_cast<double>(row[c * g.d[2]]);
                acc += kind == PoolKind::kAvg ? v : std::pow(std::fabs(v), p);
              }
            }
          }
          if (kind == PoolKind::kAvg)
            acc /= static_cast<double>(include_pad ? padded : std::max<int64_t>(count, 1));
          else
            acc = std::pow(acc, 1.0 / p);
          y[out_at] = static_cast<T>(acc);
        }
  }, grain_for(in_pix));
}

// MaxPool over 2-D float planes without Indices and dilation (SqueezeNet's
// 3x3 stride 2): whole-window rows are read straight from the input, 4
// output pixels per vector max where the window lies inside the row (stride
// 1 or 2), scalar with bounds checks at the borders. An empty window gives
// the lowest float, as pool_loop.
bool maxpool2d_applies(const Window3& g) {
  return g.in[0] == 1 && g.k[0] == 1 && g.d[1] == 1 && g.d[2] == 1;
}

template <int S>
void maxpool2d_plane(const float* xc, float* yc, const Window3& g) {
  using simd::v4;
  const int64_t IH = g.in[1], IW = g.in[2], OH = g.out[1], OW = g.out[2];
  const int64_t KH = g.k[1], KW = g.k[2], s = g.s[2], pl = g.pb[2];
  const float lowest = std::numeric_limits<float>::lowest();
  // Vector columns [v0, v1): lane 3's window ends before IW; S == 0 means
  // a stride other than 1 or 2 (scalar everywhere).
  int64_t v0 = 0, v1 = 0;
  if (S) {
    const int64_t reach = S == 1 ? KW + 2 : KW + 6;  // last column a vector load touches
    v0 = (pl + S - 1) / S;
    v1 = v0;
    while (v1 + 4 <= OW && v1 * S - pl + reach <= IW - 1) v1 += 4;
  }
  for (int64_t oh = 0; oh < OH; ++oh) {
    const int64_t ih0 = oh * g.s[1] - g.pb[1];
    const int64_t a0 = std::max<int64_t>(0, -ih0), a1 = std::min(KH, IH - ih0);
    float* yr = yc + oh * OW;
    auto scalar = [&](int64_t ow) {
      const int64_t iw0 = ow * s - pl;
      const int64_t b0 = std::max<int64_t>(0, -iw0), b1 = std::min(KW, IW - iw0);
      float m = lowest;
      bool any = false;
      for (int64_t a = a0; a < a1; ++a) {
        const float* row = xc + (ih0 + a) * IW + iw0;
        for (int64_t b = b0; b < b1; ++b) {
          if (!any || row[b] > m) m = row[b];
          any = true;
        }
      }
      yr[ow] = m;
    };
    for (int64_t ow = 0; ow < std::min(v0, OW); ++ow) scalar(ow);
    if (a0 < a1) {
      for (int64_t ow = v0; ow < v1; ow += 4) {
        const float* p0 = xc + (ih0 + a0) * IW + ow * S - pl;
        v4 m = S == 1 ? simd::load(p0) : simd::load_even(p0);
        for (int64_t a = a0; a < a1; ++a) {
          const float* p = xc + (ih0 + a) * IW + ow * S - pl;
          for (int64_t b = 0; b < KW; ++b) m = simd::max(m, S == 1 ? simd::load(p + b) : simd::load_even(p + b));
        }
        simd::store(yr + ow, m);
      }
    } else {
      for (int64_t ow = v0; ow < v1; ++ow) yr[ow] = lowest;
    }
    for (int64_t ow = std::max(v0, v1); ow < OW; ++ow) scalar(ow);
  }
}

void maxpool2d(const float* x, float* y, int64_t NC, const Window3& g) {
  const int64_t in_pix = g.in[1] * g.in[2], out_pix = g.out[1] * g.out[2];
  parallel_for(NC, [&](int64_t nc) {
    if (g.s[2] == 1) maxpool2d_plane<1>(x + nc * in_pix, y + nc * out_pix, g);
    else if (g.s[2] == 2) maxpool2d_plane<2>(x + nc * in_pix, y + nc * out_pix, g);
    else maxpool2d_plane<0>(x + nc * in_pix, y + nc * out_pix, g);
  }, grain_for(in_pix));
}

}  // namespace

Status infer_pool(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                  const std::vector<const Tensor*>&, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 1));
  const ir::ValueInfo& x = *inputs[0];
  outputs[0].dtype = x.dtype;
  if (outputs.size() > 1) outputs[1].dtype = DataType::kInt64;
  if (!x.has_shape) {
    outputs[0].has_shape = false;
    return Status::Ok();
  }
  if (x.dims.size() < 3)
    return node_error(node, "X " + x.describe() + " must have rank >= 3 (N, C, spatial...)");
  outputs[0].has_shape = true;
  outputs[0].dims = {x.dims[0], x.dims[1]};
  if (is_global(node)) {
    for (size_t i = 2; i < x.dims.size(); ++i) outputs[0].dims.push_back(ir::Dim{1, ""});
  } else {
    if (!node.has_attr("kernel_shape")) return node_error(node, "kernel_shape attribute is required");
    std::vector<int64_t> in;
    for (size_t i = 2; i < x.dims.size(); ++i) in.push_back(x.dims[i].value);
    WindowGeometry g;
    GLINT_RETURN_IF_ERROR(window_geometry(node, in, {}, true, &g));
    for (int64_t o : g.out) outputs[0].dims.push_back(ir::Dim{o, ""});
  }
  if (outputs.size() > 1 && node.has_output(1)) {
    outputs[1] = outputs[0];
    outputs[1].dtype = DataType::kInt64;
  }
  return Status::Ok();
}

Status pool(const ir::Node& node, const std::vector<const Tensor*>& inputs,
            std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
  const Tensor& x = *inputs[0];
  const PoolKind kind = kind_of(node);
  if (!is_float(x.dtype()) && !(kind == PoolKind::kMax && is_integer(x.dtype())))
    return node_unsupported(node, "input dtype " + dtype_name(x.dtype()) + " is not supported");
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_pool, node, inputs, outputs));
  if (x.rank() > 5) return node_unsupported(node, "pooling beyond 3 spatial dims is not supported");
  Tensor& y = outputs[0];
  const size_t n = x.rank() - 2;
  WindowGeometry wg;
  std::vector<int64_t> in(x.shape().begin() + 2, x.shape().end());
  if (is_global(node)) {
    wg.kernel = in;
    wg.strides = wg.dilations = std::vector<int64_t>(n, 1);
    wg.pads_begin = wg.pads_end = std::vector<int64_t>(n, 0);
    wg.out = std::vector<int64_t>(n, 1);
  } else {
    GLINT_RETURN_IF_ERROR(window_geometry(node, in, {}, true, &wg));
  }
  const Window3 g = to_window3(in, wg);
  const bool include_pad = node.attr_int("count_include_pad", 0) != 0;
  const double p = static_cast<double>(node.attr_int("p", 2));
  const bool col_major = node.attr_int("storage_order", 0) != 0;
  int64_t* idx = nullptr;
  if (node.has_output(1)) {
    if (kind != PoolKind::kMax || outputs.size() < 2)
      return node_error(node, "only MaxPool has a second (Indices) output");
    idx = outputs[1].data<int64_t>();
  }
  const int64_t NC = x.shape()[0] * x.shape()[1];
  if (kind == PoolKind::kMax && !idx && maxpool2d_applies(g) &&
      is_float_storage(x.dtype())) {
    maxpool2d(x.data<float>(), y.data<float>(), NC, g);
    round_to_dtype(y);
    return Status::Ok();
  }
  visit_numeric(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (!std::is_same_v<T, bool>)
      pool_loop<T>(x.data<T>(), y.data<T>(), idx, NC, g, kind, include_pad, p, col_major);
  });
  round_to_dtype(y);
  return Status::Ok();
}

Status infer_max_unpool(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                        const std::vector<const Tensor*>& constants, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 2));
  const ir::ValueInfo& x = *inputs[0];
  outputs[0].dtype = x.dtype;
  if (constants.size() > 2 && constants[2]) {
    outputs[0] = ir::ValueInfo::of(x.dtype, to_int64s(*constants[2]));
    return Status::Ok();
  }
  if (!x.has_shape || (inputs.size() > 2 && inputs[2])) {
    outputs[0].has_shape = false;
    return Status::Ok();
  }
  if (x.dims.size() < 3) return node_error(node, "X " + x.describe() + " must have rank >= 3");
  const size_t n = x.dims.size() - 2;
  std::vector<int64_t> k = node.attr_ints("kernel_shape"), s = node.attr_ints("strides", std::vector<int64_t>(n, 1)),
                       p = node.attr_ints("pads", std::vector<int64_t>(2 * n, 0));
  if (k.size() != n || s.size() != n || p.size() != 2 * n)
    return node_error(node, "kernel_shape/strides need " + std::to_string(n) + " values and pads " + std::to_string(2 * n));
  outputs[0].has_shape = true;
  outputs[0].dims = {x.dims[0], x.dims[1]};
  for (size_t i = 0; i < n; ++i) {
    const ir::Dim& d = x.dims[i + 2];
    outputs[0].dims.push_back(d.known() ? ir::Dim{(d.value - 1) * s[i] + k[i] - p[i] - p[i + n], ""} : ir::Dim{});
  }
  return Status::Ok();
}

Status max_unpool(const ir::Node& node, const std::vector<const Tensor*>& inputs,
                  std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 2));
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_max_unpool, node, inputs, outputs));
  const Tensor& x = *inputs[0];
  const Tensor& idx = *inputs[1];
  if (idx.shape() != x.shape())
    return node_error(node, "indices " + tensor_desc(idx) + " must have the shape of X " + tensor_desc(x));
  Tensor& y = outputs[0];
  if (y.dtype() != x.dtype() || y.rank() != x.rank())
    return node_error(node, "output_shape " + shape_str(y.shape()) + " does not fit X " + tensor_desc(x));
  // Indices address the default unpooled shape; with an explicit output_shape
  // they are re-laid out on it (as the ONNX reference does).
  std::vector<ir::ValueInfo> dflt(1);
  ir::ValueInfo xi = ir::ValueInfo::of(x), ii = ir::ValueInfo::of(idx);
  GLINT_RETURN_IF_ERROR(infer_max_unpool(node, {&xi, &ii}, {}, dflt));
  const Shape ds = dflt[0].concrete();
  const auto dst = shape_strides(ds), yst = shape_strides(y.shape());
  for (int64_t i = 0; i < x.size(); ++i) {
    int64_t at = idx.get_as_int64(i);
    if (at < 0 || at >= shape_size(ds))
      return node_error(node, "index " + std::to_string(at) + " is out of range for " + shape_str(ds));
    int64_t out = 0;
    bool inside = true;
    for (size_t d = 0; d < ds.size(); ++d) {
      const int64_t c = at / dst[d];
      at %= dst[d];
      inside = inside && c < y.shape()[d];
      out += c * yst[d];
    }
    if (inside) copy_elements(x, i, y, out, 1);
  }
  return Status::Ok();
}

}  // namespace glint::cpu
