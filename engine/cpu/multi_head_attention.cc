// com.microsoft MultiHeadAttention on the CPU: the query / key / value
// layouts (separate, packed QKV, packed KV, BNSH key / value) moved into
// head-major buffers, the past concatenated, then attention_core's
// run_attention with the additive mask.
#include <algorithm>
#include <string>

#include "engine/cpu/attention_core.h"
#include "engine/cpu/contrib_attention.h"
#include "engine/cpu/util.h"

namespace glint::cpu {

using namespace attn;

// ---------------------------------------------------------------------------
// MultiHeadAttention: query, key, value, bias, key_padding_mask,
// attention_bias, past_key, past_value, past_sequence_length,
// cache_indirection -> output, present_key, present_value, qk.

namespace {

// Which of the documented query / key / value layouts a MultiHeadAttention node has.
enum class MhaLayout { kSeparate, kPackedQkv, kPackedKv, kBnshKv };

struct MhaShapes {
  MhaLayout layout = MhaLayout::kSeparate;
  int64_t B = 0, S = 0, L = 0, P = 0, N = 0, H = 0, Hv = 0;
};

Status mha_shapes(const ir::Node& node, const std::vector<const Tensor*>& in, MhaShapes* m) {
  GLINT_RETURN_IF_ERROR(require_heads(node, "num_heads", &m->N));
  const Tensor& q = *in[0];
  const Tensor* key = present(in, 1) ? in[1] : nullptr;
  const Tensor* value = present(in, 2) ? in[2] : nullptr;
  const int64_t N = m->N;
  GLINT_RETURN_IF_ERROR(check_float(node, q, "query"));
  if (q.rank() == 5) {
    const Shape& d = q.shape();
    if (key || value)
      return node_error(node, "query " + tensor_desc(q) + " is packed QKV, so key and value must be absent");
    if (d[2] != N || d[3] != 3)
      return node_error(node, "packed query " + tensor_desc(q) + " must be (batch, seq, num_heads " + str(N) +
                                  ", 3, head_size)");
    m->layout = MhaLayout::kPackedQkv;
    m->B = d[0], m->S = d[1], m->L = d[1], m->H = d[4], m->Hv = d[4];
    return Status::Ok();
  }
  if (q.rank() != 3)
    return node_error(node, "query " + tensor_desc(q) + " must be (batch, seq, hidden) or packed (batch, seq, num_heads, 3, head_size)");
  m->B = q.shape()[0], m->S = q.shape()[1];
  const int64_t D = q.shape()[2];
  if (D % N != 0) return node_error(node, "query hidden " + str(D) + " is not a multiple of num_heads " + str(N));
  m->H = D / N;
  if (!key) return node_error(node, "key is required unless query is packed QKV (batch, seq, num_heads, 3, head_size)");
  GLINT_RETURN_IF_ERROR(check_float(node, *key, "key"));
  const Shape& k = key->shape();
  if (key->rank() == 5) {
    if (value) return node_error(node, "key " + tensor_desc(*key) + " is packed KV, so value must be absent");
    if (k[0] != m->B || k[2] != N || k[3] != 2 || k[4] != m->H)
      return node_error(node, "packed key " + tensor_desc(*key) + " must be (" + str(m->B) + ", kv_seq, " + str(N) +
                                  ", 2, " + str(m->H) + ")");
    m->layout = MhaLayout::kPackedKv;
    m->L = k[1], m->Hv = m->H;
    return Status::Ok();
  }
  if (!value) return node_error(node, "value is required with a key of " + tensor_desc(*key));
  GLINT_RETURN_IF_ERROR(check_float(node, *value, "value"));
  const Shape& v = value->shape();
  if (key->rank() == 3) {
    if (k[0] != m->B) return node_error(node, "key " + tensor_desc(*key) + " has batch " + str(k[0]) + ", expected " + str(m->B));
    if (k[2] != D)
      return node_error(node, "key has hidden " + str(k[2]) + ", expected num_heads*head_size " + str(D));
    if (value->rank() != 3 || v[0] != m->B || v[1] != k[1] || v[2] % N != 0)
      return node_error(node, "value " + tensor_desc(*value) + " must be (" + str(m->B) + ", " + str(k[1]) +
                                  ", num_heads * v_head_size)");
    m->L = k[1], m->Hv = v[2] / N;
    return Status::Ok();
  }
  if (key->rank() == 4) {
    if (k[0] != m->B || k[1] != N || k[3] != m->H)
      return node_error(node, "key " + tensor_desc(*key) + " (BNSH) must be (" + str(m->B) + ", " + str(N) +
                                  ", kv_seq, " + str(m->H) + ")");
    if (value->rank() != 4 || v[0] != m->B || v[1] != N || v[2] != k[2])
      return node_error(node, "value " + tensor_desc(*value) + " must be (" + str(m->B) + ", " + str(N) + ", " +
                                  str(k[2]) + ", v_head_size) like key " + tensor_desc(*key));
    m->layout = MhaLayout::kBnshKv;
    m->L = k[2], m->Hv = v[3];
    return Status::Ok();
  }
  return node_error(node, "key " + tensor_desc(*key) + " must be 3-D, 4-D (BNSH) or 5-D (packed KV)");
}

}  // namespace

Status multi_head_attention(const ir::Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, in, 1));
  if (present(in, 8) || present(in, 9))
    return node_unsupported(node, "past_sequence_length / cache_indirection (shared KV buffers, beam search) are not supported");
  MhaShapes m;
  GLINT_RETURN_IF_ERROR(mha_shapes(node, in, &m));
  const Tensor& q = *in[0];
  const Tensor* bias = present(in, 3) ? in[3] : nullptr;
  const Tensor* pk = present(in, 6) ? in[6] : nullptr;
  const Tensor* pv = present(in, 7) ? in[7] : nullptr;
  const int64_t B = m.B, S = m.S, L = m.L, N = m.N, H = m.H, Hv = m.Hv;
  int64_t P = 0;
  GLINT_RETURN_IF_ERROR(past_pair(node, pk, pv, B, N, H, Hv, &P));
  if (P > 0 && m.layout == MhaLayout::kBnshKv)
    return node_error(node, "past_key / past_value cannot be combined with a BNSH key / value (already a cache)");
  const int64_t T = P + L, D = N * H, Dv = N * Hv;
  if (bias) {
    GLINT_RETURN_IF_ERROR(check_float(node, *bias, "bias"));
    if (bias->rank() != 1 || bias->size() != 2 * D + Dv)
      return node_error(node, "bias " + tensor_desc(*bias) + " must be 1-D of hidden + hidden + v_hidden = " +
                                  str(2 * D + Dv));
  }
  const float* qb = bias ? bias->data<float>() : nullptr;
  const float* kbias = bias && m.layout != MhaLayout::kBnshKv ? qb + D : nullptr;
  const float* vbias = bias && m.layout != MhaLayout::kBnshKv ? qb + 2 * D : nullptr;

  // Q [B, N, S, H]; K and V [B, N, T, H(v)] (these are the present outputs).
  Tensor qt(q.dtype(), {B, N, S, H});
  Tensor kt(q.dtype(), {B, N, T, H}), vt(q.dtype(), {B, N, T, Hv});
  const float* qd = q.data<float>();
  switch (m.layout) {
    case MhaLayout::kPackedQkv:
      copy_to_bnsh(bsnh_view(qd, S, N * 3 * H, 0, 3 * H), B, S, N, H, qb, qt.data<float>(), S, 0);
      copy_to_bnsh(bsnh_view(qd, S, N * 3 * H, H, 3 * H), B, S, N, H, kbias, kt.data<float>(), T, P);
      copy_to_bnsh(bsnh_view(qd, S, N * 3 * H, 2 * H, 3 * H), B, S, N, H, vbias, vt.data<float>(), T, P);
      break;
    case MhaLayout::kPackedKv: {
      const float* kd = in[1]->data<float>();
      copy_to_bnsh(bsnh_view(qd, S, D, 0, H), B, S, N, H, qb, qt.data<float>(), S, 0);
      copy_to_bnsh(bsnh_view(kd, L, N * 2 * H, 0, 2 * H), B, L, N, H, kbias, kt.data<float>(), T, P);
      copy_to_bnsh(bsnh_view(kd, L, N * 2 * H, H, 2 * H), B, L, N, H, vbias, vt.data<float>(), T, P);
      break;
    }
    case MhaLayout::kSeparate:
      copy_to_bnsh(bsnh_view(qd, S, D, 0, H), B, S, N, H, qb, qt.data<float>(), S, 0);
      copy_to_bnsh(bsnh_view(in[1]->data<float>(), L, D, 0, H), B, L, N, H, kbias, kt.data<float>(), T, P);
      copy_to_bnsh(bsnh_view(in[2]->data<float>(), L, Dv, 0, Hv), B, L, N, Hv, vbias, vt.data<float>(), T, P);
      break;
    case MhaLayout::kBnshKv:
      // Already projected (a cross-attention cache): only the query takes its bias.
      copy_to_bnsh(bsnh_view(qd, S, D, 0, H), B, S, N, H, qb, qt.data<float>(), S, 0);
      copy_to_bnsh(bnsh_view(in[1]->data<float>(), N, L, H), B, L, N, H, nullptr, kt.data<float>(), T, 0);
      copy_to_bnsh(bnsh_view(in[2]->data<float>(), N, L, Hv), B, L, N, Hv, nullptr, vt.data<float>(), T, 0);
      break;
  }
  if (P > 0) {
    copy_to_bnsh(bnsh_view(pk->data<float>(), N, P, H), B, P, N, H, nullptr, kt.data<float>(), T, 0);
    copy_to_bnsh(bnsh_view(pv->data<float>(), N, P, Hv), B, P, N, Hv, nullptr, vt.data<float>(), T, 0);
  }
  std::vector<float> mask;
  AttnProblem p;
  GLINT_RETURN_IF_ERROR(prepare_mha(node, in, qt, kt, vt, 4, "key_padding_mask", false, B, N, S, P, T, H, Hv, &mask, &p));
  out.assign(node.outputs.size(), Tensor());
  out[0] = Tensor(q.dtype(), {B, S, Dv});
  p.out = out[0].data<float>();
  if (node.has_output(3)) {
    out[3] = Tensor(q.dtype(), {B, N, S, T});
    p.scores = out[3].data<float>();
  }
  run_attention(p);
  round_to_dtype(out[0]);
  if (node.has_output(1)) out[1] = kt;
  if (node.has_output(2)) out[2] = vt;
  if (node.has_output(3)) round_to_dtype(out[3]);
  return Status::Ok();
}

