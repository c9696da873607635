#include "engine/core/value.h"

namespace glint {

std::string Value::describe() const {
  switch (kind) {
    case Kind::kTensor: return tensor_desc(tensor) + (device ? " (in GPU memory)" : "");
    case Kind::kSequence:
      return "sequence<" + dtype_name(elem_dtype) + ">(" + std::to_string(sequence.size()) + ")";
    case Kind::kNone: return "none";
  }
  return "?";
}

}  // namespace glint
