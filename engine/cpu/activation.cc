// Unary elementwise ops: math functions (Abs Exp Log Sin ... Erf), the
// activations (Relu LeakyRelu Sigmoid Tanh Elu Selu ...), Not, plus Clip and
// PRelu which take extra inputs.
#include <cmath>
#include <limits>
#include <type_traits>

#include "engine/ops/fused_activation.h"
#include "engine/cpu/kernels.h"
#include "engine/cpu/util.h"

namespace glint::cpu {

namespace {

template <class T, class F>
void map_values(const Tensor& x, Tensor& y, F f) {
  const T* a = x.data<T>();
  T* b = y.data<T>();
  const int64_t n = x.size();
  for (int64_t i = 0; i < n; ++i) b[i] = static_cast<T>(f(a[i]));
}

// Applies f to every element; float-only ops refuse integer inputs.
template <class F>
Status map_tensor(const ir::Node& node, const Tensor& x, Tensor& y, bool allow_int, F f) {
  Status st;
  bool ok = visit_numeric(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, bool>) {
      st = node_unsupported(node, "dtype bool is not supported");
    } else if constexpr (std::is_floating_point_v<T>) {
      map_values<T>(x, y, f);
    } else {
      if (!allow_int)
        st = node_unsupported(node, "dtype " + dtype_name(x.dtype()) +
                                        " is not supported (float types only)");
      else
        map_values<T>(x, y, f);
    }
  });
  if (!ok) return node_unsupported(node, "dtype " + dtype_name(x.dtype()) + " is not supported");
  GLINT_RETURN_IF_ERROR(st);
  round_to_dtype(y);
  return Status::Ok();
}

}  // namespace

Status infer_same(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                  const std::vector<const Tensor*>&, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 1));
  outputs[0] = *inputs[0];
  if (node.op_type == "IsNaN" || node.op_type == "IsInf") outputs[0].dtype = DataType::kBool;
  return Status::Ok();
}

