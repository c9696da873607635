// Ops that select elements by value: TopK, NonZero, Compress. NonZero and
// Compress have data-dependent output shapes (unknown to inference).
#include <algorithm>
#include <numeric>

#include "engine/cpu/kernels.h"
#include "engine/cpu/util.h"

namespace glint::cpu {

namespace {
Status topk_k(const ir::Node& node, const std::vector<const Tensor*>& c, bool* known, int64_t* k) {
  *known = true;
  if (node.opset < 10) {
    *k = node.attr_int("k", -1);
  } else if (c.size() > 1 && c[1]) {
    if (c[1]->size() != 1) return node_error(node, "K must have one element, given " + tensor_desc(*c[1]));
    *k = c[1]->get_as_int64(0);
  } else {
    *known = false;
    return Status::Ok();
  }
  if (*k < 0) return node_error(node, "K must be non-negative, given " + std::to_string(*k));
  return Status::Ok();
}
}  // namespace

Status infer_topk(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                  const std::vector<const Tensor*>& constants, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, node.opset < 10 ? 1 : 2));
  const ir::ValueInfo& x = *inputs[0];
  outputs[0] = x;
  if (x.has_shape) {
    int64_t axis;
    GLINT_RETURN_IF_ERROR(normalize_axis(node, node.attr_int("axis", -1), x.dims.size(), &axis));
    bool known = false;
    int64_t k = 0;
    GLINT_RETURN_IF_ERROR(topk_k(node, constants, &known, &k));
    if (known && x.dims[axis].known() && k > x.dims[axis].value)
      return node_error(node, "K " + std::to_string(k) + " exceeds axis " + std::to_string(axis) + " of " + x.describe());
    outputs[0].dims[axis] = known ? ir::Dim{k, ""} : ir::Dim{};
  }
  if (outputs.size() > 1) {
    outputs[1] = outputs[0];
    outputs[1].dtype = DataType::kInt64;
  }
  return Status::Ok();
}

Status topk(const ir::Node& node, const std::vector<const Tensor*>& inputs,
            std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, node.opset < 10 ? 1 : 2));
  const Tensor& x = *inputs[0];
  if (!is_float(x.dtype()) && !is_integer(x.dtype()))
    return node_unsupported(node, "dtype " + dtype_name(x.dtype()) + " is not supported");
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_topk, node, inputs, outputs));
  int64_t axis;
  GLINT_RETURN_IF_ERROR(normalize_axis(node, node.attr_int("axis", -1), x.rank(), &axis));
  const bool largest = node.attr_int("largest", 1) != 0;
  const int64_t len = x.shape()[axis], k = outputs[0].shape()[axis];
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < axis; ++i) outer *= x.shape()[i];
  for (int64_t i = axis + 1; i < x.rank(); ++i) inner *= x.shape()[i];
  std::vector<int64_t> order(len);
  std::vector<double> v(len);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t in = 0; in < inner; ++in) {
      for (int64_t j = 0; j < len; ++j) v[j] = x.get_as_double((o * len + j) * inner + in);
      std::iota(order.begin(), order.end(), 0);
      // Ties keep the lower index first.
      std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
        return largest ? v[a] > v[b] : v[a] < v[b];
      });
      for (int64_t j = 0; j < k; ++j) {
        const int64_t at = (o * k + j) * inner + in;
        copy_elements(x, (o * len + order[j]) * inner + in, outputs[0], at, 1);
        if (outputs.size() > 1 && !outputs[1].empty_storage()) outputs[1].data<int64_t>()[at] = order[j];
      }
    }
  return Status::Ok();
}

// The count of non-zero elements is known only from the input's value.
Status infer_nonzero(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                     const std::vector<const Tensor*>& constants, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 1));
  outputs[0].dtype = DataType::kInt64;
  outputs[0].has_shape = true;
  ir::Dim count{};
  if (!constants.empty() && constants[0] && constants[0]->dtype() != DataType::kString) {
    count.value = 0;
    for (int64_t i = 0; i < constants[0]->size(); ++i) count.value += constants[0]->get_as_double(i) != 0;
  }
  outputs[0].dims = {inputs[0]->has_shape ? ir::Dim{static_cast<int64_t>(inputs[0]->dims.size()), ""} : ir::Dim{},
                     count};
  return Status::Ok();
}

