// Slice (attributes before opset 10, inputs with steps from 10), Expand, Tile
// and Pad (constant / reflect / edge / wrap) on any dtype.
#include <algorithm>
#include <limits>

#include "engine/cpu/kernels.h"
#include "engine/cpu/util.h"

namespace glint::cpu {

namespace {

struct SliceParams {
  std::vector<int64_t> starts, ends, axes, steps;
};

// Reads starts/ends/axes/steps; `*known` false when an input is not constant.
Status slice_params(const ir::Node& node, const std::vector<const Tensor*>& c, SliceParams* p,
                    bool* known) {
  *known = true;
  if (node.opset < 10) {
    p->starts = node.attr_ints("starts");
    p->ends = node.attr_ints("ends");
    p->axes = node.attr_ints("axes");
  } else {
    auto get = [&](size_t i, std::vector<int64_t>* v) {
      if (i >= c.size() || !c[i]) return false;
      *v = to_int64s(*c[i]);
      return true;
    };
    if (!get(1, &p->starts) || !get(2, &p->ends)) { *known = false; return Status::Ok(); }
    if (node.has_input(3) && !get(3, &p->axes)) { *known = false; return Status::Ok(); }
    if (node.has_input(4) && !get(4, &p->steps)) { *known = false; return Status::Ok(); }
    if (!node.has_input(3)) get(3, &p->axes);
    if (!node.has_input(4)) get(4, &p->steps);
  }
  const size_t n = p->starts.size();
  if (p->axes.empty()) for (size_t i = 0; i < n; ++i) p->axes.push_back(static_cast<int64_t>(i));
  if (p->steps.empty()) p->steps.assign(n, 1);
  if (p->ends.size() != n || p->axes.size() != n || p->steps.size() != n)
    return node_error(node, "starts, ends, axes and steps must have the same length (given " +
                                std::to_string(n) + ", " + std::to_string(p->ends.size()) + ", " +
                                std::to_string(p->axes.size()) + ", " + std::to_string(p->steps.size()) + ")");
  for (int64_t s : p->steps) if (s == 0) return node_error(node, "steps must be non-zero");
  return Status::Ok();
}

// Clamped start and element count of one sliced axis of size `dim`.
void slice_axis(int64_t dim, int64_t start, int64_t end, int64_t step, int64_t* s_out, int64_t* n_out) {
  if (start < 0) start += dim;
  if (end < 0) end += dim;
  if (step > 0) {
    start = std::clamp<int64_t>(start, 0, dim);
    end = std::clamp<int64_t>(end, 0, dim);
    *n_out = end > start ? (end - start + step - 1) / step : 0;
  } else {
    start = std::clamp<int64_t>(start, 0, dim - 1);
    end = std::clamp<int64_t>(end, -1, dim - 1);
    *n_out = start > end ? (start - end + (-step) - 1) / (-step) : 0;
  }
  *s_out = start;
}

// Output index map: element i of `out_shape` reads source offset
// sum_d (start[d] + idx[d]*step[d]) * stride[d].
std::vector<int64_t> strided_index(const Shape& out_shape, const std::vector<int64_t>& start,
                                   const std::vector<int64_t>& step, const Shape& src_shape) {
  auto st = shape_strides(src_shape);
  const int64_t rank = static_cast<int64_t>(out_shape.size());
  std::vector<int64_t> index(static_cast<size_t>(shape_size(out_shape)));
  std::vector<int64_t> idx(rank, 0);
  int64_t base = 0;
  for (int64_t d = 0; d < rank; ++d) base += start[d] * st[d];
  int64_t off = base;
  for (size_t i = 0; i < index.size(); ++i) {
    index[i] = off;
    for (int64_t d = rank - 1; d >= 0; --d) {
      off += step[d] * st[d];
      if (++idx[d] < out_shape[d]) break;
      off -= step[d] * st[d] * out_shape[d];
      idx[d] = 0;
    }
  }
  return index;
}

}  // namespace

Status infer_slice(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                   const std::vector<const Tensor*>& constants, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, node.opset < 10 ? 1 : 3));
  const ir::ValueInfo& x = *inputs[0];
  outputs[0].dtype = x.dtype;
  outputs[0].has_shape = x.has_shape;
  if (!x.has_shape) return Status::Ok();
  SliceParams p;
  bool known;
  GLINT_RETURN_IF_ERROR(slice_params(node, constants, &p, &known));
  const int64_t rank = static_cast<int64_t>(x.dims.size());
  if (!known) {
    outputs[0].dims.assign(rank, ir::Dim{});
    return Status::Ok();
  }
  GLINT_RETURN_IF_ERROR(normalize_axes(node, p.axes, rank));
  outputs[0].dims = x.dims;
  for (size_t i = 0; i < p.axes.size(); ++i) {
    ir::Dim& d = outputs[0].dims[p.axes[i]];
    if (!d.known()) { d = ir::Dim{}; continue; }
    int64_t s, n;
    slice_axis(d.value, p.starts[i], p.ends[i], p.steps[i], &s, &n);
    d = ir::Dim{n, ""};
  }
  return Status::Ok();
}

