// Conv / ConvTranspose / Gemm / MatMul followed by an activation that alone
// reads its output: the activation node goes, and the producer carries it as
// internal attributes (engine/ops/fused_activation.h), which the runtime
// applies to output 0. One node and one texture round trip fewer per layer.
// Likewise a residual Add after a Conv (fuse_residual_add): the Conv adds the
// other operand in its epilogue; and a linear layer's bias Add and the
// residual Add after it on a MatMul (fuse_matmul_add): two passes fewer per
// layer on the GPU, where a transformer's decode step is mostly passes.
#include <functional>
#include <set>

#include "engine/ops/fused_activation.h"
#include "engine/passes/pass_util.h"
#include "engine/passes/passes.h"

namespace glint::passes {

namespace {

const std::set<std::string> kProducers = {"Conv", "ConvTranspose", "Gemm", "MatMul"};

// Clip from opset 11 takes its bounds as optional inputs: fusable when they
// are absent or one-element float constants.
bool clip_input_bounds(const ir::Graph& g, const ir::Node& clip, FusedActivation* a) {
  if (clip.opset < 11) return clip.inputs.size() <= 1;
  for (size_t i = 1; i < clip.inputs.size(); ++i) {
    if (!clip.has_input(i)) continue;
    if (i > 2 || !g.is_constant(clip.inputs[i])) return false;
    const Tensor& t = g.initializers.at(clip.inputs[i]);
    if (!is_float(t.dtype()) || t.size() != 1) return false;
    (i == 1 ? a->alpha : a->beta) = static_cast<float>(t.get_as_double(0));
  }
  return true;
}

// The Add fusions (fuse_residual_add, fuse_matmul_add) through
// fold_into_producers: every ONNX Add of two distinct present operands into
// one output, one operand at a time, `attach(add, producer, other operand)`
// recording the other operand on the producer. The other operand cannot
// depend on the producer's output: that output's one reader is this Add.
// (The index goes on counting the Add as the other operand's reader in place
// of the producer: the same count.)
Status absorb_adds(ir::Graph& g, const std::set<std::string>& keep,
                   const std::function<bool(const ir::Node& add, ir::Node& producer, const std::string& other)>& attach) {
  return fold_into_producers(
      g, keep,
      [](const ir::Node& add) {
        const bool fusable = add.op_type == "Add" && add.domain.empty() && add.inputs.size() == 2 && add.has_input(0) &&
                             add.has_input(1) && add.outputs.size() == 1 && add.has_output(0) &&
                             add.inputs[0] != add.inputs[1];  // x + x: the producer would read its own output
        return fusable ? std::vector<int>{0, 1} : std::vector<int>{};
      },
      [&](const ir::Node& add, int side, ir::Node& producer) { return attach(add, producer, add.inputs[1 - side]); });
}

// `addend` broadcasts to `y` without growing it, whatever values y's
// symbolic dims take (a model exported with a free batch or sequence): each
// of its dims, aligned to y's trailing ones, is 1, or y's dim, known or of
// the same symbol. The kernels check the concrete shapes again at run time.
bool broadcasts_into(const ir::ValueInfo& addend, const ir::ValueInfo& y) {
  if (!addend.has_shape || !y.has_shape || addend.dims.size() > y.dims.size()) return false;
  const size_t lead = y.dims.size() - addend.dims.size();
  for (size_t d = 0; d < addend.dims.size(); ++d) {
    const ir::Dim& a = addend.dims[d];
    const ir::Dim& b = y.dims[lead + d];
    if (a.known() && (a.value == 1 || a.value == b.value)) continue;
    if (!a.known() && !b.known() && !a.symbol.empty() && a.symbol == b.symbol) continue;
    return false;
  }
  return true;
}

bool takes_addends(const ir::Node& n) {
  return is_matmul_product(n) && n.outputs.size() == 1 && n.inputs.size() == static_cast<size_t>(2 + fused_addend_count(n)) &&
         fused_addend_count(n) < kMaxFusedAddends && fused_activation_of(n).kind == FusedActivation::kNone;
}

}  // namespace

Status fuse_residual_add(ir::Graph& g, const std::set<std::string>& keep) {
  return absorb_adds(g, keep, [&](const ir::Node& add, ir::Node& conv, const std::string& residual) {
    // Both operands float32 of one fully known shape: no broadcasting.
    const ir::ValueInfo* a = g.info(add.inputs[0]);
    const ir::ValueInfo* b = g.info(add.inputs[1]);
    if (a == nullptr || b == nullptr || a->dtype != DataType::kFloat32 || b->dtype != DataType::kFloat32 ||
        !a->fully_known() || !b->fully_known() || a->concrete() != b->concrete())
      return false;
    if (conv.op_type != "Conv" || !conv.domain.empty() || conv.outputs.size() != 1 || conv.inputs.size() > 3 ||
        fused_activation_of(conv).kind != FusedActivation::kNone || fused_residual_input(conv) >= 0)
      return false;
    set_fused_residual(conv, residual);
    return true;
  });
}

Status fuse_matmul_add(ir::Graph& g, const std::set<std::string>& keep) {
  return absorb_adds(g, keep, [&](const ir::Node&, ir::Node& product, const std::string& addend) {
    // Float32, the product's shape the sum's.
    const ir::ValueInfo* yi = g.info(product.outputs[0]);
    const ir::ValueInfo* ai = g.info(addend);
    if (yi == nullptr || ai == nullptr || yi->dtype != DataType::kFloat32 || ai->dtype != DataType::kFloat32 ||
        !broadcasts_into(*ai, *yi) || !takes_addends(product))
      return false;
    add_fused_addend(product, addend);
    return true;
  });
}

Status fuse_activations(ir::Graph& g, const std::set<std::string>& keep) {
  return fold_into_producers(
      g, keep,
      [](const ir::Node& act) {
        const bool fusable = activation_from_op(act).kind != FusedActivation::kNone && act.has_input(0) &&
                             act.outputs.size() == 1 && act.has_output(0);
        return fusable ? std::vector<int>{0} : std::vector<int>{};
      },
      [&](const ir::Node& act, int, ir::Node& producer) {
        FusedActivation a = activation_from_op(act);
        if (a.kind == FusedActivation::kClip && !clip_input_bounds(g, act, &a)) return false;
        if (a.kind != FusedActivation::kClip && act.inputs.size() != 1) return false;
        const bool product = is_matmul_product(producer);
        if (!(product || (kProducers.count(producer.op_type) && producer.domain.empty())) ||
            producer.outputs.size() != 1)
          return false;
        // Gelu into products alone: their CPU kernel applies it in vectors (the
        // runtime's scalar fallback would be slower than the Gelu kernel).
        if (a.kind == FusedActivation::kGelu && !product) return false;
        if (fused_activation_of(producer).kind != FusedActivation::kNone) return false;
        // MatMul also multiplies integers; the activations here are float maps.
        const ir::ValueInfo* vi = g.info(act.inputs[0]);
        if (vi == nullptr || (vi->dtype != DataType::kFloat32 && vi->dtype != DataType::kFloat16)) return false;
        set_fused_activation(producer, a);
        return true;
      });
}

}  // namespace glint::passes
