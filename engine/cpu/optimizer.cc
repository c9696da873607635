// Training optimizers of the ai.onnx.preview.training domain: Adagrad,
// Momentum, Adam. Inputs are R, T, then n tensors each of X, G and the
// optimizer states; outputs are the new X then the new states.
#include <cmath>

#include "engine/cpu/kernels.h"
#include "engine/cpu/util.h"

namespace glint::cpu {

namespace {
int states_of(const std::string& op) { return op == "Adam" ? 2 : 1; }
}  // namespace

Status infer_optimizer(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                       const std::vector<const Tensor*>&, std::vector<ir::ValueInfo>& outputs) {
  const size_t groups = 2 + states_of(node.op_type);
  if (inputs.size() < 2 + groups || (inputs.size() - 2) % groups != 0)
    return node_error(node, "expected R, T and " + std::to_string(groups) + " groups of n tensors, given " +
                                std::to_string(inputs.size()) + " inputs");
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, inputs.size()));
  const size_t n = (inputs.size() - 2) / groups;
  // Outputs: X_new (n), then each state (n): the inputs after G.
  for (size_t i = 0; i < outputs.size(); ++i) {
    const size_t group = i / n, k = i % n;
    const size_t src = 2 + (group == 0 ? 0 : group + 1) * n + k;
    if (src >= inputs.size()) return node_error(node, "too many outputs");
    outputs[i] = *inputs[src];
  }
  return Status::Ok();
}

Status optimizer(const ir::Node& node, const std::vector<const Tensor*>& inputs,
                 std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_optimizer, node, inputs, outputs));
  const std::string& op = node.op_type;
  const size_t groups = 2 + states_of(op), n = (inputs.size() - 2) / groups;
  const double R = inputs[0]->get_as_double(0);
  const double T = inputs[1]->get_as_double(0);
  const double norm = node.attr_float("norm_coefficient", 0.f);
  for (size_t k = 0; k < n; ++k) {
    const Tensor& X = *inputs[2 + k];
    const Tensor& G = *inputs[2 + n + k];
    const Tensor& S1 = *inputs[2 + 2 * n + k];
    const Tensor* S2 = op == "Adam" ? inputs[2 + 3 * n + k] : nullptr;
    if (G.size() != X.size() || S1.size() != X.size() || (S2 && S2->size() != X.size()))
      return node_error(node, "X, G and state tensors of group " + std::to_string(k) + " differ in size");
    auto put = [&](size_t out, int64_t i, double v) {
      if (out < outputs.size() && !outputs[out].empty_storage()) outputs[out].set_from_double(i, v);
    };
    for (int64_t i = 0; i < X.size(); ++i) {
      const double x = X.get_as_double(i), g = norm * x + G.get_as_double(i), s1 = S1.get_as_double(i);
      if (op == "Adagrad") {
        const double r = R / (1 + T * node.attr_float("decay_factor", 0.f));
        const double h = s1 + g * g;
        put(k, i, x - r * g / (std::sqrt(h) + node.attr_float("epsilon", 1e-6f)));
        put(n + k, i, h);
      } else if (op == "Momentum") {
        const double alpha = node.attr_float("alpha", 0.f), beta = node.attr_float("beta", 0.f);
        const double v = alpha * s1 + (T == 0 ? 1.0 : beta) * g;
        const bool nesterov = node.attr_string("mode", "standard") == "nesterov";
        put(k, i, nesterov ? x - R * (g + alpha * v) : x - R * v);
        put(n + k, i, v);
      } else {
        const double alpha = node.attr_float("alpha", 0.9f), beta = node.attr_float("beta", 0.999f);
        const double v = alpha * s1 + (1 - alpha) * g;
        const double h = beta * S2->get_as_double(i) + (1 - beta) * g * g;
        const double r = T > 0 ? R * std::sqrt(1 - std::pow(beta, T)) / (1 - std::pow(alpha, T)) : R;
        const double xn = x - r * v / (std::sqrt(h) + node.attr_float("epsilon", 1e-6f));
        put(k, i, (1 - node.attr_float("norm_coefficient_post", 0.f)) * xn);
        put(n + k, i, v);
        put(2 * n + k, i, h);
      }
    }
  }
  return Status::Ok();
}

}  // namespace glint::cpu