Status slice(const ir::Node& node, const std::vector<const Tensor*>& inputs,
             std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_slice, node, inputs, outputs));
  const Tensor& x = *inputs[0];
  SliceParams p;
  bool known;
  GLINT_RETURN_IF_ERROR(slice_params(node, inputs, &p, &known));
  GLINT_RETURN_IF_ERROR(normalize_axes(node, p.axes, x.rank()));
  std::vector<int64_t> start(x.rank(), 0), step(x.rank(), 1);
  for (size_t i = 0; i < p.axes.size(); ++i) {
    int64_t n;
    slice_axis(x.shape()[p.axes[i]], p.starts[i], p.ends[i], p.steps[i], &start[p.axes[i]], &n);
    step[p.axes[i]] = p.steps[i];
  }
  if (outputs[0].size() == 0) return Status::Ok();
  gather_by_index(x, outputs[0], strided_index(outputs[0].shape(), start, step, x.shape()));
  return Status::Ok();
}

Status infer_expand(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                    const std::vector<const Tensor*>& constants, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 2));
  const ir::ValueInfo& x = *inputs[0];
  outputs[0].dtype = x.dtype;
  if (constants.size() < 2 || !constants[1]) {
    const int64_t rank = declared_rank(*inputs[1]);
    if (!x.has_shape || rank < 0) {
      outputs[0].has_shape = false;
      return Status::Ok();
    }
    outputs[0].has_shape = true;
    outputs[0].dims.assign(std::max<int64_t>(x.dims.size(), rank), ir::Dim{});
    return Status::Ok();
  }
  std::vector<int64_t> target = to_int64s(*constants[1]);
  for (int64_t d : target)
    if (d < 0) return node_error(node, "shape " + shape_str(target) + " has a negative dim");
  ir::ValueInfo t = ir::ValueInfo::of(x.dtype, target);
  GLINT_RETURN_IF_ERROR(broadcast_dims(node, {&x, &t}, &outputs[0]));
  return Status::Ok();
}

Status expand(const ir::Node& node, const std::vector<const Tensor*>& inputs,
              std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 2));
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_expand, node, inputs, outputs));
  const Tensor& x = *inputs[0];
  Tensor& y = outputs[0];
  std::vector<int64_t> index(static_cast<size_t>(y.size()));
  for_each_broadcast(y.shape(), {x.shape()}, [&](int64_t i, const int64_t* off) { index[i] = off[0]; });
  gather_by_index(x, y, index);
  return Status::Ok();
}

Status infer_tile(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                  const std::vector<const Tensor*>& constants, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 2));
  const ir::ValueInfo& x = *inputs[0];
  outputs[0] = x;
  if (!x.has_shape) return Status::Ok();
  if (constants.size() < 2 || !constants[1]) {
    for (auto& d : outputs[0].dims) d = ir::Dim{};
    return Status::Ok();
  }
  std::vector<int64_t> reps = to_int64s(*constants[1]);
  if (reps.size() != x.dims.size())
    return node_error(node, "repeats " + shape_str(reps) + " must have one entry per axis of " + x.describe());
  for (size_t i = 0; i < reps.size(); ++i) {
    if (reps[i] < 0) return node_error(node, "repeats must be non-negative, given " + shape_str(reps));
    ir::Dim& d = outputs[0].dims[i];
    // Checked: a hostile repeat (2^62 of 4) wraps to 0 and would be a silent empty result.
    if (d.known() && __builtin_mul_overflow(d.value, reps[i], &d.value))
      return node_error(node, "repeats " + shape_str(reps) + " make axis " + std::to_string(i) + " of " +
                                  x.describe() + " longer than an int64 can count");
    if (!d.known() && reps[i] != 1) d = ir::Dim{};
  }
  return Status::Ok();
}

Status tile(const ir::Node& node, const std::vector<const Tensor*>& inputs,
            std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 2));
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_tile, node, inputs, outputs));
  const Tensor& x = *inputs[0];
  Tensor& y = outputs[0];
  const Shape& os = y.shape();
  const Shape& is = x.shape();
  auto st = shape_strides(is);
  std::vector<int64_t> index(static_cast<size_t>(y.size())), idx(os.size(), 0);
  for (size_t i = 0; i < index.size(); ++i) {
    int64_t off = 0;
    for (size_t d = 0; d < os.size(); ++d) off += (idx[d] % is[d]) * st[d];
    index[i] = off;
    for (int64_t d = static_cast<int64_t>(os.size()) - 1; d >= 0; --d) {
      if (++idx[d] < os[d]) break;
      idx[d] = 0;
    }
  }
  gather_by_index(x, y, index);
  return Status::Ok();
}