Status unary(const ir::Node& node, const std::vector<const Tensor*>& inputs,
             std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
  const Tensor& x = *inputs[0];
  const std::string& op = node.op_type;
  if (op == "Not") {
    if (x.dtype() != DataType::kBool)
      return node_error(node, "input has dtype " + dtype_name(x.dtype()) + "; expected bool");
    outputs[0] = Tensor(DataType::kBool, x.shape());
    const uint8_t* a = x.data<uint8_t>();
    uint8_t* b = outputs[0].data<uint8_t>();
    for (int64_t i = 0; i < x.size(); ++i) b[i] = a[i] ? 0 : 1;
    return Status::Ok();
  }
  outputs[0] = Tensor(x.dtype(), x.shape());
  Tensor& y = outputs[0];
  const float alpha_d = op == "LeakyRelu" ? 0.01f
                      : op == "HardSigmoid" ? 0.2f
                      : op == "Selu" ? 1.67326319217681884765625f : 1.0f;
  const double alpha = node.attr_float("alpha", alpha_d);
  const double beta = node.attr_float("beta", 0.5f);
  const double gamma = node.attr_float("gamma", 1.05070102214813232421875f);
  using std::abs;
  // The activations a producer can carry fused share one formula each
  // (engine/ops/fused_activation.h).
  auto act = [&](auto kind, bool ints) {
    return map_tensor(node, x, y, ints, [alpha, beta](auto v) {
      return activation_value<decltype(kind)::value, decltype(v)>(v, alpha, beta);
    });
  };
  using K = FusedActivation;
  if (op == "Relu") return act(std::integral_constant<K::Kind, K::kRelu>{}, true);
  if (op == "Abs")
    return map_tensor(node, x, y, true, [](auto v) {
      if constexpr (std::is_unsigned_v<decltype(v)>) return v;
      else return v < 0 ? decltype(v)(-v) : v;
    });
  if (op == "Neg") return map_tensor(node, x, y, true, [](auto v) {
      using T = decltype(v);
      if constexpr (std::is_integral_v<T>) return T(std::make_unsigned_t<T>(0) - std::make_unsigned_t<T>(v));
      else return -v;
    });
  if (op == "Sign")
    return map_tensor(node, x, y, true, [](auto v) { return decltype(v)((v > 0) - (v < 0)); });
  if (op == "Sigmoid") return act(std::integral_constant<K::Kind, K::kSigmoid>{}, false);
  if (op == "Tanh") return act(std::integral_constant<K::Kind, K::kTanh>{}, false);
  if (op == "Exp") return map_tensor(node, x, y, false, [](auto v) { return std::exp(v); });
  if (op == "Log") return map_tensor(node, x, y, false, [](auto v) { return std::log(v); });
  if (op == "Sqrt") return map_tensor(node, x, y, false, [](auto v) { return std::sqrt(v); });
  if (op == "Reciprocal") return map_tensor(node, x, y, false, [](auto v) { return 1 / v; });
  if (op == "Floor") return map_tensor(node, x, y, false, [](auto v) { return std::floor(v); });
  if (op == "Ceil") return map_tensor(node, x, y, false, [](auto v) { return std::ceil(v); });
  if (op == "Round") return map_tensor(node, x, y, false, [](auto v) { return std::nearbyint(v); });
  if (op == "Sin") return map_tensor(node, x, y, false, [](auto v) { return std::sin(v); });
  if (op == "Cos") return map_tensor(node, x, y, false, [](auto v) { return std::cos(v); });
  if (op == "Tan") return map_tensor(node, x, y, false, [](auto v) { return std::tan(v); });
  if (op == "Asin") return map_tensor(node, x, y, false, [](auto v) { return std::asin(v); });
  if (op == "Acos") return map_tensor(node, x, y, false, [](auto v) { return std::acos(v); });
  if (op == "Atan") return map_tensor(node, x, y, false, [](auto v) { return std::atan(v); });
  if (op == "Sinh") return map_tensor(node, x, y, false, [](auto v) { return std::sinh(v); });
  if (op == "Cosh") return map_tensor(node, x, y, false, [](auto v) { return std::cosh(v); });
  if (op == "Asinh") return map_tensor(node, x, y, false, [](auto v) { return std::asinh(v); });
  if (op == "Acosh") return map_tensor(node, x, y, false, [](auto v) { return std::acosh(v); });
  if (op == "Atanh") return map_tensor(node, x, y, false, [](auto v) { return std::atanh(v); });
  if (op == "Erf") return map_tensor(node, x, y, false, [](auto v) { return std::erf(v); });
  if (op == "IsNaN" || op == "IsInf") {
    if (!is_float(x.dtype())) return node_unsupported(node, op + " needs a float input, given " + dtype_name(x.dtype()));
    y = Tensor(DataType::kBool, x.shape());
    const bool neg = node.attr_int("detect_negative", 1) != 0, pos = node.attr_int("detect_positive", 1) != 0;
    for (int64_t i = 0; i < x.size(); ++i) {
      const double v = x.get_as_double(i);
      y.data<uint8_t>()[i] = op == "IsNaN" ? std::isnan(v) : std::isinf(v) && (v > 0 ? pos : neg);
    }
    return Status::Ok();
  }
  if (op == "LeakyRelu") return act(std::integral_constant<K::Kind, K::kLeakyRelu>{}, false);
  if (op == "Elu")
    return map_tensor(node, x, y, false,
                      [alpha](auto v) { return v < 0 ? decltype(v)(alpha * (std::exp(v) - 1)) : v; });
  if (op == "Celu")
    return map_tensor(node, x, y, false, [alpha](auto v) {
      using T = decltype(v);
      return T(std::max<double>(0, v) + std::min<double>(0, alpha * (std::exp(v / alpha) - 1)));
    });
  if (op == "Selu")
    return map_tensor(node, x, y, false, [alpha, gamma](auto v) {
      using T = decltype(v);
      return T(v > 0 ? gamma * v : gamma * (alpha * std::exp(double(v)) - alpha));
    });
  if (op == "ThresholdedRelu")
    return map_tensor(node, x, y, false, [alpha](auto v) { return v > alpha ? v : decltype(v)(0); });
  if (op == "HardSigmoid") return act(std::integral_constant<K::Kind, K::kHardSigmoid>{}, false);
  if (op == "HardSwish")
    return map_tensor(node, x, y, false, [](auto v) {
      return decltype(v)(v * std::max(0.0, std::min(1.0, v / 6.0 + 0.5)));
    });
  if (op == "Softplus")
    return map_tensor(node, x, y, false, [](auto v) {
      return v > 0 ? v + std::log1p(std::exp(-v)) : std::log1p(std::exp(v));
    });
  if (op == "Shrink") {
    const double lambd = node.attr_float("lambd", 0.5f), bias = node.attr_float("bias", 0.f);
    return map_tensor(node, x, y, true, [lambd, bias](auto v) {
      using T = decltype(v);
      const double d = static_cast<double>(v);
      // An integer tensor's bias may lie past its range (the fuzzer's
      // 1.28e38 on int64): the result saturates.
      return saturate_cast<T>(d < -lambd ? d + bias : d > lambd ? d - bias : 0.0);
    });
  }
  if (op == "Softsign") return map_tensor(node, x, y, false, [](auto v) { return v / (1 + std::fabs(v)); });
  if (op == "Mish")
    return map_tensor(node, x, y, false, [](auto v) {
      auto sp = v > 0 ? v + std::log1p(std::exp(-v)) : std::log1p(std::exp(v));
      return v * std::tanh(sp);
    });
  return node_unsupported(node, "no CPU unary kernel for this op");
}

