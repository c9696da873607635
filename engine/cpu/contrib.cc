// com.microsoft ops that onnxruntime's transformer optimizer and exporters
// write into web models (BERT, GPT-2, ViT exports fused for inference), as
// onnxruntime's docs/ContribOperators.md defines them: the GELU family
// (Gelu, FastGelu, BiasGelu, QuickGelu), BiasAdd, the fused layer norms
// (SkipLayerNormalization, SkipSimplifiedLayerNormalization,
// SimplifiedLayerNormalization) and FusedMatMul. CPU kernels, computed in
// double like the rest of the reference kernels, except the float32 erf
// GELU (vectors: a transformer's MLP runs it over every hidden unit).
#include <cmath>

#include "engine/cpu/kernels.h"
#include "engine/cpu/simd.h"
#include "engine/cpu/threadpool.h"
#include "engine/cpu/util.h"

namespace glint::cpu {

namespace {

constexpr double kSqrt2OverPi = 0.7978845608028654;

// Bias of the last dim (length C) added to x, when present.
Status check_last_dim_bias(const ir::Node& node, const Tensor& x, const Tensor* bias, const char* what) {
  if (!bias) return Status::Ok();
  if (bias->rank() != 1 || x.rank() == 0 || bias->shape()[0] != x.shape().back())
    return node_error(node, std::string(what) + " " + tensor_desc(*bias) + " must be 1-D of the last dim of " +
                                tensor_desc(x));
  return Status::Ok();
}

template <class F>
Status map_with_bias(const ir::Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out, F f) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, in, 1));
  const Tensor& x = *in[0];
  if (!is_float(x.dtype())) return node_unsupported(node, "X has dtype " + dtype_name(x.dtype()));
  const Tensor* bias = in.size() > 1 ? in[1] : nullptr;
  GLINT_RETURN_IF_ERROR(check_last_dim_bias(node, x, bias, "bias"));
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_same, node, in, out));
  const int64_t c = x.rank() ? x.shape().back() : 1;
  for (int64_t i = 0; i < x.size(); ++i) {
    double v = x.get_as_double(i);
    if (bias) v += bias->get_as_double(i % c);
    out[0].set_from_double(i, f(v));
  }
  round_to_dtype(out[0]);
  return Status::Ok();
}

double gelu_erf(double v) { return 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0))); }

}  // namespace

void gelu_erf_rows(const float* x, const float* bias, float* y, int64_t rows, int64_t c) {
  using simd::v4;
  parallel_for(rows, [&](int64_t r) {
    const float* xr = x + r * c;
    float* yr = y + r * c;
    int64_t j = 0;
    for (; j + 4 <= c; j += 4) {
      v4 v = simd::load(xr + j);
      if (bias) v += simd::load(bias + j);
      simd::store(yr + j, simd::gelu_erf(v));
    }
    if (j < c) {
      float tail[4] = {0.f, 0.f, 0.f, 0.f};
      for (int64_t k = j; k < c; ++k) tail[k - j] = xr[k] + (bias ? bias[k] : 0.f);
      simd::store(tail, simd::gelu_erf(simd::load(tail)));
      for (int64_t k = j; k < c; ++k) yr[k] = tail[k - j];
    }
  }, grain_for(20 * c));
}

namespace {

// Gelu / BiasGelu of float32: x (+ bias) rows, the erf in vectors (simd.h,
// within 2e-7 of erf). A BERT MLP's [128, 1536] went from a libm call per
// element in double to four lanes at a time.
Status gelu_float(const ir::Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, in, 1));
  const Tensor& x = *in[0];
  const Tensor* bias = in.size() > 1 ? in[1] : nullptr;
  GLINT_RETURN_IF_ERROR(check_last_dim_bias(node, x, bias, "bias"));
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_same, node, in, out, OutputFill::kUnfilled));
  const int64_t c = x.rank() ? x.shape().back() : 1;
  gelu_erf_rows(x.data<float>(), bias ? bias->data<float>() : nullptr, out[0].data<float>(), c ? x.size() / c : 0, c);
  return Status::Ok();
}

