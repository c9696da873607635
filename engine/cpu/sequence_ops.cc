// Sequence and optional ops. Sequences hold tensors; an empty optional is
// Value::none(); optional-of-X holding a value is that value.
#include <cstring>

#include "engine/cpu/value_ops.h"

namespace glint::values {

namespace {

Status need_kind(const ir::Node& n, const Value* v, size_t i, Value::Kind kind, const char* what) {
  if (v == nullptr) return invalid_argument(n.describe() + ": input " + std::to_string(i) + " is required");
  if (v->kind != kind)
    return invalid_argument(n.describe() + ": input " + std::to_string(i) + " must be a " + what + ", got " +
                            v->describe());
  return Status::Ok();
}

// Position argument of SequenceAt/Insert/Erase: negative counts from the end;
// `size_inclusive` allows position == size (insert at the back).
Result<int64_t> position(const ir::Node& n, const Value* v, int64_t size, bool size_inclusive) {
  if (v == nullptr || !v->is_tensor() || v->tensor.size() != 1)
    return invalid_argument(n.describe() + ": position must be a scalar tensor");
  int64_t p = v->tensor.get_as_int64(0);
  int64_t hi = size_inclusive ? size : size - 1;
  if (p < -size || p > hi)
    return invalid_argument(n.describe() + ": position " + std::to_string(p) + " is out of range for a sequence of " +
                            std::to_string(size));
  return p < 0 ? p + size : p;
}

}  // namespace

Tensor slice_axis(const Tensor& t, int64_t axis, int64_t begin, int64_t end) {
  Shape shape = t.shape();
  shape[axis] = end - begin;
  Tensor out(t.dtype(), shape);
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < axis; ++i) outer *= t.shape()[i];
  for (size_t i = axis + 1; i < t.shape().size(); ++i) inner *= t.shape()[i];
  size_t es = storage_size(t.dtype());
  int64_t len = t.shape()[axis];
  for (int64_t o = 0; o < outer; ++o) {
    if (t.dtype() == DataType::kString) {
      for (int64_t k = 0; k < (end - begin) * inner; ++k)
        out.strings()[o * (end - begin) * inner + k] = t.strings()[(o * len + begin) * inner + k];
    } else if ((end - begin) * inner > 0) {
      std::memcpy(static_cast<uint8_t*>(out.raw()) + o * (end - begin) * inner * es,
                  static_cast<const uint8_t*>(t.raw()) + (o * len + begin) * inner * es, (end - begin) * inner * es);
    }
  }
  return out;
}

Status sequence_construct(const ir::Node& n, const std::vector<const Value*>& in, std::vector<Value>& out,
                          const SubgraphRunner&) {
  std::vector<Tensor> items;
  DataType elem = DataType::kUndefined;
  for (size_t i = 0; i < in.size(); ++i) {
    GLINT_RETURN_IF_ERROR(need_kind(n, in[i], i, Value::Kind::kTensor, "tensor"));
    if (elem != DataType::kUndefined && in[i]->tensor.dtype() != elem)
      return invalid_argument(n.describe() + ": all inputs must share a dtype; got " + dtype_name(elem) + " and " +
                              dtype_name(in[i]->tensor.dtype()));
    elem = in[i]->tensor.dtype();
    items.push_back(in[i]->tensor);
  }
  out[0] = Value::of_sequence(std::move(items), elem);
  return Status::Ok();
}

Status sequence_empty(const ir::Node& n, const std::vector<const Value*>&, std::vector<Value>& out,
                      const SubgraphRunner&) {
  out[0] = Value::of_sequence({}, static_cast<DataType>(n.attr_int("dtype", 1)));
  return Status::Ok();
}

Status sequence_at(const ir::Node& n, const std::vector<const Value*>& in, std::vector<Value>& out,
                   const SubgraphRunner&) {
  GLINT_RETURN_IF_ERROR(need_kind(n, in[0], 0, Value::Kind::kSequence, "sequence"));
  GLINT_ASSIGN_OR_RETURN(int64_t p, position(n, in.size() > 1 ? in[1] : nullptr,
                                             static_cast<int64_t>(in[0]->sequence.size()), false));
  out[0] = Value::of(in[0]->sequence[p]);
  return Status::Ok();
}

