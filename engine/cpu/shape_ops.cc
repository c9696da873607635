// Ops that change only the shape (Reshape, Flatten, Squeeze, Unsqueeze,
// Identity, Dropout in inference) — their outputs are views of the input's
// storage — and ops that read or make shapes (Shape, Size, ConstantOfShape).
#include <algorithm>

#include "engine/cpu/kernels.h"
#include "engine/cpu/util.h"

namespace glint::cpu {

namespace {

// The axes of Squeeze / Unsqueeze: an attribute before opset 13, an optional
// input from 13. `*known` is false when the input exists but is not constant.
std::vector<int64_t> axes_of(const ir::Node& node, const std::vector<const Tensor*>& constants,
                             size_t input, int since, bool* present, bool* known) {
  *known = true;
  *present = false;
  if (node.opset < since) {
    *present = node.has_attr("axes");
    return node.attr_ints("axes");
  }
  if (!node.has_input(input) && !(input < constants.size() && constants[input])) return {};
  *present = true;
  if (input < constants.size() && constants[input]) return to_int64s(*constants[input]);
  *known = false;
  return {};
}

}  // namespace

Status infer_reshape(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                     const std::vector<const Tensor*>& constants, std::vector<ir::ValueInfo>& outputs) {
  const bool from_attr = node.opset < 5;
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, from_attr ? 1 : 2));
  const ir::ValueInfo& x = *inputs[0];
  ir::ValueInfo& out = outputs[0];
  out.dtype = x.dtype;
  std::vector<int64_t> target;
  if (from_attr) {
    target = node.attr_ints("shape");
  } else if (constants.size() > 1 && constants[1]) {
    target = to_int64s(*constants[1]);
  } else {
    const int64_t rank = declared_rank(*inputs[1]);
    out.has_shape = rank >= 0;
    out.dims.assign(std::max<int64_t>(rank, 0), ir::Dim{});
    return Status::Ok();
  }
  const bool allowzero = node.attr_int("allowzero", 0) != 0;
  out.has_shape = true;
  out.dims.clear();
  int64_t infer_at = -1, known_product = 1;
  bool product_known = true;
  for (size_t i = 0; i < target.size(); ++i) {
    int64_t v = target[i];
    ir::Dim d{v, ""};
    if (v == -1) {
      if (infer_at >= 0) return node_error(node, "shape " + shape_str(target) + " has more than one -1");
      infer_at = static_cast<int64_t>(i);
    } else if (v == 0 && !allowzero) {
      if (!x.has_shape || i >= x.dims.size()) {
        if (x.has_shape)
          return node_error(node, "shape " + shape_str(target) + " copies dim " + std::to_string(i) +
                                      " (0) but the input is " + x.describe());
        d = ir::Dim{};
      } else {
        d = x.dims[i];
      }
    } else if (v < 0) {
      return node_error(node, "shape " + shape_str(target) + " has invalid dim " + std::to_string(v));
    }
    if (d.known() && __builtin_mul_overflow(known_product, d.value, &known_product))
      return node_error(node, "shape " + shape_str(target) + " has more elements than an int64 counts");
    if (!d.known() && v != -1) product_known = false;
    out.dims.push_back(d);
  }
  if (allowzero && infer_at >= 0 && std::count(target.begin(), target.end(), 0) > 0)
    return node_error(node, "shape " + shape_str(target) + " has both -1 and 0 with allowzero=1");
  if (!x.fully_known()) {
    if (infer_at >= 0) out.dims[infer_at] = ir::Dim{};
    return Status::Ok();
  }
  const int64_t total = shape_size(x.concrete());
  if (infer_at >= 0) {
    if (!product_known) {
      out.dims[infer_at] = ir::Dim{};
      return Status::Ok();
    }
    if (known_product == 0 || total % known_product != 0)
      return node_error(node, "cannot reshape " + x.describe() + " to " + shape_str(target));
    out.dims[infer_at] = ir::Dim{total / known_product, ""};
    known_product = total;
  }
  if (product_known && known_product != total)
    return node_error(node, "cannot reshape " + x.describe() + " (" + std::to_string(total) +
                                " elements) to " + shape_str(target) + " (" +
                                std::to_string(known_product) + " elements)");
  return Status::Ok();
}

Status reshape(const ir::Node& node, const std::vector<const Tensor*>& inputs,
               std::vector<Tensor>& outputs) {
  return alloc_outputs(infer_reshape, node, inputs, outputs, OutputFill::kViewOfInput);
}