// The layer norms over the last dim of `input` (+ skip + bias): mean
// removed (LayerNorm) or not (RMS, "simplified"), then gamma and beta.
Status skip_norm(const ir::Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out,
                 bool simplified, bool has_skip) {
  const size_t required = has_skip ? 3 : 2;
  GLINT_RETURN_IF_ERROR(check_inputs(node, in, required));
  const Tensor& x = *in[0];
  if (!is_float(x.dtype()) || x.rank() == 0) return node_unsupported(node, "input " + tensor_desc(x));
  const Tensor* skip = has_skip ? in[1] : nullptr;
  const Tensor& gamma = *in[has_skip ? 2 : 1];
  // SkipLayerNormalization: input, skip, gamma, beta, bias;
  // SkipSimplifiedLayerNormalization: input, skip, gamma, bias.
  const Tensor* beta = !simplified && has_skip && in.size() > 3 ? in[3] : nullptr;
  const Tensor* bias = has_skip ? (simplified ? (in.size() > 3 ? in[3] : nullptr) : (in.size() > 4 ? in[4] : nullptr))
                                : nullptr;
  int64_t axis = x.rank() - 1;
  if (!has_skip) GLINT_RETURN_IF_ERROR(normalize_axis(node, node.attr_int("axis", -1), x.rank(), &axis));
  const Shape norm(x.shape().begin() + axis, x.shape().end());
  const int64_t inner = shape_size(norm), outer = inner ? x.size() / inner : 0;
  if (skip) {
    // skip is input-shaped, or [S, C] / [1, S, C] broadcast over the batch.
    if (skip->size() == 0 || x.size() % skip->size() != 0 || skip->shape().back() != x.shape().back())
      return node_error(node, "skip " + tensor_desc(*skip) + " does not match input " + tensor_desc(x));
  }
  if (gamma.size() != inner) return node_error(node, "gamma " + tensor_desc(gamma) + " must have " + std::to_string(inner) + " values");
  if (beta && beta->size() != inner) return node_error(node, "beta " + tensor_desc(*beta) + " must have " + std::to_string(inner) + " values");
  if (bias && bias->size() != inner) return node_error(node, "bias " + tensor_desc(*bias) + " must have " + std::to_string(inner) + " values");
  out.assign(node.outputs.size(), Tensor());
  out[0] = Tensor(x.dtype(), x.shape());
  Shape stat_shape = x.shape();
  for (size_t d = static_cast<size_t>(axis); d < stat_shape.size(); ++d) stat_shape[d] = 1;
  // Skip ops: outputs mean, inv_std_var, input_skip_bias_sum. Simplified: Y, inv_std_var.
  const size_t mean_out = has_skip ? 1 : 99, inv_out = has_skip ? 2 : 1, sum_out = has_skip ? 3 : 99;
  for (size_t o = 1; o < out.size(); ++o) {
    if (!node.has_output(o)) continue;
    out[o] = o == sum_out ? Tensor(x.dtype(), x.shape()) : Tensor(DataType::kFloat32, stat_shape);
  }
  const double eps = node.attr_float("epsilon", has_skip ? 1e-12f : 1e-5f);
  std::vector<double> row(static_cast<size_t>(inner));
  for (int64_t r = 0; r < outer; ++r) {
    double mean = 0;
    for (int64_t j = 0; j < inner; ++j) {
      const int64_t i = r * inner + j;
      double v = x.get_as_double(i);
      if (skip) v += skip->get_as_double(i % skip->size());
      if (bias) v += bias->get_as_double(j);
      row[j] = v;
      mean += v;
      if (sum_out < out.size() && node.has_output(sum_out)) out[sum_out].set_from_double(i, v);
    }
    mean = simplified ? 0.0 : mean / inner;
    double var = 0;
    for (int64_t j = 0; j < inner; ++j) var += (row[j] - mean) * (row[j] - mean);
    const double inv = 1.0 / std::sqrt(var / inner + eps);
    for (int64_t j = 0; j < inner; ++j)
      out[0].set_from_double(r * inner + j, (row[j] - mean) * inv * gamma.get_as_double(j) + (beta ? beta->get_as_double(j) : 0.0));
    if (mean_out < out.size() && node.has_output(mean_out)) out[mean_out].set_from_double(r, mean);
    if (inv_out < out.size() && node.has_output(inv_out)) out[inv_out].set_from_double(r, inv);
  }
  round_to_dtype(out[0]);
  if (sum_out < out.size() && node.has_output(sum_out)) round_to_dtype(out[sum_out]);
  return Status::Ok();
}

// The last two dims of t swapped.
Tensor transposed_last2(const Tensor& t) {
  Shape s = t.shape();
  const int64_t r = s[s.size() - 2], c = s.back();
  std::swap(s[s.size() - 2], s[s.size() - 1]);
  Tensor out(t.dtype(), s);
  const int64_t mats = r * c != 0 ? t.size() / (r * c) : 0;
  for (int64_t m = 0; m < mats; ++m)
    for (int64_t i = 0; i < r; ++i)
      for (int64_t j = 0; j < c; ++j) out.set_from_double(m * r * c + j * r + i, t.get_as_double(m * r * c + i * c + j));
  return out;
}

}  // namespace

