// Index-mapping ops on any dtype: Transpose, Concat, Split, Gather.
#include <algorithm>
#include <cstring>
#include <numeric>

#include "engine/cpu/kernels.h"
#include "engine/cpu/util.h"

namespace glint::cpu {

namespace {
// Visits the rows of a permuted copy: f(out_offset, src_offset, len, step)
// for output elements [out_offset, out_offset + len), element j of the row
// read at src_offset + j * step (step: the input stride of the last output
// dim).
template <class F>
void for_each_permuted_row(const Shape& os, const Shape& src_strides, F&& f) {
  const int64_t rank = static_cast<int64_t>(os.size());
  const int64_t total = shape_size(os);
  if (total == 0) return;
  const int64_t inner = rank ? os[rank - 1] : 1, step = rank ? src_strides[rank - 1] : 0;
  std::vector<int64_t> idx(rank, 0);
  int64_t off = 0;
  for (int64_t o = 0; o < total; o += inner) {
    f(o, off, inner, step);
    for (int64_t d = rank - 2; d >= 0; --d) {
      off += src_strides[d];
      if (++idx[d] < os[d]) break;
      off -= src_strides[d] * os[d];
      idx[d] = 0;
    }
  }
}

Status perm_of(const ir::Node& node, int64_t rank, std::vector<int64_t>* perm) {
  if (!node.has_attr("perm")) {
    perm->resize(rank);
    for (int64_t i = 0; i < rank; ++i) (*perm)[i] = rank - 1 - i;
    return Status::Ok();
  }
  *perm = node.attr_ints("perm");
  std::vector<int64_t> sorted = *perm;
  std::sort(sorted.begin(), sorted.end());
  bool ok = static_cast<int64_t>(perm->size()) == rank;
  for (int64_t i = 0; ok && i < rank; ++i) ok = sorted[i] == i;
  if (!ok)
    return node_error(node, "perm " + shape_str(*perm) + " is not a permutation of " +
                                std::to_string(rank) + " axes");
  return Status::Ok();
}
}  // namespace

Status infer_transpose(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                       const std::vector<const Tensor*>&, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 1));
  const ir::ValueInfo& x = *inputs[0];
  outputs[0].dtype = x.dtype;
  outputs[0].has_shape = x.has_shape;
  if (!x.has_shape) return Status::Ok();
  std::vector<int64_t> perm;
  GLINT_RETURN_IF_ERROR(perm_of(node, static_cast<int64_t>(x.dims.size()), &perm));
  outputs[0].dims.clear();
  for (int64_t p : perm) outputs[0].dims.push_back(x.dims[p]);
  return Status::Ok();
}

Status transpose(const ir::Node& node, const std::vector<const Tensor*>& inputs,
                 std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_transpose, node, inputs, outputs, OutputFill::kUnfilled));
  const Tensor& x = *inputs[0];
  std::vector<int64_t> perm;
  GLINT_RETURN_IF_ERROR(perm_of(node, x.rank(), &perm));
  const Shape& os = outputs[0].shape();
  auto xst = shape_strides(x.shape());
  // Input strides seen in output order; an odometer over the output's
  // rows, each row read with the input stride of the last output dim (a
  // memcpy where that is 1).
  Shape src_strides;
  for (int64_t p : perm) src_strides.push_back(xst[p]);
  const size_t es = x.dtype() == DataType::kString ? 0 : storage_size(x.dtype());
  if (es != 1 && es != 2 && es != 4 && es != 8) {
    std::vector<int64_t> index;
    index.reserve(static_cast<size_t>(outputs[0].size()));
    for_each_permuted_row(os, src_strides, [&](int64_t, int64_t off, int64_t len, int64_t step) {
      for (int64_t j = 0; j < len; ++j) index.push_back(off + j * step);
    });
    gather_by_index(x, outputs[0], index);
    return Status::Ok();
  }
  auto copy = [&](auto tag) {
    using T = decltype(tag);
    const T* s = static_cast<const T*>(x.raw());
    T* d = static_cast<T*>(outputs[0].raw());
    for_each_permuted_row(os, src_strides, [&](int64_t o, int64_t off, int64_t len, int64_t step) {
      if (step == 1) {
        std::memcpy(d + o, s + off, sizeof(T) * len);
        return;
      }
      for (int64_t j = 0; j < len; ++j) d[o + j] = s[off + j * step];
    });
  };
  if (es == 1) copy(uint8_t{});
  else if (es == 2) copy(uint16_t{});
  else if (es == 4) copy(uint32_t{});
  else copy(uint64_t{});
  return Status::Ok();
}

