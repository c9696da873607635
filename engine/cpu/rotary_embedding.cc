// com.microsoft RotaryEmbedding on the CPU (the rotation itself is
// attention_core's rotate_head, shared with GroupQueryAttention's do_rotary).
#include <algorithm>
#include <string>

#include "engine/cpu/attention_core.h"
#include "engine/cpu/contrib_attention.h"
#include "engine/cpu/util.h"

namespace glint::cpu {

using namespace attn;

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

}  // namespace glint::cpu
