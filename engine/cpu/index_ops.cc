// Element-index ops on any dtype: GatherElements, ScatterElements (and the
// older Scatter), GatherND, ScatterND, OneHot. Indices are range-checked
// (negative ones count from the end).
#include <algorithm>

#include "engine/cpu/kernels.h"
#include "engine/cpu/util.h"

namespace glint::cpu {

namespace {

Status read_index(const ir::Node& node, const Tensor& idx, int64_t i, int64_t dim, int64_t* out) {
  int64_t v = idx.get_as_int64(i);
  if (v < -dim || v >= dim)
    return node_error(node, "index " + std::to_string(v) + " is out of range for an axis of size " +
                                std::to_string(dim));
  *out = v < 0 ? v + dim : v;
  return Status::Ok();
}

// dst[i] = reduce(dst[i], src[j]) for ScatterElements / ScatterND.
Status scatter_one(const ir::Node& node, const std::string& reduction, const Tensor& src, int64_t j,
                   Tensor& dst, int64_t i) {
  if (reduction == "none" || reduction.empty()) {
    copy_elements(src, j, dst, i, 1);
    return Status::Ok();
  }
  const double a = dst.get_as_double(i), b = src.get_as_double(j);
  if (reduction == "add") dst.set_from_double(i, a + b);
  else if (reduction == "mul") dst.set_from_double(i, a * b);
  else if (reduction == "max") dst.set_from_double(i, std::max(a, b));
  else if (reduction == "min") dst.set_from_double(i, std::min(a, b));
  else return node_error(node, "unknown reduction '" + reduction + "'");
  return Status::Ok();
}

}  // namespace

Status infer_gather_elements(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                             const std::vector<const Tensor*>&, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 2));
  outputs[0] = *inputs[1];
  outputs[0].dtype = inputs[0]->dtype;
  if (inputs[0]->has_shape && inputs[1]->has_shape && inputs[0]->dims.size() != inputs[1]->dims.size())
    return node_error(node, "data " + inputs[0]->describe() + " and indices " + inputs[1]->describe() +
                                " must have the same rank");
  return Status::Ok();
}

Status gather_elements(const ir::Node& node, const std::vector<const Tensor*>& inputs,
                       std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 2));
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_gather_elements, node, inputs, outputs));
  const Tensor& data = *inputs[0];
  const Tensor& idx = *inputs[1];
  int64_t axis;
  GLINT_RETURN_IF_ERROR(normalize_axis(node, node.attr_int("axis", 0), data.rank(), &axis));
  auto dst = shape_strides(data.shape());
  const Shape& is = idx.shape();
  std::vector<int64_t> pos(is.size(), 0), index(static_cast<size_t>(idx.size()));
  for (int64_t i = 0; i < idx.size(); ++i) {
    int64_t off = 0;
    for (size_t d = 0; d < is.size(); ++d) {
      int64_t p = pos[d];
      if (static_cast<int64_t>(d) == axis) {
        GLINT_RETURN_IF_ERROR(read_index(node, idx, i, data.shape()[d], &p));
      } else if (p >= data.shape()[d]) {
        return node_error(node, "indices " + tensor_desc(idx) + " exceed data " + tensor_desc(data));
      }
      off += p * dst[d];
    }
    index[i] = off;
    for (int64_t d = static_cast<int64_t>(is.size()) - 1; d >= 0; --d) {
      if (++pos[d] < is[d]) break;
      pos[d] = 0;
    }
  }
  gather_by_index(data, outputs[0], index);
  return Status::Ok();
}