Status nonzero(const ir::Node& node, const std::vector<const Tensor*>& inputs,
               std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
  const Tensor& x = *inputs[0];
  if (x.dtype() == DataType::kString) return node_unsupported(node, "string input is not supported");
  std::vector<int64_t> hits;
  for (int64_t i = 0; i < x.size(); ++i)
    if (x.get_as_double(i) != 0) hits.push_back(i);
  const int64_t r = x.rank(), n = static_cast<int64_t>(hits.size());
  outputs[0] = Tensor(DataType::kInt64, {r, n});
  auto st = shape_strides(x.shape());
  for (int64_t j = 0; j < n; ++j)
    for (int64_t d = 0; d < r; ++d) outputs[0].data<int64_t>()[d * n + j] = (hits[j] / st[d]) % x.shape()[d];
  return Status::Ok();
}

// The output length along the axis is known only from the condition's value.
Status infer_compress(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                      const std::vector<const Tensor*>& constants, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 2));
  const ir::ValueInfo& x = *inputs[0];
  outputs[0].dtype = x.dtype;
  outputs[0].has_shape = true;
  ir::Dim kept{};
  if (constants.size() > 1 && constants[1]) {
    kept.value = 0;
    for (int64_t i = 0; i < constants[1]->size(); ++i) kept.value += constants[1]->get_as_double(i) != 0;
  }
  if (!node.has_attr("axis")) {
    outputs[0].dims = {kept};
    return Status::Ok();
  }
  if (!x.has_shape) { outputs[0].has_shape = false; return Status::Ok(); }
  int64_t axis;
  GLINT_RETURN_IF_ERROR(normalize_axis(node, node.attr_int("axis", 0), x.dims.size(), &axis));
  outputs[0].dims = x.dims;
  outputs[0].dims[axis] = kept;
  return Status::Ok();
}

Status compress(const ir::Node& node, const std::vector<const Tensor*>& inputs,
                std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 2));
  const Tensor& x0 = *inputs[0];
  const Tensor& cond = *inputs[1];
  const bool flat = !node.has_attr("axis");
  const Tensor x = flat ? x0.reshaped({x0.size()}) : x0;
  int64_t axis = 0;
  if (!flat) GLINT_RETURN_IF_ERROR(normalize_axis(node, node.attr_int("axis", 0), x.rank(), &axis));
  const int64_t len = x.shape()[axis];
  if (cond.rank() != 1 || cond.size() > len)
    return node_error(node, "condition " + tensor_desc(cond) + " must be 1-D and no longer than axis " +
                                std::to_string(axis) + " of " + tensor_desc(x));
  std::vector<int64_t> keep;
  for (int64_t i = 0; i < cond.size(); ++i)
    if (cond.get_as_double(i) != 0) keep.push_back(i);
  Shape os = x.shape();
  os[axis] = static_cast<int64_t>(keep.size());
  outputs[0] = Tensor(x.dtype(), os);
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < axis; ++i) outer *= x.shape()[i];
  for (int64_t i = axis + 1; i < x.rank(); ++i) inner *= x.shape()[i];
  for (int64_t o = 0; o < outer; ++o)
    for (size_t j = 0; j < keep.size(); ++j)
      copy_elements(x, (o * len + keep[j]) * inner, outputs[0], (o * keep.size() + j) * inner, inner);
  return Status::Ok();
}

