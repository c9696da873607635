// A runtime value: a tensor (the common case), a sequence of tensors, or an
// empty optional. An optional that holds something is just that something;
// optional-ness is a property of the declared type, not of the value.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "engine/core/tensor.h"

namespace glint {

// A tensor held in an accelerator's memory (the GL executor's GpuTensor);
// core knows it by this name alone.
class DeviceTensor {
 public:
  virtual ~DeviceTensor() = default;
};

struct Value {
  enum class Kind { kTensor, kSequence, kNone };
  Kind kind = Kind::kTensor;
  Tensor tensor;                   // kTensor (with `device`: its dtype and shape, no storage)
  std::vector<Tensor> sequence;    // kSequence
  DataType elem_dtype = DataType::kUndefined;  // element dtype of a sequence / none
  // A kTensor whose data stays in GPU memory. The runtime hands such values
  // only to a kernel that passes them on unread (If, into and out of its
  // branch), so that what the GPU made and the GPU reads next is not read
  // back on the way; every other kernel is given the data.
  std::shared_ptr<DeviceTensor> device;

  static Value of(Tensor t) {
    Value v;
    v.tensor = std::move(t);
    return v;
  }
  static Value on_device(std::shared_ptr<DeviceTensor> d, DataType dtype, Shape shape) {
    Value v;
    v.tensor = Tensor::shape_only(dtype, std::move(shape));
    v.device = std::move(d);
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
