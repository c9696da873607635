// Window functions (opset 17): HannWindow, HammingWindow, BlackmanWindow.
#include <cmath>

#include "engine/cpu/kernels.h"
#include "engine/cpu/util.h"

namespace glint::cpu {

Status infer_window(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                    const std::vector<const Tensor*>& constants, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 1));
  outputs[0].dtype = static_cast<DataType>(node.attr_int("output_datatype", 1));
  outputs[0].has_shape = true;
  outputs[0].dims = {ir::Dim{}};
  if (!constants.empty() && constants[0]) {
    if (constants[0]->size() != 1) return node_error(node, "size must be a scalar");
    const int64_t n = constants[0]->get_as_int64(0);
    if (n < 0) return node_error(node, "size must be non-negative, given " + std::to_string(n));
    outputs[0].dims[0].value = n;
  }
  return Status::Ok();
}

Status window(const ir::Node& node, const std::vector<const Tensor*>& inputs,
              std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_window, node, inputs, outputs));
  Tensor& y = outputs[0];
  const int64_t size = y.size();
  const double N = node.attr_int("periodic", 1) != 0 ? size : size - 1;
  const double pi = 3.14159265358979323846;
  for (int64_t n = 0; n < size; ++n) {
    const double a = N > 0 ? 2 * pi * n / N : 0.0;
    double v;
    if (node.op_type == "HannWindow") v = 0.5 - 0.5 * std::cos(a);
    else if (node.op_type == "HammingWindow") v = 25.0 / 46.0 - 21.0 / 46.0 * std::cos(a);
    else v = 0.42 - 0.5 * std::cos(a) + 0.08 * std::cos(2 * a);
    y.set_from_double(n, v);
  }
  return Status::Ok();
}

}  // namespace glint::cpu