Status infer_concat(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                    const std::vector<const Tensor*>&, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 1));
  if (node.opset >= 4 && !node.has_attr("axis")) return node_error(node, "axis attribute is required");
  const ir::ValueInfo* ref = nullptr;
  for (auto* v : inputs) {
    if (!v) continue;
    if (v->dtype != inputs[0]->dtype)
      return node_error(node, "inputs have different dtypes: " + inputs[0]->describe() + " and " + v->describe());
    if (v->has_shape && !ref) ref = v;
  }
  outputs[0].dtype = inputs[0]->dtype;
  if (!ref) { outputs[0].has_shape = false; return Status::Ok(); }
  const int64_t rank = static_cast<int64_t>(ref->dims.size());
  int64_t axis;
  GLINT_RETURN_IF_ERROR(normalize_axis(node, node.attr_int("axis", 1), rank, &axis));
  std::vector<ir::Dim> dims = ref->dims;
  ir::Dim total{0, ""};
  for (auto* v : inputs) {
    if (!v) continue;
    if (!v->has_shape) { total = ir::Dim{}; continue; }
    if (static_cast<int64_t>(v->dims.size()) != rank)
      return node_error(node, "inputs have different ranks: " + ref->describe() + " and " + v->describe());
    for (int64_t i = 0; i < rank; ++i) {
      if (i == axis) continue;
      if (v->dims[i].known() && dims[i].known() && v->dims[i].value != dims[i].value)
        return node_error(node, "inputs " + ref->describe() + " and " + v->describe() +
                                    " differ on axis " + std::to_string(i) + " (not the concat axis " +
                                    std::to_string(axis) + ")");
      if (!dims[i].known() && v->dims[i].known()) dims[i] = v->dims[i];
    }
    if (total.known() && v->dims[axis].known()) total.value += v->dims[axis].value;
    else total = ir::Dim{};
  }
  dims[axis] = total;
  outputs[0].has_shape = true;
  outputs[0].dims = dims;
  return Status::Ok();
}

Status concat(const ir::Node& node, const std::vector<const Tensor*>& inputs,
              std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_concat, node, inputs, outputs, OutputFill::kUnfilled));
  Tensor& y = outputs[0];
  int64_t axis;
  GLINT_RETURN_IF_ERROR(normalize_axis(node, node.attr_int("axis", 1), y.rank(), &axis));
  const Shape& os = y.shape();
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < axis; ++i) outer *= os[i];
  for (int64_t i = axis + 1; i < y.rank(); ++i) inner *= os[i];
  const int64_t out_row = os[axis] * inner;
  int64_t at = 0;
  for (auto* t : inputs) {
    if (!t) continue;
    const int64_t row = t->shape()[axis] * inner;
    for (int64_t o = 0; o < outer; ++o) copy_elements(*t, o * row, y, o * out_row + at, row);
    at += row;
  }
  return Status::Ok();
}

namespace {
// Split sizes: the `split` attribute (< 13) or input (>= 13), else equal parts
// (num_outputs at opset 18: the last part may be smaller).
Status split_sizes(const ir::Node& node, const std::vector<const Tensor*>& constants, int64_t dim,
                   size_t n_out, bool* known, std::vector<int64_t>* sizes) {
  *known = true;
  if (node.opset < 13 && node.has_attr("split")) {
    *sizes = node.attr_ints("split");
  } else if (node.opset >= 13 && node.has_input(1)) {
    if (constants.size() < 2 || !constants[1]) { *known = false; return Status::Ok(); }
    *sizes = to_int64s(*constants[1]);
  } else {
    if (dim < 0) { *known = false; return Status::Ok(); }
    const int64_t n = node.opset >= 18 && node.has_attr("num_outputs") ? node.attr_int("num_outputs", 1)
                                                                       : static_cast<int64_t>(n_out);
    if (n <= 0) return node_error(node, "cannot split into " + std::to_string(n) + " outputs");
    if (node.opset < 18 && dim % n != 0)
      return node_error(node, "axis of size " + std::to_string(dim) + " does not split evenly into " +
                                  std::to_string(n) + " outputs");
    const int64_t part = (dim + n - 1) / n;
    sizes->clear();
    for (int64_t i = 0; i < n; ++i) sizes->push_back(std::max<int64_t>(0, std::min(part, dim - i * part)));
  }
  if (sizes->size() != n_out)
    return node_error(node, "split has " + std::to_string(sizes->size()) + " parts but the node has " +
                                std::to_string(n_out) + " outputs");
  int64_t sum = 0;
  for (int64_t s : *sizes) {
    if (s < 0) return node_error(node, "split sizes must be non-negative");
    sum += s;
  }
  if (dim >= 0 && sum != dim)
    return node_error(node, "split sizes " + shape_str(*sizes) + " do not add up to the axis size " +
                                std::to_string(dim));
  return Status::Ok();
}
}  // namespace

