// com.microsoft MatMulNBits on the GPU: Y[r, n] = sum_k A[r, k] * W[n, k]
// (+ bias[n]), W dequantized in the shader from the packed bytes of B as it
// is read, block by block: with q the block's quantized values,
//   sum_k A[k] * (q[k] - zp) * scale = scale * (sum_k A[k] q[k] - zp * sum_k A[k]),
// so a block costs one scale and one zero-point fetch, and each byte fetch
// yields 8 / bits weights. One output element per fragment; a first pass
// lays A out four activations to a texel when it fits (as matmul.cc does).
//
// Memory: B stays packed, but the texture layout (texture_layout.h) holds a
// uint8 tensor as one exact float per R32F texel, so a 4-bit weight costs 2
// bytes of GPU memory: half of a dequantized float32 copy, not the 1/8 the
// packing allows. Getting to 1/8 needs a layout kind that keeps four bytes
// per texel (an RGBA8UI texture, or four bytes in an R32UI / bit-cast R32F
// texel) for uint8 constants that only such kernels read, with an accessor
// returning the raw bytes; the kernel would then fetch a texel per 4 bytes.
#include "engine/gl/kernels/matmul_nbits.h"

#include "engine/gl/kernels/glsl_util.h"

namespace glint::gl {

namespace {

// What every WebGL2 / GLES 3 context holds in one texture dimension (the
// packed-A pass needs rows and K / 4 within it, as matmul.cc's packing).
constexpr int64_t kMinTextureSize = 2048;

struct NBitsDims {
  int64_t K = 0, N = 0, bits = 4, block = 0, k_blocks = 0, blob = 0, zp_row = 0;
};

NBitsDims dims_of(const ir::Node& node) {
  NBitsDims d;
  d.K = node.attr_int("K", 0), d.N = node.attr_int("N", 0);
  d.bits = node.attr_int("bits", 4), d.block = node.attr_int("block_size", 0);
  if (d.block > 0) d.k_blocks = (d.K + d.block - 1) / d.block;
  d.blob = d.block * d.bits / 8;
  d.zp_row = (d.k_blocks * d.bits + 7) / 8;
  return d;
}

bool present(const KernelContext& ctx, size_t i) { return i < ctx.inputs.size() && ctx.inputs[i].has_value(); }

// GLSL int expression: quantized value `i` (int expression) of the bytes
// starting at flat index `base` of input X, `bits` wide, packed from the low bits up.
std::string value_at(const std::string& X, const std::string& base, const std::string& i, int64_t bits) {
  if (bits == 8) return "int(get" + X + "Flat(" + base + " + " + i + "))";
  const int64_t per_byte = 8 / bits;
  return "((int(get" + X + "Flat(" + base + " + (" + i + ") / " + glsl_int(per_byte) + ")) >> (((" + i + ") % " +
         glsl_int(per_byte) + ") * " + glsl_int(bits) + ")) & " + glsl_int((1 << bits) - 1) + ")";
}

}  // namespace

bool matmul_nbits_supports(const KernelContext& ctx, std::string* why) {
  if (!input_is_float(ctx, 0, why)) return false;
  const NBitsDims d = dims_of(*ctx.node);
  if (d.K <= 0 || d.N <= 0 || d.block <= 0) return decline(why, "K, N and block_size must be positive");
  if (d.bits != 2 && d.bits != 4 && d.bits != 8) return decline(why, "bits " + std::to_string(d.bits) + " (2, 4 or 8 on the GPU)");
  if ((d.block * d.bits) % 8 != 0) return decline(why, "block_size is not a whole number of bytes");
  if (ctx.node->attr_int("weight_prepacked", 0) != 0) return decline(why, "weight_prepacked");
  if (!present(ctx, 1) || ctx.inputs[1]->dtype != DataType::kUint8 ||
      shape_size(ctx.inputs[1]->shape) != d.N * d.k_blocks * d.blob)
    return decline(why, "B is not uint8 (N, k_blocks, blob_size)");
  if (!input_is_float(ctx, 2, why)) return false;
  if (shape_size(ctx.inputs[2]->shape) != d.N * d.k_blocks) return decline(why, "scales is not (N, k_blocks)");
  if (present(ctx, 3)) {
    const TensorDesc& z = *ctx.inputs[3];
    const bool packed = z.dtype == DataType::kUint8 && shape_size(z.shape) == d.N * d.zp_row;
    const bool unpacked = (z.dtype == DataType::kFloat32 || z.dtype == DataType::kFloat16) &&
                          shape_size(z.shape) == d.N * d.k_blocks;
    if (!packed && !unpacked) return decline(why, "zero_points is neither packed uint8 nor float (N, k_blocks)");
  }
  if (present(ctx, 4)) return decline(why, "g_idx (act-order) is not supported on the GPU");
  if (present(ctx, 5) && (!input_is_float(ctx, 5, why) || shape_size(ctx.inputs[5]->shape) != d.N))
    return decline(why, "bias is not float (N)");
  const Shape& a = ctx.inputs[0]->shape;
  if (a.empty() || a.back() != d.K) return decline(why, "A does not end in K");
  if (ctx.outputs.empty() || (ctx.outputs[0].dtype != DataType::kFloat32 && ctx.outputs[0].dtype != DataType::kFloat16))
    return decline(why, "output is not float");
  return true;
}

Result<std::vector<ProgramInfo>> matmul_nbits_build(const KernelContext& ctx) {
  const NBitsDims d = dims_of(*ctx.node);
  const Shape& a = ctx.inputs[0]->shape;
  const Shape lead(a.begin(), a.end() - 1);
  const bool has_zp = present(ctx, 3), zp_packed = has_zp && ctx.inputs[3]->dtype == DataType::kUint8;
  const bool has_bias = present(ctx, 5);
  ProgramInfo p;
  p.name = "matmul_nbits";
  p.inputs = {{"A", 0}, {"B", 1}, {"S", 2}};
  if (has_zp) p.inputs.push_back({"Z", 3});
  if (has_bias) p.inputs.push_back({"Bias", 5});
  p.output = ctx.outputs[0];
  p.node_output = 0;

  const std::string K = glsl_int(d.K), KB = glsl_int(d.k_blocks), BLOB = glsl_int(d.blob), BLOCK = glsl_int(d.block);
  std::string zp;  // the zero point of block kb of row n
  if (!has_zp) zp = glsl_float(static_cast<double>(1 << (d.bits - 1)));
  else if (zp_packed) zp = "float(" + value_at("Z", "n * " + glsl_int(d.zp_row), "kb", d.bits) + ")";
  else zp = "getZFlat(n * " + KB + " + kb)";
  const int64_t per_byte = 8 / d.bits, full = d.K / d.block, tail = d.K - full * d.block;
  const int64_t rows = shape_size(lead);
  if (d.block % 4 == 0 && rows <= kMinTextureSize && (d.K + 3) / 4 <= kMinTextureSize) {
    // A laid out first as [rows, K, 1, 1], four k to a texel (zero past K):
    // the product then reads four activations per fetch and the weights
    // for them from 4 * bits / 8 bytes, a whole block (the partial last
    // one too: its padding meets zero activations) in one loop.
    ProgramInfo pk;
    pk.name = "matmul_nbits_pack_a";
    pk.inputs = {{"A", 0}};
    pk.output = TensorDesc{DataType::kFloat32, {rows, d.K, 1, 1}};
    pk.node_output = -1;
    pk.body = "float process(int oc[OUT_RANK]) { return getAFlat(oc[0] * " + K + " + oc[1]); }\n";
    p.inputs[0] = {"AP", -1};
    std::string q;  // vec4 of the 4 quantized values from byte index j4 * 4 * bits / 8 of the block
    const std::string bq = "int(getBFlat(kq + ";
    if (d.bits == 8) {
      q = "vec4(getBFlat(kq + j4 * 4), getBFlat(kq + j4 * 4 + 1), getBFlat(kq + j4 * 4 + 2), getBFlat(kq + j4 * 4 + 3))";
    } else if (d.bits == 4) {
      q = "nib(" + bq + "j4 * 2)), " + bq + "j4 * 2 + 1)))";
    } else {
      q = "crumbs(" + bq + "j4)))";
    }
    std::string s;
    s += "vec4 nib(int b0, int b1) { return vec4(float(b0 & 15), float(b0 >> 4), float(b1 & 15), float(b1 >> 4)); }\n";
    s += "vec4 crumbs(int b) { return vec4(float(b & 3), float((b >> 2) & 3), float((b >> 4) & 3), float(b >> 6)); }\n";
    s += "float block_sum(int n, int kb, float qa, float sa) {\n";
    s += "  return getSFlat(n * " + KB + " + kb) * (qa - " + zp + " * sa);\n}\n";
    // The a . q sum of block kb over its first `quads` groups of four.
    s += "vec2 block_dot(int r, int n, int kb, int quads) {\n";
    s += "  int k4 = kb * " + glsl_int(d.block / 4) + ", kq = n * " + glsl_int(d.k_blocks * d.blob) + " + kb * " + BLOB + ";\n";
    s += "  float qa = 0.0, sa = 0.0;\n";
    s += "  for (int j4 = 0; j4 < " + glsl_int(d.block / 4) + "; ++j4) {\n";
    s += "    if (j4 >= quads) break;\n";
    s += "    vec4 a = getAP4(r, k4 + j4, 0, 0);\n";
    s += "    qa += dot(a, " + q + ");\n    sa += dot(a, vec4(1.0));\n  }\n";
    s += "  return vec2(qa, sa);\n}\n";
    s += "float process(int oc[OUT_RANK]) {\n";
    s += "  int n = oc[OUT_RANK - 1];\n";
    s += "  int r = " + flat_index_expr(lead, "oc") + ";\n";
    s += "  float acc = 0.0;\n";
    if (full > 0) {
      s += "  for (int kb = 0; kb < " + glsl_int(full) + "; ++kb) {\n";
      s += "    vec2 d = block_dot(r, n, kb, " + glsl_int(d.block / 4) + ");\n";
      s += "    acc += block_sum(n, kb, d.x, d.y);\n  }\n";
    }
    if (tail > 0) {
      s += "  { vec2 d = block_dot(r, n, " + glsl_int(full) + ", " + glsl_int((tail + 3) / 4) + ");\n";
      s += "    acc += block_sum(n, " + glsl_int(full) + ", d.x, d.y); }\n";
    }
    if (has_bias) s += "  acc += getBiasFlat(n);\n";
    s += "  return acc;\n}\n";
    p.body = s;
    return std::vector<ProgramInfo>{pk, p};
  }

  std::string s;
  s += "float block_sum(int n, int kb, float qa, float sa) {\n";
  s += "  return getSFlat(n * " + KB + " + kb) * (qa - " + zp + " * sa);\n}\n";
  s += "float process(int oc[OUT_RANK]) {\n";
  s += "  int n = oc[OUT_RANK - 1];\n";
  s += "  int a0 = (" + flat_index_expr(lead, "oc") + ") * " + K + ";\n";
  s += "  int b0 = n * " + glsl_int(d.k_blocks * d.blob) + ";\n";
  s += "  float acc = 0.0;\n";
  if (full > 0) {
    // Whole blocks: each byte gives per_byte weights.
    s += "  for (int kb = 0; kb < " + glsl_int(full) + "; ++kb) {\n";
    s += "    int ka = a0 + kb * " + BLOCK + ", kq = b0 + kb * " + BLOB + ";\n";
    s += "    float qa = 0.0, sa = 0.0;\n";
    s += "    for (int j = 0; j < " + BLOB + "; ++j) {\n";
    s += "      int bq = int(getBFlat(kq + j));\n";
    for (int64_t v = 0; v < per_byte; ++v) {
      const std::string x = "getAFlat(ka + j * " + glsl_int(per_byte) + " + " + glsl_int(v) + ")";
      const std::string q = d.bits == 8 ? "float(bq)"
                                        : "float((bq >> " + glsl_int(v * d.bits) + ") & " + glsl_int((1 << d.bits) - 1) + ")";
      s += "      { float x = " + x + "; qa += x * " + q + "; sa += x; }\n";
    }
    s += "    }\n";
    s += "    acc += block_sum(n, kb, qa, sa);\n";
    s += "  }\n";
  }
  if (tail > 0) {
    // The last block holds only `tail` of its block_size values.
    s += "  {\n    int kb = " + glsl_int(full) + ", ka = a0 + kb * " + BLOCK + ", kq = b0 + kb * " + BLOB + ";\n";
    s += "    float qa = 0.0, sa = 0.0;\n";
    s += "    for (int i = 0; i < " + glsl_int(tail) + "; ++i) {\n";
    s += "      float x = getAFlat(ka + i);\n";
    s += "      qa += x * float(" + value_at("B", "kq", "i", d.bits) + ");\n      sa += x;\n    }\n";
    s += "    acc += block_sum(n, kb, qa, sa);\n  }\n";
  }
  if (has_bias) s += "  acc += getBiasFlat(n);\n";
  s += "  return acc;\n}\n";
  p.body = s;
  return std::vector<ProgramInfo>{p};
}

}  // namespace glint::gl
