// Binary and variadic elementwise ops with numpy broadcasting: arithmetic
// (Add Sub Mul Div Mod Pow BitShift, Max Min Sum Mean), comparisons, logic
// and Where.
#include <cmath>
#include <cstring>
#include <type_traits>

#include "engine/cpu/kernels.h"
#include "engine/cpu/util.h"

namespace glint::cpu {

namespace {

bool is_numeric(DataType dt) { return is_float(dt) || is_integer(dt); }

// Integer arithmetic that wraps instead of overflowing (no UB).
template <class T> T wadd(T a, T b) {
  if constexpr (std::is_integral_v<T>) { using U = std::make_unsigned_t<T>; return T(U(a) + U(b)); }
  else return a + b;
}
template <class T> T wsub(T a, T b) {
  if constexpr (std::is_integral_v<T>) { using U = std::make_unsigned_t<T>; return T(U(a) - U(b)); }
  else return a - b;
}
template <class T> T wmul(T a, T b) {
  if constexpr (std::is_integral_v<T>) {
    using U = std::make_unsigned_t<T>;
    using W = std::conditional_t<(sizeof(T) < sizeof(unsigned)), unsigned, U>;
    return T(W(U(a)) * W(U(b)));
  } else {
    return a * b;
  }
}
template <class T> T wdiv(T a, T b) {
  if constexpr (std::is_integral_v<T>) {
    if (b == 0) return 0;  // integer division by zero: defined as 0 here rather than a trap
    if constexpr (std::is_signed_v<T>) if (b == T(-1)) return wsub(T(0), a);
    return T(a / b);
  } else {
    return a / b;
  }
}
template <class T> T wmod(T a, T b, bool fmod) {
  if constexpr (std::is_integral_v<T>) {
    if (b == 0) return 0;
    if constexpr (std::is_signed_v<T>) {
      if (b == T(-1)) return 0;
      T r = T(a % b);
      if (!fmod && r != 0 && ((r < 0) != (b < 0))) r = T(r + b);
      return r;
    } else {
      return T(a % b);
    }
  } else {
    T r = std::fmod(a, b);
    if (!fmod && r != 0 && ((r < 0) != (b < 0))) r += b;
    return r;
  }
}

// out[o] = f(in0[o0], in1[o1], ...) over the broadcast of all inputs.
template <class T, class R, class F>
void broadcast_apply(const std::vector<const Tensor*>& ins, Tensor& out, F f) {
  std::vector<const T*> ptr;
  ptr.reserve(ins.size());
  bool same = true;
  for (auto* t : ins) {
    ptr.push_back(t->data<T>());
    same = same && t->shape() == out.shape();
  }
  std::vector<Shape> shapes;  // for the broadcast walks only
  if (!same || ins.size() != 2) {
    shapes.reserve(ins.size());
    for (auto* t : ins) shapes.push_back(t->shape());
  }
  R* o = out.data<R>();
  const int64_t n = out.size();
  if (ins.size() == 2 && same) {
    const T* a = ptr[0];
    const T* b = ptr[1];
    for (int64_t i = 0; i < n; ++i) o[i] = f(a[i], b[i]);
    return;
  }
  if (ins.size() == 2) {
    // Row by row, with the common strides as their own loops so that they
    // vectorize: a bias or a scalar broadcast over a row (step 0) beside a
    // contiguous one (step 1).
    for_each_broadcast_row(out.shape(), shapes, [&](int64_t i, const int64_t* off, int64_t len,
                                                    const int64_t* step) {
      const T* a = ptr[0] + off[0];
      const T* b = ptr[1] + off[1];
      R* r = o + i;
      if (step[0] == 1 && step[1] == 1) {
        for (int64_t j = 0; j < len; ++j) r[j] = f(a[j], b[j]);
      } else if (step[0] == 1 && step[1] == 0) {
        const T bv = *b;
        for (int64_t j = 0; j < len; ++j) r[j] = f(a[j], bv);
      } else if (step[0] == 0 && step[1] == 1) {
        const T av = *a;
        for (int64_t j = 0; j < len; ++j) r[j] = f(av, b[j]);
      } else {
        for (int64_t j = 0; j < len; ++j) r[j] = f(a[j * step[0]], b[j * step[1]]);
      }
    });
    return;
  }
  // Variadic: fold left to right.
  for_each_broadcast(out.shape(), shapes, [&](int64_t i, const int64_t* off) {
    T acc = ptr[0][off[0]];
    for (size_t k = 1; k < ptr.size(); ++k) acc = f(acc, ptr[k][off[k]]);
    o[i] = acc;
  });
}

Status check_same_dtype(const ir::Node& node, const std::vector<const Tensor*>& ins) {
  for (size_t i = 1; i < ins.size(); ++i)
    if (ins[i]->dtype() != ins[0]->dtype())
      return node_error(node, "input " + std::to_string(i) + " has dtype " +
                                  dtype_name(ins[i]->dtype()) + " but input 0 has " +
                                  dtype_name(ins[0]->dtype()));
  return Status::Ok();
}

}  // namespace

Status infer_broadcast(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                       const std::vector<const Tensor*>&, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 1));
  ir::ValueInfo legacy;
  std::vector<const ir::ValueInfo*> ins = inputs;
  if (ins.size() == 2) ins[1] = legacy_broadcast_info(node, inputs, &legacy);
  GLINT_RETURN_IF_ERROR(broadcast_dims(node, ins, &outputs[0]));
  outputs[0].dtype = inputs[0]->dtype;
  return Status::Ok();
}

