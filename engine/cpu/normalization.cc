// BatchNormalization (inference), InstanceNormalization, LayerNormalization
// and LRN.
#include <algorithm>
#include <cmath>

#include "engine/cpu/kernels.h"
#include "engine/cpu/threadpool.h"
#include "engine/cpu/util.h"

namespace glint::cpu {

namespace {
Status check_param(const ir::Node& node, const Tensor* t, const char* what, int64_t c,
                   int64_t alt, DataType dt) {
  if (!t) return node_error(node, std::string(what) + " is absent");
  if (t->size() != c && t->size() != alt)
    return node_error(node, std::string(what) + " is " + tensor_desc(*t) + "; expected " +
                                std::to_string(c) + " elements (one per channel)");
  if (!is_float(t->dtype()))
    return node_unsupported(node, std::string(what) + " has dtype " + dtype_name(t->dtype()));
  (void)dt;
  return Status::Ok();
}
}  // namespace

Status infer_batch_norm(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                        const std::vector<const Tensor*>&, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 5));
  const ir::ValueInfo& x = *inputs[0];
  outputs[0] = x;
  if (x.has_shape && x.dims.size() < 2)
    return node_error(node, "X " + x.describe() + " must have rank >= 2");
  if (x.has_shape && x.dims[1].known() && node.attr_int("spatial", 1) != 0)
    for (int i = 1; i < 5; ++i) {
      const ir::ValueInfo* p = inputs[i];
      if (p->fully_known() && shape_size(p->concrete()) != x.dims[1].value)
        return node_error(node, "input " + std::to_string(i) + " is " + p->describe() +
                                    "; expected " + std::to_string(x.dims[1].value) +
                                    " elements (channels of X " + x.describe() + ")");
    }
  // Optional running mean / var outputs mirror the given statistics.
  for (size_t i = 1; i < outputs.size() && i < 3; ++i)
    if (node.has_output(i)) outputs[i] = *inputs[i + 2];
  return Status::Ok();
}

namespace {
// training_mode=1 (opset 14+): normalise with the batch statistics and
// return running statistics blended with `momentum`.
Status batch_norm_training(const ir::Node& node, const std::vector<const Tensor*>& inputs, int64_t N,
                           int64_t C, int64_t inner, std::vector<Tensor>& outputs) {
  const Tensor& x = *inputs[0];
  for (int i = 1; i < 5; ++i)
    if (inputs[i]->size() != C)
      return node_error(node, "input " + std::to_string(i) + " is " + tensor_desc(*inputs[i]) + "; expected " +
                                  std::to_string(C) + " elements (one per channel)");
  const double eps = node.attr_float("epsilon", 1e-5f), momentum = node.attr_float("momentum", 0.9f);
  const int64_t count = N * inner;
  for (int64_t c = 0; c < C; ++c) {
    double mean = 0, var = 0;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t j = 0; j < inner; ++j) mean += x.get_as_double((n * C + c) * inner + j);
    mean /= std::max<int64_t>(count, 1);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t j = 0; j < inner; ++j) {
        const double d = x.get_as_double((n * C + c) * inner + j) - mean;
        var += d * d;
      }
    var /= std::max<int64_t>(count, 1);
    const double s = inputs[1]->get_as_double(c) / std::sqrt(var + eps), b = inputs[2]->get_as_double(c);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t j = 0; j < inner; ++j) {
        const int64_t at = (n * C + c) * inner + j;
        outputs[0].set_from_double(at, (x.get_as_double(at) - mean) * s + b);
      }
    if (outputs.size() > 1 && node.has_output(1))
      outputs[1].set_from_double(c, inputs[3]->get_as_double(c) * momentum + mean * (1 - momentum));
    if (outputs.size() > 2 && node.has_output(2))
      outputs[2].set_from_double(c, inputs[4]->get_as_double(c) * momentum + var * (1 - momentum));
  }
  return Status::Ok();
}
}  // namespace

