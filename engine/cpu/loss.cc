// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (reduction none /
// sum / mean, class weights, ignore_index); SCE's optional second output is
// the log-softmax of the scores.
#include <cmath>

#include "engine/cpu/kernels.h"
#include "engine/cpu/util.h"

namespace glint::cpu {

Status infer_loss(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                  const std::vector<const Tensor*>&, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 2));
  const ir::ValueInfo& x = *inputs[0];
  const std::string reduction = node.attr_string("reduction", "mean");
  if (reduction != "none" && reduction != "sum" && reduction != "mean")
    return node_error(node, "unknown reduction '" + reduction + "'");
  if (!is_integer(inputs[1]->dtype))
    return node_error(node, "target has dtype " + dtype_name(inputs[1]->dtype) + "; expected an integer type");
  if (reduction == "none") {
    outputs[0] = *inputs[1];
  } else {
    outputs[0] = ir::ValueInfo::of(x.dtype, {});
  }
  outputs[0].dtype = x.dtype;
  if (outputs.size() > 1) outputs[1] = x;
  return Status::Ok();
}

Status loss(const ir::Node& node, const std::vector<const Tensor*>& inputs,
            std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 2));
  const Tensor& x = *inputs[0];
  const Tensor& target = *inputs[1];
  const Tensor* weight = inputs.size() > 2 ? inputs[2] : nullptr;
  if (!is_float(x.dtype())) return node_unsupported(node, "input dtype " + dtype_name(x.dtype()) + " is not supported");
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_loss, node, inputs, outputs));
  if (x.rank() < 2) return node_error(node, "input " + tensor_desc(x) + " must have rank >= 2");
  const int64_t N = x.shape()[0], C = x.shape()[1];
  const int64_t D = (N * C) != 0 ? x.size() / (N * C) : 0;
  if (target.size() != N * D)
    return node_error(node, "target " + tensor_desc(target) + " does not match input " + tensor_desc(x));
  if (weight && weight->size() != C)
    return node_error(node, "weight " + tensor_desc(*weight) + " must have " + std::to_string(C) + " elements");
  const bool sce = node.op_type == "SoftmaxCrossEntropyLoss";
  // log-probabilities: the input itself (NLL) or its log-softmax over axis 1 (SCE).
  std::vector<double> logp(static_cast<size_t>(x.size()));
  for (int64_t i = 0; i < x.size(); ++i) logp[i] = x.get_as_double(i);
  if (sce)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t d = 0; d < D; ++d) {
        double mx = -INFINITY, sum = 0;
        for (int64_t c = 0; c < C; ++c) mx = std::max(mx, logp[(n * C + c) * D + d]);
        for (int64_t c = 0; c < C; ++c) sum += std::exp(logp[(n * C + c) * D + d] - mx);
        const double lse = mx + std::log(sum);
        for (int64_t c = 0; c < C; ++c) logp[(n * C + c) * D + d] -= lse;
      }
  const bool has_ignore = node.has_attr("ignore_index");
  const int64_t ignore = node.attr_int("ignore_index", 0);
  const std::string reduction = node.attr_string("reduction", "mean");
  std::vector<double> l(static_cast<size_t>(N * D), 0.0);
  double total = 0, wsum = 0;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t d = 0; d < D; ++d) {
      const int64_t t = target.get_as_int64(n * D + d);
      if (has_ignore && t == ignore) continue;
      if (t < 0 || t >= C)
        return node_error(node, "target class " + std::to_string(t) + " is out of range [0, " + std::to_string(C) + ")");
      const double w = weight ? weight->get_as_double(t) : 1.0;
      l[n * D + d] = -logp[(n * C + t) * D + d] * w;
      total += l[n * D + d];
      wsum += w;
    }
  Tensor& y = outputs[0];
  if (reduction == "none") {
    for (int64_t i = 0; i < N * D; ++i) y.set_from_double(i, l[i]);
  } else if (reduction == "sum") {
    y.set_from_double(0, total);
  } else {
    y.set_from_double(0, wsum != 0 ? total / wsum : 0.0);
  }
  if (sce && outputs.size() > 1 && node.has_output(1))
    for (int64_t i = 0; i < x.size(); ++i) outputs[1].set_from_double(i, logp[i]);
  return Status::Ok();
}

}  // namespace glint::cpu