Status infer_compare(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                     const std::vector<const Tensor*>& c, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 2));
  GLINT_RETURN_IF_ERROR(infer_broadcast(node, inputs, c, outputs));
  outputs[0].dtype = DataType::kBool;
  return Status::Ok();
}

Status infer_where(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                   const std::vector<const Tensor*>& c, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 3));
  GLINT_RETURN_IF_ERROR(broadcast_dims(node, inputs, &outputs[0]));
  outputs[0].dtype = inputs[1]->dtype;
  return Status::Ok();
}

Status binary_arith(const ir::Node& node, const std::vector<const Tensor*>& inputs,
                    std::vector<Tensor>& outputs) {
  const std::string& op = node.op_type;
  const bool variadic = op == "Max" || op == "Min" || op == "Sum" || op == "Mean";
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, variadic ? 1 : 2));
  std::vector<const Tensor*> ins;
  ins.reserve(inputs.size());
  for (auto* t : inputs) if (t) ins.push_back(t);
  GLINT_RETURN_IF_ERROR(check_same_dtype(node, ins));
  Tensor legacy_b;
  if (ins.size() == 2 && node.opset < 7) {
    legacy_b = ins[1]->reshaped(legacy_broadcast_shape(node, ins[0]->rank(), ins[1]->shape()));
    ins[1] = &legacy_b;
  }
  const DataType dt = ins[0]->dtype();
  if (!is_numeric(dt))
    return node_unsupported(node, "dtype " + dtype_name(dt) + " is not supported (numeric types only)");
  if (op == "Mean" && !is_float(dt))
    return node_unsupported(node, "Mean needs a float dtype, given " + dtype_name(dt));
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_broadcast, node, inputs, outputs, OutputFill::kUnfilled));
  Tensor& out = outputs[0];
  const bool fmod = node.attr_int("fmod", 0) != 0;
  if (op == "Mod" && is_float(dt) && !fmod)
    return node_error(node, "Mod on float dtype " + dtype_name(dt) + " requires fmod=1");
  std::string dir = node.attr_string("direction", "");
  if (op == "BitShift") {
    if (!dtype_in(dt, {DataType::kUint8, DataType::kUint16, DataType::kUint32, DataType::kUint64}))
      return node_unsupported(node, "BitShift needs an unsigned integer dtype, given " + dtype_name(dt));
    if (dir != "LEFT" && dir != "RIGHT")
      return node_error(node, "direction must be LEFT or RIGHT, given '" + dir + "'");
  }
  Status st;
  visit_numeric(dt, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, bool>) {
      return;
    } else {
      if (op == "Add" || op == "Sum") broadcast_apply<T, T>(ins, out, [](T a, T b) { return wadd(a, b); });
      else if (op == "Sub") broadcast_apply<T, T>(ins, out, [](T a, T b) { return wsub(a, b); });
      else if (op == "Mul") broadcast_apply<T, T>(ins, out, [](T a, T b) { return wmul(a, b); });
      else if (op == "Div") broadcast_apply<T, T>(ins, out, [](T a, T b) { return wdiv(a, b); });
      else if (op == "Mod") broadcast_apply<T, T>(ins, out, [fmod](T a, T b) { return wmod(a, b, fmod); });
      else if (op == "Max")
        broadcast_apply<T, T>(ins, out, [](T a, T b) {
          if constexpr (std::is_floating_point_v<T>) if (std::isnan(a) || std::isnan(b)) return a + b;
          return a < b ? b : a;
        });
      else if (op == "Min")
        broadcast_apply<T, T>(ins, out, [](T a, T b) {
          if constexpr (std::is_floating_point_v<T>) if (std::isnan(a) || std::isnan(b)) return a + b;
          return b < a ? b : a;
        });
      else if (op == "Mean") {
        broadcast_apply<T, T>(ins, out, [](T a, T b) { return wadd(a, b); });
        T* o = out.data<T>();
        for (int64_t i = 0; i < out.size(); ++i) o[i] = T(o[i] / T(ins.size()));
      } else if (op == "BitShift") {
        const bool left = dir == "LEFT";
        broadcast_apply<T, T>(ins, out, [left](T a, T b) {
          if constexpr (std::is_integral_v<T>) {
            if (uint64_t(b) >= sizeof(T) * 8) return T(0);
            return left ? T(a << b) : T(a >> b);
          } else {
            (void)left;  // BitShift is integral only (checked above)
            return a;
          }
        });
      } else {
        st = node_unsupported(node, "op is not an elementwise arithmetic op");
      }
    }
  });
  GLINT_RETURN_IF_ERROR(st);
  round_to_dtype(out);
  return Status::Ok();
}

