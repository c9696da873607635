// Random ops: RandomUniform, RandomNormal, RandomUniformLike,
// RandomNormalLike, Bernoulli, Multinomial, and Dropout in training mode.
// A std::mt19937 seeded by the `seed` attribute (when present) makes a run
// repeatable; without it each run draws a fresh seed. The values differ from
// other runtimes' generators, so tests compare them by dtype, shape and range.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>

#include "engine/cpu/kernels.h"
#include "engine/cpu/util.h"

namespace glint::cpu {

namespace {

std::mt19937 make_rng(const ir::Node& node) {
  if (node.has_attr("seed")) {
    // The seed is a float attribute. Its value seeds while it fits an int64
    // (seed 1.0 draws as it always has); casting a NaN or a huge value is
    // undefined (the fuzzer found seed NaN), so then its bits seed instead.
    const float seed = node.attr_float("seed", 0.f);
    if (std::fabs(seed) < 9.2e18f) return std::mt19937(static_cast<uint32_t>(static_cast<int64_t>(seed)));
    uint32_t bits;
    std::memcpy(&bits, &seed, sizeof bits);
    return std::mt19937(bits);
  }
  std::random_device rd;
  return std::mt19937(rd());
}

bool is_like(const std::string& op) { return op == "RandomUniformLike" || op == "RandomNormalLike" || op == "Bernoulli"; }

}  // namespace

Status infer_random(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                    const std::vector<const Tensor*>&, std::vector<ir::ValueInfo>& outputs) {
  if (is_like(node.op_type)) {
    GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 1));
    outputs[0] = *inputs[0];
    if (node.has_attr("dtype")) outputs[0].dtype = static_cast<DataType>(node.attr_int("dtype", 1));
    return Status::Ok();
  }
  if (!node.has_attr("shape")) return node_error(node, "the shape attribute is required");
  outputs[0].dtype = static_cast<DataType>(node.attr_int("dtype", 1));
  outputs[0].has_shape = true;
  outputs[0].dims.clear();
  for (int64_t d : node.attr_ints("shape")) {
    if (d < 0) return node_error(node, "shape must be non-negative, given " + std::to_string(d));
    outputs[0].dims.push_back(ir::Dim{d, ""});
  }
  return Status::Ok();
}

Status random_kernel(const ir::Node& node, const std::vector<const Tensor*>& inputs,
                     std::vector<Tensor>& outputs) {
  if (is_like(node.op_type)) GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_random, node, inputs, outputs));
  Tensor& y = outputs[0];
  if (!dtype_in(y.dtype(), {DataType::kFloat32, DataType::kFloat16, DataType::kBFloat16, DataType::kFloat64}) &&
      node.op_type != "Bernoulli")
    return node_error(node, "output dtype must be a float type, given " + tensor_desc(y));
  std::mt19937 rng = make_rng(node);
  const std::string& op = node.op_type;
  if (op == "Bernoulli") {
    std::uniform_real_distribution<double> u(0.0, 1.0);
    const Tensor& p = *inputs[0];
    for (int64_t i = 0; i < y.size(); ++i) y.set_from_double(i, u(rng) < p.get_as_double(i) ? 1.0 : 0.0);
  } else if (op == "RandomUniform" || op == "RandomUniformLike") {
    const double low = node.attr_float("low", 0.f), high = node.attr_float("high", 1.f);
    if (!(low <= high))
      return node_error(node, "low must not exceed high, given " + std::to_string(low) + " > " + std::to_string(high));
    std::uniform_real_distribution<double> u(low, high);
    for (int64_t i = 0; i < y.size(); ++i) y.set_from_double(i, std::min(u(rng), high));
  } else {
    const double scale = node.attr_float("scale", 1.f);
    if (!(scale >= 0)) return node_error(node, "scale must be non-negative, given " + std::to_string(scale));
    std::normal_distribution<double> n(node.attr_float("mean", 0.f), scale);
    for (int64_t i = 0; i < y.size(); ++i) y.set_from_double(i, n(rng));
  }
  round_to_dtype(y);
  return Status::Ok();
}

