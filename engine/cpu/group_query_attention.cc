// com.microsoft GroupQueryAttention on the CPU: per-entry past lengths from
// seqlens_k, rotary on the new Q / K rows, the present caches, then
// attention_core's run_attention over each query's visible key range.
#include <algorithm>
#include <string>

#include "engine/cpu/attention_core.h"
#include "engine/cpu/contrib_attention.h"
#include "engine/cpu/util.h"

namespace glint::cpu {

using namespace attn;

// ---------------------------------------------------------------------------
// GroupQueryAttention: query, key, value, past_key, past_value, seqlens_k,
// total_sequence_length, cos_cache, sin_cache, position_ids, attention_bias,
// head_sink, (k_scale, v_scale, q_norm_weight, k_norm_weight: unsupported)
// -> output, present_key, present_value, (output_qk: unsupported).

namespace {

struct GqaShapes {
  int64_t B = 0, S = 0, N = 0, kvN = 0, H = 0, P = 0, total = 0, present_len = 0;
  bool packed = false;
};

Status gqa_shapes(const ir::Node& node, const std::vector<const Tensor*>& in, GqaShapes* g) {
  GLINT_RETURN_IF_ERROR(require_heads(node, "num_heads", &g->N));
  GLINT_RETURN_IF_ERROR(require_heads(node, "kv_num_heads", &g->kvN));
  if (g->N % g->kvN != 0)
    return node_error(node, "num_heads " + str(g->N) + " is not a multiple of kv_num_heads " + str(g->kvN));
  const Tensor& q = *in[0];
  GLINT_RETURN_IF_ERROR(check_float(node, q, "query"));
  if (q.rank() != 3) return node_error(node, "query " + tensor_desc(q) + " must be 3-D (batch, seq, hidden)");
  g->B = q.shape()[0], g->S = q.shape()[1];
  const Tensor* key = present(in, 1) ? in[1] : nullptr;
  const Tensor* value = present(in, 2) ? in[2] : nullptr;
  g->packed = key == nullptr;
  const int64_t hidden = q.shape()[2];
  if (g->packed) {
    if (value) return node_error(node, "value is given without key; give both, or neither for packed QKV");
    const int64_t heads = g->N + 2 * g->kvN;
    if (hidden % heads != 0)
      return node_error(node, "packed query hidden " + str(hidden) + " is not a multiple of num_heads + 2 * kv_num_heads = " + str(heads));
    g->H = hidden / heads;
  } else {
    if (!value) return node_error(node, "key is given without value");
    if (hidden % g->N != 0)
      return node_error(node, "query hidden " + str(hidden) + " is not a multiple of num_heads " + str(g->N));
    g->H = hidden / g->N;
    for (const Tensor* t : {key, value}) {
      const char* what = t == key ? "key" : "value";
      GLINT_RETURN_IF_ERROR(check_float(node, *t, what));
      if (t->rank() != 3 || t->shape()[0] != g->B || t->shape()[1] != g->S)
        return node_error(node, std::string(what) + " " + tensor_desc(*t) + " must be (" + str(g->B) + ", " + str(g->S) +
                                    ", kv_num_heads * head_size)");
      if (t->shape()[2] != g->kvN * g->H)
        return node_error(node, std::string(what) + " has hidden " + str(t->shape()[2]) +
                                    ", expected kv_num_heads*head_size " + str(g->kvN * g->H));
    }
  }
  const Tensor* pk = present(in, 3) ? in[3] : nullptr;
  const Tensor* pv = present(in, 4) ? in[4] : nullptr;
  if (pk && !is_float(pk->dtype()))
    return node_unsupported(node, "past_key has dtype " + dtype_name(pk->dtype()) + " (quantized KV caches are not supported)");
  GLINT_RETURN_IF_ERROR(past_pair(node, pk, pv, g->B, g->kvN, g->H, g->H, &g->P));
  const Tensor& seqlens = *in[5];
  const Tensor& total = *in[6];
  if (seqlens.size() != g->B)
    return node_error(node, "seqlens_k " + tensor_desc(seqlens) + " must have batch_size " + str(g->B) + " values");
  if (total.size() != 1)
    return node_error(node, "total_sequence_length " + tensor_desc(total) + " must hold one value");
  g->total = total.get_as_int64(0);
  g->present_len = std::max(g->total, g->P);
  return Status::Ok();
}

}  // namespace

Status group_query_attention(const ir::Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, in, 1));
  if (!present(in, 5) || !present(in, 6))
    return node_error(node, "seqlens_k (input 5) and total_sequence_length (input 6) are required");
  for (size_t i = 12; i < in.size(); ++i)
    if (in[i])
      return node_unsupported(node, "input " + str(static_cast<int64_t>(i)) +
                                        " (k_scale / v_scale / q_norm_weight / k_norm_weight) is not supported");
  if (node.attr_int("qk_output", 0) != 0 || node.has_output(3))
    return node_unsupported(node, "output_qk (qk_output) is not supported");
  if (node.attr_int("sliding_window_cache", 0) != 0)
    return node_unsupported(node, "sliding_window_cache=1 (window-sized KV buffers) is not supported");
  const std::string kq = node.attr_string("k_quant_type", "NONE"), vq = node.attr_string("v_quant_type", "NONE");
  if (kq != "NONE" || vq != "NONE") return node_unsupported(node, "quantized KV caches are not supported");
  GqaShapes g;
  GLINT_RETURN_IF_ERROR(gqa_shapes(node, in, &g));
  const Tensor& q = *in[0];
  const int64_t B = g.B, S = g.S, N = g.N, kvN = g.kvN, H = g.H, P = g.P, R = g.present_len;
  const bool causal = node.attr_int("causal", 1) != 0;
  const int64_t window = node.attr_int("local_window_size", -1);
  if (!causal && window > 0) return node_error(node, "local_window_size must be -1 when causal is 0");

  // Prompt or token generation, as onnxruntime decides it: a first prompt
  // (S == total) starts at position 0; otherwise each batch entry's new
  // tokens follow its seqlens_k[b] + 1 - S past ones.
  const bool subsequent_prompt = S > 1 && S != g.total;
  if (subsequent_prompt && B != 1)
    return node_error(node, "batch_size must be 1 when sequence_length " + str(S) + " > 1 differs from total_sequence_length " + str(g.total));
  const bool first_prompt = !subsequent_prompt && S == g.total;
  if (!subsequent_prompt && !first_prompt && S != 1)
    return node_error(node, "sequence_length must be 1 when it is not a prompt");
  const std::vector<int64_t> seqlens = to_int64s(*in[5]);
  std::vector<int64_t> past_len(B), total_len(B);
  for (int64_t b = 0; b < B; ++b) {
    total_len[b] = seqlens[b] + 1;
    past_len[b] = first_prompt ? 0 : total_len[b] - S;
    if (total_len[b] < 1 || total_len[b] > std::max(R, S) || past_len[b] < 0 || past_len[b] > P ||
        past_len[b] + S > R)
      return node_error(node, "seqlens_k[" + str(b) + "] = " + str(seqlens[b]) + " does not fit sequence_length " + str(S) +
                                  ", past_key length " + str(P) + " and total_sequence_length " + str(g.total));
  }

  // Q [B, N, S, H]; present K / V [B, kvN, R, H], zero past each entry's tokens.
  const float* qd = q.data<float>();
  const int64_t row = g.packed ? (N + 2 * kvN) * H : N * H;
  Tensor qt(q.dtype(), {B, N, S, H});
  const DataType cache_dt = present(in, 3) ? in[3]->dtype() : q.dtype();
  Tensor kt(cache_dt, {B, kvN, R, H}), vt(cache_dt, {B, kvN, R, H});
  copy_to_bnsh(bsnh_view(qd, S, row, 0, H), B, S, N, H, nullptr, qt.data<float>(), S, 0);
  std::vector<float> knew(static_cast<size_t>(B * kvN * S * H)), vnew(knew.size());
  if (g.packed) {
    copy_to_bnsh(bsnh_view(qd, S, row, N * H, H), B, S, kvN, H, nullptr, knew.data(), S, 0);
    copy_to_bnsh(bsnh_view(qd, S, row, (N + kvN) * H, H), B, S, kvN, H, nullptr, vnew.data(), S, 0);
  } else {
    copy_to_bnsh(bsnh_view(in[1]->data<float>(), S, kvN * H, 0, H), B, S, kvN, H, nullptr, knew.data(), S, 0);
    copy_to_bnsh(bsnh_view(in[2]->data<float>(), S, kvN * H, 0, H), B, S, kvN, H, nullptr, vnew.data(), S, 0);
  }

  if (node.attr_int("do_rotary", 0) != 0) {
    if (!present(in, 7) || !present(in, 8)) return node_error(node, "do_rotary=1 needs cos_cache and sin_cache");
    int64_t rot = 0;
    GLINT_RETURN_IF_ERROR(check_rotary_caches(node, *in[7], *in[8], H, &rot));
    const int64_t max_pos = in[7]->shape()[0];
    std::vector<int64_t> pos(static_cast<size_t>(B * S));
    if (present(in, 9)) {
      const Tensor& pid = *in[9];
      if (pid.size() != B * S)
        return node_error(node, "position_ids " + tensor_desc(pid) + " must be (" + str(B) + ", " + str(S) + ")");
      pos = to_int64s(pid);
    } else {
      for (int64_t b = 0; b < B; ++b)
        for (int64_t s = 0; s < S; ++s) pos[b * S + s] = past_len[b] + s;
    }
    for (int64_t v : pos)
      if (v < 0 || v >= max_pos)
        return node_error(node, "position " + str(v) + " is outside the cos/sin caches of " + str(max_pos) + " positions");
    const bool interleaved = node.attr_int("rotary_interleaved", 0) != 0;
    const float* cs = in[7]->data<float>();
    const float* sn = in[8]->data<float>();
    for (int64_t b = 0; b < B; ++b)
      for (int64_t s = 0; s < S; ++s) {
        const int64_t off = pos[b * S + s] * (rot / 2);
        for (int64_t n = 0; n < N; ++n) {
          float* x = qt.data<float>() + ((b * N + n) * S + s) * H;
          rotate_head(x, x, H, rot, cs + off, sn + off, interleaved);
        }
        for (int64_t n = 0; n < kvN; ++n) {
          float* x = knew.data() + ((b * kvN + n) * S + s) * H;
          rotate_head(x, x, H, rot, cs + off, sn + off, interleaved);
        }
      }
  }
  for (int64_t b = 0; b < B; ++b)
    for (int64_t n = 0; n < kvN; ++n) {
      float* kd = kt.data<float>() + (b * kvN + n) * R * H;
      float* vd = vt.data<float>() + (b * kvN + n) * R * H;
      if (past_len[b] > 0) {
        const float* pk = in[3]->data<float>() + (b * kvN + n) * P * H;
        const float* pv = in[4]->data<float>() + (b * kvN + n) * P * H;
        std::copy(pk, pk + past_len[b] * H, kd);
        std::copy(pv, pv + past_len[b] * H, vd);
      }
      const float* ks = knew.data() + (b * kvN + n) * S * H;
      const float* vs = vnew.data() + (b * kvN + n) * S * H;
      std::copy(ks, ks + S * H, kd + past_len[b] * H);
      std::copy(vs, vs + S * H, vd + past_len[b] * H);
    }
  round_to_dtype(qt);
  round_to_dtype(kt);
  round_to_dtype(vt);

  // Each query sees keys [lo, hi): up to itself when causal (its own
  // position is past + s), all of its entry's tokens otherwise, and only the
  // last local_window_size + 1 of them with a local window.
  std::vector<int64_t> lo(static_cast<size_t>(B * S)), hi(lo.size());
  int64_t max_hi = 0;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t s = 0; s < S; ++s) {
      const int64_t h = causal ? past_len[b] + s + 1 : total_len[b];
      hi[b * S + s] = h;
      lo[b * S + s] = window > 0 ? std::max<int64_t>(0, h - window - 1) : 0;
      max_hi = std::max(max_hi, h);
    }
  AttnProblem p;
  p.batch = B, p.heads = N, p.kv_heads = kvN, p.q_len = S, p.kv_rows = R, p.head_size = H, p.v_head_size = H;
  p.q = qt.data<float>(), p.k = kt.data<float>(), p.v = vt.data<float>();
  p.scale = attention_scale(node, H);
  p.softcap = node.attr_float("softcap", 0.f);
  p.lo = lo.data(), p.hi = hi.data();
  p.smooth = node.attr_int("smooth_softmax", 0) != 0;
  GLINT_RETURN_IF_ERROR(use_attention_bias(node, present(in, 10) ? in[10] : nullptr, B, N, S, max_hi, &p));
  if (present(in, 11)) {
    GLINT_RETURN_IF_ERROR(check_float(node, *in[11], "head_sink"));
    if (in[11]->size() != N)
      return node_error(node, "head_sink " + tensor_desc(*in[11]) + " must have num_heads " + str(N) + " values");
    p.sink = in[11]->data<float>();
  }
  out.assign(node.outputs.size(), Tensor());
  out[0] = Tensor(q.dtype(), {B, S, N * H});
  p.out = out[0].data<float>();
  run_attention(p);
  round_to_dtype(out[0]);
  if (node.has_output(1)) out[1] = kt;
  if (node.has_output(2)) out[2] = vt;
  return Status::Ok();
}

