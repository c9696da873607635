// com.microsoft RotaryEmbedding, MultiHeadAttention, GroupQueryAttention and
// Attention on the CPU, as onnxruntime's docs/ContribOperators.md defines
// them (and where the doc is silent, as onnxruntime's CPU provider behaves,
// since that is what exported models were validated against):
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
#include "engine/cpu/contrib_attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "engine/cpu/kernels.h"
#include "engine/cpu/threadpool.h"
#include "engine/cpu/util.h"

namespace glint::cpu {

namespace {

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

// Element (b, l, n, h) of a (batch, length, heads, head_size) source lives at
// data[b * sb + l * sl + n * sn + h]: one view covers 3-D (B, L, N*H) inputs,
// packed QKV / KV and BNSH caches alike.
struct View {
  const float* data = nullptr;
  int64_t sb = 0, sl = 0, sn = 0;
};

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

struct AttnProblem {
  int64_t batch = 0, heads = 0, kv_heads = 0, q_len = 0, kv_rows = 0, head_size = 0, v_head_size = 0;
  const float* q = nullptr;  // [B, N, S, H]
  const float* k = nullptr;  // [B, kvN, kv_rows, H]; query head n reads kv head n / (N / kvN)
  const float* v = nullptr;  // [B, kvN, kv_rows, Hv]
  float scale = 1.f;
  float softcap = 0.f;           // > 0: score = softcap * tanh(score / softcap)
  const float* mask = nullptr;   // additive [B, S, kv_rows]
  const float* bias = nullptr;   // attention_bias: (b, n, s, t) at b*bias_b + n*bias_n + s*bias_row + t
  int64_t bias_b = 0, bias_n = 0, bias_row = 0;
  const int64_t* lo = nullptr;   // per (b, s): the keys [lo, hi) take part; null: all kv_rows
  const int64_t* hi = nullptr;
  const float* sink = nullptr;   // per head: an extra logit in the softmax denominator
  bool smooth = false;           // an extra logit 0 (smooth softmax) when no sink
  float* out = nullptr;          // [B, S, N * Hv]
  float* scores = nullptr;       // [B, N, S, kv_rows]: scaled scores + bias + mask, before softmax
};

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

int64_t positive_attr(const ir::Node& node, const char* name) { return node.attr_int(name, 0); }

Status require_heads(const ir::Node& node, const char* name, int64_t* out) {
  *out = positive_attr(node, name);
  if (*out <= 0) return node_error(node, std::string(name) + " must be a positive attribute, given " + str(*out));
  return Status::Ok();
}

float attention_scale(const ir::Node& node, int64_t head_size) {
  const float s = node.attr_float("scale", 0.f);
  return s != 0.f ? s : static_cast<float>(1.0 / std::sqrt(static_cast<double>(head_size)));
}

}  // namespace

// ---------------------------------------------------------------------------
// RotaryEmbedding: input, position_ids, cos_cache, sin_cache.

Status rotary_embedding(const ir::Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, in, 4));
  const Tensor& x = *in[0];
  const Tensor& pos = *in[1];
  const Tensor& cos = *in[2];
  const Tensor& sin = *in[3];
  GLINT_RETURN_IF_ERROR(check_float(node, x, "input"));
  if (node.attr_int("is_packed_batching", 0) != 0)
    return node_unsupported(node, "is_packed_batching=1 (ragged batches) is not supported");
  if (x.rank() != 3 && x.rank() != 4)
    return node_error(node, "input " + tensor_desc(x) + " must be 3-D (batch, seq, hidden) or 4-D (batch, heads, seq, head_size)");
  const int64_t num_heads = node.attr_int("num_heads", 0), rot_attr = node.attr_int("rotary_embedding_dim", 0);
  if (rot_attr > 0 && num_heads <= 0 && x.rank() == 3)
    return node_error(node, "rotary_embedding_dim " + str(rot_attr) + " needs the num_heads attribute");
  if (cos.rank() != 2)
    return node_error(node, "cos_cache " + tensor_desc(cos) + " must be 2-D (max_position, rotary_dim / 2)");
  const Shape& d = x.shape();
  const int64_t B = d[0];
  int64_t S, N, H, rot = rot_attr > 0 ? rot_attr : 2 * cos.shape()[1];
  if (x.rank() == 4) {
    N = d[1], S = d[2], H = d[3];
  } else {
    S = d[1];
    const int64_t D = d[2];
    H = num_heads > 0 ? D / num_heads : rot;
    if (H <= 0 || D % H != 0 || (num_heads > 0 && D % num_heads != 0))
      return node_error(node, "input hidden size " + str(D) + " is not a multiple of " +
                                  (num_heads > 0 ? "num_heads " + str(num_heads) : "head_size " + str(H)));
    N = D / H;
  }
  GLINT_RETURN_IF_ERROR(check_rotary_caches(node, cos, sin, H, &rot));
  const int64_t max_pos = cos.shape()[0];
  const std::vector<int64_t> p = to_int64s(pos);
  const bool per_token = pos.rank() == 2;
  if (!(pos.size() == 1 && pos.rank() <= 1) && !(per_token && pos.shape()[0] == B && pos.shape()[1] == S))
    return node_error(node, "position_ids " + tensor_desc(pos) + " must hold one start position or be (" + str(B) +
                                ", " + str(S) + ")");
  for (size_t i = 0; i < (per_token ? p.size() : 1); ++i) {
    const int64_t last = per_token ? p[i] : p[0] + S - 1;
    if (p[i] < 0 || last >= max_pos)
      return node_error(node, "position " + str(last) + " is outside the cos/sin caches of " + str(max_pos) +
                                  " positions");
  }
  out[0] = Tensor(x.dtype(), d);
  const int64_t seq_stride = x.rank() == 4 ? H : N * H, head_stride = x.rank() == 4 ? S * H : H;
  const float* xs = x.data<float>();
  float* ys = out[0].data<float>();
  const bool interleaved = node.attr_int("interleaved", 0) != 0;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t s = 0; s < S; ++s) {
      const int64_t position = per_token ? p[b * S + s] : p[0] + s;
      const float* c = cos.data<float>() + position * (rot / 2);
      const float* sn = sin.data<float>() + position * (rot / 2);
      for (int64_t n = 0; n < N; ++n) {
        const int64_t off = b * N * S * H + s * seq_stride + n * head_stride;
        rotate_head(xs + off, ys + off, H, rot, c, sn, interleaved);
      }
    }
  round_to_dtype(out[0]);
  return Status::Ok();
}

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
  // In float16 the sums with the bias are float16 values too.
  round_to_dtype(qt);
  round_to_dtype(kt);
  round_to_dtype(vt);

  const bool causal = node.attr_int("unidirectional", 0) != 0 && S > 1;
  std::vector<float> mask;
  GLINT_RETURN_IF_ERROR(build_mask(node, present(in, 4) ? in[4] : nullptr, "key_padding_mask", false, B, S, P, T, causal,
                                   node.attr_float("mask_filter_value", -10000.f), &mask));
  AttnProblem p;
  p.batch = B, p.heads = N, p.kv_heads = N, p.q_len = S, p.kv_rows = T, p.head_size = H, p.v_head_size = Hv;
  p.q = qt.data<float>(), p.k = kt.data<float>(), p.v = vt.data<float>();
  p.scale = attention_scale(node, H);
  p.mask = mask.empty() ? nullptr : mask.data();
  GLINT_RETURN_IF_ERROR(use_attention_bias(node, present(in, 5) ? in[5] : nullptr, B, N, S, T, &p));
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