Status batch_norm(const ir::Node& node, const std::vector<const Tensor*>& inputs,
                  std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 5));
  const Tensor& x = *inputs[0];
  GLINT_RETURN_IF_ERROR(check_float(node, x, "X"));
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_batch_norm, node, inputs, outputs));
  const int64_t N = x.shape()[0], C = x.shape()[1];
  const int64_t inner = C ? x.size() / std::max<int64_t>(N * C, 1) : 0;
  if (node.attr_int("training_mode", 0) != 0) return batch_norm_training(node, inputs, N, C, inner, outputs);
  for (int i = 1; i < 5; ++i)
    GLINT_RETURN_IF_ERROR(check_param(node, inputs[i], i == 1 ? "scale" : i == 2 ? "B" : i == 3 ? "mean" : "var",
                                      C, node.attr_int("spatial", 1) ? C : C * inner, x.dtype()));
  // Per-activation statistics (spatial=0, opset < 9) have C*inner elements.
  const bool per_elem = inputs[1]->size() != C;
  const double eps = node.attr_float("epsilon", 1e-5f);
  const Tensor &sc = *inputs[1], &bi = *inputs[2], &mu = *inputs[3], &va = *inputs[4];
  const float* px = x.data<float>();
  float* py = outputs[0].data<float>();
  const int64_t groups = per_elem ? C * inner : C;
  std::vector<float> a(groups), b(groups);
  for (int64_t i = 0; i < groups; ++i) {
    double s = sc.get_as_double(i) / std::sqrt(va.get_as_double(i) + eps);
    a[i] = static_cast<float>(s);
    b[i] = static_cast<float>(bi.get_as_double(i) - mu.get_as_double(i) * s);
  }
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c) {
      const int64_t base = (n * C + c) * inner;
      for (int64_t j = 0; j < inner; ++j) {
        const int64_t g = per_elem ? c * inner + j : c;
        py[base + j] = px[base + j] * a[g] + b[g];
      }
    }
  round_to_dtype(outputs[0]);
  for (size_t i = 1; i < outputs.size() && i < 3; ++i)
    if (node.has_output(i)) outputs[i] = inputs[i + 2]->clone();
  return Status::Ok();
}

Status infer_instance_norm(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                           const std::vector<const Tensor*>&, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 3));
  outputs[0] = *inputs[0];
  if (inputs[0]->has_shape && inputs[0]->dims.size() < 3)
    return node_error(node, "X " + inputs[0]->describe() + " must have rank >= 3");
  return Status::Ok();
}

Status instance_norm(const ir::Node& node, const std::vector<const Tensor*>& inputs,
                     std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 3));
  const Tensor& x = *inputs[0];
  GLINT_RETURN_IF_ERROR(check_float(node, x, "X"));
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_instance_norm, node, inputs, outputs));
  const int64_t N = x.shape()[0], C = x.shape()[1];
  const int64_t inner = (N * C) != 0 ? x.size() / (N * C) : 0;
  GLINT_RETURN_IF_ERROR(check_param(node, inputs[1], "scale", C, C, x.dtype()));
  GLINT_RETURN_IF_ERROR(check_param(node, inputs[2], "B", C, C, x.dtype()));
  const double eps = node.attr_float("epsilon", 1e-5f);
  const float* px = x.data<float>();
  float* py = outputs[0].data<float>();
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c) {
      const float* xs = px + (n * C + c) * inner;
      float* ys = py + (n * C + c) * inner;
      double mean = 0, var = 0;
      for (int64_t j = 0; j < inner; ++j) mean += xs[j];
      mean /= std::max<int64_t>(inner, 1);
      for (int64_t j = 0; j < inner; ++j) var += (xs[j] - mean) * (xs[j] - mean);
      var /= std::max<int64_t>(inner, 1);
      const double s = inputs[1]->get_as_double(c) / std::sqrt(var + eps);
      const double b = inputs[2]->get_as_double(c);
      for (int64_t j = 0; j < inner; ++j) ys[j] = static_cast<float>((xs[j] - mean) * s + b);
    }
  round_to_dtype(outputs[0]);
  return Status::Ok();
}