Status sequence_insert(const ir::Node& n, const std::vector<const Value*>& in, std::vector<Value>& out,
                       const SubgraphRunner&) {
  GLINT_RETURN_IF_ERROR(need_kind(n, in[0], 0, Value::Kind::kSequence, "sequence"));
  GLINT_RETURN_IF_ERROR(need_kind(n, in.size() > 1 ? in[1] : nullptr, 1, Value::Kind::kTensor, "tensor"));
  std::vector<Tensor> items = in[0]->sequence;
  int64_t size = static_cast<int64_t>(items.size());
  int64_t p = size;
  if (in.size() > 2 && in[2]) {
    GLINT_ASSIGN_OR_RETURN(p, position(n, in[2], size, true));
  }
  const Tensor& t = in[1]->tensor;
  if (in[0]->elem_dtype != DataType::kUndefined && t.dtype() != in[0]->elem_dtype)
    return invalid_argument(n.describe() + ": inserting " + dtype_name(t.dtype()) + " into a sequence of " +
                            dtype_name(in[0]->elem_dtype));
  items.insert(items.begin() + p, t);
  out[0] = Value::of_sequence(std::move(items), t.dtype());
  return Status::Ok();
}

Status sequence_erase(const ir::Node& n, const std::vector<const Value*>& in, std::vector<Value>& out,
                      const SubgraphRunner&) {
  GLINT_RETURN_IF_ERROR(need_kind(n, in[0], 0, Value::Kind::kSequence, "sequence"));
  std::vector<Tensor> items = in[0]->sequence;
  if (items.empty()) return invalid_argument(n.describe() + ": cannot erase from an empty sequence");
  int64_t p = static_cast<int64_t>(items.size()) - 1;
  if (in.size() > 1 && in[1]) {
    GLINT_ASSIGN_OR_RETURN(p, position(n, in[1], static_cast<int64_t>(items.size()), false));
  }
  items.erase(items.begin() + p);
  out[0] = Value::of_sequence(std::move(items), in[0]->elem_dtype);
  return Status::Ok();
}

Status sequence_length(const ir::Node& n, const std::vector<const Value*>& in, std::vector<Value>& out,
                       const SubgraphRunner&) {
  GLINT_RETURN_IF_ERROR(need_kind(n, in[0], 0, Value::Kind::kSequence, "sequence"));
  out[0] = Value::of(Tensor::from_int64s({}, {static_cast<int64_t>(in[0]->sequence.size())}));
  return Status::Ok();
}

Status split_to_sequence(const ir::Node& n, const std::vector<const Value*>& in, std::vector<Value>& out,
                         const SubgraphRunner&) {
  GLINT_RETURN_IF_ERROR(need_kind(n, in[0], 0, Value::Kind::kTensor, "tensor"));
  const Tensor& x = in[0]->tensor;
  int64_t rank = x.rank();
  int64_t axis = n.attr_int("axis", 0);
  if (axis < -rank || axis >= rank)
    return invalid_argument(n.describe() + ": axis " + std::to_string(axis) + " is out of range for rank " +
                            std::to_string(rank));
  if (axis < 0) axis += rank;
  int64_t len = x.shape()[axis];
  std::vector<int64_t> sizes;
  bool squeeze = false;
  const Value* split = in.size() > 1 ? in[1] : nullptr;
  if (split == nullptr) {
    sizes.assign(static_cast<size_t>(len), 1);
    squeeze = n.attr_int("keepdims", 1) == 0;
  } else {
    GLINT_RETURN_IF_ERROR(need_kind(n, split, 1, Value::Kind::kTensor, "tensor"));
    if (split->tensor.rank() == 0) {
      int64_t chunk = split->tensor.get_as_int64(0);
      if (chunk <= 0) return invalid_argument(n.describe() + ": split must be positive");
      for (int64_t at = 0; at < len; at += chunk) sizes.push_back(std::min(chunk, len - at));
    } else {
      int64_t total = 0;
      for (int64_t i = 0; i < split->tensor.size(); ++i) {
        sizes.push_back(split->tensor.get_as_int64(i));
        if (sizes.back() < 0) return invalid_argument(n.describe() + ": negative split size");
        total += sizes.back();
      }
      if (total != len)
        return invalid_argument(n.describe() + ": split sizes sum to " + std::to_string(total) + ", axis has " +
                                std::to_string(len));
    }
  }
  std::vector<Tensor> items;
  int64_t at = 0;
  for (int64_t s : sizes) {
    Tensor part = slice_axis(x, axis, at, at + s);
    if (squeeze) {
      Shape sh = part.shape();
      sh.erase(sh.begin() + axis);
      part = part.reshaped(sh);
    }
    items.push_back(part);
    at += s;
  }
  out[0] = Value::of_sequence(std::move(items), x.dtype());
  return Status::Ok();
}

