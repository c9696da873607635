// A runtime value: a tensor (the common case), a sequence of tensors, or an
// empty optional. An optional that holds something is just that something;
// optional-ness is a property of the declared type, not of the value.
#pragma once
#include <string>
#include <vector>

#include "engine/core/tensor.h"

namespace glint {

struct Value {
  enum class Kind { kTensor, kSequence, kNone };
  Kind kind = Kind::kTensor;
  Tensor tensor;                   // kTensor
  std::vector<Tensor> sequence;    // kSequence
  DataType elem_dtype = DataType::kUndefined;  // element dtype of a sequence / none

  static Value of(Tensor t) {
    Value v;
    v.tensor = std::move(t);
    return v;
  }
  static Value of_sequence(std::vector<Tensor> items, DataType elem) {
    Value v;
    v.kind = Kind::kSequence;
    v.sequence = std::move(items);
    v.elem_dtype = elem;
    return v;
  }
  static Value none(DataType elem = DataType::kUndefined) {
    Value v;
    v.kind = Kind::kNone;
    v.elem_dtype = elem;
    return v;
  }
  bool is_tensor() const { return kind == Kind::kTensor; }
  std::string describe() const;  // "float32[2,3]", "sequence<float32>(3)", "none"
};

}  // namespace glint