Status infer_layer_norm(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                        const std::vector<const Tensor*>&, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 2));
  const ir::ValueInfo& x = *inputs[0];
  outputs[0] = x;
  if (!x.has_shape) {
    for (size_t i = 1; i < outputs.size(); ++i) outputs[i].dtype = DataType::kFloat32;
    return Status::Ok();
  }
  const int64_t rank = static_cast<int64_t>(x.dims.size());
  int64_t axis;
  GLINT_RETURN_IF_ERROR(normalize_axis(node, node.attr_int("axis", -1), rank, &axis));
  for (size_t i = 1; i < outputs.size() && i < 3; ++i) {
    if (!node.has_output(i)) continue;
    outputs[i] = x;
    outputs[i].dtype = DataType::kFloat32;
    for (int64_t d = axis; d < rank; ++d) outputs[i].dims[d] = ir::Dim{1, ""};
  }
  return Status::Ok();
}

Status layer_norm(const ir::Node& node, const std::vector<const Tensor*>& inputs,
                  std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 2));
  const Tensor& x = *inputs[0];
  if (!is_float(x.dtype())) return node_unsupported(node, "X has dtype " + dtype_name(x.dtype()));
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_layer_norm, node, inputs, outputs));
  int64_t axis;
  GLINT_RETURN_IF_ERROR(normalize_axis(node, node.attr_int("axis", -1), x.rank(), &axis));
  Shape norm_shape(x.shape().begin() + axis, x.shape().end());
  const int64_t inner = shape_size(norm_shape);
  const int64_t outer = inner ? x.size() / inner : 0;
  const Tensor* scale = inputs[1];
  const Tensor* bias = inputs.size() > 2 ? inputs[2] : nullptr;
  Shape bs;
  GLINT_RETURN_IF_ERROR(broadcast_shapes(node, {norm_shape, scale->shape()}, &bs));
  if (bs != norm_shape)
    return node_error(node, "Scale " + tensor_desc(*scale) + " must broadcast to " + shape_str(norm_shape));
  if (bias) {
    GLINT_RETURN_IF_ERROR(broadcast_shapes(node, {norm_shape, bias->shape()}, &bs));
    if (bs != norm_shape)
      return node_error(node, "B " + tensor_desc(*bias) + " must broadcast to " + shape_str(norm_shape));
  }
  std::vector<double> sv(inner), bv(inner, 0.0);
  for_each_broadcast(norm_shape, {scale->shape()}, [&](int64_t i, const int64_t* o) { sv[i] = scale->get_as_double(o[0]); });
  if (bias)
    for_each_broadcast(norm_shape, {bias->shape()}, [&](int64_t i, const int64_t* o) { bv[i] = bias->get_as_double(o[0]); });
  const double eps = node.attr_float("epsilon", 1e-5f);
  Tensor& y = outputs[0];
  if (x.dtype() == DataType::kFloat32 && !node.has_output(1) && !node.has_output(2)) {
    // The same double arithmetic on the float rows directly (get_as_double
    // per element made a [128, 384] LayerNorm cost 0.5 ms); rows over the
    // thread pool.
    const float* px = x.data<float>();
    float* py = y.data<float>();
    parallel_for(outer, [&](int64_t o) {
      const float* xr = px + o * inner;
      float* yr = py + o * inner;
      double mean = 0, var = 0;
      for (int64_t j = 0; j < inner; ++j) mean += xr[j];
      mean /= inner;
      for (int64_t j = 0; j < inner; ++j) {
        const double d = xr[j] - mean;
        var += d * d;
      }
      var /= inner;
      const double inv = 1.0 / std::sqrt(var + eps);
      for (int64_t j = 0; j < inner; ++j) yr[j] = static_cast<float>((xr[j] - mean) * inv * sv[j] + bv[j]);
    }, grain_for(3 * inner));
    return Status::Ok();
  }
  for (int64_t o = 0; o < outer; ++o) {
    double mean = 0, var = 0;
    for (int64_t j = 0; j < inner; ++j) mean += x.get_as_double(o * inner + j);
    mean /= inner;
    for (int64_t j = 0; j < inner; ++j) {
      double d = x.get_as_double(o * inner + j) - mean;
      var += d * d;
    }
    var /= inner;
    const double inv = 1.0 / std::sqrt(var + eps);
    for (int64_t j = 0; j < inner; ++j)
      y.set_from_double(o * inner + j, (x.get_as_double(o * inner + j) - mean) * inv * sv[j] + bv[j]);
    if (node.has_output(1) && outputs.size() > 1) outputs[1].set_from_double(o, mean);
    if (node.has_output(2) && outputs.size() > 2) outputs[2].set_from_double(o, inv);
  }
  return Status::Ok();
}

