// Cast and CastLike between every numeric dtype, bool and string. Float to
// integer truncates toward zero and saturates (NaN gives 0) so that no value
// is undefined behaviour; integer to integer wraps like C.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <type_traits>

#include "engine/cpu/kernels.h"
#include "engine/cpu/util.h"

namespace glint::cpu {

namespace {

Status target_dtype(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                    DataType* to) {
  if (node.op_type == "CastLike") {
    if (inputs.size() < 2 || !inputs[1]) return node_error(node, "target_type input is absent");
    *to = inputs[1]->dtype;
  } else {
    if (!node.has_attr("to")) return node_error(node, "attribute 'to' is required");
    const ir::Attribute* a = node.attr("to");
    *to = static_cast<DataType>(a->kind == ir::Attribute::Kind::kInt ? a->i : 0);
  }
  if (!is_supported_storage(*to))
    return node_unsupported(node, "cannot cast to " + dtype_name(*to));
  return Status::Ok();
}

// The shortest text that reads back as the same value of `dt` (like numpy).
std::string number_to_string(double v, DataType dt) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "INF" : "-INF";
  char buf[64];
  if (is_integer(dt)) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  for (int prec = 1; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, v);
    const double back = std::strtod(buf, nullptr);
    if (dt == DataType::kFloat64 ? back == v : round_value(static_cast<float>(back), dt) == static_cast<float>(v))
      break;
  }
  return buf;
}

}  // namespace

Status infer_cast(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                  const std::vector<const Tensor*>&, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 1));
  DataType to = DataType::kUndefined;
  GLINT_RETURN_IF_ERROR(target_dtype(node, inputs, &to));
  outputs[0] = *inputs[0];
  outputs[0].dtype = to;
  return Status::Ok();
}

Status cast(const ir::Node& node, const std::vector<const Tensor*>& inputs,
            std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_cast, node, inputs, outputs));
  const Tensor& x = *inputs[0];
  Tensor& y = outputs[0];
  const DataType from = x.dtype(), to = y.dtype();
  const int64_t n = x.size();
  if (from == to) {
    copy_elements(x, 0, y, 0, n);
    return Status::Ok();
  }
  if (from == DataType::kString) {
    for (int64_t i = 0; i < n; ++i) {
      const std::string& s = x.strings()[i];
      double v = std::strtod(s.c_str(), nullptr);
      if (s == "INF" || s == "+INF" || s == "inf") v = std::numeric_limits<double>::infinity();
      if (s == "-INF" || s == "-inf") v = -std::numeric_limits<double>::infinity();
      if (to == DataType::kBool) v = v != 0.0;
      visit_numeric(to, [&](auto tag) { y.data<decltype(tag)>()[i] = saturate_cast<decltype(tag)>(v); });
    }
    round_to_dtype(y);
    return Status::Ok();
  }
  if (to == DataType::kString) {
    for (int64_t i = 0; i < n; ++i)
      y.strings()[i] = from == DataType::kBool ? (x.get_as_double(i) != 0 ? "1" : "0")
                                               : number_to_string(x.get_as_double(i), from);
    return Status::Ok();
  }
  Status st;
  visit_numeric(from, [&](auto ftag) {
    using F = decltype(ftag);
    const F* src = x.data<F>();
    visit_numeric(to, [&](auto ttag) {
      using T = decltype(ttag);
      T* dst = y.data<T>();
      for (int64_t i = 0; i < n; ++i) {
        if constexpr (std::is_integral_v<F> && std::is_integral_v<T> && !std::is_same_v<T, bool>)
          dst[i] = static_cast<T>(src[i]);  // wraps (two's complement)
        else if constexpr (std::is_same_v<T, bool>)
          dst[i] = src[i] != F(0);
        else
          dst[i] = saturate_cast<T>(static_cast<double>(src[i]));
      }
    });
  });
  round_to_dtype(y);
  return Status::Ok();
}

}  // namespace glint::cpu
