// What the com.microsoft attention kernels on the CPU share (defined in
// contrib_attention.cc): moving (batch, length, heads, head_size) views into
// head-major buffers, RoPE of one head, the additive masks and
// attention_bias of Attention / MultiHeadAttention, the attention loop
// itself, and shape-function helpers.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/ops/cpu_kernel.h"

namespace glint::cpu::attn {

std::string str(int64_t v);
// Input i is given (not absent, not past the end).
bool present(const std::vector<const Tensor*>& in, size_t i);

// Rotates the first `rot` values of x (head_size values) by the angles whose
// cos / sin are the rot/2 values at cos / sin, into y (which may be x):
// pairs (x[i], x[i + rot/2]) when not interleaved, (x[2i], x[2i+1]) when
// interleaved; values past `rot` are copied.
void rotate_head(const float* x, float* y, int64_t head_size, int64_t rot, const float* cos, const float* sin,
                 bool interleaved);
// The cos / sin caches of a rotary op: 2-D (max_position, rot / 2), same
// shape. *rot == 0 takes it from the caches.
Status check_rotary_caches(const ir::Node& node, const Tensor& cos, const Tensor& sin, int64_t head_size,
                           int64_t* rot);

// Element (b, l, n, h) of a (batch, length, heads, head_size) source lives at
// data[b * sb + l * sl + n * sn + h]: one view covers 3-D (B, L, N*H) inputs,
// packed QKV / KV and BNSH caches alike.
struct View {
  const float* data = nullptr;
  int64_t sb = 0, sl = 0, sn = 0;
};
// `row` values per (b, l); the heads start at `offset` within a row, `head_stride` apart.
View bsnh_view(const float* data, int64_t L, int64_t row, int64_t offset, int64_t head_stride);
View bnsh_view(const float* data, int64_t N, int64_t L, int64_t H);
// Copies view rows [0, L) into dst [B, N, rows, H] at rows [r0, r0 + L),
// adding bias[n * H + h] when given.
void copy_to_bnsh(const View& v, int64_t B, int64_t L, int64_t N, int64_t H, const float* bias, float* dst,
                  int64_t rows, int64_t r0);

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
// out = softmax(scale * q.k (softcap) + bias + mask) . v over each query's keys.
void run_attention(const AttnProblem& p);

// attention_bias (B or 1, N or 1, S, cols >= need_cols) into p's bias fields.
Status use_attention_bias(const ir::Node& node, const Tensor* ab, int64_t B, int64_t N, int64_t S,
                          int64_t need_cols, AttnProblem* p);
// The additive mask of Attention / MultiHeadAttention, [B, S, T], from a
// mask input (int) and / or the causal rule (see contrib_attention.cc).
Status build_mask(const ir::Node& node, const Tensor* m, const char* what, bool allow_attention_forms, int64_t B,
                  int64_t S, int64_t P, int64_t T, bool causal, float filter, std::vector<float>* mask);
// The part MultiHeadAttention and Attention share once q, k, v are laid out
// as BNSH (k, v with the past rows first): the three rounded to the I/O dtype
// (in float16 the sums with the bias are float16 values too), the additive
// mask from `mask` (the op's `mask_name` input) and the causal rule
// (`unidirectional` with more than one query), the scale and the
// attention_bias (input 5). The caller sets p->out (and scores) and runs it;
// `mask_storage` holds the mask for as long as p is used.
Status prepare_mha(const ir::Node& node, const std::vector<const Tensor*>& in, Tensor& qt, Tensor& kt, Tensor& vt,
                   int mask_input, const char* mask_name, bool attention_mask_forms, int64_t B, int64_t N, int64_t S,
                   int64_t P, int64_t T, int64_t H, int64_t Hv, std::vector<float>* mask_storage, AttnProblem* p);
// past_key / past_value: both or neither, (B, N, P, H) and (B, N, P, Hv); *P = 0 without.
Status past_pair(const ir::Node& node, const Tensor* pk, const Tensor* pv, int64_t B, int64_t N, int64_t H,
                 int64_t Hv, int64_t* P);
// A positive int attribute (num_heads, kv_num_heads), else an error naming it.
Status require_heads(const ir::Node& node, const char* name, int64_t* out);
// The `scale` attribute, or 1 / sqrt(head_size).
float attention_scale(const ir::Node& node, int64_t head_size);

// Shape-function helpers: unknown stays unknown.
ir::Dim dim_at(const ir::ValueInfo* v, size_t i);
ir::Dim known(int64_t x);
ir::Dim dim_add(const ir::Dim& a, const ir::Dim& b);
ir::Dim dim_mul(const ir::Dim& a, int64_t k);
ir::Dim dim_div(const ir::Dim& a, int64_t k);
int64_t rank_of(const ir::ValueInfo* v);  // -1 when unknown
void set_info(ir::ValueInfo* out, DataType dt, std::vector<ir::Dim> dims);
const ir::ValueInfo* info_at(const std::vector<const ir::ValueInfo*>& in, size_t i);

}  // namespace glint::cpu::attn
