// com.microsoft MultiHeadAttention and Attention on the GPU, with the CPU
// kernels' semantics (engine/cpu/contrib_attention.cc: additive
// mask_filter_value masks, the causal mask added on top when the query has
// more than one token). Passes:
//   [Attention only] QKV = input x weights + bias        [B, S, 2D + Dv]
//   present K and V: past rows, then the new keys / values
//     (MultiHeadAttention: [B, N, T, H] each; Attention: [2, B, N, T, H])
//   scores = scale * q.k + attention_bias + mask          [B, N, S, T]
//   probabilities: softmax over T                        [B, N, S, T]
//   output = probabilities . v                           [B, S, N * Hv]
// Shapes are static here (no run-time lengths, unlike GroupQueryAttention's
// seqlens_k), so every loop bound is baked. Declined (CPU): packed QKV / KV,
// shared past buffers, rotary, and mask forms the CPU kernel also lacks.
#include "engine/gl/kernels/contrib_attention.h"

#include <algorithm>
#include <cmath>

#include "engine/gl/kernels/glsl_util.h"

namespace glint::gl {

namespace {

bool is_f(DataType t) { return t == DataType::kFloat32 || t == DataType::kFloat16; }
bool present(const KernelContext& ctx, size_t i) { return i < ctx.inputs.size() && ctx.inputs[i].has_value(); }
std::string gi(int64_t v) { return glsl_int(v); }

struct Geom {
  int64_t B = 0, S = 0, L = 0, P = 0, T = 0, N = 0, H = 0, Hv = 0;
};

// The additive mask of (ints b, s, t) as a GLSL float expression reading
// input "M", or "" for none; false (with why) for forms not handled.
bool mask_expr(const TensorDesc& m, const Geom& g, bool attention_forms, const std::string& filter, std::string* expr,
               std::string* why) {
  const Shape& d = m.shape;
  if (!is_integer(m.dtype)) return decline(why, "mask is not an integer tensor");
  const std::string F = filter;
  if (d.size() == 1 && d[0] == g.B) {
    *expr = "(float(t) >= getM(b) ? " + F + " : 0.0)";
  } else if (d.size() == 1 && attention_forms && d[0] == 2 * g.B) {
    *expr = "((float(t) >= getMFlat(b) || float(t) < getMFlat(" + gi(g.B) + " + b)) ? " + F + " : 0.0)";
  } else if (d.size() == 2 && d[0] == g.B && d[1] == g.T) {
    *expr = "(getM(b, t) == 0.0 ? " + F + " : 0.0)";
  } else if (d.size() == 2 && d[0] == g.B && g.P > 0 && d[1] == g.T - g.P) {
    *expr = "((t >= " + gi(g.P) + " && getM(b, max(t - " + gi(g.P) + ", 0)) == 0.0) ? " + F + " : 0.0)";
  } else if (d.size() == 3 && d[0] == g.B && d[1] == g.S && d[2] == g.T) {
    *expr = "(getM(b, s, t) == 0.0 ? " + F + " : 0.0)";
  } else if (d.size() == 4 && attention_forms && d[0] == g.B && d[1] == 1 && d[2] == d[3] && d[2] >= g.T) {
    *expr = "(getM(b, 0, " + gi(g.P) + " + s, t) == 0.0 ? " + F + " : 0.0)";
  } else {
    return decline(why, "mask shape " + shape_str(d) + " is not handled on the GPU");
  }
  return true;
}

bool attention_bias_ok(const KernelContext& ctx, size_t i, const Geom& g, std::string* why) {
  if (!present(ctx, i)) return true;
  const TensorDesc& a = *ctx.inputs[i];
  const Shape& d = a.shape;
  if (!is_f(a.dtype) || d.size() != 4 || (d[0] != 1 && d[0] != g.B) || (d[1] != 1 && d[1] != g.N) || d[2] != g.S ||
      d[3] != g.T)
    return decline(why, "attention_bias is not float (B or 1, N or 1, S, T)");
  return true;
}

// What the attention passes read: q(b, n, s, h), k(b, n, t, h), v(b, n, t, h)
// as GLSL expressions over the listed program inputs.
struct AttnSpec {
  Geom g;
  std::string q_at, k_at, v_at;
  std::vector<ProgramInput> qkv_inputs;
  float scale = 1.f;
  std::string mask;     // "" or an expression of b, s, t reading "M"
  int mask_input = -1;  // node input index of the mask
  int bias_input = -1;  // node input index of attention_bias
  bool causal = false;
  std::string filter;
  int scores_output = -1;  // node output of the scores (MultiHeadAttention qk), or -1
  DataType scores_dtype = DataType::kFloat32;
  TensorDesc out;
};

// Appends the scores, softmax and output passes to `passes`.
void attention_passes(const AttnSpec& a, std::vector<ProgramInfo>* passes) {
  const Geom& g = a.g;
  ProgramInfo sc;
  sc.name = "attention_scores";
  sc.inputs = a.qkv_inputs;
  if (a.bias_input >= 0) sc.inputs.push_back({"AB", a.bias_input});
  if (a.mask_input >= 0) sc.inputs.push_back({"M", a.mask_input});
  sc.output = TensorDesc{a.scores_dtype, {g.B, g.N, g.S, g.T}};
  sc.node_output = a.scores_output;
  std::string s = "float process(int oc[OUT_RANK]) {\n  int b = oc[0], n = oc[1], s = oc[2], t = oc[3];\n";
  s += "  float acc = 0.0;\n  for (int h = 0; h < " + gi(g.H) + "; ++h) acc += " + a.q_at + " * " + a.k_at + ";\n";
  s += "  float x = acc * " + glsl_float(a.scale) + ";\n";
  if (a.bias_input >= 0) s += "  x += getABBroadcast(oc);\n";
  if (!a.mask.empty()) s += "  x += " + a.mask + ";\n";
  if (a.causal) s += "  if (t > " + gi(g.P) + " + s) x += " + a.filter + ";\n";
  s += "  return x;\n}\n";
  sc.body = s;
  const int sc_index = static_cast<int>(passes->size());
  passes->push_back(sc);

  ProgramInfo pr;
  pr.name = "attention_softmax";
  pr.inputs = {{"Sc", -(sc_index + 1)}};
  pr.output = TensorDesc{DataType::kFloat32, {g.B, g.N, g.S, g.T}};
  pr.node_output = -1;
  pr.body = "float process(int oc[OUT_RANK]) {\n  int b = oc[0], n = oc[1], s = oc[2];\n"
            "  float mx = getSc(b, n, s, 0);\n"
            "  for (int u = 1; u < " + gi(g.T) + "; ++u) mx = max(mx, getSc(b, n, s, u));\n"
            "  float sum = 0.0;\n"
            "  for (int u = 0; u < " + gi(g.T) + "; ++u) sum += exp(getSc(b, n, s, u) - mx);\n"
            "  return exp(getSc(b, n, s, oc[3]) - mx) / sum;\n}\n";
  const int pr_index = static_cast<int>(passes->size());
  passes->push_back(pr);

  ProgramInfo o;
  o.name = "attention_output";
  o.inputs = a.qkv_inputs;
  o.inputs.push_back({"Pr", -(pr_index + 1)});
  o.output = a.out;
  o.node_output = 0;
  o.body = "float process(int oc[OUT_RANK]) {\n  int b = oc[0], s = oc[1], n = oc[2] / " + gi(g.Hv) + ", h = oc[2] - n * " +
           gi(g.Hv) + ";\n  float acc = 0.0;\n  for (int t = 0; t < " + gi(g.T) + "; ++t) acc += getPr(b, n, s, t) * " +
           a.v_at + ";\n  return acc;\n}\n";
  passes->push_back(o);
}

float scale_of(const ir::Node& node, int64_t head_size) {
  const float s = node.attr_float("scale", 0.f);
  return s != 0.f ? s : static_cast<float>(1.0 / std::sqrt(static_cast<double>(head_size)));
}

// MultiHeadAttention geometry for the forms the GPU takes: 3-D query, and
// 3-D key / value (with an optional past) or BNSH key / value.
bool mha_geom(const KernelContext& ctx, Geom* g, bool* bnsh, std::string* why) {
  const ir::Node& node = *ctx.node;
  g->N = node.attr_int("num_heads", 0);
  if (g->N <= 0) return decline(why, "num_heads");
  if (!present(ctx, 0) || !present(ctx, 1) || !present(ctx, 2)) return decline(why, "packed QKV / KV");
  if (present(ctx, 8) || present(ctx, 9)) return decline(why, "past_sequence_length / cache_indirection");
  const TensorDesc &q = *ctx.inputs[0], &k = *ctx.inputs[1], &v = *ctx.inputs[2];
  if (!is_f(q.dtype) || !is_f(k.dtype) || !is_f(v.dtype)) return decline(why, "query / key / value are not float");
  if (q.shape.size() != 3 || q.shape[2] % g->N != 0) return decline(why, "query is not (B, S, N * H)");
  g->B = q.shape[0], g->S = q.shape[1], g->H = q.shape[2] / g->N;
  *bnsh = k.shape.size() == 4;
  if (k.shape.size() == 3) {
    if (k.shape[0] != g->B || k.shape[2] != g->N * g->H || v.shape.size() != 3 || v.shape[0] != g->B ||
        v.shape[1] != k.shape[1] || v.shape[2] % g->N != 0)
      return decline(why, "key / value shapes");
    g->L = k.shape[1], g->Hv = v.shape[2] / g->N;
  } else if (k.shape.size() == 4) {
    if (k.shape[0] != g->B || k.shape[1] != g->N || k.shape[3] != g->H || v.shape.size() != 4 || v.shape[0] != g->B ||
        v.shape[1] != g->N || v.shape[2] != k.shape[2])
      return decline(why, "BNSH key / value shapes");
    g->L = k.shape[2], g->Hv = v.shape[3];
  } else {
    return decline(why, "packed KV");
  }
  const bool pk = present(ctx, 6), pv = present(ctx, 7);
  if (pk != pv || (pk && *bnsh)) return decline(why, "past_key / past_value");
  if (pk) {
    const TensorDesc &a = *ctx.inputs[6], &b = *ctx.inputs[7];
    if (!is_f(a.dtype) || !is_f(b.dtype) || a.shape.size() != 4 || b.shape.size() != 4 || a.shape[0] != g->B ||
        a.shape[1] != g->N || a.shape[3] != g->H || b.shape[0] != g->B || b.shape[1] != g->N ||
        b.shape[2] != a.shape[2] || b.shape[3] != g->Hv)
      return decline(why, "past_key / past_value shapes");
    g->P = a.shape[2];
  }
  g->T = g->P + g->L;
  if (g->T <= 0) return decline(why, "no keys");
  if (present(ctx, 3)) {
    const TensorDesc& b = *ctx.inputs[3];
    if (!is_f(b.dtype) || b.shape.size() != 1 || b.shape[0] != 2 * g->N * g->H + g->N * g->Hv)
      return decline(why, "bias shape");
  }
  return attention_bias_ok(ctx, 5, *g, why);
}

}  // namespace

bool multi_head_attention_supports(const KernelContext& ctx, std::string* why) {
  Geom g;
  bool bnsh = false;
  if (!mha_geom(ctx, &g, &bnsh, why)) return false;
  std::string m;
  if (present(ctx, 4) && !mask_expr(*ctx.inputs[4], g, false, "0.0", &m, why)) return false;
  for (const TensorDesc& o : ctx.outputs)
    if (!is_f(o.dtype)) return decline(why, "outputs are not float");
  return true;
}

Result<std::vector<ProgramInfo>> multi_head_attention_build(const KernelContext& ctx) {
  const ir::Node& node = *ctx.node;
  Geom g;
  bool bnsh = false;
  std::string why;
  if (!mha_geom(ctx, &g, &bnsh, &why)) return invalid_argument(node.describe() + ": " + why);
  const int64_t D = g.N * g.H;
  const bool bias = present(ctx, 3);
  std::vector<ProgramInfo> passes;
  // Present K / V: rows [0, P) from the past, then the new ones (+ bias).
  auto present_pass = [&](bool is_v) {
    ProgramInfo p;
    const int64_t W = is_v ? g.Hv : g.H;
    p.name = is_v ? "mha_present_value" : "mha_present_key";
    p.inputs = {{"X", is_v ? 2 : 1}};
    if (bias && !bnsh) p.inputs.push_back({"Bias", 3});
    if (g.P > 0) p.inputs.push_back({"Past", is_v ? 7 : 6});
    const size_t out = is_v ? 2 : 1;
    const bool wanted = node.has_output(out) && out < ctx.outputs.size();
    p.output = TensorDesc{wanted ? ctx.outputs[out].dtype : DataType::kFloat32, {g.B, g.N, g.T, W}};
    p.node_output = wanted ? static_cast<int>(out) : -1;
    std::string now = bnsh ? "getX(b, n, t, h)"
                           : "getX(b, t - " + gi(g.P) + ", n * " + gi(W) + " + h)" +
                                 (bias ? " + getBiasFlat(" + gi(is_v ? 2 * D : D) + " + n * " + gi(W) + " + h)" : "");
    std::string s = "float process(int oc[OUT_RANK]) {\n  int b = oc[0], n = oc[1], t = oc[2], h = oc[3];\n";
    if (g.P > 0) s += "  if (t < " + gi(g.P) + ") return getPast(b, n, t, h);\n";
    s += "  return " + now + ";\n}\n";
    p.body = s;
    passes.push_back(p);
    return -static_cast<int>(passes.size());  // ProgramInput source of this pass
  };
  const int kp = present_pass(false), vp = present_pass(true);

  AttnSpec a;
  a.g = g;
  a.qkv_inputs = {{"Q", 0}, {"KP", kp}, {"VP", vp}};
  a.q_at = "getQ(b, s, n * " + gi(g.H) + " + h)";
  if (bias) {
    a.qkv_inputs.push_back({"QBias", 3});
    a.q_at = "(" + a.q_at + " + getQBiasFlat(n * " + gi(g.H) + " + h))";
  }
  a.k_at = "getKP(b, n, t, h)";
  a.v_at = "getVP(b, n, t, h)";
  a.scale = scale_of(node, g.H);
  a.filter = glsl_float(node.attr_float("mask_filter_value", -10000.f));
  a.causal = node.attr_int("unidirectional", 0) != 0 && g.S > 1;
  if (present(ctx, 4)) {
    if (!mask_expr(*ctx.inputs[4], g, false, a.filter, &a.mask, &why))
      return invalid_argument(node.describe() + ": " + why);
    a.mask_input = 4;
  }
  if (present(ctx, 5)) a.bias_input = 5;
  if (node.has_output(3) && ctx.outputs.size() > 3) {
    a.scores_output = 3;
    a.scores_dtype = ctx.outputs[3].dtype;
  }
  a.out = ctx.outputs[0];
  attention_passes(a, &passes);
  return passes;
}

namespace {

bool attention_geom(const KernelContext& ctx, Geom* g, std::string* why) {
  const ir::Node& node = *ctx.node;
  g->N = node.attr_int("num_heads", 0);
  if (g->N <= 0) return decline(why, "num_heads");
  if (present(ctx, 6) || node.attr_int("past_present_share_buffer", 0) != 0 || node.attr_int("do_rotary", 0) != 0)
    return decline(why, "shared past buffer / rotary");
  if (!present(ctx, 0) || !present(ctx, 1)) return decline(why, "input and weights are required");
  const TensorDesc &x = *ctx.inputs[0], &w = *ctx.inputs[1];
  if (!is_f(x.dtype) || !is_f(w.dtype) || x.shape.size() != 3 || w.shape.size() != 2 || w.shape[0] != x.shape[2])
    return decline(why, "input / weights shapes");
  const std::vector<int64_t> qkv = node.attr_ints("qkv_hidden_sizes");
  const int64_t C = w.shape[1];
  if (!qkv.empty() && (qkv.size() != 3 || qkv[0] != qkv[1] || qkv[1] != qkv[2]))
    return decline(why, "different V hidden size");
  if (C % 3 != 0 || (C / 3) % g->N != 0) return decline(why, "weights columns");
  g->B = x.shape[0], g->S = x.shape[1], g->L = g->S, g->H = g->Hv = C / 3 / g->N;
  if (present(ctx, 2) && (!is_f(ctx.inputs[2]->dtype) || shape_size(ctx.inputs[2]->shape) != C))
    return decline(why, "bias shape");
  if (present(ctx, 4)) {
    const TensorDesc& p = *ctx.inputs[4];
    if (!is_f(p.dtype) || p.shape.size() != 5 || p.shape[0] != 2 || p.shape[1] != g->B || p.shape[2] != g->N ||
        p.shape[4] != g->H)
      return decline(why, "past shape");
    g->P = p.shape[3];
  }
  g->T = g->P + g->S;
  return attention_bias_ok(ctx, 5, *g, why);
}

}  // namespace

bool attention_contrib_supports(const KernelContext& ctx, std::string* why) {
  Geom g;
  if (!attention_geom(ctx, &g, why)) return false;
  std::string m;
  if (present(ctx, 3) && !mask_expr(*ctx.inputs[3], g, true, "0.0", &m, why)) return false;
  for (const TensorDesc& o : ctx.outputs)
    if (!is_f(o.dtype)) return decline(why, "outputs are not float");
  return true;
}

Result<std::vector<ProgramInfo>> attention_contrib_build(const KernelContext& ctx) {
  const ir::Node& node = *ctx.node;
  Geom g;
  std::string why;
  if (!attention_geom(ctx, &g, &why)) return invalid_argument(node.describe() + ": " + why);
  const int64_t Din = ctx.inputs[0]->shape[2], D = g.N * g.H, C = 3 * D;
  std::vector<ProgramInfo> passes;

  ProgramInfo qkv;
  qkv.name = "attention_qkv";
  qkv.inputs = {{"X", 0}, {"W", 1}};
  if (present(ctx, 2)) qkv.inputs.push_back({"Bias", 2});
  qkv.output = TensorDesc{DataType::kFloat32, {g.B, g.S, C}};
  qkv.node_output = -1;
  qkv.body = "float process(int oc[OUT_RANK]) {\n  int b = oc[0], s = oc[1], c = oc[2];\n  float acc = " +
             std::string(present(ctx, 2) ? "getBiasFlat(c)" : "0.0") + ";\n  for (int i = 0; i < " + gi(Din) +
             "; ++i) acc += getX(b, s, i) * getW(i, c);\n  return acc;\n}\n";
  passes.push_back(qkv);

  // present (2, B, N, T, H): K then V, past rows first.
  ProgramInfo pres;
  pres.name = "attention_present";
  pres.inputs = {{"QKV", -1}};
  if (g.P > 0) pres.inputs.push_back({"Past", 4});
  const bool wanted = node.has_output(1) && ctx.outputs.size() > 1;
  pres.output = TensorDesc{wanted ? ctx.outputs[1].dtype : DataType::kFloat32, {2, g.B, g.N, g.T, g.H}};
  pres.node_output = wanted ? 1 : -1;
  std::string s = "float process(int oc[OUT_RANK]) {\n  int kv = oc[0], b = oc[1], n = oc[2], t = oc[3], h = oc[4];\n";
  if (g.P > 0) s += "  if (t < " + gi(g.P) + ") return getPast(kv, b, n, t, h);\n";
  s += "  return getQKV(b, t - " + gi(g.P) + ", (kv + 1) * " + gi(D) + " + n * " + gi(g.H) + " + h);\n}\n";
  pres.body = s;
  passes.push_back(pres);

  AttnSpec a;
  a.g = g;
  a.qkv_inputs = {{"QKV", -1}, {"Pres", -2}};
  a.q_at = "getQKV(b, s, n * " + gi(g.H) + " + h)";
  a.k_at = "getPres(0, b, n, t, h)";
  a.v_at = "getPres(1, b, n, t, h)";
  a.scale = scale_of(node, g.H);
  a.filter = glsl_float(node.attr_float("mask_filter_value", -10000.f));
  a.causal = node.attr_int("unidirectional", 0) != 0 && g.S > 1;
  if (present(ctx, 3)) {
    if (!mask_expr(*ctx.inputs[3], g, true, a.filter, &a.mask, &why))
      return invalid_argument(node.describe() + ": " + why);
    a.mask_input = 3;
  }
  if (present(ctx, 5)) a.bias_input = 5;
  a.out = ctx.outputs[0];
  attention_passes(a, &passes);
  return passes;
}

}  // namespace glint::gl

