// The CPU kernel contract. A CPU kernel reads its inputs (nullptr for an
// absent optional input), allocates and fills `outputs` (already sized to the
// node's output count; it may leave unused optional outputs default). It is the
// reference for tests, the constant folder's evaluator and the GPU fallback.
//
// float16 / bfloat16 tensors are held as float32 storage (see dtype.h):
// kernels compute in float and keep the dtype tag of the output as ONNX says.
#pragma once
#include <vector>

#include "engine/core/status.h"
#include "engine/core/tensor.h"
#include "engine/ir/graph.h"

namespace glint::cpu {

using CpuKernelFn = Status (*)(const ir::Node& node, const std::vector<const Tensor*>& inputs,
                               std::vector<Tensor>& outputs);

}  // namespace glint::cpu

namespace glint {

// Shape and dtype inference for one node. `inputs[i]` is nullptr for an absent
// input; `constants[i]` is the value of input i when it is known at this point
// (an initializer, or a concrete run-time CPU tensor), else nullptr. Fills
// `outputs` (sized to the node's output count). Unknown dims stay symbolic /
// -1; a rank that cannot be known gives has_shape=false. Errors name the node
// and what disagrees (expected vs given).
using InferFn = Status (*)(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                           const std::vector<const Tensor*>& constants,
                           std::vector<ir::ValueInfo>& outputs);

}  // namespace glint