Status pow_kernel(const ir::Node& node, const std::vector<const Tensor*>& inputs,
                  std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 2));
  const Tensor& x = *inputs[0];
  const Tensor& y = *inputs[1];
  if (!is_numeric(x.dtype()) || !is_numeric(y.dtype()))
    return node_unsupported(node, "Pow of " + dtype_name(x.dtype()) + " and " +
                                      dtype_name(y.dtype()) + " is not supported");
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_broadcast, node, inputs, outputs, OutputFill::kUnfilled));
  Tensor& out = outputs[0];
  const Tensor yb = y.reshaped(legacy_broadcast_shape(node, x.rank(), y.shape()));
  const float* xf = x.dtype() == DataType::kFloat32 || x.dtype() == DataType::kFloat16 ? x.data<float>() : nullptr;
  const float* yf = y.dtype() == DataType::kFloat32 || y.dtype() == DataType::kFloat16 ? y.data<float>() : nullptr;
  if (xf && yf && out.dtype() == DataType::kFloat32 && y.size() == 1 && (yf[0] == 2.f || yf[0] == 1.f)) {
    // x^2 (a variance in a decomposed LayerNorm) and x^1: a correctly
    // rounded pow gives exactly x * x and x, at a fraction of its cost.
    const bool square = yf[0] == 2.f;
    float* o = out.data<float>();
    for_each_broadcast_row(out.shape(), {x.shape(), yb.shape()},
                           [&](int64_t i, const int64_t* off, int64_t len, const int64_t* step) {
                             const float* xr = xf + off[0];
                             for (int64_t j = 0; j < len; ++j) {
                               const float v = xr[j * step[0]];
                               o[i + j] = square ? v * v : v;
                             }
                           });
    return Status::Ok();
  }
  for_each_broadcast(out.shape(), {x.shape(), yb.shape()}, [&](int64_t i, const int64_t* off) {
    if (xf && yf && out.dtype() == DataType::kFloat32) {
      out.data<float>()[i] = std::pow(xf[off[0]], yf[off[1]]);
      return;
    }
    double v = std::pow(x.get_as_double(off[0]), yb.get_as_double(off[1]));
    if (is_integer(out.dtype()) && !std::isfinite(v)) v = 0;
    out.set_from_double(i, v);
  });
  return Status::Ok();
}