// ---------------------------------------------------------------------------
// GroupQueryAttention. Unlike the two above, the past length of each batch
// entry is a run-time value (seqlens_k[b] + 1 - S, or 0 for a first prompt,
// S == total_sequence_length), so the shaders sample seqlens_k and compute
// each entry's ranges themselves; total_sequence_length must be known when
// the passes are built (it sizes present_key / present_value). The CPU
// kernel validates seqlens_k; the GPU trusts it.
// Passes: rotated Q [B, N, S, H]; present K and V [B, kvN, R, H] (past rows,
// the new (rotated) rows, zeros); scores [B, N, S, R] with the keys a query
// may not see at -3e38; softmax (with smooth_softmax / head_sink's extra
// logit); output [B, S, N * H].
namespace glint::gl {

namespace {

struct GqaGeom {
  int64_t B = 0, S = 0, N = 0, kvN = 0, H = 0, P = 0, R = 0, total = 0, rot = 0;
  bool packed = false, first_prompt = false;
};

bool gqa_geom(const KernelContext& ctx, GqaGeom* g, std::string* why) {
  const ir::Node& node = *ctx.node;
  g->N = node.attr_int("num_heads", 0), g->kvN = node.attr_int("kv_num_heads", 0);
  if (g->N <= 0 || g->kvN <= 0 || g->N % g->kvN != 0) return decline(why, "num_heads / kv_num_heads");
  for (size_t i = 12; i < ctx.inputs.size(); ++i)
    if (ctx.inputs[i]) return decline(why, "quantized caches / q-k norms");
  if (node.attr_int("qk_output", 0) != 0 || node.has_output(3)) return decline(why, "output_qk");
  if (node.attr_int("sliding_window_cache", 0) != 0) return decline(why, "sliding_window_cache");
  if (node.attr_string("k_quant_type", "NONE") != "NONE" || node.attr_string("v_quant_type", "NONE") != "NONE")
    return decline(why, "quantized KV cache");
  if (!present(ctx, 0) || !present(ctx, 5) || !present(ctx, 6)) return decline(why, "query, seqlens_k and total_sequence_length are required");
  const TensorDesc& q = *ctx.inputs[0];
  if (!is_f(q.dtype) || q.shape.size() != 3) return decline(why, "query is not float (B, S, hidden)");
  g->B = q.shape[0], g->S = q.shape[1];
  g->packed = !present(ctx, 1);
  if (g->packed != !present(ctx, 2)) return decline(why, "key without value");
  const int64_t heads = g->packed ? g->N + 2 * g->kvN : g->N;
  if (q.shape[2] % heads != 0) return decline(why, "query hidden");
  g->H = q.shape[2] / heads;
  if (!g->packed)
    for (int i : {1, 2}) {
      const TensorDesc& t = *ctx.inputs[i];
      if (!is_f(t.dtype) || t.shape.size() != 3 || t.shape[0] != g->B || t.shape[1] != g->S || t.shape[2] != g->kvN * g->H)
        return decline(why, "key / value shapes");
    }
  if (present(ctx, 3) != present(ctx, 4)) return decline(why, "past_key without past_value");
  if (present(ctx, 3))
    for (int i : {3, 4}) {
      const TensorDesc& t = *ctx.inputs[i];
      if (!is_f(t.dtype) || t.shape.size() != 4 || t.shape[0] != g->B || t.shape[1] != g->kvN ||
          t.shape[2] != ctx.inputs[3]->shape[2] || t.shape[3] != g->H)
        return decline(why, "past_key / past_value shapes");
      g->P = t.shape[2];
    }
  if (!is_integer(ctx.inputs[5]->dtype) || shape_size(ctx.inputs[5]->shape) != g->B) return decline(why, "seqlens_k");
  const Tensor* total = ctx.constants.size() > 6 ? ctx.constants[6] : nullptr;
  if (!total || total->size() != 1) return decline(why, "total_sequence_length is not known when building");
  g->total = total->get_as_int64(0);
  g->R = std::max(g->total, g->P);
  const bool subsequent = g->S > 1 && g->S != g->total;
  if (subsequent && g->B != 1) return decline(why, "batch > 1 with a multi-token step after a past");
  g->first_prompt = !subsequent && g->S == g->total;
  if (!subsequent && !g->first_prompt && g->S != 1) return decline(why, "sequence_length must be 1 when it is not a prompt");
  if (!node.attr_int("causal", 1) && node.attr_int("local_window_size", -1) > 0) return decline(why, "window without causal");
  if (node.attr_int("do_rotary", 0) != 0) {
    if (!present(ctx, 7) || !present(ctx, 8)) return decline(why, "do_rotary without caches");
    const TensorDesc &c = *ctx.inputs[7], &s = *ctx.inputs[8];
    if (!is_f(c.dtype) || c.shape.size() != 2 || c.shape != s.shape) return decline(why, "cos / sin caches");
    g->rot = 2 * c.shape[1];
    if (g->rot <= 0 || g->rot > g->H) return decline(why, "rotary dimension");
    if (present(ctx, 9) && (!is_integer(ctx.inputs[9]->dtype) || shape_size(ctx.inputs[9]->shape) != g->B * g->S))
      return decline(why, "position_ids");
  }
  if (present(ctx, 10)) {
    const Shape& d = ctx.inputs[10]->shape;
    if (!is_f(ctx.inputs[10]->dtype) || d.size() != 4 || (d[0] != 1 && d[0] != g->B) || (d[1] != 1 && d[1] != g->N) ||
        d[2] != g->S || d[3] < g->R)
      return decline(why, "attention_bias shape");
  }
  if (present(ctx, 11) && (!is_f(ctx.inputs[11]->dtype) || shape_size(ctx.inputs[11]->shape) != g->N))
    return decline(why, "head_sink");
  return true;
}

}  // namespace

bool group_query_attention_supports(const KernelContext& ctx, std::string* why) {
  GqaGeom g;
  if (!gqa_geom(ctx, &g, why)) return false;
  for (size_t o = 0; o < ctx.outputs.size() && o < 3; ++o)
    if (ctx.node->has_output(o) && !is_f(ctx.outputs[o].dtype)) return decline(why, "outputs are not float");
  return true;
}

Result<std::vector<ProgramInfo>> group_query_attention_build(const KernelContext& ctx) {
  const ir::Node& node = *ctx.node;
  GqaGeom g;
  std::string why;
  if (!gqa_geom(ctx, &g, &why)) return invalid_argument(node.describe() + ": " + why);
  const bool interleaved = node.attr_int("rotary_interleaved", 0) != 0;
  const bool pos_ids = g.rot > 0 && present(ctx, 9);
  // GLSL: the past length of entry b.
  const std::string past_b = g.first_prompt ? "0" : "(int(getSeq(b)) + " + gi(1 - g.S) + ")";
  // A function x(b, s, head, h) reading the new rows of Q (heads [0, N)) or
  // K (heads [0, kvN)) from input X at column `col0` + head * H, rotated.
  auto reader = [&](const std::string& fn, int64_t col0) {
    std::string s = "float " + fn + "_raw(int b, int s, int hd, int h) { return getX(b, s, " + gi(col0) + " + hd * " +
                    gi(g.H) + " + h); }\n";
    s += "float " + fn + "(int b, int s, int hd, int h) {\n";
    if (g.rot == 0) {
      s += "  return " + fn + "_raw(b, s, hd, h);\n}\n";
      return s;
    }
    const int64_t half = g.rot / 2;
    s += "  if (h >= " + gi(g.rot) + ") return " + fn + "_raw(b, s, hd, h);\n";
    s += "  int pos = " + (pos_ids ? std::string("int(getPos(b, s))") : past_b + " + s") + ";\n";
    if (interleaved) {
      s += "  int i = h / 2;\n  float c = getCos(pos, i), sn = getSin(pos, i);\n";
      s += "  if (h % 2 == 0) return " + fn + "_raw(b, s, hd, h) * c - " + fn + "_raw(b, s, hd, h + 1) * sn;\n";
      s += "  return " + fn + "_raw(b, s, hd, h) * c + " + fn + "_raw(b, s, hd, h - 1) * sn;\n}\n";
    } else {
      s += "  if (h < " + gi(half) + ") { float c = getCos(pos, h), sn = getSin(pos, h);\n";
      s += "    return " + fn + "_raw(b, s, hd, h) * c - " + fn + "_raw(b, s, hd, h + " + gi(half) + ") * sn; }\n";
      s += "  int i = h - " + gi(half) + ";\n  float c = getCos(pos, i), sn = getSin(pos, i);\n";
      s += "  return " + fn + "_raw(b, s, hd, h) * c + " + fn + "_raw(b, s, hd, i) * sn;\n}\n";
    }
    return s;
  };
  auto rotary_inputs = [&](std::vector<ProgramInput>* in) {
    in->push_back({"Seq", 5});
    if (g.rot > 0) {
      in->push_back({"Cos", 7});
      in->push_back({"Sin", 8});
      if (pos_ids) in->push_back({"Pos", 9});
    }
  };
  std::vector<ProgramInfo> passes;

  // Q [B, N, S, H], rotated.
  ProgramInfo qp;
  qp.name = "gqa_query";
  qp.inputs = {{"X", 0}};
  rotary_inputs(&qp.inputs);
  qp.output = TensorDesc{DataType::kFloat32, {g.B, g.N, g.S, g.H}};
  qp.node_output = -1;
  qp.body = reader("q_at", 0) + "float process(int oc[OUT_RANK]) { return q_at(oc[0], oc[2], oc[1], oc[3]); }\n";
  passes.push_back(qp);

  // present K / V [B, kvN, R, H].
  auto present_pass = [&](bool is_v) {
    ProgramInfo p;
    p.name = is_v ? "gqa_present_value" : "gqa_present_key";
    const int x_in = g.packed ? 0 : (is_v ? 2 : 1);
    const int64_t col0 = g.packed ? (is_v ? (g.N + g.kvN) * g.H : g.N * g.H) : 0;
    p.inputs = {{"X", x_in}};
    rotary_inputs(&p.inputs);
    if (g.P > 0) p.inputs.push_back({"Past", is_v ? 4 : 3});
    const size_t out = is_v ? 2 : 1;
    const bool wanted = node.has_output(out) && out < ctx.outputs.size();
    p.output = TensorDesc{wanted ? ctx.outputs[out].dtype : DataType::kFloat32, {g.B, g.kvN, g.R, g.H}};
    p.node_output = wanted ? static_cast<int>(out) : -1;
    std::string s;
    if (is_v) {
      s += "float kv_at(int b, int s, int hd, int h) { return getX(b, s, " + gi(col0) + " + hd * " + gi(g.H) + " + h); }\n";
    } else {
      s += reader("kv_at", col0);
    }
    s += "float process(int oc[OUT_RANK]) {\n  int b = oc[0], n = oc[1], t = oc[2], h = oc[3];\n";
    s += "  int pb = " + past_b + ";\n";
    if (g.P > 0) s += "  if (t < pb) return getPast(b, n, t, h);\n";
    s += "  if (t < pb + " + gi(g.S) + ") return kv_at(b, t - pb, n, h);\n  return 0.0;\n}\n";
    p.body = s;
    passes.push_back(p);
    return -static_cast<int>(passes.size());
  };
  const int kp = present_pass(false), vp = present_pass(true);

  // Scores [B, N, S, R]; keys outside [lo, hi) get -3e38 (no weight).
  const int64_t window = node.attr_int("local_window_size", -1);
  const bool causal = node.attr_int("causal", 1) != 0;
  const float scale = scale_of(node, g.H), softcap = node.attr_float("softcap", 0.f);
  const int64_t group = g.N / g.kvN;
  ProgramInfo sc;
  sc.name = "gqa_scores";
  sc.inputs = {{"Q", -1}, {"KP", kp}, {"Seq", 5}};
  if (present(ctx, 10)) sc.inputs.push_back({"AB", 10});
  sc.output = TensorDesc{DataType::kFloat32, {g.B, g.N, g.S, g.R}};
  sc.node_output = -1;
  std::string s = "float process(int oc[OUT_RANK]) {\n  int b = oc[0], n = oc[1], s = oc[2], t = oc[3];\n";
  s += "  int pb = " + past_b + ";\n";
  s += "  int hi = " + (causal ? std::string("pb + s + 1") : "int(getSeq(b)) + 1") + ";\n";
  s += "  int lo = " + (window > 0 ? "max(0, hi - " + gi(window + 1) + ")" : std::string("0")) + ";\n";
  s += "  if (t < lo || t >= hi) return -3.0e38;\n";
  s += "  float acc = 0.0;\n  for (int h = 0; h < " + gi(g.H) + "; ++h) acc += getQ(b, n, s, h) * getKP(b, n / " +
       gi(group) + ", t, h);\n";
  s += "  float x = acc * " + glsl_float(scale) + ";\n";
  if (softcap > 0.f) s += "  x = " + glsl_float(softcap) + " * tanh(x / " + glsl_float(softcap) + ");\n";
  if (present(ctx, 10)) {
    const Shape& d = ctx.inputs[10]->shape;
    s += "  x += getAB(" + std::string(d[0] == 1 ? "0" : "b") + ", " + (d[1] == 1 ? "0" : "n") + ", s, t);\n";
  }
  s += "  return x;\n}\n";
  sc.body = s;
  passes.push_back(sc);
  const int sc_src = -static_cast<int>(passes.size());

  ProgramInfo pr;
  pr.name = "gqa_softmax";
  pr.inputs = {{"Sc", sc_src}};
  const bool sink = present(ctx, 11), smooth = node.attr_int("smooth_softmax", 0) != 0;
  if (sink) pr.inputs.push_back({"Sink", 11});
  pr.output = TensorDesc{DataType::kFloat32, {g.B, g.N, g.S, g.R}};
  pr.node_output = -1;
  s = "float process(int oc[OUT_RANK]) {\n  int b = oc[0], n = oc[1], s = oc[2];\n";
  s += "  float x = getSc(b, n, s, oc[3]);\n  if (x <= -3.0e38) return 0.0;\n";
  s += "  float mx = -3.0e38;\n";
  s += "  for (int u = 0; u < " + gi(g.R) + "; ++u) mx = max(mx, getSc(b, n, s, u));\n";
  const std::string extra = sink ? "getSinkFlat(n)" : "0.0";
  if (sink || smooth) s += "  mx = max(mx, " + extra + ");\n";
  s += "  float sum = " + ((sink || smooth) ? "exp(" + extra + " - mx)" : std::string("0.0")) + ";\n";
  s += "  for (int u = 0; u < " + gi(g.R) + "; ++u) { float y = getSc(b, n, s, u); if (y > -3.0e38) sum += exp(y - mx); }\n";
  s += "  return exp(x - mx) / sum;\n}\n";
  pr.body = s;
  passes.push_back(pr);
  const int pr_src = -static_cast<int>(passes.size());

  ProgramInfo o;
  o.name = "gqa_output";
  o.inputs = {{"Pr", pr_src}, {"VP", vp}};
  o.output = ctx.outputs[0];
  o.node_output = 0;
  o.body = "float process(int oc[OUT_RANK]) {\n  int b = oc[0], s = oc[1], n = oc[2] / " + gi(g.H) + ", h = oc[2] - n * " +
           gi(g.H) + ";\n  float acc = 0.0;\n  for (int t = 0; t < " + gi(g.R) + "; ++t) acc += getPr(b, n, s, t) * getVP(b, n / " +
           gi(group) + ", t, h);\n  return acc;\n}\n";
  passes.push_back(o);
  return passes;
}

}  // namespace glint::gl