// ---------------------------------------------------------------------------
// Attention: input, weights, bias, mask_index, past, attention_bias,
// past_sequence_length -> output, present.

namespace {

struct AttentionSizes {
  int64_t D = 0, Dv = 0;  // hidden of Q / K and of V
};

Status attention_sizes(const ir::Node& node, int64_t weight_cols, int64_t N, AttentionSizes* a) {
  const std::vector<int64_t> qkv = node.attr_ints("qkv_hidden_sizes");
  if (!qkv.empty()) {
    if (qkv.size() != 3 || qkv[0] != qkv[1])
      return node_error(node, "qkv_hidden_sizes must be 3 values with Q and K equal");
    a->D = qkv[0], a->Dv = qkv[2];
  } else {
    if (weight_cols % 3 != 0)
      return node_error(node, "weights have " + str(weight_cols) + " columns, not 3 * hidden (give qkv_hidden_sizes)");
    a->D = a->Dv = weight_cols / 3;
  }
  if (a->D <= 0 || a->Dv <= 0 || a->D % N != 0 || a->Dv % N != 0)
    return node_error(node, "Q/K hidden " + str(a->D) + " and V hidden " + str(a->Dv) +
                                " must be positive multiples of num_heads " + str(N));
  return Status::Ok();
}

}  // namespace