// Multinomial: input [batch, classes] of unnormalised log-probabilities,
// output [batch, sample_size] of class indices.
Status infer_multinomial(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                         const std::vector<const Tensor*>&, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 1));
  const ir::ValueInfo& x = *inputs[0];
  if (x.has_shape && x.dims.size() != 2)
    return node_error(node, "input must be [batch, class_size], given " + x.describe());
  const DataType dt = static_cast<DataType>(node.attr_int("dtype", 6));
  if (dt != DataType::kInt32 && dt != DataType::kInt64)
    return node_error(node, "dtype must be int32 or int64, given " + std::to_string(static_cast<int>(dt)));
  const int64_t samples = node.attr_int("sample_size", 1);
  if (samples < 0) return node_error(node, "sample_size must be non-negative, given " + std::to_string(samples));
  outputs[0].dtype = dt;
  outputs[0].has_shape = true;
  outputs[0].dims = {x.has_shape ? x.dims[0] : ir::Dim{}, ir::Dim{samples, ""}};
  return Status::Ok();
}

Status multinomial(const ir::Node& node, const std::vector<const Tensor*>& inputs,
                   std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_multinomial, node, inputs, outputs));
  const Tensor& x = *inputs[0];
  Tensor& y = outputs[0];
  const int64_t batch = x.shape()[0], classes = x.shape()[1], samples = y.shape()[1];
  if (classes == 0 && samples > 0) return node_error(node, "class_size must be positive, given 0");
  std::mt19937 rng = make_rng(node);
  std::vector<double> cdf(classes);
  for (int64_t b = 0; b < batch; ++b) {
    double mx = -INFINITY, total = 0;
    for (int64_t c = 0; c < classes; ++c) mx = std::max(mx, x.get_as_double(b * classes + c));
    for (int64_t c = 0; c < classes; ++c) cdf[c] = total += std::exp(x.get_as_double(b * classes + c) - mx);
    std::uniform_real_distribution<double> u(0.0, total);
    for (int64_t s = 0; s < samples; ++s) {
      const double r = u(rng);
      int64_t c = static_cast<int64_t>(std::upper_bound(cdf.begin(), cdf.end(), r) - cdf.begin());
      y.set_from_double(b * samples + s, static_cast<double>(std::min(c, classes - 1)));
    }
  }
  return Status::Ok();
}

// Dropout (opset 12+) with training_mode true and a non-zero ratio: keeps
// each element with probability 1 - ratio, scaled by 1 / (1 - ratio).
// Everything else is the inference kernel `dropout`.
Status dropout_training(const ir::Node& node, const std::vector<const Tensor*>& inputs,
                        std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
  const Tensor* ratio_t = inputs.size() > 1 ? inputs[1] : nullptr;
  const Tensor* training = inputs.size() > 2 ? inputs[2] : nullptr;
  const bool train = training && training->size() == 1 && training->get_as_double(0) != 0;
  const double ratio = ratio_t && ratio_t->size() == 1 ? ratio_t->get_as_double(0) : 0.5;
  if (node.opset < 12 || !train || ratio == 0.0) return dropout(node, inputs, outputs);
  if (!(ratio >= 0 && ratio <= 1))
    return node_error(node, "ratio must be in [0, 1], given " + std::to_string(ratio));
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_dropout, node, inputs, outputs));
  const Tensor& x = *inputs[0];
  Tensor& y = outputs[0];
  Tensor* mask = outputs.size() > 1 && node.has_output(1) ? &outputs[1] : nullptr;
  const double scale = ratio < 1 ? 1.0 / (1.0 - ratio) : 0.0;
  std::mt19937 rng = make_rng(node);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int64_t i = 0; i < x.size(); ++i) {
    const bool keep = u(rng) >= ratio;
    y.set_from_double(i, keep ? x.get_as_double(i) * scale : 0.0);
    if (mask) mask->set_from_double(i, keep ? 1.0 : 0.0);
  }
  round_to_dtype(y);
  return Status::Ok();
}

}  // namespace glint::cpu
