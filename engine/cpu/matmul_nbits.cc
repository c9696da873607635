// com.microsoft MatMulNBits (docs/ContribOperators.md): Y = A x W^T + bias,
// W (N x K) quantized block-wise along K to `bits` bits:
//   W[n, k] = (q[n, k] - zero_point[n, blk]) * scale[n, blk],
//   blk = k / block_size (or g_idx[k] when given).
// B is uint8 (N, k_blocks, blob_size), k_blocks = ceil(K / block_size),
// blob_size = block_size * bits / 8: each block's values bit-packed from
// the low bits of its first byte up (4-bit: k even in the low nibble). The
// last block of a row is padded when K is not a multiple of block_size.
// zero_points are uint8 bit-packed the same way, (N, ceil(k_blocks * bits / 8)),
// or unpacked floats (N, k_blocks); absent, they are 2^(bits - 1).
//
// The weights stay packed: the GEMM asks for B in panels of kGemmNr
// columns and each panel is dequantized as it is packed, so no fp32 copy of
// W is ever held (it would be 8x the 4-bit size).
#include <algorithm>
#include <string>

#include "engine/cpu/contrib_attention.h"
#include "engine/cpu/gemm.h"
#include "engine/cpu/util.h"

namespace glint::cpu {

namespace {

std::string str(int64_t v) { return std::to_string(v); }

struct NBits {
  int64_t K = 0, N = 0, bits = 4, block = 0, k_blocks = 0, blob = 0;
  const uint8_t* q = nullptr;          // [N, k_blocks, blob]
  const float* scales = nullptr;       // [N, k_blocks]
  const uint8_t* zp_packed = nullptr;  // [N, zp_row]
  int64_t zp_row = 0;
  const float* zp_float = nullptr;     // [N, k_blocks]
  std::vector<int64_t> g_idx;          // [K] or empty
};

// Value i (`bits` wide) of a row of bit-packed bytes.
inline uint32_t unpack_bits(const uint8_t* p, int64_t i, int64_t bits) {
  const int64_t bit = i * bits;
  uint32_t w = p[bit >> 3];
  if ((bit & 7) + bits > 8) w |= static_cast<uint32_t>(p[(bit >> 3) + 1]) << 8;  // straddles two bytes
  return (w >> (bit & 7)) & ((1u << bits) - 1u);
}

inline float zero_point(const NBits& w, int64_t n, int64_t blk) {
  if (w.zp_float) return w.zp_float[n * w.k_blocks + blk];
  if (w.zp_packed) return static_cast<float>(unpack_bits(w.zp_packed + n * w.zp_row, blk, w.bits));
  return static_cast<float>(1 << (w.bits - 1));
}

// Row n of W (K values) into dst[k * stride].
void dequantize_row(const NBits& w, int64_t n, float* dst, int64_t stride) {
  const uint8_t* row = w.q + n * w.k_blocks * w.blob;
  if (!w.g_idx.empty()) {
    for (int64_t k = 0; k < w.K; ++k) {
      const int64_t blk = w.g_idx[k];
      const uint32_t v = unpack_bits(row + (k / w.block) * w.blob, k % w.block, w.bits);
      dst[k * stride] = (static_cast<float>(v) - zero_point(w, n, blk)) * w.scales[n * w.k_blocks + blk];
    }
    return;
  }
  for (int64_t blk = 0; blk < w.k_blocks; ++blk) {
    const float scale = w.scales[n * w.k_blocks + blk], zp = zero_point(w, n, blk);
    const uint8_t* b = row + blk * w.blob;
    const int64_t k0 = blk * w.block, count = std::min(w.block, w.K - k0);
    float* d = dst + k0 * stride;
    if (w.bits == 4) {
      for (int64_t i = 0; i < count; ++i) {
        const uint8_t byte = b[i >> 1];
        const uint32_t v = (i & 1) ? (byte >> 4) : (byte & 0xF);
        d[i * stride] = (static_cast<float>(v) - zp) * scale;
      }
    } else {
      for (int64_t i = 0; i < count; ++i)
        d[i * stride] = (static_cast<float>(unpack_bits(b, i, w.bits)) - zp) * scale;
    }
  }
}

Status read_nbits(const ir::Node& node, const std::vector<const Tensor*>& in, NBits* w) {
  w->K = node.attr_int("K", 0), w->N = node.attr_int("N", 0);
  w->bits = node.attr_int("bits", 4), w->block = node.attr_int("block_size", 0);
  if (w->K <= 0 || w->N <= 0 || w->block <= 0)
    return node_error(node, "attributes K " + str(w->K) + ", N " + str(w->N) + " and block_size " + str(w->block) +
                                " must be positive");
  if (w->bits < 2 || w->bits > 8) return node_unsupported(node, "bits " + str(w->bits) + " (2 to 8 are supported)");
  if ((w->block * w->bits) % 8 != 0)
    return node_error(node, "block_size " + str(w->block) + " x bits " + str(w->bits) + " is not a whole number of bytes");
  if (node.attr_int("weight_prepacked", 0) != 0)
    return node_unsupported(node, "weight_prepacked (an execution provider's own B layout) is not supported");
  w->k_blocks = (w->K + w->block - 1) / w->block;
  w->blob = w->block * w->bits / 8;
  const Tensor& b = *in[1];
  const Tensor& scales = *in[2];
  if (b.dtype() != DataType::kUint8)
    return node_error(node, "B has dtype " + dtype_name(b.dtype()) + "; expected uint8");
  if (b.size() != w->N * w->k_blocks * w->blob)
    return node_error(node, "B " + tensor_desc(b) + " has " + str(b.size()) + " bytes, expected (N " + str(w->N) +
                                ", k_blocks " + str(w->k_blocks) + ", blob_size " + str(w->blob) + ") = " +
                                str(w->N * w->k_blocks * w->blob));
  w->q = b.data<uint8_t>();
  GLINT_RETURN_IF_ERROR(check_float(node, scales, "scales"));
  if (scales.size() != w->N * w->k_blocks)
    return node_error(node, "scales " + tensor_desc(scales) + " must hold (N " + str(w->N) + ", k_blocks " +
                                str(w->k_blocks) + ") = " + str(w->N * w->k_blocks) + " values");
  w->scales = scales.data<float>();
  if (in.size() > 3 && in[3]) {
    const Tensor& zp = *in[3];
    if (zp.dtype() == DataType::kUint8) {
      w->zp_row = (w->k_blocks * w->bits + 7) / 8;
      if (zp.size() != w->N * w->zp_row)
        return node_error(node, "packed zero_points " + tensor_desc(zp) + " must hold (N " + str(w->N) +
                                    ", ceil(k_blocks * bits / 8) " + str(w->zp_row) + ") = " + str(w->N * w->zp_row) +
                                    " bytes");
      w->zp_packed = zp.data<uint8_t>();
    } else if (is_float(zp.dtype()) && zp.dtype() != DataType::kFloat64) {
      if (zp.size() != w->N * w->k_blocks)
        return node_error(node, "zero_points " + tensor_desc(zp) + " must hold (N, k_blocks) = " +
                                    str(w->N * w->k_blocks) + " values");
      w->zp_float = zp.data<float>();
    } else {
      return node_error(node, "zero_points has dtype " + dtype_name(zp.dtype()) + "; expected uint8 or float");
    }
  }
  if (in.size() > 4 && in[4]) {
    const Tensor& g = *in[4];
    if (g.size() != w->K)
      return node_error(node, "g_idx " + tensor_desc(g) + " must hold K = " + str(w->K) + " block indices");
    w->g_idx = to_int64s(g);
    for (int64_t v : w->g_idx)
      if (v < 0 || v >= w->k_blocks)
        return node_error(node, "g_idx value " + str(v) + " is outside [0, k_blocks " + str(w->k_blocks) + ")");
  }
  return Status::Ok();
}

}  // namespace

Status matmul_nbits(const ir::Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, in, 3));
  const Tensor& a = *in[0];
  GLINT_RETURN_IF_ERROR(check_float(node, a, "A"));
  NBits w;
  GLINT_RETURN_IF_ERROR(read_nbits(node, in, &w));
  if (a.rank() < 1 || a.shape().back() != w.K)
    return node_error(node, "A " + tensor_desc(a) + " must end in K " + str(w.K));
  const Tensor* bias = in.size() > 5 ? in[5] : nullptr;
  if (bias) {
    GLINT_RETURN_IF_ERROR(check_float(node, *bias, "bias"));
    if (bias->size() != w.N) return node_error(node, "bias " + tensor_desc(*bias) + " must hold N " + str(w.N) + " values");
  }
  Shape ys = a.shape();
  ys.back() = w.N;
  out[0] = Tensor(a.dtype(), ys);
  const int64_t M = a.size() / w.K;
  float* y = out[0].data<float>();
  if (M > 0) {
    // Panel q holds columns [q * kGemmNr, (q + 1) * kGemmNr) of W^T (K x N),
    // k-major: W's rows n of the panel, each dequantized with stride kGemmNr.
    auto pack = [&w](int64_t q0, int64_t q1, float* dst) {
      for (int64_t q = q0; q < q1; ++q) {
        float* panel = dst + (q - q0) * w.K * kGemmNr;
        for (int64_t c = 0; c < kGemmNr; ++c) {
          const int64_t n = q * kGemmNr + c;
          if (n < w.N) {
            dequantize_row(w, n, panel + c, kGemmNr);
          } else {
            for (int64_t k = 0; k < w.K; ++k) panel[k * kGemmNr + c] = 0.f;
          }
        }
      }
    };
    gemm_packing(M, w.N, w.K, a.data<float>(), w.K, pack, y, w.N, nullptr, false);
  }
  if (bias) {
    const float* bd = bias->data<float>();
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < w.N; ++n) y[m * w.N + n] += bd[n];
  }
  round_to_dtype(out[0]);
  return Status::Ok();
}

Status infer_matmul_nbits(const ir::Node& node, const std::vector<const ir::ValueInfo*>& in,
                          const std::vector<const Tensor*>&, std::vector<ir::ValueInfo>& out) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, in, 3));
  const ir::ValueInfo& a = *in[0];
  const int64_t K = node.attr_int("K", 0), N = node.attr_int("N", 0);
  if (K <= 0 || N <= 0) return node_error(node, "attributes K " + str(K) + " and N " + str(N) + " must be positive");
  out[0] = a;
  if (!a.has_shape) return Status::Ok();
  if (a.dims.empty()) return node_error(node, "A " + a.describe() + " must have rank >= 1");
  const ir::Dim& k = a.dims.back();
  if (k.known() && k.value != K) return node_error(node, "A " + a.describe() + " must end in K " + str(K));
  out[0].dims.back() = ir::Dim{N, ""};
  return Status::Ok();
}

}  // namespace glint::cpu