namespace {
struct UniqueResult {
  int64_t axis = -1;               // -1: flattened
  int64_t len = 0;                 // slices along the axis
  int64_t outer = 1, inner = 1;
  std::vector<int64_t> first;      // per unique slice, its first index in X
  std::vector<int64_t> inverse;    // per slice of X, its unique index
  std::vector<int64_t> counts;
};

Status unique_of(const ir::Node& node, const Tensor& x, UniqueResult* r) {
  if (x.dtype() == DataType::kString) return node_unsupported(node, "string input is not supported");
  if (node.has_attr("axis")) {
    GLINT_RETURN_IF_ERROR(normalize_axis(node, node.attr_int("axis", 0), x.rank(), &r->axis));
    r->len = x.shape()[r->axis];
    for (int64_t i = 0; i < r->axis; ++i) r->outer *= x.shape()[i];
    for (int64_t i = r->axis + 1; i < x.rank(); ++i) r->inner *= x.shape()[i];
  } else {
    r->len = x.size();
  }
  auto slice = [&](int64_t s) {
    std::vector<double> v;
    for (int64_t o = 0; o < r->outer; ++o)
      for (int64_t i = 0; i < r->inner; ++i) v.push_back(x.get_as_double((o * r->len + s) * r->inner + i));
    return v;
  };
  std::vector<std::vector<double>> slices(r->len);
  for (int64_t s = 0; s < r->len; ++s) slices[s] = slice(s);
  std::vector<int64_t> order(r->len);
  for (int64_t s = 0; s < r->len; ++s) order[s] = s;
  const bool sorted = node.attr_int("sorted", 1) != 0;
  if (sorted)
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return slices[a] < slices[b]; });
  // Group equal slices; with sorted=0 keep first-occurrence order.
  std::vector<int64_t> group(r->len, -1);
  for (int64_t s = 0; s < r->len; ++s) {
    const int64_t cur = order[s];
    int64_t g = -1;
    if (sorted) {
      if (s > 0 && slices[order[s - 1]] == slices[cur]) g = group[order[s - 1]];
    } else {
      for (size_t u = 0; u < r->first.size(); ++u)
        if (slices[r->first[u]] == slices[cur]) { g = static_cast<int64_t>(u); break; }
    }
    if (g < 0) {
      g = static_cast<int64_t>(r->first.size());
      r->first.push_back(cur);
      r->counts.push_back(0);
    }
    group[cur] = g;
    ++r->counts[g];
  }
  r->inverse = group;
  return Status::Ok();
}
}  // namespace

Status infer_unique(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                    const std::vector<const Tensor*>& constants, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 1));
  const ir::ValueInfo& x = *inputs[0];
  ir::Dim u{};
  int64_t len = -1;
  if (!constants.empty() && constants[0]) {
    UniqueResult r;
    GLINT_RETURN_IF_ERROR(unique_of(node, *constants[0], &r));
    u.value = static_cast<int64_t>(r.first.size());
    len = r.len;
  }
  outputs[0].dtype = x.dtype;
  outputs[0].has_shape = true;
  if (node.has_attr("axis")) {
    if (!x.has_shape) { outputs[0].has_shape = false; }
    else {
      int64_t axis;
      GLINT_RETURN_IF_ERROR(normalize_axis(node, node.attr_int("axis", 0), x.dims.size(), &axis));
      outputs[0].dims = x.dims;
      outputs[0].dims[axis] = u;
    }
  } else {
    outputs[0].dims = {u};
  }
  for (size_t i = 1; i < outputs.size() && i < 4; ++i)
    outputs[i] = ir::ValueInfo::of(DataType::kInt64, {i == 2 ? len : u.value});
  return Status::Ok();
}

Status unique(const ir::Node& node, const std::vector<const Tensor*>& inputs,
              std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_unique, node, inputs, outputs));
  const Tensor& x = *inputs[0];
  UniqueResult r;
  GLINT_RETURN_IF_ERROR(unique_of(node, x, &r));
  const int64_t U = static_cast<int64_t>(r.first.size());
  for (int64_t o = 0; o < r.outer; ++o)
    for (int64_t u = 0; u < U; ++u)
      copy_elements(x, (o * r.len + r.first[u]) * r.inner, outputs[0], (o * U + u) * r.inner, r.inner);
  for (int64_t u = 0; u < U; ++u) {
    if (outputs.size() > 1 && node.has_output(1)) outputs[1].data<int64_t>()[u] = r.first[u];
    if (outputs.size() > 3 && node.has_output(3)) outputs[3].data<int64_t>()[u] = r.counts[u];
  }
  if (outputs.size() > 2 && node.has_output(2))
    for (int64_t s = 0; s < r.len; ++s) outputs[2].data<int64_t>()[s] = r.inverse[s];
  return Status::Ok();
}

}  // namespace glint::cpu