// ---------------------------------------------------------------------------
// RotaryEmbedding: one pass; each output element reads its pair partner and
// the cos / sin of its token's position (as the CPU kernel: position_ids of
// one value are a start position, (B, S) per token).
namespace glint::gl {

namespace {

struct RopeGeom {
  int64_t B = 0, S = 0, N = 0, H = 0, rot = 0;
  bool four_d = false, per_token = false;
};

bool rope_geom(const KernelContext& ctx, RopeGeom* g, std::string* why) {
  const ir::Node& node = *ctx.node;
  if (node.attr_int("is_packed_batching", 0) != 0) return decline(why, "is_packed_batching");
  for (int i : {0, 1, 2, 3})
    if (!present(ctx, static_cast<size_t>(i))) return decline(why, "missing input");
  const TensorDesc &x = *ctx.inputs[0], &pos = *ctx.inputs[1], &c = *ctx.inputs[2], &s = *ctx.inputs[3];
  if (!is_f(x.dtype) || !is_f(c.dtype) || !is_f(s.dtype) || !is_integer(pos.dtype)) return decline(why, "dtypes");
  if ((x.shape.size() != 3 && x.shape.size() != 4) || c.shape.size() != 2 || c.shape != s.shape)
    return decline(why, "shapes");
  const int64_t num_heads = node.attr_int("num_heads", 0), rot_attr = node.attr_int("rotary_embedding_dim", 0);
  g->rot = rot_attr > 0 ? rot_attr : 2 * c.shape[1];
  g->B = x.shape[0];
  g->four_d = x.shape.size() == 4;
  if (g->four_d) {
    g->N = x.shape[1], g->S = x.shape[2], g->H = x.shape[3];
  } else {
    g->S = x.shape[1];
    g->H = num_heads > 0 ? x.shape[2] / num_heads : g->rot;
    if (g->H <= 0 || x.shape[2] % g->H != 0) return decline(why, "hidden size");
    g->N = x.shape[2] / g->H;
  }
  if (g->rot <= 0 || g->rot % 2 != 0 || g->rot > g->H || c.shape[1] != g->rot / 2) return decline(why, "rotary dimension");
  const int64_t np = shape_size(pos.shape);
  g->per_token = pos.shape.size() == 2;
  if (!(np == 1 && pos.shape.size() <= 1) && !(g->per_token && pos.shape[0] == g->B && pos.shape[1] == g->S))
    return decline(why, "position_ids shape");
  return true;
}

}  // namespace

bool rotary_embedding_supports(const KernelContext& ctx, std::string* why) {
  RopeGeom g;
  return rope_geom(ctx, &g, why) && (ctx.outputs.empty() || is_f(ctx.outputs[0].dtype) || decline(why, "output dtype"));
}

Result<std::vector<ProgramInfo>> rotary_embedding_build(const KernelContext& ctx) {
  RopeGeom g;
  std::string why;
  if (!rope_geom(ctx, &g, &why)) return invalid_argument(ctx.node->describe() + ": " + why);
  const bool interleaved = ctx.node->attr_int("interleaved", 0) != 0;
  const int64_t half = g.rot / 2;
  ProgramInfo p;
  p.name = "rotary_embedding";
  p.inputs = {{"X", 0}, {"Pos", 1}, {"Cos", 2}, {"Sin", 3}};
  p.output = ctx.outputs[0];
  p.node_output = 0;
  std::string s;
  // x(b, s, n, h) over the input's own layout.
  s += "float x_at(int b, int s, int n, int h) { return " +
       std::string(g.four_d ? "getX(b, n, s, h)" : "getX(b, s, n * " + gi(g.H) + " + h)") + "; }\n";
  s += "float process(int oc[OUT_RANK]) {\n";
  if (g.four_d) s += "  int b = oc[0], n = oc[1], s = oc[2], h = oc[3];\n";
  else s += "  int b = oc[0], s = oc[1], n = oc[2] / " + gi(g.H) + ", h = oc[2] - n * " + gi(g.H) + ";\n";
  s += "  if (h >= " + gi(g.rot) + ") return x_at(b, s, n, h);\n";
  s += "  int pos = " + std::string(g.per_token ? "int(getPos(b, s))" : "int(getPosFlat(0)) + s") + ";\n";
  if (interleaved) {
    s += "  int i = h / 2;\n  float c = getCos(pos, i), sn = getSin(pos, i);\n";
    s += "  if (h % 2 == 0) return x_at(b, s, n, h) * c - x_at(b, s, n, h + 1) * sn;\n";
    s += "  return x_at(b, s, n, h) * c + x_at(b, s, n, h - 1) * sn;\n}\n";
  } else {
    s += "  if (h < " + gi(half) + ") { float c = getCos(pos, h), sn = getSin(pos, h);\n";
    s += "    return x_at(b, s, n, h) * c - x_at(b, s, n, h + " + gi(half) + ") * sn; }\n";
    s += "  int i = h - " + gi(half) + ";\n  float c = getCos(pos, i), sn = getSin(pos, i);\n";
    s += "  return x_at(b, s, n, h) * c + x_at(b, s, n, i) * sn;\n}\n";
  }
  p.body = s;
  return std::vector<ProgramInfo>{p};
}

}  // namespace glint::gl
