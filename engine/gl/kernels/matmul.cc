// MatMul (numpy semantics: batch dims broadcast, 1-D operands promoted and
// their dim dropped) and Gemm (transA/transB, alpha, beta, C broadcast to
// [M,N]). One output element per fragment; the shared dim in vec4 dot chunks.
// When B is a matrix (and A's rows fit a texture), two passes first lay the
// operands out along the shared dim four to a texel (A as [rows, K, 1, 1],
// B transposed as [N, K, 1, 1]), so that the product reads four products'
// worth of each operand per fetch: 2 fetches per 4 multiply-adds instead of
// 2 per 1. A constant B (weights) is laid out once per session (PassCache).
#include <functional>

#include "engine/core/tuning.h"
#include "engine/gl/kernels/glsl_util.h"
#include "engine/gl/kernels/kernels.h"
#include "engine/gl/layout/texture_layout.h"

namespace glint::gl {

namespace {

// `acc += ...` statements summing a(k) * b(k) over k in [0, K), 4 at a time.
std::string dot_loop(int64_t K, const std::function<std::string(const std::string&)>& a,
                     const std::function<std::string(const std::string&)>& b) {
  std::string s;
  int64_t k4 = K / 4 * 4;
  if (k4 > 0) {
    s += "  for (int k = 0; k < " + glsl_int(k4) + "; k += 4) {\n";
    s += "    acc += dot(vec4(" + a("k") + ", " + a("k + 1") + ", " + a("k + 2") + ", " + a("k + 3") +
         "),\n               vec4(" + b("k") + ", " + b("k + 1") + ", " + b("k + 2") + ", " +
         b("k + 3") + "));\n  }\n";
  }
  for (int64_t k = k4; k < K; ++k) s += "  acc += " + a(glsl_int(k)) + " * " + b(glsl_int(k)) + ";\n";
  return s;
}

// Both packed operands ([rows, K, 1, 1] and [n, K, 1, 1], a row of K/4
// texels each) fit one texture of the device (of every WebGL2 / GLES 3
// context, 2048, when the device is not known). Without them the product
// reads B down its columns, a texel per product: on SwiftShader and llvmpipe
// a [714,120]x[120,6625] product (OCR recognition's classifier) took 80x
// longer than at N = 512, against 13x the work.
// `batch` products side by side (tiled_product) stack their B layouts and
// their sums `batch` high.
bool packable(const KernelContext& ctx, int64_t rows, int64_t n, int64_t k, int64_t batch = 1) {
  static const bool enabled = optimization_flags().packed_matmul;
  const int64_t max = ctx.max_texture_size > 0 ? ctx.max_texture_size : 2048;
  return enabled && rows <= max && n * batch <= max && (k + 3) / 4 * batch <= max;
}

// The flat index over dims [from, to) of `shape`, as GLSL of oc (row-major).
std::string flat_index(const Shape& shape, int64_t from, int64_t to) {
  std::string index = "0";
  for (int64_t d = from; d < to; ++d)
    index = d == from ? "oc[" + std::to_string(d) + "]"
                      : "(" + index + ") * " + glsl_int(shape[d]) + " + oc[" + std::to_string(d) + "]";
  return index;
}

// The passes of a product out[r, n] = sum_k A(r, k) * B(k, n) over packed
// operands: a_at(r, k) / b_at(k, n) are GLSL float expressions reading the
// inputs (ints r, n, k); `row` / `col` are the output row and column
// expressions of oc; `finish` turns `acc` into the returned value.
std::vector<ProgramInfo> packed_product(const KernelContext& ctx, int64_t rows, int64_t n, int64_t K,
                                        const std::string& a_at, const std::string& b_at, const std::string& row,
                                        const std::string& col, const std::string& finish,
                                        std::vector<ProgramInput> extra_inputs) {
  // The pass laying input `source` (A: 0, B: 1) out as [count, K, 1, 1]: `value`
  // (of ints `index` and k) at [index, k], four k to a texel.
  auto pack = [&](const char* name, int source, int64_t count, const std::string& index, const std::string& value) {
    ProgramInfo pk;
    pk.name = name;
    pk.inputs = {{source == 0 ? "A" : "B", source}};
    pk.output = {ctx.outputs[0].dtype, Shape{count, K, 1, 1}};
    pk.node_output = -1;
    pk.body = "float process(int oc[OUT_RANK]) { int " + index + " = oc[0], k = oc[1]; return " + value + "; }\n";
    return pk;
  };
  ProgramInfo p;
  p.name = "matmul_packed";
  p.inputs = {{"AP", -1}, {"BP", -2}};
  for (auto& in : extra_inputs) p.inputs.push_back(in);
  p.output = ctx.outputs[0];
  p.body = "float process(int oc[OUT_RANK]) {\n  int r = " + row + ", n = " + col + ";\n  float acc = 0.0;\n" +
           "  for (int k4 = 0; k4 < " + glsl_int((K + 3) / 4) + "; ++k4) acc += dot(getAP4(r, k4, 0, 0), getBP4(n, k4, 0, 0));\n" +
           "  return " + finish + ";\n}\n";
  return {pack("matmul_pack_a", 0, rows, "r", a_at), pack("matmul_pack_b", 1, n, "n", b_at), p};
}

// Rows and columns from which a packed product is drawn as tiles
// (tiled_product): fewer would leave most of a 4 x 8 tile idle (a decode
// step's single row keeps packed_product).
constexpr int64_t kTileMinRows = 16;
constexpr int64_t kTileMinColumns = 8;

// The same product as a 1x1 conv computes it (conv_vec4.cc): A laid out as
// X = [1, K, 1, rows] (k the channel, r the pixel), B as W = [n, K, 1, 1]
// (a conv's weights), the sums into P = [1, n, 1, rows], which a planes
// output (texture_layout.h) draws as tiles of 4 rows x 8 columns: 12
// fetches per 128 multiply-adds instead of 2 per 4 (on SwiftShader BERT's
// 128 x 384 x 1536 products took 1.7 ms per million multiply-adds, a 1x1
// conv tile 0.55). A last pass reads P back in the output's order and
// applies `finish`.
//
// `batch` products at once (attention's per-head Q K^T and P V): batch is X's
// and P's image index and W's height, so each fragment reads its own
// product's B. a_at(b, r, k) / b_at(b, n, k) read the inputs (GLSL of ints
// b, r, n, k); `batch_of`, `row` and `col` are an output element's batch
// index (flat), row and column as expressions of oc.
std::vector<ProgramInfo> tiled_product(const KernelContext& ctx, int64_t batch, int64_t rows, int64_t n, int64_t K,
                                       const std::string& a_at, const std::string& b_at,
                                       const std::string& batch_of, const std::string& row, const std::string& col,
                                       const std::string& finish, std::vector<ProgramInput> extra_inputs) {
  const DataType dt = ctx.outputs[0].dtype;
  const std::string K4 = glsl_int((K + 3) / 4);
  ProgramInfo pack_a;
  pack_a.name = "matmul_tile_pack_a";
  pack_a.inputs = {{"A", 0}};
  pack_a.output = {dt, Shape{batch, K, 1, rows}};
  pack_a.node_output = -1;
  pack_a.vec4_body = true;
  pack_a.body = "float a_at(int b, int r, int k) { return " + a_at + "; }\n"
                "vec4 process4(int oc[4]) {\n  int b = oc[0], r = oc[3], k = oc[1];\n"
                "  return vec4(a_at(b, r, k), k + 1 < " + glsl_int(K) + " ? a_at(b, r, k + 1) : 0.0,\n"
                "              k + 2 < " + glsl_int(K) + " ? a_at(b, r, k + 2) : 0.0, k + 3 < " + glsl_int(K) +
                " ? a_at(b, r, k + 3) : 0.0);\n}\n";
  ProgramInfo pack_b;
  pack_b.name = "matmul_tile_pack_b";
  pack_b.inputs = {{"B", 1}};
  pack_b.output = {dt, Shape{n, K, batch, 1}};
  pack_b.node_output = -1;
  pack_b.body = "float process(int oc[OUT_RANK]) { int n = oc[0], k = oc[1], b = oc[2]; return " + b_at + "; }\n";
  ProgramInfo product;
  product.name = "matmul_tile";
  product.inputs = {{"X", -1}, {"W", -2}};
  product.output = {dt, Shape{batch, n, 1, rows}};
  product.node_output = -1;
  product.vec4_body = true;
  product.tile_body = true;
  std::string body =
      "vec4 process4(int oc[4]) {\n  int b = oc[0], n = oc[1], r = oc[3];\n  vec4 acc = vec4(0.0);\n"
      "  for (int k4 = 0; k4 < " + K4 + "; ++k4) {\n    vec4 x = getX4(b, k4, 0, r);\n"
      "    acc += vec4(dot(getW4(n, k4, b, 0), x), dot(getW4(n + 1, k4, b, 0), x),\n"
      "                dot(getW4(n + 2, k4, b, 0), x), dot(getW4(n + 3, k4, b, 0), x));\n  }\n  return acc;\n}\n";
  // The tile: rows r .. r + 3 (pixels p), columns n .. n + 7 (blocks g).
  body += "void processTile(int oc[4]";
  for (int q = 0; q < kPlanes; ++q) body += ", out vec4 q" + std::to_string(q);
  body += ") {\n  int b = oc[0], n = oc[1], r = oc[3];\n";
  for (int q = 0; q < kPlanes; ++q) body += "  vec4 a" + std::to_string(q) + " = vec4(0.0);\n";
  body += "  for (int k4 = 0; k4 < " + K4 + "; ++k4) {\n    vec4 xc = getXCursor(b, k4, 0, r);\n";
  for (int p = 0; p < kPlanePixels; ++p)
    body += "    vec4 x" + std::to_string(p) + " = getX4At(xc, 0, 0, " + std::to_string(p) + ");\n";
  body += "    vec4 wc = getWCursor(n, k4, b, 0);\n";
  for (int g = 0; g < kPlaneBlocks; ++g) {
    body += "    mat4 w" + std::to_string(g) + " = mat4(";
    for (int j = 0; j < 4; ++j) body += std::string(j ? ", " : "") + "getW4At(wc, " + std::to_string(4 * g + j) + ", 0, 0)";
    body += ");\n";
    for (int p = 0; p < kPlanePixels; ++p) {
      const std::string q = std::to_string(g * kPlanePixels + p);
      body += "    a" + q + " += x" + std::to_string(p) + " * w" + std::to_string(g) + ";\n";
    }
  }
  body += "  }\n";
  for (int q = 0; q < kPlanes; ++q) body += "  q" + std::to_string(q) + " = a" + std::to_string(q) + ";\n";
  product.body = body + "}\n";
  ProgramInfo out;
  out.name = "matmul_tile_out";
  out.inputs = {{"P", -3}};
  for (auto& in : extra_inputs) out.inputs.push_back(in);
  out.output = ctx.outputs[0];
  out.body = "float process(int oc[OUT_RANK]) {\n  int b = " + batch_of + ", r = " + row + ", n = " + col +
             ";\n  float acc = getP(b, n, 0, r);\n  return " + finish + ";\n}\n";
  return {pack_a, pack_b, product, out};
}

// One product against one matrix B: tiled when there are enough rows and
// columns to fill tiles, else one output a fragment.
std::vector<ProgramInfo> single_product(const KernelContext& ctx, int64_t rows, int64_t n, int64_t K,
                                        const std::string& a_at, const std::string& b_at, const std::string& row,
                                        const std::string& col, const std::string& finish,
                                        std::vector<ProgramInput> extra_inputs) {
  if (rows >= kTileMinRows && n >= kTileMinColumns)
    return tiled_product(ctx, 1, rows, n, K, a_at, b_at, "0", row, col, finish, std::move(extra_inputs));
  return packed_product(ctx, rows, n, K, a_at, b_at, row, col, finish, std::move(extra_inputs));
}

}  // namespace

// MatMul, and com.microsoft FusedMatMul: alpha * op(A) * op(B), op a swap
// of the last two dims when transA / transB are set.
bool matmul_supports(const KernelContext& ctx, std::string* why) {
  if (!float_op(ctx, why)) return false;
  if (ctx.inputs.size() < 2 || !ctx.inputs[0] || !ctx.inputs[1]) return decline(why, "A and B are required");
  if (ctx.inputs[0]->shape.empty() || ctx.inputs[1]->shape.empty())
    return decline(why, "MatMul operands must have rank >= 1");
  const ir::Node& n = *ctx.node;
  if (n.attr_int("transBatchA", 0) || n.attr_int("transBatchB", 0))
    return decline(why, "transBatchA / transBatchB are not supported");
  if ((n.attr_int("transA", 0) && ctx.inputs[0]->shape.size() < 2) ||
      (n.attr_int("transB", 0) && ctx.inputs[1]->shape.size() < 2))
    return decline(why, "transA / transB need operands of rank >= 2");
  // More inputs than A, B and the fused addends are refused at load
  // (cpu::check_product_input_count).
  for (size_t i = 2; i < 2 + static_cast<size_t>(fused_addend_count(n)); ++i)
    if (i >= ctx.inputs.size() || !ctx.inputs[i] || !addend_broadcasts_to(ctx.inputs[i]->shape, ctx.outputs[0].shape))
      return decline(why, "a fused addend must broadcast to the product");
  const Shape& a = ctx.inputs[0]->shape;
  const int64_t k = n.attr_int("transA", 0) ? a[a.size() - 2] : a.back();
  return loop_fits(k, "the inner product of length " + std::to_string(k), why);
}

Result<std::vector<ProgramInfo>> matmul_build(const KernelContext& ctx) {
  const Shape& a = ctx.inputs[0]->shape;
  const Shape& b = ctx.inputs[1]->shape;
  const Shape& y = ctx.outputs[0].shape;
  int64_t ra = a.size(), rb = b.size(), ro = y.size();
  int64_t ob = ro - (ra >= 2) - (rb >= 2);  // output batch rank
  if (ob < 0) return internal_error("MatMul output rank does not fit its operands");
  // FusedMatMul's attributes (absent on MatMul: plain product).
  const bool ta = ctx.node->attr_int("transA", 0) != 0, tb = ctx.node->attr_int("transB", 0) != 0;
  const float alpha = ctx.node->attr_float("alpha", 1.f);
  std::string finish = alpha == 1.f ? "acc" : glsl_float(alpha) + " * acc";
  // Addends fused into the product (passes::fuse_matmul_add), in their
  // order: the bias, then the residual.
  std::vector<ProgramInput> addends;
  for (int i = 0; i < fused_addend_count(*ctx.node); ++i) {
    const std::string name = "Addend" + std::to_string(i);
    addends.push_back({name, 2 + i});
    finish = "(" + finish + " + get" + name + "Broadcast(oc))";
  }
  int64_t K = ta ? a[ra - 2] : a.back();
  if ((rb == 1 ? b[0] : tb ? b[rb - 1] : b[rb - 2]) != K) return invalid_argument("MatMul: inner dimensions differ");
  std::string m = ra >= 2 ? "oc[" + std::to_string(ob) + "]" : "";
  std::string n = rb >= 2 ? "oc[" + std::to_string(ro - 1) + "]" : "";

  auto batch_args = [&](const Shape& s) {
    std::vector<std::string> args;
    int64_t sb = s.size() - 2;
    for (int64_t j = 0; j < sb; ++j)
      args.push_back(s[j] == 1 ? "0" : "oc[" + std::to_string(j + ob - sb) + "]");
    return args;
  };
  auto a_at = [&](const std::string& k) {
    if (ra == 1) return getter("A", {k});
    auto args = batch_args(a);
    args.push_back(ta ? k : m);
    args.push_back(ta ? m : k);
    return getter("A", args);
  };
  auto b_at = [&](const std::string& k) {
    if (rb == 1) return getter("B", {k});
    auto args = batch_args(b);
    args.push_back(tb ? n : k);
    args.push_back(tb ? k : n);
    return getter("B", args);
  };
  if (rb == 2 && ra >= 2 && !ta) {
    // Every row of A (batch dims folded in) against the one matrix B.
    const int64_t rows = shape_size(a) / K, N = tb ? b[0] : b[1];
    if (packable(ctx, rows, N, K))
      return single_product(ctx, rows, N, K, "getAFlat(r * " + glsl_int(K) + " + k)", tb ? "getB(n, k)" : "getB(k, n)",
                            flat_index(y, 0, ro - 1), "oc[" + std::to_string(ro - 1) + "]", finish, addends);
  }
  if (ra >= 3 && ra == rb && !ta && y.size() == a.size()) {
    // Products batch by batch (no broadcasting): as many tiled products
    // side by side when each is big enough.
    const int64_t M = a[ra - 2], N = tb ? b[rb - 2] : b[rb - 1];
    int64_t batch = 1;
    bool same = true;
    for (int64_t d = 0; d < ra - 2; ++d) {
      same = same && a[d] == b[d] && a[d] == y[d];
      batch *= y[d];
    }
    if (same && M >= kTileMinRows && N >= kTileMinColumns && packable(ctx, M, N, K, batch)) {
      const std::string a_flat = "getAFlat((b * " + glsl_int(M) + " + r) * " + glsl_int(K) + " + k)";
      const std::string b_flat = tb ? "getBFlat((b * " + glsl_int(N) + " + n) * " + glsl_int(K) + " + k)"
                                    : "getBFlat((b * " + glsl_int(K) + " + k) * " + glsl_int(N) + " + n)";
      return tiled_product(ctx, batch, M, N, K, a_flat, b_flat, flat_index(y, 0, ro - 2), "oc[" + std::to_string(ro - 2) + "]",
                           "oc[" + std::to_string(ro - 1) + "]", finish, addends);
    }
  }
  ProgramInfo p;
  p.name = "matmul";
  p.inputs = {{"A", 0}, {"B", 1}};
  for (auto& in : addends) p.inputs.push_back(in);
  p.output = ctx.outputs[0];
  p.body = "float process(int oc[OUT_RANK]) {\n  float acc = 0.0;\n" + dot_loop(K, a_at, b_at) +
           "  return " + finish + ";\n}\n";
  return std::vector<ProgramInfo>{p};
}

bool gemm_supports(const KernelContext& ctx, std::string* why) {
  if (!float_op(ctx, why)) return false;
  if (ctx.inputs.size() < 2 || !ctx.inputs[0] || !ctx.inputs[1]) return decline(why, "A and B are required");
  if (ctx.inputs[0]->shape.size() != 2 || ctx.inputs[1]->shape.size() != 2)
    return decline(why, "Gemm operands must be 2-D");
  const int64_t k = ctx.inputs[0]->shape[ctx.node->attr_int("transA", 0) ? 0 : 1];
  return loop_fits(k, "the inner product of length " + std::to_string(k), why);
}

Result<std::vector<ProgramInfo>> gemm_build(const KernelContext& ctx) {
  const ir::Node& node = *ctx.node;
  bool ta = node.attr_int("transA", 0) != 0, tb = node.attr_int("transB", 0) != 0;
  float alpha = node.attr_float("alpha", 1.f), beta = node.attr_float("beta", 1.f);
  const Shape& a = ctx.inputs[0]->shape;
  int64_t K = ta ? a[0] : a[1];
  bool has_c = node.has_input(2) && ctx.inputs.size() > 2 && ctx.inputs[2] && beta != 0.f;
  auto a_at = [&](const std::string& k) { return ta ? getter("A", {k, "oc[0]"}) : getter("A", {"oc[0]", k}); };
  auto b_at = [&](const std::string& k) { return tb ? getter("B", {"oc[1]", k}) : getter("B", {k, "oc[1]"}); };
  std::string r = alpha == 1.f ? "acc" : glsl_float(alpha) + " * acc";
  if (has_c) r += " + " + (beta == 1.f ? std::string() : glsl_float(beta) + " * ") + "getCBroadcast(oc)";
  const int64_t rows = ctx.outputs[0].shape[0], N = ctx.outputs[0].shape[1];
  if (packable(ctx, rows, N, K)) {
    std::vector<ProgramInput> extra;
    if (has_c) extra.push_back({"C", 2});
    return single_product(ctx, rows, N, K, ta ? "getA(k, r)" : "getA(r, k)", tb ? "getB(n, k)" : "getB(k, n)",
                          "oc[0]", "oc[1]", r, extra);
  }
  ProgramInfo p;
  p.name = "gemm";
  p.inputs = {{"A", 0}, {"B", 1}};
  if (has_c) p.inputs.push_back({"C", 2});
  p.output = ctx.outputs[0];
  p.body = "float process(int oc[OUT_RANK]) {\n  float acc = 0.0;\n" + dot_loop(K, a_at, b_at) +
           "  return " + r + ";\n}\n";
  return std::vector<ProgramInfo>{p};
}

}  // namespace glint::gl