Status attention_contrib(const ir::Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, in, 2));
  if (present(in, 6) || node.attr_int("past_present_share_buffer", 0) != 0)
    return node_unsupported(node, "past_present_share_buffer / past_sequence_length are not supported");
  if (node.attr_int("do_rotary", 0) != 0) return node_unsupported(node, "do_rotary=1 is not supported");
  int64_t N = 0;
  GLINT_RETURN_IF_ERROR(require_heads(node, "num_heads", &N));
  const Tensor& x = *in[0];
  const Tensor& w = *in[1];
  const Tensor* bias = present(in, 2) ? in[2] : nullptr;
  const Tensor* past = present(in, 4) ? in[4] : nullptr;
  GLINT_RETURN_IF_ERROR(check_float(node, x, "input"));
  GLINT_RETURN_IF_ERROR(check_float(node, w, "weights"));
  if (x.rank() != 3) return node_error(node, "input " + tensor_desc(x) + " must be 3-D (batch, seq, input_hidden)");
  if (w.rank() != 2 || w.shape()[0] != x.shape()[2])
    return node_error(node, "weights " + tensor_desc(w) + " must be 2-D (input_hidden " + str(x.shape()[2]) +
                                ", hidden + hidden + v_hidden)");
  AttentionSizes a;
  GLINT_RETURN_IF_ERROR(attention_sizes(node, w.shape()[1], N, &a));
  const int64_t B = x.shape()[0], S = x.shape()[1], Din = x.shape()[2], C = w.shape()[1];
  const int64_t H = a.D / N, Hv = a.Dv / N;
  if (C != 2 * a.D + a.Dv)
    return node_error(node, "weights have " + str(C) + " columns, expected hidden + hidden + v_hidden = " +
                                str(2 * a.D + a.Dv));
  if (bias) {
    GLINT_RETURN_IF_ERROR(check_float(node, *bias, "bias"));
    if (bias->rank() != 1 || bias->size() != C)
      return node_error(node, "bias " + tensor_desc(*bias) + " must be 1-D of " + str(C) + " values");
  }
  int64_t P = 0;
  if (past) {
    GLINT_RETURN_IF_ERROR(check_float(node, *past, "past"));
    const Shape& d = past->shape();
    if (H != Hv) return node_error(node, "past needs equal Q/K and V head sizes, given " + str(H) + " and " + str(Hv));
    if (past->rank() != 5 || d[0] != 2 || d[1] != B || d[2] != N || d[4] != H)
      return node_error(node, "past " + tensor_desc(*past) + " must be (2, " + str(B) + ", " + str(N) +
                                  ", past_seq, " + str(H) + ")");
    P = d[3];
  }
  const int64_t T = P + S;

  // QKV = input x weights + bias: (B * S, C), then Q / K / V split by columns.
  std::vector<float> qkv(static_cast<size_t>(B * S * C));
  gemm(false, false, B * S, C, Din, 1.f, x.data<float>(), Din, w.data<float>(), C, 0.f, qkv.data(), C);
  const float* bd = bias ? bias->data<float>() : nullptr;
  Tensor qt(x.dtype(), {B, N, S, H}), kt(x.dtype(), {B, N, T, H}), vt(x.dtype(), {B, N, T, Hv});
  copy_to_bnsh(bsnh_view(qkv.data(), S, C, 0, H), B, S, N, H, bd, qt.data<float>(), S, 0);
  copy_to_bnsh(bsnh_view(qkv.data(), S, C, a.D, H), B, S, N, H, bd ? bd + a.D : nullptr, kt.data<float>(), T, P);
  copy_to_bnsh(bsnh_view(qkv.data(), S, C, 2 * a.D, Hv), B, S, N, Hv, bd ? bd + 2 * a.D : nullptr, vt.data<float>(), T, P);
  if (P > 0) {
    const float* pd = past->data<float>();
    copy_to_bnsh(bnsh_view(pd, N, P, H), B, P, N, H, nullptr, kt.data<float>(), T, 0);
    copy_to_bnsh(bnsh_view(pd + B * N * P * H, N, P, H), B, P, N, H, nullptr, vt.data<float>(), T, 0);
  }
  round_to_dtype(qt);
  round_to_dtype(kt);
  round_to_dtype(vt);

  const bool causal = node.attr_int("unidirectional", 0) != 0 && S > 1;
  std::vector<float> mask;
  GLINT_RETURN_IF_ERROR(build_mask(node, present(in, 3) ? in[3] : nullptr, "mask_index", true, B, S, P, T, causal,
                                   node.attr_float("mask_filter_value", -10000.f), &mask));
  AttnProblem p;
  p.batch = B, p.heads = N, p.kv_heads = N, p.q_len = S, p.kv_rows = T, p.head_size = H, p.v_head_size = Hv;
  p.q = qt.data<float>(), p.k = kt.data<float>(), p.v = vt.data<float>();
  p.scale = attention_scale(node, H);
  p.mask = mask.empty() ? nullptr : mask.data();
  GLINT_RETURN_IF_ERROR(use_attention_bias(node, present(in, 5) ? in[5] : nullptr, B, N, S, T, &p));
  out.assign(node.outputs.size(), Tensor());
  out[0] = Tensor(x.dtype(), {B, S, a.Dv});
  p.out = out[0].data<float>();
  run_attention(p);
  round_to_dtype(out[0]);
  if (node.has_output(1)) {
    // present = stack(K, V): (2, B, N, T, H).
    out[1] = Tensor(x.dtype(), {2, B, N, T, H});
    float* pd = out[1].data<float>();
    std::copy(kt.data<float>(), kt.data<float>() + kt.size(), pd);
    std::copy(vt.data<float>(), vt.data<float>() + vt.size(), pd + kt.size());
  }
  return Status::Ok();
}