Status clip(const ir::Node& node, const std::vector<const Tensor*>& inputs,
            std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
  const Tensor& x = *inputs[0];
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
  if (node.opset < 11) {
    lo = node.attr_float("min", -std::numeric_limits<float>::infinity());
    hi = node.attr_float("max", std::numeric_limits<float>::infinity());
  } else {
    for (int k = 1; k <= 2; ++k) {
      const Tensor* b = k < static_cast<int>(inputs.size()) ? inputs[k] : nullptr;
      if (!b) continue;
      if (b->size() != 1)
        return node_error(node, std::string(k == 1 ? "min" : "max") + " must be a scalar, given " +
                                    tensor_desc(*b));
      if (b->dtype() != x.dtype())
        return node_error(node, std::string(k == 1 ? "min" : "max") + " has dtype " +
                                    dtype_name(b->dtype()) + " but the input has " +
                                    dtype_name(x.dtype()));
      (k == 1 ? lo : hi) = b->get_as_double(0);
    }
  }
  outputs[0] = Tensor(x.dtype(), x.shape());
  if (x.dtype() == DataType::kFloat32 || x.dtype() == DataType::kFloat16 ||
      x.dtype() == DataType::kBFloat16) {
    float flo = static_cast<float>(lo), fhi = static_cast<float>(hi);
    return map_tensor(node, x, outputs[0], false,
                      [flo, fhi](float v) { return v < flo ? flo : (v > fhi ? fhi : v); });
  }
  if (node.opset < 12 && x.dtype() != DataType::kFloat64)
    return node_unsupported(node, "Clip before opset 12 takes float inputs, given " + dtype_name(x.dtype()));
  return map_tensor(node, x, outputs[0], true, [lo, hi](auto v) {
    using T = decltype(v);
    double d = static_cast<double>(v);
    return d < lo ? T(lo) : (d > hi ? T(hi) : v);
  });
}

Status infer_prelu(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                   const std::vector<const Tensor*>& c, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 2));
  outputs[0] = *inputs[0];
  // Slope broadcasts unidirectionally to X; check it when both are known.
  if (inputs[0]->fully_known() && inputs[1]->fully_known()) {
    Shape out;
    Shape xs = inputs[0]->concrete();
    GLINT_RETURN_IF_ERROR(broadcast_shapes(node, {xs, inputs[1]->concrete()}, &out));
    if (out != xs)
      return node_error(node, "slope " + inputs[1]->describe() + " does not broadcast to X " +
                                  inputs[0]->describe());
  }
  return Status::Ok();
}

Status prelu(const ir::Node& node, const std::vector<const Tensor*>& inputs,
             std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 2));
  const Tensor& x = *inputs[0];
  Shape slope_shape = inputs[1]->shape();
  // Opsets before 7 allowed a [C] slope against NCHW: treat it as [C,1,1].
  if (node.opset < 7 && slope_shape.size() == 1 && x.rank() > 2 && slope_shape[0] == x.shape()[1])
    slope_shape.resize(x.rank() - 1, 1);
  Tensor slope = inputs[1]->reshaped(slope_shape);
  std::vector<const Tensor*> ins{&x, &slope};
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_prelu, node, ins, outputs));
  if (slope.dtype() != x.dtype())
    return node_error(node, "slope has dtype " + dtype_name(slope.dtype()) + " but X has " +
                                dtype_name(x.dtype()));
  Tensor& y = outputs[0];
  for_each_broadcast(x.shape(), {x.shape(), slope.shape()}, [&](int64_t i, const int64_t* off) {
    double v = x.get_as_double(off[0]);
    y.set_from_double(i, v < 0 ? v * slope.get_as_double(off[1]) : v);
  });
  return Status::Ok();
}

}  // namespace glint::cpu
