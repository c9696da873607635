// com.microsoft MultiHeadAttention and Attention on the GPU, with the CPU
// kernels' semantics (engine/cpu/contrib_attention.cc: additive
// mask_filter_value masks, the causal mask added on top when the query has
// more than one token). Passes:
//   [Attention only] QKV = input x weights + bias        [B, S, 2D + Dv]
//   present K and V: past rows, then the new keys / values
//     (MultiHeadAttention: [B, N, T, H] each; Attention: [2, B, N, T, H])
//   scores = scale * q.k + attention_bias + mask          [B, N, S, T]
//   softmax statistics per row: max, sum of exp           [B, N, S, 2]
//   output = softmax(scores) . v                         [B, S, N * Hv]
// Shapes are static here (no run-time lengths, unlike GroupQueryAttention's
// seqlens_k), so every loop bound is baked. Declined (CPU): packed QKV / KV,
// shared past buffers, rotary, and mask forms the CPU kernel also lacks.
#include "engine/gl/kernels/contrib_attention.h"

#include <algorithm>
#include <cmath>

#include "engine/gl/kernels/glsl_util.h"

namespace glint::gl {

float attn_gpu::scale_of(const ir::Node& node, int64_t head_size) {
  const float s = node.attr_float("scale", 0.f);
  return s != 0.f ? s : static_cast<float>(1.0 / std::sqrt(static_cast<double>(head_size)));
}

namespace {

using namespace attn_gpu;

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

  // Softmax statistics per row, [B, N, S, 2]: the max and the sum of
  // exp(score - max), so that the output pass weighs each key in O(1)
  // instead of every probability costing a pass over its row.
  ProgramInfo st;
  st.name = "attention_softmax_stats";
  st.inputs = {{"Sc", -(sc_index + 1)}};
  st.output = TensorDesc{DataType::kFloat32, {g.B, g.N, g.S, 2}};
  st.node_output = -1;
  st.body = "float process(int oc[OUT_RANK]) {\n  int b = oc[0], n = oc[1], s = oc[2];\n"
            "  float mx = getSc(b, n, s, 0);\n"
            "  for (int u = 1; u < " + gi(g.T) + "; ++u) mx = max(mx, getSc(b, n, s, u));\n"
            "  if (oc[3] == 0) return mx;\n"
            "  float sum = 0.0;\n"
            "  for (int u = 0; u < " + gi(g.T) + "; ++u) sum += exp(getSc(b, n, s, u) - mx);\n"
            "  return sum;\n}\n";
  const int st_index = static_cast<int>(passes->size());
  passes->push_back(st);

  ProgramInfo o;
  o.name = "attention_output";
  o.inputs = a.qkv_inputs;
  o.inputs.push_back({"Sc", -(sc_index + 1)});
  o.inputs.push_back({"St", -(st_index + 1)});
  o.output = a.out;
  o.node_output = 0;
  o.body = "float process(int oc[OUT_RANK]) {\n  int b = oc[0], s = oc[1], n = oc[2] / " + gi(g.Hv) + ", h = oc[2] - n * " +
           gi(g.Hv) + ";\n  float mx = getSt(b, n, s, 0), acc = 0.0;\n  for (int t = 0; t < " + gi(g.T) +
           "; ++t) acc += exp(getSc(b, n, s, t) - mx) * " + a.v_at + ";\n  return acc / getSt(b, n, s, 1);\n}\n";
  passes->push_back(o);
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
