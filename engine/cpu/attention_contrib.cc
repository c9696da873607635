// com.microsoft Attention on the CPU: the fused QKV projection, the
// (2, B, N, P, H) past, the mask_index forms, then attention_core's
// run_attention.
#include <algorithm>
#include <string>

#include "engine/cpu/attention_core.h"
#include "engine/cpu/contrib_attention.h"
#include "engine/cpu/util.h"

namespace glint::cpu {

using namespace attn;

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
  std::vector<float> mask;
  AttnProblem p;
  GLINT_RETURN_IF_ERROR(prepare_mha(node, in, qt, kt, vt, 3, "mask_index", true, B, N, S, P, T, H, Hv, &mask, &p));
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
