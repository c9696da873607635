// com.microsoft RotaryEmbedding, MultiHeadAttention, GroupQueryAttention and
// Attention on the CPU (rotary_embedding.cc, multi_head_attention.cc,
// group_query_attention.cc, attention_contrib.cc), as onnxruntime's
// docs/ContribOperators.md defines them (and where the doc is silent, as
// onnxruntime's CPU provider behaves, since that is what exported models were
// validated against). This file holds what they share (attention_core.h):
//  - masks are additive: a masked key gets mask_filter_value (-10000 by
//    default) added to its score rather than being removed, so a fully masked
//    row still averages over its keys instead of producing NaN;
//  - a causal (unidirectional) mask is added on top of a padding mask, and
//    only when the query has more than one token;
//  - GroupQueryAttention instead limits each query to the keys it may see
//    (causal, the batch entry's seqlens_k, the local window): the rest take no
//    part in the softmax at all.
// float16 / bfloat16 tensors hold float storage: the kernels compute in
// float (dot products) and double (softmax sums), then round the outputs to
// their dtype.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "engine/cpu/attention_core.h"
#include "engine/cpu/threadpool.h"
#include "engine/cpu/util.h"

namespace glint::cpu {

namespace attn {

std::string str(int64_t v) { return std::to_string(v); }

bool present(const std::vector<const Tensor*>& in, size_t i) { return i < in.size() && in[i] != nullptr; }

// ---------------------------------------------------------------------------
// Rotary embedding of one head vector.

// Rotates the first `rot` values of x (head_size values) by the angles whose
// cos / sin are the rot/2 values at cos / sin, into y (which may be x):
// pairs (x[i], x[i + rot/2]) when not interleaved, (x[2i], x[2i+1]) when
// interleaved; values past `rot` are copied.
void rotate_head(const float* x, float* y, int64_t head_size, int64_t rot, const float* cos, const float* sin,
                 bool interleaved) {
  const int64_t half = rot / 2;
  for (int64_t i = 0; i < half; ++i) {
    const int64_t i0 = interleaved ? 2 * i : i, i1 = interleaved ? 2 * i + 1 : i + half;
    const float a = x[i0], b = x[i1];
    y[i0] = a * cos[i] - b * sin[i];
    y[i1] = b * cos[i] + a * sin[i];
  }
  if (y != x)
    for (int64_t i = rot; i < head_size; ++i) y[i] = x[i];
}

// The cos / sin caches of a rotary op: 2-D (max_position, rot / 2), same shape.
Status check_rotary_caches(const ir::Node& node, const Tensor& cos, const Tensor& sin, int64_t head_size,
                           int64_t* rot) {
  GLINT_RETURN_IF_ERROR(check_float(node, cos, "cos_cache"));
  GLINT_RETURN_IF_ERROR(check_float(node, sin, "sin_cache"));
  if (cos.rank() != 2 || cos.shape() != sin.shape())
    return node_error(node, "cos_cache " + tensor_desc(cos) + " and sin_cache " + tensor_desc(sin) +
                                " must both be 2-D (max_position, rotary_dim / 2) of the same shape");
  if (*rot == 0) *rot = 2 * cos.shape()[1];
  if (*rot <= 0 || *rot % 2 != 0 || *rot > head_size)
    return node_error(node, "rotary dimension " + str(*rot) + " must be even, positive and at most head_size " +
                                str(head_size));
  if (cos.shape()[1] != *rot / 2)
    return node_error(node, "cos_cache " + tensor_desc(cos) + " has " + str(cos.shape()[1]) +
                                " values per position, expected rotary_dim / 2 = " + str(*rot / 2));
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// Layout moves.

View bsnh_view(const float* data, int64_t L, int64_t row, int64_t offset, int64_t head_stride) {
  // row: values per (b, l); the heads start at `offset` within a row.
  return View{data + offset, L * row, row, head_stride};
}
View bnsh_view(const float* data, int64_t N, int64_t L, int64_t H) { return View{data, N * L * H, H, L * H}; }

// Copies view rows [0, L) into dst [B, N, rows, H] at rows [r0, r0 + L),
// adding bias[n * H + h] when given.
void copy_to_bnsh(const View& v, int64_t B, int64_t L, int64_t N, int64_t H, const float* bias, float* dst,
                  int64_t rows, int64_t r0) {
  for (int64_t b = 0; b < B; ++b)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t l = 0; l < L; ++l) {
        const float* s = v.data + b * v.sb + l * v.sl + n * v.sn;
        float* d = dst + ((b * N + n) * rows + r0 + l) * H;
        for (int64_t h = 0; h < H; ++h) d[h] = s[h] + (bias ? bias[n * H + h] : 0.f);
      }
}

// ---------------------------------------------------------------------------
// The attention itself.

void run_attention(const AttnProblem& p) {
  const int64_t T = p.kv_rows, S = p.q_len, H = p.head_size, Hv = p.v_head_size;
  const int64_t group = p.heads / p.kv_heads;
  const int threads = num_threads();
  // Per-thread rows, allocated here: pool workers must not allocate.
  std::vector<float> row_scratch(static_cast<size_t>(threads) * std::max<int64_t>(T, 1));
  std::vector<float> acc_scratch(static_cast<size_t>(threads) * std::max<int64_t>(Hv, 1));
  parallel_for(p.batch * p.heads, [&](int64_t bn) {
    const int64_t b = bn / p.heads, n = bn % p.heads, kvn = n / group;
    float* row = row_scratch.data() + static_cast<size_t>(thread_index()) * std::max<int64_t>(T, 1);
    float* acc = acc_scratch.data() + static_cast<size_t>(thread_index()) * std::max<int64_t>(Hv, 1);
    const float* kb = p.k + (b * p.kv_heads + kvn) * T * H;
    const float* vb = p.v + (b * p.kv_heads + kvn) * T * Hv;
    for (int64_t s = 0; s < S; ++s) {
      const float* qr = p.q + ((b * p.heads + n) * S + s) * H;
      const int64_t lo = p.lo ? p.lo[b * S + s] : 0, hi = p.hi ? p.hi[b * S + s] : T;
      double mx = -std::numeric_limits<double>::infinity();
      for (int64_t t = lo; t < hi; ++t) {
        const float* kr = kb + t * H;
        float d = 0.f;
        for (int64_t h = 0; h < H; ++h) d += qr[h] * kr[h];
        float x = d * p.scale;
        if (p.softcap > 0.f) x = p.softcap * std::tanh(x / p.softcap);
        if (p.bias) x += p.bias[b * p.bias_b + n * p.bias_n + s * p.bias_row + t];
        if (p.mask) x += p.mask[(b * S + s) * T + t];
        row[t] = x;
        if (p.scores) p.scores[((b * p.heads + n) * S + s) * T + t] = x;
        mx = std::max(mx, static_cast<double>(x));
      }
      const bool extra = p.sink || p.smooth;
      const double extra_logit = p.sink ? p.sink[n] : 0.0;
      if (extra) mx = std::max(mx, extra_logit);
      double sum = extra ? std::exp(extra_logit - mx) : 0.0;
      for (int64_t t = lo; t < hi; ++t) {
        const double e = std::exp(static_cast<double>(row[t]) - mx);
        row[t] = static_cast<float>(e);
        sum += e;
      }
      std::fill(acc, acc + Hv, 0.f);
      for (int64_t t = lo; t < hi; ++t) {
        const float w = row[t];
        const float* vr = vb + t * Hv;
        for (int64_t h = 0; h < Hv; ++h) acc[h] += w * vr[h];
      }
      float* o = p.out + ((b * S + s) * p.heads + n) * Hv;
      const double inv = sum > 0 ? 1.0 / sum : 0.0;
      for (int64_t h = 0; h < Hv; ++h) o[h] = static_cast<float>(acc[h] * inv);
    }
  });
}

// attention_bias (B or 1, N or 1, S, cols): its strides for AttnProblem, cols >= need_cols.
Status use_attention_bias(const ir::Node& node, const Tensor* ab, int64_t B, int64_t N, int64_t S,
                          int64_t need_cols, AttnProblem* p) {
  if (!ab) return Status::Ok();
  GLINT_RETURN_IF_ERROR(check_float(node, *ab, "attention_bias"));
  const Shape& d = ab->shape();
  if (ab->rank() != 4 || (d[0] != 1 && d[0] != B) || (d[1] != 1 && d[1] != N) || d[2] != S || d[3] < need_cols)
    return node_error(node, "attention_bias " + tensor_desc(*ab) + " must be (" + str(B) + " or 1, " + str(N) +
                                " or 1, " + str(S) + ", " + str(need_cols) + ")");
  p->bias = ab->data<float>();
  p->bias_row = d[3];
  p->bias_n = d[1] == 1 ? 0 : S * d[3];
  p->bias_b = d[0] == 1 ? 0 : d[1] * S * d[3];
  return Status::Ok();
}

// The additive mask of Attention / MultiHeadAttention, [B, S, T], from a
// mask input (int) and / or the causal rule. Mask forms: (B) right-padding
// end positions, (2B) ends then left-padding starts (Attention only),
// (B, T) and (B, S, T) raw 0/1, (B, T - P) raw over the new keys when there
// is a past, (B, 1, M, M) raw with M >= T (Attention only, Megatron GPT-2:
// row past + s). `what` names the input in errors.
Status build_mask(const ir::Node& node, const Tensor* m, const char* what, bool allow_attention_forms, int64_t B,
                  int64_t S, int64_t P, int64_t T, bool causal, float filter, std::vector<float>* mask) {
  mask->clear();
  if (!m && !causal) return Status::Ok();
  mask->assign(static_cast<size_t>(B * S * T), 0.f);
  if (m) {
    if (is_float(m->dtype()) || m->dtype() == DataType::kString)
      return node_unsupported(node, std::string(what) + " has dtype " + dtype_name(m->dtype()) + "; expected int32");
    const std::vector<int64_t> v = to_int64s(*m);
    const Shape& d = m->shape();
    auto expected = [&] {
      return node_error(node, std::string(what) + " " + tensor_desc(*m) + " must be (" + str(B) + "), " +
                                  (allow_attention_forms ? "(" + str(2 * B) + "), " : std::string()) + "(" + str(B) +
                                  ", " + str(T) + ") or (" + str(B) + ", " + str(S) + ", " + str(T) + ")" +
                                  (allow_attention_forms ? " or (" + str(B) + ", 1, M, M) with M >= " + str(T) : ""));
    };
    if (m->rank() == 1 && d[0] == 3 * B + 2)
      return node_unsupported(node, std::string(what) + " of shape (3 * batch + 2) (packed cumulative lengths)");
    if (m->rank() == 1 && (d[0] == B || (allow_attention_forms && d[0] == 2 * B))) {
      for (int64_t b = 0; b < B; ++b) {
        const int64_t end = v[b], start = d[0] == 2 * B ? v[B + b] : 0;
        for (int64_t s = 0; s < S; ++s)
          for (int64_t t = 0; t < T; ++t)
            if (t >= end || t < start) (*mask)[(b * S + s) * T + t] = filter;
      }
    } else if (m->rank() == 2 && d[0] == B && (d[1] == T || (P > 0 && d[1] == T - P))) {
      // (B, T), or (B, kv_seq) over the new keys only (the past ones stay visible).
      const int64_t W = d[1], off = T - W;
      for (int64_t b = 0; b < B; ++b)
        for (int64_t s = 0; s < S; ++s)
          for (int64_t t = off; t < T; ++t)
            if (v[b * W + t - off] == 0) (*mask)[(b * S + s) * T + t] = filter;
    } else if (m->rank() == 3 && d[0] == B && d[1] == S && d[2] == T) {
      for (int64_t i = 0; i < B * S * T; ++i)
        if (v[i] == 0) (*mask)[i] = filter;
    } else if (allow_attention_forms && m->rank() == 4 && d[0] == B && d[1] == 1 && d[2] == d[3] && d[2] >= T) {
      const int64_t M = d[2];
      for (int64_t b = 0; b < B; ++b)
        for (int64_t s = 0; s < S; ++s)
          for (int64_t t = 0; t < T; ++t)
            if (v[(b * M + P + s) * M + t] == 0) (*mask)[(b * S + s) * T + t] = filter;
    } else {
      return expected();
    }
  }
  if (causal)
    for (int64_t b = 0; b < B; ++b)
      for (int64_t s = 0; s < S; ++s)
        for (int64_t t = P + s + 1; t < T; ++t) (*mask)[(b * S + s) * T + t] += filter;
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// Shape-function helpers.

ir::Dim dim_at(const ir::ValueInfo* v, size_t i) {
  if (!v || !v->has_shape || i >= v->dims.size()) return ir::Dim{};
  return v->dims[i];
}
ir::Dim known(int64_t x) { return ir::Dim{x, ""}; }
ir::Dim dim_add(const ir::Dim& a, const ir::Dim& b) {
  return a.known() && b.known() ? known(a.value + b.value) : ir::Dim{};
}
ir::Dim dim_mul(const ir::Dim& a, int64_t k) { return a.known() ? known(a.value * k) : ir::Dim{}; }
ir::Dim dim_div(const ir::Dim& a, int64_t k) { return a.known() && k > 0 ? known(a.value / k) : ir::Dim{}; }
int64_t rank_of(const ir::ValueInfo* v) { return v && v->has_shape ? static_cast<int64_t>(v->dims.size()) : -1; }

void set_info(ir::ValueInfo* out, DataType dt, std::vector<ir::Dim> dims) {
  out->kind = ir::TypeKind::kTensor;
  out->dtype = dt;
  out->has_shape = true;
  out->dims = std::move(dims);
}

const ir::ValueInfo* info_at(const std::vector<const ir::ValueInfo*>& in, size_t i) {
  return i < in.size() ? in[i] : nullptr;
}

Status require_heads(const ir::Node& node, const char* name, int64_t* out) {
  *out = node.attr_int(name, 0);
  if (*out <= 0) return node_error(node, std::string(name) + " must be a positive attribute, given " + str(*out));
  return Status::Ok();
}

Status prepare_mha(const ir::Node& node, const std::vector<const Tensor*>& in, Tensor& qt, Tensor& kt, Tensor& vt,
                   int mask_input, const char* mask_name, bool attention_mask_forms, int64_t B, int64_t N, int64_t S,
                   int64_t P, int64_t T, int64_t H, int64_t Hv, std::vector<float>* mask_storage, AttnProblem* p) {
  round_to_dtype(qt);
  round_to_dtype(kt);
  round_to_dtype(vt);
  auto input = [&](size_t i) { return i < in.size() ? in[i] : nullptr; };
  const bool causal = node.attr_int("unidirectional", 0) != 0 && S > 1;
  GLINT_RETURN_IF_ERROR(build_mask(node, input(mask_input), mask_name, attention_mask_forms, B, S, P, T, causal,
                                   node.attr_float("mask_filter_value", -10000.f), mask_storage));
  p->batch = B, p->heads = N, p->kv_heads = N, p->q_len = S, p->kv_rows = T, p->head_size = H, p->v_head_size = Hv;
  p->q = qt.data<float>(), p->k = kt.data<float>(), p->v = vt.data<float>();
  p->scale = attention_scale(node, H);
  p->mask = mask_storage->empty() ? nullptr : mask_storage->data();
  return use_attention_bias(node, input(5), B, N, S, T, p);
}

float attention_scale(const ir::Node& node, int64_t head_size) {
  const float s = node.attr_float("scale", 0.f);
  return s != 0.f ? s : static_cast<float>(1.0 / std::sqrt(static_cast<double>(head_size)));
}

Status past_pair(const ir::Node& node, const Tensor* pk, const Tensor* pv, int64_t B, int64_t N, int64_t H,
                 int64_t Hv, int64_t* P) {
  *P = 0;
  if (!pk && !pv) return Status::Ok();
  if (!pk || !pv) return node_error(node, "past_key and past_value must be given together");
  GLINT_RETURN_IF_ERROR(check_float(node, *pk, "past_key"));
  GLINT_RETURN_IF_ERROR(check_float(node, *pv, "past_value"));
  const Shape& k = pk->shape();
  const Shape& v = pv->shape();
  if (pk->rank() != 4 || k[0] != B || k[1] != N || k[3] != H)
    return node_error(node, "past_key " + tensor_desc(*pk) + " must be (" + str(B) + ", " + str(N) + ", past_seq, " +
                                str(H) + ")");
  if (pv->rank() != 4 || v[0] != B || v[1] != N || v[2] != k[2] || v[3] != Hv)
    return node_error(node, "past_value " + tensor_desc(*pv) + " must be (" + str(B) + ", " + str(N) + ", " +
                                str(k[2]) + ", " + str(Hv) + ")");
  *P = k[2];
  return Status::Ok();
}

}  // namespace attn

}  // namespace glint::cpu
