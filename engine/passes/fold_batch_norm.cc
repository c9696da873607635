// Conv → BatchNormalization (inference form, constant statistics) becomes one
// Conv: BN is a per-output-channel affine map y = γ(x − μ)/√(σ² + ε) + β, so
// it folds into the weights and bias of the convolution before it.
#include <cmath>
#include <set>

#include "engine/core/half.h"
#include "engine/passes/pass_util.h"
#include "engine/passes/passes.h"

namespace glint::passes {

namespace {

bool held_as_float(DataType t) { return t == DataType::kFloat32 || t == DataType::kFloat16; }

// What a tensor of `dtype` can hold: float16 constants stay half values.
float stored(DataType dtype, double v) {
  const float f = static_cast<float>(v);
  return dtype == DataType::kFloat16 ? round_to_half(f) : f;
}

// The BN's per-channel parameters, when they are constants of `channels`
// elements each and the node is the inference form with one output.
bool batch_norm_params(const ir::Graph& g, const ir::Node& bn, int64_t channels, std::vector<double>* factor,
                       std::vector<double>* shift) {
  if (bn.inputs.size() != 5 || !bn.has_input(0)) return false;
  for (size_t i = 1; i < bn.outputs.size(); ++i)
    if (bn.has_output(i)) return false;  // running statistics read: training form
  if (bn.attr_int("training_mode", 0) != 0) return false;
  if (bn.opset < 9 && bn.attr_int("spatial", 1) == 0) return false;  // per-element statistics
  const Tensor* p[5] = {};
  for (size_t i = 1; i < 5; ++i) {
    if (!bn.has_input(i) || !g.is_constant(bn.inputs[i])) return false;
    p[i] = &g.initializers.at(bn.inputs[i]);
    if (!is_float(p[i]->dtype()) || p[i]->size() != channels) return false;
  }
  const double eps = bn.attr_float("epsilon", 1e-5f);
  factor->resize(channels);
  shift->resize(channels);
  for (int64_t m = 0; m < channels; ++m) {
    const double f = p[1]->get_as_double(m) / std::sqrt(p[4]->get_as_double(m) + eps);
    (*factor)[m] = f;
    (*shift)[m] = p[2]->get_as_double(m) - p[3]->get_as_double(m) * f;  // β − μ·f; the conv bias adds B·f
  }
  return true;
}

}  // namespace

Status fold_batch_norm(ir::Graph& g, const std::set<std::string>& keep) {
  GLINT_ASSIGN_OR_RETURN(auto order, ir::topological_order(g));
  ValueIndex index(g);
  std::set<std::string> replaced;  // old weights and biases, erased below if nothing reads them
  std::vector<bool> removed(g.nodes.size(), false);
  for (size_t idx : order) {
    const ir::Node& bn = g.nodes[idx];
    if (bn.op_type != "BatchNormalization" || !bn.domain.empty() || !bn.has_input(0) || !bn.has_output(0) ||
        is_kept(bn, keep))
      continue;
    const size_t p = private_producer(g, index, bn.inputs[0]);
    if (p == ValueIndex::kNone) continue;
    ir::Node& conv = g.nodes[p];
    const bool transpose = conv.op_type == "ConvTranspose";
    if ((conv.op_type != "Conv" && !transpose) || !conv.domain.empty()) continue;
    if (!conv.has_input(1) || !g.is_constant(conv.inputs[1])) continue;
    if (conv.has_input(2) && !g.is_constant(conv.inputs[2])) continue;
    const Tensor& w = g.initializers.at(conv.inputs[1]);
    if (!held_as_float(w.dtype()) || w.rank() < 3) continue;
    // Output channel of each weight slice along dim 0: Conv's W is
    // [M, C/group, k...]; ConvTranspose's is [C, M/group, k...].
    const int64_t group = conv.attr_int("group", 1);
    const int64_t d0 = w.shape()[0], d1 = w.shape()[1];
    if (group <= 0 || (transpose && d0 % group != 0)) continue;
    const int64_t channels = transpose ? d1 * group : d0;
    std::vector<double> factor, shift;
    if (!batch_norm_params(g, bn, channels, &factor, &shift)) continue;
    const Tensor* b = conv.has_input(2) ? &g.initializers.at(conv.inputs[2]) : nullptr;
    if (b && (b->dtype() != w.dtype() || b->size() != channels)) continue;

    Tensor w2 = w.clone();
    float* wd = w2.data<float>();
    const int64_t inner = w.size() / (d0 * d1);  // kernel elements
    for (int64_t i = 0; i < d0; ++i)
      for (int64_t j = 0; j < d1; ++j) {
        const int64_t m = transpose ? (i / (d0 / group)) * d1 + j : i;
        float* k = wd + (i * d1 + j) * inner;
        for (int64_t e = 0; e < inner; ++e) k[e] = stored(w.dtype(), k[e] * factor[m]);
      }
    Tensor b2(w.dtype(), {channels});
    for (int64_t m = 0; m < channels; ++m)
      b2.data<float>()[m] = stored(w.dtype(), (b ? b->get_as_double(m) : 0.0) * factor[m] + shift[m]);

    const std::string w_name = index.fresh_name(conv.inputs[1] + "_bn");
    const std::string b_name = index.fresh_name((b ? conv.inputs[2] : conv.outputs[0] + "_bias") + "_bn");
    replaced.insert(conv.inputs[1]);
    if (b) replaced.insert(conv.inputs[2]);
    replaced.insert(bn.inputs.begin() + 1, bn.inputs.end());
    g.values[w_name] = ir::ValueInfo::of(w2);
    g.values[b_name] = ir::ValueInfo::of(b2);
    g.initializers[w_name] = std::move(w2);
    g.initializers[b_name] = std::move(b2);
    conv.inputs[1] = w_name;
    conv.inputs.resize(3);
    conv.inputs[2] = b_name;
    // The conv now writes the BN's output, so graph outputs and readers keep
    // their names.
    absorb_into_producer(g, index, p, idx, removed);
  }
  erase_nodes(g, removed);
  erase_unread_initializers(g, replaced);
  return Status::Ok();
}

// Conv → Add of a per-output-channel constant ([M, 1, 1] or [1, M, 1, 1]: a
// bias the exporter wrote as its own node, as in the ONNX zoo's MNIST)
// becomes the Conv's bias, so the Relu after it can fuse too.
Status fold_conv_add(ir::Graph& g, const std::set<std::string>& keep) {
  GLINT_ASSIGN_OR_RETURN(auto order, ir::topological_order(g));
  ValueIndex index(g);
  std::set<std::string> replaced;
  std::vector<bool> removed(g.nodes.size(), false);
  for (size_t idx : order) {
    const ir::Node& add = g.nodes[idx];
    if (add.op_type != "Add" || !add.domain.empty() || add.inputs.size() != 2 || add.outputs.size() != 1 ||
        is_kept(add, keep))
      continue;
    for (int side = 0; side < 2; ++side) {
      const std::string& x = add.inputs[side];
      const std::string& c = add.inputs[1 - side];
      if (!g.is_constant(c) || x == c) continue;
      const size_t p = private_producer(g, index, x);
      if (p == ValueIndex::kNone) continue;
      ir::Node& conv = g.nodes[p];
      if (conv.op_type != "Conv" || !conv.domain.empty() || !conv.has_input(1) || conv.outputs.size() != 1) continue;
      const ir::ValueInfo* y = g.info(x);
      const Tensor& add_c = g.initializers.at(c);
      if (y == nullptr || !y->has_shape || y->dims.size() < 3 || !y->dims[1].known() ||
          !held_as_float(add_c.dtype()) || add_c.dtype() != y->dtype)
        continue;
      // The constant must vary along the channel axis alone.
      const int64_t channels = y->dims[1].value;
      const Shape& cs = add_c.shape();
      if (cs.size() > y->dims.size() || cs.size() + 1 < y->dims.size() || add_c.size() != channels) continue;
      bool per_channel = true;
      const size_t channel_axis = cs.size() - (y->dims.size() - 1);  // axis 1 of y in c's dims
      for (size_t i = 0; i < cs.size(); ++i) per_channel = per_channel && (i == channel_axis || cs[i] == 1);
      if (!per_channel) continue;
      const Tensor* b = conv.has_input(2) ? (g.is_constant(conv.inputs[2]) ? &g.initializers.at(conv.inputs[2]) : nullptr)
                                          : nullptr;
      if (conv.has_input(2) && (b == nullptr || b->dtype() != add_c.dtype() || b->size() != channels)) continue;
      Tensor b2(add_c.dtype(), {channels});
      for (int64_t m = 0; m < channels; ++m)
        b2.data<float>()[m] = stored(add_c.dtype(), (b ? b->get_as_double(m) : 0.0) + add_c.get_as_double(m));
      const std::string b_name = index.fresh_name((b ? conv.inputs[2] : conv.outputs[0] + "_bias") + "_add");
      if (b) replaced.insert(conv.inputs[2]);
      replaced.insert(c);
      g.values[b_name] = ir::ValueInfo::of(b2);
      g.initializers[b_name] = std::move(b2);
      conv.inputs.resize(3);
      conv.inputs[2] = b_name;
      absorb_into_producer(g, index, p, idx, removed);
      break;
    }
  }
  erase_nodes(g, removed);
  erase_unread_initializers(g, replaced);
  return Status::Ok();
}

}  // namespace glint::passes