Status concat_from_sequence(const ir::Node& n, const std::vector<const Value*>& in, std::vector<Value>& out,
                            const SubgraphRunner&) {
  GLINT_RETURN_IF_ERROR(need_kind(n, in[0], 0, Value::Kind::kSequence, "sequence"));
  const auto& items = in[0]->sequence;
  if (items.empty()) return invalid_argument(n.describe() + ": cannot concatenate an empty sequence");
  bool new_axis = n.attr_int("new_axis", 0) != 0;
  if (!n.has_attr("axis")) return invalid_model(n.describe() + ": attribute 'axis' is required");
  int64_t rank = items[0].rank() + (new_axis ? 1 : 0);
  int64_t axis = n.attr_int("axis", 0);
  if (axis < -rank || axis >= rank)
    return invalid_argument(n.describe() + ": axis " + std::to_string(axis) + " is out of range for rank " +
                            std::to_string(rank));
  if (axis < 0) axis += rank;
  auto y = concat_tensors(items, axis, new_axis);
  if (!y.ok()) return y.status().with_context(n.describe());
  out[0] = Value::of(std::move(y).value());
  return Status::Ok();
}
Result<Tensor> concat_tensors(const std::vector<Tensor>& items, int64_t axis, bool new_axis) {
  if (items.empty()) return invalid_argument("nothing to concatenate");
  int64_t rank = items[0].rank() + (new_axis ? 1 : 0);
  std::vector<Tensor> parts;
  for (const auto& t : items) {
    Shape sh = t.shape();
    if (new_axis) sh.insert(sh.begin() + axis, 1);
    if (t.dtype() != items[0].dtype())
      return invalid_argument("elements differ in dtype: " + dtype_name(items[0].dtype()) + " and " +
                              dtype_name(t.dtype()));
    if (static_cast<int64_t>(sh.size()) != rank)
      return invalid_argument("elements differ in rank: " + shape_str(items[0].shape()) + " and " +
                              shape_str(t.shape()));
    parts.push_back(t.reshaped(sh));
  }
  Shape shape = parts[0].shape();
  shape[axis] = 0;
  for (auto& p : parts) {
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis && p.shape()[d] != parts[0].shape()[d])
        return invalid_argument("elements " + shape_str(parts[0].shape()) + " and " + shape_str(p.shape()) +
                                " differ outside the concatenation axis");
    shape[axis] += p.shape()[axis];
  }
  Tensor y(items[0].dtype(), shape);
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < axis; ++i) outer *= shape[i];
  for (int64_t i = axis + 1; i < rank; ++i) inner *= shape[i];
  size_t es = storage_size(y.dtype());
  int64_t offset = 0;
  for (auto& p : parts) {
    int64_t chunk = p.shape()[axis] * inner;
    for (int64_t o = 0; o < outer; ++o) {
      int64_t dst = o * shape[axis] * inner + offset * inner;
      if (y.dtype() == DataType::kString) {
        for (int64_t k = 0; k < chunk; ++k) y.strings()[dst + k] = p.strings()[o * chunk + k];
      } else if (chunk > 0) {
        std::memcpy(static_cast<uint8_t*>(y.raw()) + dst * es, static_cast<const uint8_t*>(p.raw()) + o * chunk * es,
                    chunk * es);
      }
    }
    offset += p.shape()[axis];
  }
  return y;
}

Status optional(const ir::Node& n, const std::vector<const Value*>& in, std::vector<Value>& out,
                const SubgraphRunner&) {
  out[0] = (!in.empty() && in[0]) ? *in[0] : Value::none();
  return Status::Ok();
}

Status optional_has_element(const ir::Node& n, const std::vector<const Value*>& in, std::vector<Value>& out,
                            const SubgraphRunner&) {
  Tensor t(DataType::kBool, {});
  t.data<uint8_t>()[0] = (!in.empty() && in[0] && in[0]->kind != Value::Kind::kNone) ? 1 : 0;
  out[0] = Value::of(std::move(t));
  return Status::Ok();
}

Status optional_get_element(const ir::Node& n, const std::vector<const Value*>& in, std::vector<Value>& out,
                            const SubgraphRunner&) {
  if (in.empty() || in[0] == nullptr || in[0]->kind == Value::Kind::kNone)
    return invalid_argument(n.describe() + ": the optional is empty");
  out[0] = *in[0];
  return Status::Ok();
}

Status identity(const ir::Node& n, const std::vector<const Value*>& in, std::vector<Value>& out,
                const SubgraphRunner&) {
  if (in.empty() || in[0] == nullptr) return invalid_argument(n.describe() + ": input 0 is required");
  out[0] = *in[0];
  return Status::Ok();
}

}  // namespace glint::values