Status infer_flatten(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                     const std::vector<const Tensor*>&, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 1));
  const ir::ValueInfo& x = *inputs[0];
  outputs[0].dtype = x.dtype;
  outputs[0].has_shape = true;
  if (!x.has_shape) {
    outputs[0].dims.assign(2, ir::Dim{});
    return Status::Ok();
  }
  const int64_t rank = static_cast<int64_t>(x.dims.size());
  int64_t axis = node.attr_int("axis", 1);
  if ((node.opset < 11 && axis < 0) || axis < -rank || axis > rank)
    return node_error(node, "axis " + std::to_string(axis) + " is out of range for " + x.describe());
  if (axis < 0) axis += rank;
  // Product of dims [lo, hi); a lone symbolic dim keeps its symbol.
  auto product = [&](int64_t lo, int64_t hi) {
    if (hi - lo == 1) return x.dims[lo];
    ir::Dim p{1, ""};
    for (int64_t i = lo; i < hi; ++i) {
      if (x.dims[i].known() && x.dims[i].value == 0) return ir::Dim{0, ""};
      if (p.known() && x.dims[i].known()) p.value *= x.dims[i].value;
      else p = ir::Dim{};
    }
    return p;
  };
  ir::Dim a = product(0, axis), b = product(axis, rank);
  outputs[0].dims = {a, b};
  return Status::Ok();
}

Status flatten(const ir::Node& node, const std::vector<const Tensor*>& inputs,
               std::vector<Tensor>& outputs) {
  return alloc_outputs(infer_flatten, node, inputs, outputs, OutputFill::kViewOfInput);
}

Status infer_squeeze(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                     const std::vector<const Tensor*>& constants, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 1));
  const ir::ValueInfo& x = *inputs[0];
  outputs[0].dtype = x.dtype;
  bool present, known;
  std::vector<int64_t> axes = axes_of(node, constants, 1, 13, &present, &known);
  if (!x.has_shape || !known) {
    outputs[0].has_shape = false;
    return Status::Ok();
  }
  const int64_t rank = static_cast<int64_t>(x.dims.size());
  std::vector<bool> drop(rank, false);
  if (present) {
    GLINT_RETURN_IF_ERROR(normalize_axes(node, axes, rank));
    for (int64_t a : axes) {
      if (x.dims[a].known() && x.dims[a].value != 1)
        return node_error(node, "cannot squeeze axis " + std::to_string(a) + " of " + x.describe() +
                                    " (size is not 1)");
      drop[a] = true;
    }
  } else {
    for (int64_t i = 0; i < rank; ++i) {
      if (!x.dims[i].known()) {  // might be 1: the rank is unknown
        outputs[0].has_shape = false;
        return Status::Ok();
      }
      drop[i] = x.dims[i].value == 1;
    }
  }
  outputs[0].has_shape = true;
  outputs[0].dims.clear();
  for (int64_t i = 0; i < rank; ++i)
    if (!drop[i]) outputs[0].dims.push_back(x.dims[i]);
  return Status::Ok();
}

Status squeeze(const ir::Node& node, const std::vector<const Tensor*>& inputs,
               std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
  return alloc_outputs(infer_squeeze, node, inputs, outputs, OutputFill::kViewOfInput);
}

Status infer_unsqueeze(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                       const std::vector<const Tensor*>& constants, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 1));
  const ir::ValueInfo& x = *inputs[0];
  outputs[0].dtype = x.dtype;
  bool present, known;
  std::vector<int64_t> axes = axes_of(node, constants, 1, 13, &present, &known);
  if (!present) return node_error(node, "axes are required");
  if (!x.has_shape || !known) {
    outputs[0].has_shape = false;
    return Status::Ok();
  }
  const int64_t rank = static_cast<int64_t>(x.dims.size() + axes.size());
  GLINT_RETURN_IF_ERROR(normalize_axes(node, axes, rank));
  std::vector<bool> ins(rank, false);
  for (int64_t a : axes) ins[a] = true;
  outputs[0].has_shape = true;
  outputs[0].dims.clear();
  size_t j = 0;
  for (int64_t i = 0; i < rank; ++i)
    outputs[0].dims.push_back(ins[i] ? ir::Dim{1, ""} : x.dims[j++]);
  return Status::Ok();
}

Status unsqueeze(const ir::Node& node, const std::vector<const Tensor*>& inputs,
                 std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
  return alloc_outputs(infer_unsqueeze, node, inputs, outputs, OutputFill::kViewOfInput);
}

Status identity(const ir::Node& node, const std::vector<const Tensor*>& inputs,
                std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
  outputs[0] = *inputs[0];
  return Status::Ok();
}