Status infer_group_query_attention(const ir::Node& node, const std::vector<const ir::ValueInfo*>& in,
                                   const std::vector<const Tensor*>& constants, std::vector<ir::ValueInfo>& out) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, in, 1));
  int64_t N = 0, kvN = 0;
  GLINT_RETURN_IF_ERROR(require_heads(node, "num_heads", &N));
  GLINT_RETURN_IF_ERROR(require_heads(node, "kv_num_heads", &kvN));
  const ir::ValueInfo* q = in[0];
  const ir::ValueInfo* pk = info_at(in, 3);
  const bool packed = info_at(in, 1) == nullptr;
  const ir::Dim hidden = dim_at(q, 2);
  const ir::Dim H = dim_div(hidden, packed ? N + 2 * kvN : N);
  // present length: max(past length, total_sequence_length) when both are known.
  ir::Dim R;
  const Tensor* total = constants.size() > 6 ? constants[6] : nullptr;
  const ir::Dim P = pk ? dim_at(pk, 2) : known(0);
  if (total && total->size() == 1 && P.known()) R = known(std::max(total->get_as_int64(0), P.value));
  for (auto& o : out) o = ir::ValueInfo{};
  if (rank_of(q) < 0) {
    out[0].dtype = q->dtype;
  } else {
    set_info(&out[0], q->dtype, {dim_at(q, 0), dim_at(q, 1), dim_mul(H, N)});
  }
  const DataType cache_dt = pk ? pk->dtype : q->dtype;
  if (out.size() > 1) set_info(&out[1], cache_dt, {dim_at(q, 0), known(kvN), R, H});
  if (out.size() > 2) set_info(&out[2], cache_dt, {dim_at(q, 0), known(kvN), R, H});
  if (out.size() > 3) out[3].dtype = q->dtype;
  return Status::Ok();
}

}  // namespace glint::cpu