Status scatter_elements(const ir::Node& node, const std::vector<const Tensor*>& inputs,
                        std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 3));
  const Tensor& data = *inputs[0];
  const Tensor& idx = *inputs[1];
  const Tensor& upd = *inputs[2];
  if (idx.shape() != upd.shape() || idx.rank() != data.rank())
    return node_error(node, "indices " + tensor_desc(idx) + " and updates " + tensor_desc(upd) +
                                " must have one shape, of the rank of data " + tensor_desc(data));
  if (upd.dtype() != data.dtype())
    return node_error(node, "updates dtype " + dtype_name(upd.dtype()) + " differs from data " + dtype_name(data.dtype()));
  int64_t axis;
  GLINT_RETURN_IF_ERROR(normalize_axis(node, node.attr_int("axis", 0), data.rank(), &axis));
  outputs[0] = data.clone();
  const std::string reduction = node.attr_string("reduction", "none");
  auto dst = shape_strides(data.shape());
  const Shape& is = idx.shape();
  std::vector<int64_t> pos(is.size(), 0);
  for (int64_t i = 0; i < idx.size(); ++i) {
    int64_t off = 0;
    for (size_t d = 0; d < is.size(); ++d) {
      int64_t p = pos[d];
      if (static_cast<int64_t>(d) == axis) GLINT_RETURN_IF_ERROR(read_index(node, idx, i, data.shape()[d], &p));
      else if (p >= data.shape()[d]) return node_error(node, "indices exceed data " + tensor_desc(data));
      off += p * dst[d];
    }
    GLINT_RETURN_IF_ERROR(scatter_one(node, reduction, upd, i, outputs[0], off));
    for (int64_t d = static_cast<int64_t>(is.size()) - 1; d >= 0; --d) {
      if (++pos[d] < is[d]) break;
      pos[d] = 0;
    }
  }
  return Status::Ok();
}

Status infer_gather_nd(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                       const std::vector<const Tensor*>&, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 2));
  const ir::ValueInfo& data = *inputs[0];
  const ir::ValueInfo& idx = *inputs[1];
  outputs[0].dtype = data.dtype;
  const int64_t b = node.attr_int("batch_dims", 0);
  if (!data.has_shape || !idx.has_shape || idx.dims.empty() || !idx.dims.back().known()) {
    outputs[0].has_shape = false;
    return Status::Ok();
  }
  const int64_t k = idx.dims.back().value;
  const int64_t r = static_cast<int64_t>(data.dims.size());
  if (b < 0 || b + k > r || b >= static_cast<int64_t>(idx.dims.size()))
    return node_error(node, "indices " + idx.describe() + " with batch_dims " + std::to_string(b) +
                                " do not fit data " + data.describe());
  // The batch dims index data and indices together, so they must agree.
  for (int64_t i = 0; i < b; ++i) {
    const ir::Dim& dd = data.dims[i];
    const ir::Dim& id = idx.dims[i];
    if (dd.known() && id.known() && dd.value != id.value)
      return node_error(node, "indices " + idx.describe() + " and data " + data.describe() +
                                  " differ in batch dim " + std::to_string(i) + " (batch_dims " +
                                  std::to_string(b) + ")");
  }
  outputs[0].has_shape = true;
  outputs[0].dims.assign(idx.dims.begin(), idx.dims.end() - 1);
  for (int64_t i = b + k; i < r; ++i) outputs[0].dims.push_back(data.dims[i]);
  return Status::Ok();
}

namespace {
// For GatherND / ScatterND: offset of the slice addressed by index tuple t
// (batch b), and the slice size.
Status nd_offsets(const ir::Node& node, const Tensor& data, const Tensor& idx, int64_t b,
                  std::vector<int64_t>* offsets, int64_t* slice) {
  const int64_t k = idx.shape().back(), r = data.rank();
  auto st = shape_strides(data.shape());
  *slice = 1;
  for (int64_t i = b + k; i < r; ++i) *slice *= data.shape()[i];
  int64_t batch = 1;
  for (int64_t i = 0; i < b; ++i) batch *= data.shape()[i];
  const int64_t tuples = k ? idx.size() / k : 0;
  const int64_t per_batch = batch ? tuples / batch : 0;
  const int64_t batch_stride = b > 0 ? st[b - 1] : 0;
  offsets->resize(tuples);
  for (int64_t t = 0; t < tuples; ++t) {
    int64_t off = per_batch ? (t / per_batch) * batch_stride : 0;
    for (int64_t j = 0; j < k; ++j) {
      int64_t v;
      GLINT_RETURN_IF_ERROR(read_index(node, idx, t * k + j, data.shape()[b + j], &v));
      off += v * st[b + j];
    }
    (*offsets)[t] = off;
  }
  return Status::Ok();
}
}  // namespace