Status infer_split(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                   const std::vector<const Tensor*>& constants, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 1));
  const ir::ValueInfo& x = *inputs[0];
  for (auto& o : outputs) { o.dtype = x.dtype; o.has_shape = false; }
  if (!x.has_shape) return Status::Ok();
  int64_t axis;
  GLINT_RETURN_IF_ERROR(normalize_axis(node, node.attr_int("axis", 0), x.dims.size(), &axis));
  bool known;
  std::vector<int64_t> sizes;
  GLINT_RETURN_IF_ERROR(split_sizes(node, constants, x.dims[axis].value, outputs.size(), &known, &sizes));
  for (size_t i = 0; i < outputs.size(); ++i) {
    outputs[i].has_shape = true;
    outputs[i].dims = x.dims;
    outputs[i].dims[axis] = known ? ir::Dim{sizes[i], ""} : ir::Dim{};
  }
  return Status::Ok();
}

Status split(const ir::Node& node, const std::vector<const Tensor*>& inputs,
             std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_split, node, inputs, outputs));
  const Tensor& x = *inputs[0];
  int64_t axis;
  GLINT_RETURN_IF_ERROR(normalize_axis(node, node.attr_int("axis", 0), x.rank(), &axis));
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < axis; ++i) outer *= x.shape()[i];
  for (int64_t i = axis + 1; i < x.rank(); ++i) inner *= x.shape()[i];
  const int64_t in_row = x.shape()[axis] * inner;
  int64_t at = 0;
  for (auto& y : outputs) {
    const int64_t row = y.shape()[axis] * inner;
    for (int64_t o = 0; o < outer; ++o) copy_elements(x, o * in_row + at, y, o * row, row);
    at += row;
  }
  return Status::Ok();
}

Status infer_gather(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                    const std::vector<const Tensor*>&, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 2));
  const ir::ValueInfo& x = *inputs[0];
  const ir::ValueInfo& idx = *inputs[1];
  outputs[0].dtype = x.dtype;
  if (!is_integer(idx.dtype))
    return node_error(node, "indices have dtype " + dtype_name(idx.dtype) + "; expected int32 or int64");
  if (!x.has_shape || !idx.has_shape) { outputs[0].has_shape = false; return Status::Ok(); }
  int64_t axis;
  GLINT_RETURN_IF_ERROR(normalize_axis(node, node.attr_int("axis", 0), x.dims.size(), &axis));
  outputs[0].has_shape = true;
  outputs[0].dims.assign(x.dims.begin(), x.dims.begin() + axis);
  for (auto& d : idx.dims) outputs[0].dims.push_back(d);
  for (size_t i = axis + 1; i < x.dims.size(); ++i) outputs[0].dims.push_back(x.dims[i]);
  return Status::Ok();
}

Status gather(const ir::Node& node, const std::vector<const Tensor*>& inputs,
              std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 2));
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_gather, node, inputs, outputs));
  const Tensor& x = *inputs[0];
  const Tensor& idx = *inputs[1];
  int64_t axis;
  GLINT_RETURN_IF_ERROR(normalize_axis(node, node.attr_int("axis", 0), x.rank(), &axis));
  const int64_t dim = x.shape()[axis];
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < axis; ++i) outer *= x.shape()[i];
  for (int64_t i = axis + 1; i < x.rank(); ++i) inner *= x.shape()[i];
  const int64_t n = idx.size();
  std::vector<int64_t> ind(n);
  for (int64_t i = 0; i < n; ++i) {
    int64_t v = idx.get_as_int64(i);
    if (v < -dim || v >= dim)
      return node_error(node, "index " + std::to_string(v) + " is out of range for axis " +
                                  std::to_string(axis) + " of size " + std::to_string(dim));
    ind[i] = v < 0 ? v + dim : v;
  }
  Tensor& y = outputs[0];
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < n; ++i)
      copy_elements(x, (o * dim + ind[i]) * inner, y, (o * n + i) * inner, inner);
  return Status::Ok();
}

}  // namespace glint::cpu
