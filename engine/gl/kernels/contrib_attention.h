// GPU kernels of com.microsoft MultiHeadAttention, Attention, GroupQueryAttention
// and RotaryEmbedding
// (contrib_attention.cc), bound in engine/registry/op_table.cc.
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

}  // namespace glint::gl