Status infer_attention_contrib(const ir::Node& node, const std::vector<const ir::ValueInfo*>& in,
                               const std::vector<const Tensor*>&, std::vector<ir::ValueInfo>& out) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, in, 2));
  int64_t N = 0;
  GLINT_RETURN_IF_ERROR(require_heads(node, "num_heads", &N));
  const ir::ValueInfo* x = in[0];
  const ir::Dim cols = dim_at(in[1], 1);
  ir::Dim D, Dv;
  const std::vector<int64_t> qkv = node.attr_ints("qkv_hidden_sizes");
  if (qkv.size() == 3) {
    D = known(qkv[0]), Dv = known(qkv[2]);
  } else {
    D = Dv = dim_div(cols, 3);
  }
  const ir::ValueInfo* past = info_at(in, 4);
  const ir::Dim P = past ? dim_at(past, 3) : known(0);
  for (auto& o : out) o = ir::ValueInfo{};
  if (rank_of(x) < 0) {
    out[0].dtype = x->dtype;
  } else {
    set_info(&out[0], x->dtype, {dim_at(x, 0), dim_at(x, 1), Dv});
  }
  if (out.size() > 1)
    set_info(&out[1], x->dtype, {known(2), dim_at(x, 0), known(N), dim_add(P, dim_at(x, 1)), dim_div(D, N)});
  return Status::Ok();
}

}  // namespace glint::cpu
