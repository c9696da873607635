// Arithmetic work of a node, estimated from the shapes it ran with, so that a
// run can say how much of a model's work the GPU did (the zoo's "FLOPs on the
// GPU"). Multiply-adds count two: Conv, ConvTranspose, MatMul, Gemm, the
// attention ops and the RNNs are counted from their loop bounds; every other
// op counts one per output element (a reduction: one per input element).
// Estimates, for shares and comparisons, not for billing.
#pragma once
#include <optional>
#include <vector>

#include "engine/core/tensor.h"
#include "engine/ir/graph.h"

namespace glint::plan {

double estimate_flops(const ir::Node& n, const std::vector<std::optional<Shape>>& inputs,
                      const std::vector<std::optional<Shape>>& outputs);

}  // namespace glint::plan
