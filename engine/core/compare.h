// Tensor comparison as the ONNX node tests define it: |got - want| <= atol +
// rtol * |want| for floats, NaN equal to NaN, infinities equal by sign, exact
// for integers, bool and strings.
#pragma once
#include <string>

#include "engine/core/tensor.h"

namespace glint {

struct Comparison {
  bool equal = true;
  double max_abs_diff = 0;
  std::string mismatch;  // the first mismatch, described, when !equal
};

Comparison compare_tensors(const Tensor& got, const Tensor& want, double rtol, double atol);

}  // namespace glint