Status gelu_contrib(const ir::Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  if (node.op_type == "QuickGelu") {
    const double alpha = node.attr_float("alpha", 1.702f);
    return map_with_bias(node, {in.empty() ? nullptr : in[0]}, out,
                         [alpha](double v) { return v / (1.0 + std::exp(-alpha * v)); });
  }
  // ONNX Gelu (opset 20): the erf form, or FastGelu's tanh approximation.
  const std::string approximate = node.op_type == "Gelu" ? gelu_approximation(node) : "none";
  if (approximate != "none" && approximate != "tanh")
    return node_error(node, "approximate must be 'none' or 'tanh', given '" + approximate + "'");
  if (node.op_type == "FastGelu" || approximate == "tanh")
    return map_with_bias(node, in, out, [](double v) {
      return 0.5 * v * (1.0 + std::tanh(kSqrt2OverPi * (v + 0.044715 * v * v * v)));
    });
  if (node.op_type == "BiasGelu" && (in.size() < 2 || !in[1])) return node_error(node, "BiasGelu needs a bias");
  const Tensor* bias = in.size() > 1 ? in[1] : nullptr;
  if (!in.empty() && in[0] && in[0]->dtype() == DataType::kFloat32 && (!bias || bias->dtype() == DataType::kFloat32))
    return gelu_float(node, in, out);
  return map_with_bias(node, in, out, gelu_erf);  // Gelu, BiasGelu
}

Status bias_add(const ir::Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, in, 3));
  const Tensor& x = *in[0];
  const Tensor& bias = *in[1];
  const Tensor& skip = *in[2];
  GLINT_RETURN_IF_ERROR(check_last_dim_bias(node, x, &bias, "bias"));
  if (skip.shape() != x.shape()) return node_error(node, "skip " + tensor_desc(skip) + " must match X " + tensor_desc(x));
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_same, node, in, out));
  const int64_t c = x.shape().back();
  for (int64_t i = 0; i < x.size(); ++i)
    out[0].set_from_double(i, x.get_as_double(i) + bias.get_as_double(i % c) + skip.get_as_double(i));
  round_to_dtype(out[0]);
  return Status::Ok();
}

Status skip_layer_norm(const ir::Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  if (node.op_type == "SimplifiedLayerNormalization") return skip_norm(node, in, out, true, false);
  return skip_norm(node, in, out, node.op_type == "SkipSimplifiedLayerNormalization", true);
}

Status infer_skip_layer_norm(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                             const std::vector<const Tensor*>&, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 2));
  const ir::ValueInfo& x = *inputs[0];
  const bool skip_op = node.op_type != "SimplifiedLayerNormalization";
  for (size_t o = 0; o < outputs.size(); ++o) {
    outputs[o] = x;
    const bool stats = skip_op ? (o == 1 || o == 2) : o == 1;
    if (!stats) continue;
    outputs[o].dtype = DataType::kFloat32;
    if (!x.has_shape || x.dims.empty()) continue;
    int64_t axis = static_cast<int64_t>(x.dims.size()) - 1;
    if (!skip_op) GLINT_RETURN_IF_ERROR(normalize_axis(node, node.attr_int("axis", -1), x.dims.size(), &axis));
    for (size_t d = static_cast<size_t>(axis); d < x.dims.size(); ++d) outputs[o].dims[d] = ir::Dim{1, ""};
  }
  return Status::Ok();
}

Status fused_matmul(const ir::Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, in, 2));
  if (node.attr_int("transBatchA", 0) || node.attr_int("transBatchB", 0))
    return node_unsupported(node, "transBatchA / transBatchB are not supported");
  const bool ta = node.attr_int("transA", 0) != 0, tb = node.attr_int("transB", 0) != 0;
  if ((ta && in[0]->rank() < 2) || (tb && in[1]->rank() < 2))
    return node_error(node, "transA / transB need operands of rank >= 2");
  if (is_float_storage(in[0]->dtype()) && in[1]->dtype() == in[0]->dtype())
    return matmul_float_trans(node, in, out, infer_fused_matmul, ta, tb, node.attr_float("alpha", 1.f));
  if (fused_addend_count(node) > 0)  // passes::fuse_matmul_add fuses float32 products only
    return internal_error(node.describe() + ": fused addends on a product of " + dtype_name(in[0]->dtype()));
  Tensor a = ta ? transposed_last2(*in[0]) : *in[0];
  Tensor b = tb ? transposed_last2(*in[1]) : *in[1];
  GLINT_RETURN_IF_ERROR(matmul(node, {&a, &b}, out));
  const double alpha = node.attr_float("alpha", 1.f);
  if (alpha != 1.0)
    for (int64_t i = 0; i < out[0].size(); ++i) out[0].set_from_double(i, alpha * out[0].get_as_double(i));
  round_to_dtype(out[0]);
  return Status::Ok();
}

Status infer_fused_matmul(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                          const std::vector<const Tensor*>& constants, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 2));
  GLINT_RETURN_IF_ERROR(check_product_input_count(node, inputs.size()));
  ir::ValueInfo a = *inputs[0], b = *inputs[1];
  auto swap_last2 = [](ir::ValueInfo& v) {
    if (v.has_shape && v.dims.size() >= 2) std::swap(v.dims[v.dims.size() - 2], v.dims[v.dims.size() - 1]);
  };
  if (node.attr_int("transA", 0)) swap_last2(a);
  if (node.attr_int("transB", 0)) swap_last2(b);
  return infer_matmul(node, {&a, &b}, {nullptr, nullptr}, outputs);
}

}  // namespace glint::cpu