Status infer_dropout(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                     const std::vector<const Tensor*>&, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 1));
  outputs[0] = *inputs[0];
  if (outputs.size() > 1 && node.has_output(1)) {
    outputs[1] = *inputs[0];
    outputs[1].dtype = node.opset >= 10 ? DataType::kBool : inputs[0]->dtype;
  }
  return Status::Ok();
}

Status dropout(const ir::Node& node, const std::vector<const Tensor*>& inputs,
               std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
  const Tensor* ratio = inputs.size() > 1 ? inputs[1] : nullptr;
  const Tensor* training = inputs.size() > 2 ? inputs[2] : nullptr;
  const bool train = training && training->size() == 1 && training->get_as_double(0) != 0;
  const double r = ratio && ratio->size() == 1 ? ratio->get_as_double(0) : node.attr_float("ratio", 0.5f);
  if (train && r != 0.0)
    return node_unsupported(node, "training_mode=true is not supported (inference only)");
  if (node.opset < 7 && node.attr_int("is_test", 0) == 0 && node.has_output(1))
    return node_unsupported(node, "is_test=0 with a mask output is not supported (inference only)");
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_dropout, node, inputs, outputs));
  outputs[0] = *inputs[0];
  if (outputs.size() > 1 && node.has_output(1))
    for (int64_t i = 0; i < outputs[1].size(); ++i) outputs[1].set_from_double(i, 1.0);
  return Status::Ok();
}

Status infer_shape(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                   const std::vector<const Tensor*>&, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 1));
  outputs[0].dtype = DataType::kInt64;
  outputs[0].has_shape = true;
  if (!inputs[0]->has_shape) {
    outputs[0].dims = {ir::Dim{}};
    return Status::Ok();
  }
  const int64_t rank = static_cast<int64_t>(inputs[0]->dims.size());
  auto clampi = [rank](int64_t v) { return std::clamp<int64_t>(v < 0 ? v + rank : v, 0, rank); };
  int64_t start = clampi(node.attr_int("start", 0));
  int64_t end = node.has_attr("end") ? clampi(node.attr_int("end", rank)) : rank;
  outputs[0].dims = {ir::Dim{std::max<int64_t>(0, end - start), ""}};
  return Status::Ok();
}

Status shape(const ir::Node& node, const std::vector<const Tensor*>& inputs,
             std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_shape, node, inputs, outputs));
  const int64_t rank = inputs[0]->rank();
  int64_t start = node.attr_int("start", 0);
  if (start < 0) start += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  for (int64_t i = 0; i < outputs[0].size(); ++i)
    outputs[0].data<int64_t>()[i] = inputs[0]->shape()[start + i];
  return Status::Ok();
}

Status infer_size(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                  const std::vector<const Tensor*>&, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 1));
  outputs[0] = ir::ValueInfo::of(DataType::kInt64, {});
  return Status::Ok();
}

Status size(const ir::Node& node, const std::vector<const Tensor*>& inputs,
            std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
  outputs[0] = Tensor(DataType::kInt64, {});
  outputs[0].data<int64_t>()[0] = inputs[0]->size();
  return Status::Ok();
}

Status infer_constant_of_shape(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                               const std::vector<const Tensor*>& constants,
                               std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 1));
  const ir::Attribute* v = node.attr("value");
  if (v && (v->kind != ir::Attribute::Kind::kTensor || v->t.size() != 1))
    return node_error(node, "value must be a one-element tensor");
  outputs[0].dtype = v ? v->t.dtype() : DataType::kFloat32;
  if (constants.empty() || !constants[0]) {
    const int64_t rank = declared_rank(*inputs[0]);
    outputs[0].has_shape = rank >= 0;
    outputs[0].dims.assign(std::max<int64_t>(rank, 0), ir::Dim{});
    return Status::Ok();
  }
  std::vector<int64_t> dims = to_int64s(*constants[0]);
  for (int64_t d : dims)
    if (d < 0) return node_error(node, "shape " + shape_str(dims) + " has a negative dim");
  outputs[0] = ir::ValueInfo::of(outputs[0].dtype, dims);
  return Status::Ok();
}

Status constant_of_shape(const ir::Node& node, const std::vector<const Tensor*>& inputs,
                         std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_constant_of_shape, node, inputs, outputs));
  const ir::Attribute* v = node.attr("value");
  if (v) for (int64_t i = 0; i < outputs[0].size(); ++i) copy_elements(v->t, 0, outputs[0], i, 1);
  return Status::Ok();
}

}  // namespace glint::cpu