Status compare_kernel(const ir::Node& node, const std::vector<const Tensor*>& inputs,
                      std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 2));
  const Tensor legacy_b = inputs[1]->reshaped(legacy_broadcast_shape(node, inputs[0]->rank(), inputs[1]->shape()));
  std::vector<const Tensor*> ins{inputs[0], &legacy_b};
  GLINT_RETURN_IF_ERROR(check_same_dtype(node, ins));
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_compare, node, inputs, outputs));
  Tensor& out = outputs[0];
  const std::string& op = node.op_type;
  const DataType dt = ins[0]->dtype();
  int code = op == "Equal" ? 0 : op == "Greater" ? 1 : op == "Less" ? 2
           : op == "GreaterOrEqual" ? 3 : op == "LessOrEqual" ? 4 : -1;
  if (code < 0) return node_unsupported(node, "op is not a comparison");
  if (dt == DataType::kString) {
    if (code != 0) return node_unsupported(node, "only Equal compares strings");
    auto& a = ins[0]->strings();
    auto& b = ins[1]->strings();
    uint8_t* o = out.data<uint8_t>();
    for_each_broadcast(out.shape(), {ins[0]->shape(), ins[1]->shape()},
                       [&](int64_t i, const int64_t* off) { o[i] = a[off[0]] == b[off[1]]; });
    return Status::Ok();
  }
  bool ok = visit_numeric(dt, [&](auto tag) {
    using T = decltype(tag);
    broadcast_apply<T, bool>(ins, out, [code](T a, T b) {
      switch (code) {
        case 0: return a == b;
        case 1: return a > b;
        case 2: return a < b;
        case 3: return a >= b;
        default: return a <= b;
      }
    });
  });
  if (!ok) return node_unsupported(node, "dtype " + dtype_name(dt) + " is not supported");
  return Status::Ok();
}

Status logical_kernel(const ir::Node& node, const std::vector<const Tensor*>& inputs,
                      std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 2));
  for (int i = 0; i < 2; ++i)
    if (inputs[i]->dtype() != DataType::kBool)
      return node_error(node, "input " + std::to_string(i) + " has dtype " +
                                  dtype_name(inputs[i]->dtype()) + "; expected bool");
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_compare, node, inputs, outputs));
  const std::string& op = node.op_type;
  int code = op == "And" ? 0 : op == "Or" ? 1 : op == "Xor" ? 2 : -1;
  if (code < 0) return node_unsupported(node, "op is not a logical op");
  const Tensor legacy_b = inputs[1]->reshaped(legacy_broadcast_shape(node, inputs[0]->rank(), inputs[1]->shape()));
  broadcast_apply<uint8_t, uint8_t>({inputs[0], &legacy_b}, outputs[0], [code](uint8_t a, uint8_t b) {
    bool x = a != 0, y = b != 0;
    return uint8_t(code == 0 ? (x && y) : code == 1 ? (x || y) : (x != y));
  });
  return Status::Ok();
}

Status where_kernel(const ir::Node& node, const std::vector<const Tensor*>& inputs,
                    std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 3));
  if (inputs[0]->dtype() != DataType::kBool)
    return node_error(node, "condition has dtype " + dtype_name(inputs[0]->dtype()) + "; expected bool");
  if (inputs[1]->dtype() != inputs[2]->dtype())
    return node_error(node, "X has dtype " + dtype_name(inputs[1]->dtype()) + " but Y has " +
                                dtype_name(inputs[2]->dtype()));
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_where, node, inputs, outputs));
  Tensor& out = outputs[0];
  const uint8_t* c = inputs[0]->data<uint8_t>();
  for_each_broadcast(out.shape(), {inputs[0]->shape(), inputs[1]->shape(), inputs[2]->shape()},
                     [&](int64_t i, const int64_t* off) {
                       if (c[off[0]]) copy_elements(*inputs[1], off[1], out, i, 1);
                       else copy_elements(*inputs[2], off[2], out, i, 1);
                     });
  return Status::Ok();
}

}  // namespace glint::cpu