namespace {
// Pads per axis, begin then end (2*rank values), from attributes or inputs.
Status pads_of(const ir::Node& node, const std::vector<const Tensor*>& c, int64_t rank,
               std::vector<int64_t>* pads, bool* known) {
  *known = true;
  if (node.opset < 11) {
    *pads = node.attr_ints(node.opset < 2 ? "paddings" : "pads");
  } else {
    if (c.size() < 2 || !c[1]) { *known = false; return Status::Ok(); }
    std::vector<int64_t> raw = to_int64s(*c[1]);
    if (node.has_input(3) || (c.size() > 3 && c[3])) {
      if (c.size() < 4 || !c[3]) { *known = false; return Status::Ok(); }
      std::vector<int64_t> axes = to_int64s(*c[3]);
      GLINT_RETURN_IF_ERROR(normalize_axes(node, axes, rank));
      if (raw.size() != 2 * axes.size())
        return node_error(node, "pads " + shape_str(raw) + " must have 2 values per axis in " + shape_str(axes));
      pads->assign(2 * rank, 0);
      for (size_t i = 0; i < axes.size(); ++i) {
        (*pads)[axes[i]] = raw[i];
        (*pads)[axes[i] + rank] = raw[i + axes.size()];
      }
      return Status::Ok();
    }
    *pads = raw;
  }
  if (static_cast<int64_t>(pads->size()) != 2 * rank)
    return node_error(node, "pads " + shape_str(*pads) + " must have " + std::to_string(2 * rank) +
                                " values for rank " + std::to_string(rank));
  return Status::Ok();
}
}  // namespace

Status infer_pad(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                 const std::vector<const Tensor*>& constants, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, node.opset < 11 ? 1 : 2));
  const ir::ValueInfo& x = *inputs[0];
  outputs[0] = x;
  if (!x.has_shape) return Status::Ok();
  const int64_t rank = static_cast<int64_t>(x.dims.size());
  std::vector<int64_t> pads;
  bool known;
  GLINT_RETURN_IF_ERROR(pads_of(node, constants, rank, &pads, &known));
  for (int64_t i = 0; i < rank; ++i) {
    ir::Dim& d = outputs[0].dims[i];
    if (!known || !d.known()) { d = ir::Dim{}; continue; }
    // Checked: pads near 2^62 wrap the sum, which would read as a crop below zero.
    if (__builtin_add_overflow(d.value, pads[i], &d.value) || __builtin_add_overflow(d.value, pads[i + rank], &d.value))
      return node_error(node, "pads " + shape_str(pads) + " make axis " + std::to_string(i) + " of " +
                                  x.describe() + " longer than an int64 can count");
    if (d.value < 0)
      return node_error(node, "pads " + shape_str(pads) + " crop axis " + std::to_string(i) + " of " +
                                  x.describe() + " below zero");
  }
  return Status::Ok();
}

Status pad(const ir::Node& node, const std::vector<const Tensor*>& inputs,
           std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_pad, node, inputs, outputs));
  const Tensor& x = *inputs[0];
  Tensor& y = outputs[0];
  const int64_t rank = x.rank();
  std::vector<int64_t> pads;
  bool known;
  GLINT_RETURN_IF_ERROR(pads_of(node, inputs, rank, &pads, &known));
  const std::string mode = node.attr_string("mode", "constant");
  if (mode != "constant" && mode != "reflect" && mode != "edge" && mode != "wrap")
    return node_error(node, "unknown mode '" + mode + "'");
  double value = node.attr_float("value", 0.f);
  const Tensor* cv = inputs.size() > 2 ? inputs[2] : nullptr;
  if (node.opset >= 11 && cv && cv->size() > 0) value = cv->get_as_double(0);
  for (int64_t d = 0; d < rank; ++d)
    if (mode != "constant" && x.shape()[d] == 0 && y.shape()[d] > 0)
      return node_error(node, "mode '" + mode + "' cannot pad an empty axis");
  const Shape& os = y.shape();
  const Shape& is = x.shape();
  auto st = shape_strides(is);
  std::vector<int64_t> idx(rank, 0);
  for (int64_t i = 0; i < y.size(); ++i) {
    int64_t off = 0;
    bool outside = false;
    for (int64_t d = 0; d < rank; ++d) {
      int64_t s = idx[d] - pads[d];
      const int64_t n = is[d];
      if (s < 0 || s >= n) {
        if (mode == "constant") { outside = true; break; }
        if (mode == "edge") s = s < 0 ? 0 : n - 1;
        else if (mode == "wrap") s = ((s % n) + n) % n;
        else if (n == 1) s = 0;
        else {  // reflect without repeating the edge
          const int64_t period = 2 * (n - 1);
          s = ((s % period) + period) % period;
          if (s >= n) s = period - s;
        }
      }
      off += s * st[d];
    }
    if (outside) y.set_from_double(i, value);
    else copy_elements(x, off, y, i, 1);
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (++idx[d] < os[d]) break;
      idx[d] = 0;
    }
  }
  return Status::Ok();
}

}  // namespace glint::cpu