Status infer_multi_head_attention(const ir::Node& node, const std::vector<const ir::ValueInfo*>& in,
                                  const std::vector<const Tensor*>&, std::vector<ir::ValueInfo>& out) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, in, 1));
  int64_t N = 0;
  GLINT_RETURN_IF_ERROR(require_heads(node, "num_heads", &N));
  const ir::ValueInfo* q = in[0];
  const ir::ValueInfo* k = info_at(in, 1);
  const ir::ValueInfo* v = info_at(in, 2);
  const ir::ValueInfo* pk = info_at(in, 6);
  const DataType dt = q->dtype;
  const ir::Dim B = dim_at(q, 0), S = dim_at(q, 1);
  ir::Dim H, Hv, L;
  const int64_t qr = rank_of(q), kr = rank_of(k), vr = rank_of(v);
  if (qr == 5) {
    H = Hv = dim_at(q, 4), L = S;
  } else {
    H = dim_div(dim_at(q, 2), N);
    if (kr == 5) Hv = H, L = dim_at(k, 1);
    if (kr == 3) L = dim_at(k, 1);
    if (kr == 4) L = dim_at(k, 2);
    if (vr == 3) Hv = dim_div(dim_at(v, 2), N);
    if (vr == 4) Hv = dim_at(v, 3);
  }
  const ir::Dim P = pk ? dim_at(pk, 2) : known(0);
  const ir::Dim T = dim_add(P, L);
  for (auto& o : out) o = ir::ValueInfo{};
  if (qr < 0) {
    out[0].dtype = dt;
  } else {
    set_info(&out[0], dt, {B, S, dim_mul(Hv, N)});
  }
  if (out.size() > 1) set_info(&out[1], dt, {B, known(N), T, H});
  if (out.size() > 2) set_info(&out[2], dt, {B, known(N), T, Hv});
  if (out.size() > 3) set_info(&out[3], dt, {B, known(N), S, T});
  return Status::Ok();
}

}  // namespace glint::cpu
