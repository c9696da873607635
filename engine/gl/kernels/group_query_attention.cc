// com.microsoft GroupQueryAttention on the GPU. Unlike MultiHeadAttention and
// Attention (contrib_attention.cc), the past length of each batch
// entry is a run-time value (seqlens_k[b] + 1 - S, or 0 for a first prompt,
// S == total_sequence_length), so the shaders sample seqlens_k and compute
// each entry's ranges themselves; total_sequence_length must be known when
// the passes are built (it sizes present_key / present_value). The CPU
// kernel validates seqlens_k; the GPU trusts it.
// Passes: rotated Q [B, N, S, H]; present K and V [B, kvN, R, H] (past rows,
// the new (rotated) rows, zeros); scores [B, N, S, R] with the keys a query
// may not see at -3e38; softmax statistics [B, N, S, 2] (max, sum; with
// smooth_softmax / head_sink's extra logit); output [B, S, N * H].
#include <algorithm>
#include <string>

#include "engine/gl/kernels/contrib_attention.h"
#include "engine/gl/kernels/glsl_util.h"

namespace glint::gl {

using namespace attn_gpu;

namespace {

std::string gi(int64_t v) { return glsl_int(v); }

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
  const Tensor* total = ctx.constant(6);
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

  // Softmax statistics per row, [B, N, S, 2]: max and sum of exp over the
  // visible keys (and the extra logit of smooth_softmax / head_sink).
  ProgramInfo st;
  st.name = "gqa_softmax_stats";
  st.inputs = {{"Sc", sc_src}};
  const bool sink = present(ctx, 11), smooth = node.attr_int("smooth_softmax", 0) != 0;
  if (sink) st.inputs.push_back({"Sink", 11});
  st.output = TensorDesc{DataType::kFloat32, {g.B, g.N, g.S, 2}};
  st.node_output = -1;
  s = "float process(int oc[OUT_RANK]) {\n  int b = oc[0], n = oc[1], s = oc[2];\n";
  s += "  float mx = -3.0e38;\n";
  s += "  for (int u = 0; u < " + gi(g.R) + "; ++u) mx = max(mx, getSc(b, n, s, u));\n";
  const std::string extra = sink ? "getSinkFlat(n)" : "0.0";
  if (sink || smooth) s += "  mx = max(mx, " + extra + ");\n";
  s += "  if (oc[3] == 0) return mx;\n";
  s += "  float sum = " + ((sink || smooth) ? "exp(" + extra + " - mx)" : std::string("0.0")) + ";\n";
  s += "  for (int u = 0; u < " + gi(g.R) + "; ++u) { float y = getSc(b, n, s, u); if (y > -3.0e38) sum += exp(y - mx); }\n";
  s += "  return sum;\n}\n";
  st.body = s;
  passes.push_back(st);
  const int st_src = -static_cast<int>(passes.size());

  ProgramInfo o;
  o.name = "gqa_output";
  o.inputs = {{"Sc", sc_src}, {"St", st_src}, {"VP", vp}};
  o.output = ctx.outputs[0];
  o.node_output = 0;
  o.body = "float process(int oc[OUT_RANK]) {\n  int b = oc[0], s = oc[1], n = oc[2] / " + gi(g.H) + ", h = oc[2] - n * " +
           gi(g.H) + ";\n  float mx = getSt(b, n, s, 0), sum = getSt(b, n, s, 1), acc = 0.0;\n" +
           "  for (int t = 0; t < " + gi(g.R) + "; ++t) { float y = getSc(b, n, s, t);\n" +
           "    if (y > -3.0e38) acc += exp(y - mx) * getVP(b, n / " + gi(group) + ", t, h); }\n" +
           "  return sum > 0.0 ? acc / sum : 0.0;\n}\n";
  passes.push_back(o);
  return passes;
}

}  // namespace glint::gl
