// GPU kernels of com.microsoft MultiHeadAttention and Attention
// (contrib_attention.cc), GroupQueryAttention (group_query_attention.cc) and
// RotaryEmbedding (rotary_embedding.cc), bound in engine/registry/op_table.cc.
#pragma once
#include <string>
#include <vector>

#include "engine/gl/kernels/kernel.h"

namespace glint::gl {

bool multi_head_attention_supports(const KernelContext& ctx, std::string* why);
Result<std::vector<ProgramInfo>> multi_head_attention_build(const KernelContext& ctx);
bool attention_contrib_supports(const KernelContext& ctx, std::string* why);
Result<std::vector<ProgramInfo>> attention_contrib_build(const KernelContext& ctx);
bool rotary_embedding_supports(const KernelContext& ctx, std::string* why);
Result<std::vector<ProgramInfo>> rotary_embedding_build(const KernelContext& ctx);
bool group_query_attention_supports(const KernelContext& ctx, std::string* why);
Result<std::vector<ProgramInfo>> group_query_attention_build(const KernelContext& ctx);

// Helpers the attention kernels share.
namespace attn_gpu {
inline bool is_f(DataType t) { return t == DataType::kFloat32 || t == DataType::kFloat16; }
inline bool present(const KernelContext& ctx, size_t i) { return i < ctx.inputs.size() && ctx.inputs[i].has_value(); }
// The `scale` attribute, or 1 / sqrt(head_size), as the CPU kernels take it.
float scale_of(const ir::Node& node, int64_t head_size);
}  // namespace attn_gpu

}  // namespace glint::gl
