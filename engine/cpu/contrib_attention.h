// com.microsoft attention-family and weight-only quantized ops, as
// onnxruntime's docs/ContribOperators.md defines them and exported /
// optimized web transformer models carry them (decoders with 4-bit
// MatMulNBits + GroupQueryAttention + RotaryEmbedding, BERT / GPT-2 /
// Whisper exports with Attention or MultiHeadAttention). CPU kernels and
// shape functions (what the attention ops share: attention_core.h); the rows
// binding them are in engine/registry/op_table.cc.
#pragma once
#include <vector>

#include "engine/ops/cpu_kernel.h"

namespace glint::cpu {

#define GLINT_CONTRIB_KERNEL(name)                                              \
  Status name(const ir::Node& node, const std::vector<const Tensor*>& inputs, \
              std::vector<Tensor>& outputs)
#define GLINT_CONTRIB_INFER(name)                                                     \
  Status name(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs, \
              const std::vector<const Tensor*>& constants, std::vector<ir::ValueInfo>& outputs)

GLINT_CONTRIB_KERNEL(rotary_embedding);  // rotary_embedding.cc; shape: infer_same
GLINT_CONTRIB_KERNEL(multi_head_attention);  // multi_head_attention.cc
GLINT_CONTRIB_INFER(infer_multi_head_attention);
GLINT_CONTRIB_KERNEL(group_query_attention);  // group_query_attention.cc
GLINT_CONTRIB_INFER(infer_group_query_attention);
GLINT_CONTRIB_KERNEL(attention_contrib);  // attention_contrib.cc: com.microsoft Attention (fused QKV weights)
GLINT_CONTRIB_INFER(infer_attention_contrib);

// matmul_nbits.cc
GLINT_CONTRIB_KERNEL(matmul_nbits);
GLINT_CONTRIB_INFER(infer_matmul_nbits);

#undef GLINT_CONTRIB_KERNEL
#undef GLINT_CONTRIB_INFER

}  // namespace glint::cpu