Status lrn(const ir::Node& node, const std::vector<const Tensor*>& inputs,
           std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
  const Tensor& x = *inputs[0];
  GLINT_RETURN_IF_ERROR(check_float(node, x, "X"));
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_same, node, inputs, outputs));
  if (x.rank() < 3) return node_error(node, "X " + tensor_desc(x) + " must have rank >= 3");
  const int64_t size = node.attr_int("size", 0);
  if (size <= 0) return node_error(node, "size attribute must be positive, given " + std::to_string(size));
  const double alpha = node.attr_float("alpha", 1e-4f), beta = node.attr_float("beta", 0.75f),
               bias = node.attr_float("bias", 1.0f);
  const int64_t N = x.shape()[0], C = x.shape()[1], inner = (N * C) != 0 ? x.size() / (N * C) : 0;
  const int64_t before = (size - 1) / 2, after = size - 1 - before;
  const float* px = x.data<float>();
  float* py = outputs[0].data<float>();
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t j = 0; j < inner; ++j) {
        double sq = 0;
        for (int64_t k = std::max<int64_t>(0, c - before); k <= std::min(C - 1, c + after); ++k) {
          double v = px[(n * C + k) * inner + j];
          sq += v * v;
        }
        const int64_t at = (n * C + c) * inner + j;
        py[at] = static_cast<float>(px[at] / std::pow(bias + alpha / size * sq, beta));
      }
  round_to_dtype(outputs[0]);
  return Status::Ok();
}

Status mean_variance_norm(const ir::Node& node, const std::vector<const Tensor*>& inputs,
                          std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
  const Tensor& x = *inputs[0];
  if (!is_float(x.dtype())) return node_unsupported(node, "X has dtype " + dtype_name(x.dtype()));
  std::vector<int64_t> axes = node.attr_ints("axes", {0, 2, 3});
  GLINT_RETURN_IF_ERROR(normalize_axes(node, axes, x.rank()));
  // Output offset of each element in the per-group statistics (reduced axes -> 0).
  Shape kept = x.shape();
  for (int64_t a : axes) kept[a] = 1;
  auto st = shape_strides(kept);
  for (int64_t a : axes) st[a] = 0;
  const int64_t groups = shape_size(kept), count = groups ? x.size() / groups : 0;
  std::vector<double> sum(groups, 0.0), sq(groups, 0.0);
  std::vector<int64_t> group_of(static_cast<size_t>(x.size()));
  std::vector<int64_t> idx(x.rank(), 0);
  int64_t g = 0;
  for (int64_t i = 0; i < x.size(); ++i) {
    group_of[i] = g;
    const double v = x.get_as_double(i);
    sum[g] += v;
    sq[g] += v * v;
    for (int64_t d = x.rank() - 1; d >= 0; --d) {
      g += st[d];
      if (++idx[d] < x.shape()[d]) break;
      g -= st[d] * x.shape()[d];
      idx[d] = 0;
    }
  }
  outputs[0] = Tensor(x.dtype(), x.shape());
  for (int64_t i = 0; i < x.size(); ++i) {
    const double mean = sum[group_of[i]] / count;
    const double var = std::max(0.0, sq[group_of[i]] / count - mean * mean);
    outputs[0].set_from_double(i, (x.get_as_double(i) - mean) / std::sqrt(var + 1e-9));
  }
  return Status::Ok();
}

}  // namespace glint::cpu