Status gather_nd(const ir::Node& node, const std::vector<const Tensor*>& inputs,
                 std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 2));
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_gather_nd, node, inputs, outputs));
  std::vector<int64_t> offsets;
  int64_t slice;
  GLINT_RETURN_IF_ERROR(nd_offsets(node, *inputs[0], *inputs[1], node.attr_int("batch_dims", 0), &offsets, &slice));
  for (size_t t = 0; t < offsets.size(); ++t) copy_elements(*inputs[0], offsets[t], outputs[0], t * slice, slice);
  return Status::Ok();
}

Status scatter_nd(const ir::Node& node, const std::vector<const Tensor*>& inputs,
                  std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 3));
  const Tensor& data = *inputs[0];
  const Tensor& idx = *inputs[1];
  const Tensor& upd = *inputs[2];
  if (idx.rank() < 1 || idx.shape().back() > data.rank())
    return node_error(node, "indices " + tensor_desc(idx) + " do not fit data " + tensor_desc(data));
  std::vector<int64_t> offsets;
  int64_t slice;
  GLINT_RETURN_IF_ERROR(nd_offsets(node, data, idx, 0, &offsets, &slice));
  if (upd.size() != static_cast<int64_t>(offsets.size()) * slice || upd.dtype() != data.dtype())
    return node_error(node, "updates " + tensor_desc(upd) + " do not match indices " + tensor_desc(idx) +
                                " and data " + tensor_desc(data));
  outputs[0] = data.clone();
  const std::string reduction = node.attr_string("reduction", "none");
  for (size_t t = 0; t < offsets.size(); ++t)
    for (int64_t j = 0; j < slice; ++j)
      GLINT_RETURN_IF_ERROR(scatter_one(node, reduction, upd, t * slice + j, outputs[0], offsets[t] + j));
  return Status::Ok();
}

Status infer_one_hot(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                     const std::vector<const Tensor*>& constants, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 3));
  const ir::ValueInfo& idx = *inputs[0];
  outputs[0].dtype = inputs[2]->dtype;
  if (!idx.has_shape) { outputs[0].has_shape = false; return Status::Ok(); }
  const int64_t rank = static_cast<int64_t>(idx.dims.size()) + 1;
  int64_t axis;
  GLINT_RETURN_IF_ERROR(normalize_axis(node, node.attr_int("axis", -1), rank, &axis));
  ir::Dim depth{};
  if (constants.size() > 1 && constants[1]) {
    if (constants[1]->size() != 1) return node_error(node, "depth must have one element");
    depth.value = static_cast<int64_t>(constants[1]->get_as_double(0));
    if (depth.value <= 0) return node_error(node, "depth must be positive");
  }
  outputs[0].has_shape = true;
  outputs[0].dims = idx.dims;
  outputs[0].dims.insert(outputs[0].dims.begin() + axis, depth);
  return Status::Ok();
}

Status one_hot(const ir::Node& node, const std::vector<const Tensor*>& inputs,
               std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 3));
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_one_hot, node, inputs, outputs));
  const Tensor& idx = *inputs[0];
  const Tensor& vals = *inputs[2];
  if (vals.size() != 2) return node_error(node, "values must have 2 elements, given " + tensor_desc(vals));
  Tensor& y = outputs[0];
  int64_t axis;
  GLINT_RETURN_IF_ERROR(normalize_axis(node, node.attr_int("axis", -1), y.rank(), &axis));
  const int64_t depth = y.shape()[axis];
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < axis; ++i) outer *= y.shape()[i];
  for (int64_t i = axis + 1; i < y.rank(); ++i) inner *= y.shape()[i];
  for (int64_t i = 0; i < y.size(); ++i) copy_elements(vals, 0, y, i, 1);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t in = 0; in < inner; ++in) {
      double v = idx.get_as_double(o * inner + in);
      int64_t k = static_cast<int64_t>(v);
      if (k < 0) k += depth;
      if (k >= 0 && k < depth) copy_elements(vals, 1, y, (o * depth + k) * inner + in, 1);
    }
  return Status::Ok();
}

}  // namespace glint::cpu
