// Declarations of every GPU kernel (supports + build); the rows that bind
// them to ops are in engine/runtime/registry_gpu.inc.
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
GLINT_GPU_KERNEL(conv);         // conv.cc: 1-D / 2-D Conv
GLINT_GPU_KERNEL(pool);         // pool.cc: MaxPool, AveragePool
GLINT_GPU_KERNEL(global_pool);  // pool.cc: GlobalAveragePool, GlobalMaxPool
GLINT_GPU_KERNEL(matmul);       // matmul.cc
GLINT_GPU_KERNEL(gemm);         // matmul.cc
GLINT_GPU_KERNEL(softmax);      // softmax.cc: Softmax, LogSoftmax
GLINT_GPU_KERNEL(batchnorm);    // normalization.cc
GLINT_GPU_KERNEL(instancenorm); // normalization.cc
GLINT_GPU_KERNEL(layernorm);    // normalization.cc
GLINT_GPU_KERNEL(copy);         // shape_ops.cc: Reshape, Flatten, Squeeze, Unsqueeze, Identity, Dropout
GLINT_GPU_KERNEL(transpose);    // shape_ops.cc
GLINT_GPU_KERNEL(concat);       // shape_ops.cc
GLINT_GPU_KERNEL(expand);       // shape_ops.cc
GLINT_GPU_KERNEL(tile);         // shape_ops.cc
GLINT_GPU_KERNEL(gather);       // gather.cc: constant indices
GLINT_GPU_KERNEL(slice);        // slice.cc
GLINT_GPU_KERNEL(split);        // slice.cc
GLINT_GPU_KERNEL(hardmax);      // softmax.cc
GLINT_GPU_KERNEL(lrn);          // normalization.cc
GLINT_GPU_KERNEL(cast);         // cast.cc: float32 <-> float16
GLINT_GPU_KERNEL(reduce);       // reduce.cc: ReduceSum, ReduceMean, ReduceMax, ...
GLINT_GPU_KERNEL(pad);          // pad.cc: constant / reflect / edge / wrap

#undef GLINT_GPU_KERNEL

}  // namespace glint::gl
