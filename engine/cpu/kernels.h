// Declarations of every CPU kernel and shape-inference function; the rows
// that bind them to ops are in engine/registry/op_table.cc.
#pragma once
#include "engine/ops/fused_activation.h"
#include "engine/ops/cpu_kernel.h"

namespace glint::cpu {

#define GLINT_CPU_KERNEL(name)                                                   \
  Status name(const ir::Node& node, const std::vector<const Tensor*>& inputs, \
              std::vector<Tensor>& outputs)
#define GLINT_CPU_INFER(name)                                                         \
  Status name(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs, \
              const std::vector<const Tensor*>& constants, std::vector<ir::ValueInfo>& outputs)

// activation.cc: unary math / activations (op chosen by node.op_type), Clip, PRelu.
GLINT_CPU_KERNEL(unary);
GLINT_CPU_KERNEL(clip);
GLINT_CPU_KERNEL(prelu);
GLINT_CPU_INFER(infer_same);
GLINT_CPU_INFER(infer_prelu);

// elementwise.cc: broadcasting binary / variadic ops.
GLINT_CPU_KERNEL(binary_arith);  // Add Sub Mul Div Mod BitShift Max Min Sum Mean
GLINT_CPU_KERNEL(pow_kernel);
GLINT_CPU_KERNEL(compare_kernel);  // Equal Greater Less GreaterOrEqual LessOrEqual
GLINT_CPU_KERNEL(logical_kernel);  // And Or Xor
GLINT_CPU_KERNEL(where_kernel);
GLINT_CPU_INFER(infer_broadcast);
GLINT_CPU_INFER(infer_compare);
GLINT_CPU_INFER(infer_where);

// matmul.cc
GLINT_CPU_KERNEL(matmul);
GLINT_CPU_KERNEL(gemm_kernel);
GLINT_CPU_INFER(infer_matmul);
GLINT_CPU_INFER(infer_gemm);
// The fused activations MatMul / FusedMatMul apply themselves (Gelu on
// float32, in vectors; the runtime applies the others).
bool matmul_epilogue_applies(const FusedActivation& a, DataType out);

// conv.cc, pool.cc
GLINT_CPU_KERNEL(conv);
// The fused activations conv applies in its epilogue (Relu, Clip on float32).
bool conv_epilogue_applies(const FusedActivation& a, DataType out);
GLINT_CPU_INFER(infer_conv);
GLINT_CPU_KERNEL(conv_transpose);
GLINT_CPU_INFER(infer_conv_transpose);
GLINT_CPU_KERNEL(pool);  // MaxPool AveragePool LpPool Global{Average,Max,Lp}Pool
GLINT_CPU_INFER(infer_pool);
GLINT_CPU_KERNEL(max_unpool);
GLINT_CPU_INFER(infer_max_unpool);

// softmax.cc: Softmax LogSoftmax Hardmax
GLINT_CPU_KERNEL(softmax);
GLINT_CPU_INFER(infer_softmax);

// normalization.cc
GLINT_CPU_KERNEL(batch_norm);
GLINT_CPU_INFER(infer_batch_norm);
GLINT_CPU_KERNEL(instance_norm);
GLINT_CPU_INFER(infer_instance_norm);
GLINT_CPU_KERNEL(layer_norm);
GLINT_CPU_INFER(infer_layer_norm);
GLINT_CPU_KERNEL(lrn);
GLINT_CPU_KERNEL(mean_variance_norm);

// rearrange.cc
GLINT_CPU_KERNEL(depth_space);  // DepthToSpace SpaceToDepth
GLINT_CPU_INFER(infer_depth_space);
GLINT_CPU_KERNEL(trilu);
GLINT_CPU_KERNEL(eye_like);
GLINT_CPU_INFER(infer_eye_like);
GLINT_CPU_KERNEL(cum_sum);
GLINT_CPU_KERNEL(reverse_sequence);

// loss.cc: NegativeLogLikelihoodLoss SoftmaxCrossEntropyLoss
GLINT_CPU_KERNEL(loss);
GLINT_CPU_INFER(infer_loss);

// quantize.cc
GLINT_CPU_KERNEL(quantize_linear);
GLINT_CPU_KERNEL(dequantize_linear);
GLINT_CPU_INFER(infer_quantize);
GLINT_CPU_KERNEL(dynamic_quantize_linear);
GLINT_CPU_INFER(infer_dynamic_quantize);
GLINT_CPU_KERNEL(integer_op);  // MatMulInteger ConvInteger QLinearMatMul QLinearConv
GLINT_CPU_INFER(infer_int32_like);

// signal.cc: HannWindow HammingWindow BlackmanWindow
GLINT_CPU_KERNEL(window);
GLINT_CPU_INFER(infer_window);

// linalg.cc
GLINT_CPU_KERNEL(det);
GLINT_CPU_INFER(infer_det);
GLINT_CPU_KERNEL(einsum);
GLINT_CPU_INFER(infer_einsum);

// grid_sample.cc
GLINT_CPU_KERNEL(grid_sample);
GLINT_CPU_INFER(infer_grid_sample);

// rnn.cc: RNN GRU LSTM
GLINT_CPU_KERNEL(rnn);
GLINT_CPU_INFER(infer_rnn);

// optimizer.cc: Adagrad Momentum Adam (domain ai.onnx.preview.training)
GLINT_CPU_KERNEL(optimizer);
GLINT_CPU_INFER(infer_optimizer);

// nms.cc
GLINT_CPU_KERNEL(nms);
GLINT_CPU_INFER(infer_nms);

// select.cc
GLINT_CPU_KERNEL(topk);
GLINT_CPU_INFER(infer_topk);
GLINT_CPU_KERNEL(nonzero);
GLINT_CPU_INFER(infer_nonzero);
GLINT_CPU_KERNEL(compress);
GLINT_CPU_INFER(infer_compress);
GLINT_CPU_KERNEL(unique);
GLINT_CPU_INFER(infer_unique);

// shape_ops.cc
GLINT_CPU_KERNEL(reshape);
GLINT_CPU_INFER(infer_reshape);
GLINT_CPU_KERNEL(flatten);
GLINT_CPU_INFER(infer_flatten);
GLINT_CPU_KERNEL(squeeze);
GLINT_CPU_INFER(infer_squeeze);
GLINT_CPU_KERNEL(unsqueeze);
GLINT_CPU_INFER(infer_unsqueeze);
GLINT_CPU_KERNEL(identity);
GLINT_CPU_KERNEL(dropout);
GLINT_CPU_INFER(infer_dropout);
GLINT_CPU_KERNEL(shape);
GLINT_CPU_INFER(infer_shape);
GLINT_CPU_KERNEL(size);
GLINT_CPU_INFER(infer_size);
GLINT_CPU_KERNEL(constant_of_shape);
GLINT_CPU_INFER(infer_constant_of_shape);

// gather.cc
GLINT_CPU_KERNEL(transpose);
GLINT_CPU_INFER(infer_transpose);
GLINT_CPU_KERNEL(concat);
GLINT_CPU_INFER(infer_concat);
GLINT_CPU_KERNEL(split);
GLINT_CPU_INFER(infer_split);
GLINT_CPU_KERNEL(gather);
GLINT_CPU_INFER(infer_gather);

// index_ops.cc
GLINT_CPU_KERNEL(gather_elements);
GLINT_CPU_INFER(infer_gather_elements);
GLINT_CPU_KERNEL(scatter_elements);  // ScatterElements, Scatter
GLINT_CPU_KERNEL(gather_nd);
GLINT_CPU_INFER(infer_gather_nd);
GLINT_CPU_KERNEL(scatter_nd);
GLINT_CPU_KERNEL(one_hot);
GLINT_CPU_INFER(infer_one_hot);

// slice.cc
GLINT_CPU_KERNEL(slice);
GLINT_CPU_INFER(infer_slice);
GLINT_CPU_KERNEL(expand);
GLINT_CPU_INFER(infer_expand);
GLINT_CPU_KERNEL(tile);
GLINT_CPU_INFER(infer_tile);
GLINT_CPU_KERNEL(pad);
GLINT_CPU_INFER(infer_pad);

// constant.cc
// A Constant node's value, from whichever value_* attribute it has (the
// kernel, its shape function and the pass that turns Constants into
// initializers all read it here).
Result<Tensor> constant_value(const ir::Node& node);
GLINT_CPU_KERNEL(constant);
GLINT_CPU_INFER(infer_constant);
GLINT_CPU_KERNEL(range);
GLINT_CPU_INFER(infer_range);

// resize.cc: Resize Upsample
GLINT_CPU_KERNEL(resize);
GLINT_CPU_INFER(infer_resize);

// cast.cc: Cast CastLike
GLINT_CPU_KERNEL(cast);
GLINT_CPU_INFER(infer_cast);

// reduce.cc: Reduce* ArgMax ArgMin
GLINT_CPU_KERNEL(reduce);
GLINT_CPU_INFER(infer_reduce);

// spectral.cc: DFT STFT MelWeightMatrix (opset 17)
GLINT_CPU_KERNEL(dft);
GLINT_CPU_INFER(infer_dft);
GLINT_CPU_KERNEL(stft);
GLINT_CPU_INFER(infer_stft);
GLINT_CPU_KERNEL(mel_weight_matrix);
GLINT_CPU_INFER(infer_mel_weight_matrix);

// roi_align.cc
GLINT_CPU_KERNEL(roi_align);
GLINT_CPU_INFER(infer_roi_align);

// text.cc: StringNormalizer TfIdfVectorizer
GLINT_CPU_KERNEL(string_normalizer);
GLINT_CPU_INFER(infer_string_normalizer);
GLINT_CPU_KERNEL(tfidf_vectorizer);
GLINT_CPU_INFER(infer_tfidf_vectorizer);

// random.cc: RandomUniform RandomNormal (and *Like) Bernoulli Multinomial;
// Dropout with training_mode (falls back to `dropout` otherwise).
GLINT_CPU_KERNEL(random_kernel);
GLINT_CPU_INFER(infer_random);
GLINT_CPU_KERNEL(multinomial);
GLINT_CPU_INFER(infer_multinomial);
GLINT_CPU_KERNEL(dropout_training);

// contrib.cc: com.microsoft ops of optimized transformer exports.
GLINT_CPU_KERNEL(gelu_contrib);     // Gelu, FastGelu, BiasGelu, QuickGelu
// y = Gelu(x + bias) over `rows` rows of `c` floats (bias [c] or null; y may
// be x), the erf in vectors: the Gelu kernel's, and a MatMul's fused Gelu.
void gelu_erf_rows(const float* x, const float* bias, float* y, int64_t rows, int64_t c);
GLINT_CPU_KERNEL(bias_add);
GLINT_CPU_KERNEL(skip_layer_norm);  // SkipLayerNormalization, SkipSimplifiedLayerNormalization, SimplifiedLayerNormalization
GLINT_CPU_INFER(infer_skip_layer_norm);
GLINT_CPU_KERNEL(fused_matmul);
GLINT_CPU_INFER(infer_fused_matmul);
// alpha * op(A) op(B) for float-storage A and B (FusedMatMul): the GEMM
// reads a transposed operand in place instead of a transposed copy.
Status matmul_float_trans(const ir::Node& node, const std::vector<const Tensor*>& inputs,
                          std::vector<Tensor>& outputs, InferFn infer, bool ta, bool tb, float alpha);
// A MatMul / FusedMatMul takes A, B and the addends fused into it
// (fused_addend_count): more inputs are a model error naming the node.
Status check_product_input_count(const ir::Node& node, size_t given);

#undef GLINT_CPU_KERNEL
#undef GLINT_CPU_INFER

}  // namespace glint::cpu
