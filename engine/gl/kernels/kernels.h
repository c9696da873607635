// Declarations of every GPU kernel (supports + build); the rows that bind
// them to ops are in engine/registry/op_table.cc.
#pragma once
#include <string>
#include <vector>

#include "engine/gl/kernels/kernel.h"

namespace glint::gl {

#define GLINT_GPU_KERNEL(name)                                    \
  bool name##_supports(const KernelContext& ctx, std::string* why); \
  Result<std::vector<ProgramInfo>> name##_build(const KernelContext& ctx)

GLINT_GPU_KERNEL(unary);        // elementwise.cc: Abs, Neg, Exp, Log, Sqrt, Sin, Erf, ...
GLINT_GPU_KERNEL(binary);       // elementwise.cc: Add, Sub, Mul, Div, Pow, Max, Min, Sum, Mean
GLINT_GPU_KERNEL(activation);   // activation.cc: Relu, LeakyRelu, Sigmoid, Tanh, Clip, Elu, ...
GLINT_GPU_KERNEL(prelu);        // activation.cc
// Conv candidates, asked in this order (conv_common.h):
GLINT_GPU_KERNEL(conv_depthwise);  // conv_depthwise.cc: 2-D depthwise, vec4 and planes tiles
GLINT_GPU_KERNEL(conv_vec4);       // conv_vec4.cc: 2-D, groups of 4 channels, vec4 and planes tiles
GLINT_GPU_KERNEL(conv_generic);    // conv_generic.cc: 1-D / 2-D, one element per fragment
// The three above as one (the first that accepts), for kernels that lower
// to a float conv (ConvInteger, QLinearConv in int_ops.cc).
GLINT_GPU_KERNEL(conv);            // conv_common.cc
GLINT_GPU_KERNEL(pool);         // pool.cc: MaxPool, AveragePool
GLINT_GPU_KERNEL(global_pool);  // pool.cc: GlobalAveragePool, GlobalMaxPool
GLINT_GPU_KERNEL(matmul);       // matmul.cc
GLINT_GPU_KERNEL(gemm);         // matmul.cc
GLINT_GPU_KERNEL(softmax);      // softmax.cc: Softmax, LogSoftmax
GLINT_GPU_KERNEL(batchnorm);    // normalization.cc
GLINT_GPU_KERNEL(instancenorm); // normalization.cc
GLINT_GPU_KERNEL(layernorm);    // normalization.cc
GLINT_GPU_KERNEL(skip_layernorm);  // normalization.cc: Skip(Simplified)LayerNormalization, SimplifiedLayerNormalization
GLINT_GPU_KERNEL(gelu);         // gelu.cc: Gelu, FastGelu, BiasGelu, QuickGelu, BiasAdd (com.microsoft)
GLINT_GPU_KERNEL(copy);         // shape_ops.cc: Reshape, Flatten, Squeeze, Unsqueeze, Identity, Dropout
GLINT_GPU_KERNEL(transpose);    // shape_ops.cc
GLINT_GPU_KERNEL(concat);       // shape_ops.cc
GLINT_GPU_KERNEL(expand);       // shape_ops.cc
GLINT_GPU_KERNEL(tile);         // shape_ops.cc
GLINT_GPU_KERNEL(gather);       // gather.cc: baked constant or sampled indices
GLINT_GPU_KERNEL(slice);        // slice.cc
GLINT_GPU_KERNEL(split);        // slice.cc
GLINT_GPU_KERNEL(hardmax);      // softmax.cc
GLINT_GPU_KERNEL(lrn);          // normalization.cc
GLINT_GPU_KERNEL(cast);         // cast.cc: between every dtype the GPU holds
GLINT_GPU_KERNEL(reduce);       // reduce.cc: ReduceSum, ReduceMean, ReduceMax, ...
GLINT_GPU_KERNEL(pad);          // pad.cc: constant / reflect / edge / wrap
GLINT_GPU_KERNEL(shape);        // generate.cc: Shape, Size (baked)
GLINT_GPU_KERNEL(constant_of_shape);  // generate.cc
GLINT_GPU_KERNEL(eye_like);     // generate.cc
GLINT_GPU_KERNEL(range);        // generate.cc
GLINT_GPU_KERNEL(logical);      // logical.cc: comparisons, And/Or/Xor/Not, Where, IsNaN/IsInf, BitShift
GLINT_GPU_KERNEL(arg_reduce);   // arg_reduce.cc: ArgMax, ArgMin
GLINT_GPU_KERNEL(trilu);        // trilu.cc
GLINT_GPU_KERNEL(cumsum);       // trilu.cc
GLINT_GPU_KERNEL(loss);         // loss.cc: NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss
GLINT_GPU_KERNEL(index_data);   // scatter.cc: GatherElements, GatherND, ScatterElements, ScatterND
GLINT_GPU_KERNEL(conv_transpose);  // conv_transpose.cc
GLINT_GPU_KERNEL(grid_sample);  // grid_sample.cc
GLINT_GPU_KERNEL(quantize);     // quantize.cc: QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear
GLINT_GPU_KERNEL(window);       // quantize.cc: HannWindow, HammingWindow, BlackmanWindow
GLINT_GPU_KERNEL(topk);         // topk.cc
GLINT_GPU_KERNEL(reverse_sequence);  // topk.cc
GLINT_GPU_KERNEL(select);       // compress.cc: Compress, NonZero, MaxUnpool
GLINT_GPU_KERNEL(int_op);       // int_ops.cc: MatMulInteger, ConvInteger, QLinearMatMul, QLinearConv
GLINT_GPU_KERNEL(mvn_det);      // mvn_det.cc: MeanVarianceNormalization, Det
GLINT_GPU_KERNEL(einsum);       // einsum.cc
GLINT_GPU_KERNEL(rnn);          // rnn.cc: RNN, GRU, LSTM
GLINT_GPU_KERNEL(nms);          // nms.cc: NonMaxSuppression
GLINT_GPU_KERNEL(unique);       // unique.cc
GLINT_GPU_KERNEL(optimizer);    // optimizer.cc: Adagrad, Momentum, Adam (ai.onnx.preview.training)
GLINT_GPU_KERNEL(resize);       // resize.cc: Resize, Upsample
GLINT_GPU_KERNEL(rearrange);    // rearrange.cc: DepthToSpace, SpaceToDepth, OneHot

#undef GLINT_GPU_KERNEL

}  // namespace glint::gl
