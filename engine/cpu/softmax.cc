// Softmax, LogSoftmax and Hardmax. Before opset 13 the input is viewed as 2-D
// [prod(dims[:axis]), prod(dims[axis:])] (axis default 1); from 13 the op runs
// along `axis` alone (default -1).
#include <cmath>
#include <limits>

#include "engine/cpu/kernels.h"
#include "engine/cpu/util.h"

namespace glint::cpu {

Status infer_softmax(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                     const std::vector<const Tensor*>&, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 1));
  outputs[0] = *inputs[0];
  if (inputs[0]->has_shape) {
    const int64_t rank = static_cast<int64_t>(inputs[0]->dims.size());
    int64_t axis;
    GLINT_RETURN_IF_ERROR(normalize_axis(node, node.attr_int("axis", node.opset < 13 ? 1 : -1),
                                         std::max<int64_t>(rank, 1), &axis));
  }
  return Status::Ok();
}

Status softmax(const ir::Node& node, const std::vector<const Tensor*>& inputs,
               std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
  const Tensor& x = *inputs[0];
  if (!is_float(x.dtype()))
    return node_unsupported(node, "input dtype " + dtype_name(x.dtype()) + " is not supported (float only)");
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_softmax, node, inputs, outputs));
  Tensor& y = outputs[0];
  const int64_t rank = std::max<int64_t>(x.rank(), 1);
  const bool legacy = node.opset < 13;
  int64_t axis;
  GLINT_RETURN_IF_ERROR(normalize_axis(node, node.attr_int("axis", legacy ? 1 : -1), rank, &axis));
  Shape s = x.shape();
  if (s.empty()) s = {1};
  int64_t outer = 1, len = 1, inner = 1;
  for (int64_t i = 0; i < rank; ++i) {
    if (i < axis) outer *= s[i];
    else if (i == axis || legacy) len *= s[i];
    else inner *= s[i];
  }
  const std::string& op = node.op_type;
  const int mode = op == "Softmax" ? 0 : op == "LogSoftmax" ? 1 : 2;
  std::vector<double> buf(static_cast<size_t>(len));
  const bool dbl = x.dtype() == DataType::kFloat64;
  auto get = [&](int64_t i) { return dbl ? x.data<double>()[i] : static_cast<double>(x.data<float>()[i]); };
  auto put = [&](int64_t i, double v) {
    if (dbl) y.data<double>()[i] = v;
    else y.data<float>()[i] = static_cast<float>(v);
  };
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t in = 0; in < inner; ++in) {
      const int64_t base = o * len * inner + in;
      double mx = -std::numeric_limits<double>::infinity();
      int64_t arg = 0;
      for (int64_t j = 0; j < len; ++j) {
        buf[j] = get(base + j * inner);
        if (buf[j] > mx) { mx = buf[j]; arg = j; }
      }
      if (mode == 2) {
        for (int64_t j = 0; j < len; ++j) put(base + j * inner, j == arg ? 1.0 : 0.0);
        continue;
      }
      double sum = 0;
      for (int64_t j = 0; j < len; ++j) sum += std::exp(buf[j] - mx);
      const double lsum = std::log(sum);
      for (int64_t j = 0; j < len; ++j)
        put(base + j * inner, mode == 0 ? std::exp(buf[j] - mx) / sum : buf[j] - mx - lsum);
    }
  round_to_dtype(y);
  return Status::Ok();
}

}  // namespace glint::cpu
