#include "engine/core/log.h"
#include "engine/passes/passes.h"
#include "engine/registry/op_table.h"

namespace glint::passes {

Status infer_shapes(ir::Graph& g) {
  GLINT_ASSIGN_OR_RETURN(auto order, ir::topological_order(g));
  for (size_t idx : order) {
    const ir::Node& n = g.nodes[idx];
    InferFn infer = find_infer(n);
    if (infer == nullptr) continue;
    std::vector<const ir::ValueInfo*> ins;
    std::vector<const Tensor*> consts;
    bool any_unknown_dtype = false;
    for (auto& in : n.inputs) {
      const ir::ValueInfo* vi = in.empty() ? nullptr : g.info(in);
      if (!in.empty() && (vi == nullptr || vi->dtype == DataType::kUndefined || vi->kind != ir::TypeKind::kTensor))
        any_unknown_dtype = true;
      ins.push_back(vi);
      auto it = in.empty() ? g.initializers.end() : g.initializers.find(in);
      consts.push_back(it == g.initializers.end() ? nullptr : &it->second);
    }
    if (any_unknown_dtype) continue;  // an upstream op had no shape function
    std::vector<ir::ValueInfo> outs(n.outputs.size());
    Status s = infer(n, ins, consts, outs);
    // A node whose inputs contradict its op (channel counts, ranks) is a
    // broken model: say so at load rather than at the first run.
    if (!s.ok()) return s;
    for (size_t i = 0; i < outs.size(); ++i)
      if (n.has_output(i) && outs[i].dtype != DataType::kUndefined) g.values[n.outputs[i]] = outs[i];
  }
  return Status::Ok();
}

Status optimize(ir::Graph& g, const OptimizeOptions& options) {
  GLINT_RETURN_IF_ERROR(constant_nodes_to_initializers(g));
  GLINT_RETURN_IF_ERROR(remove_identity(g));
  if (options.fold) {
    GLINT_RETURN_IF_ERROR(infer_shapes(g));  // static shapes let Shape/Size fold
    GLINT_RETURN_IF_ERROR(fold_constants(g));
    GLINT_RETURN_IF_ERROR(fold_body_constants(g));
    // After folding, so that statistics computed by Constant subgraphs count.
    if (options.fold_batch_norm) {
      GLINT_RETURN_IF_ERROR(fold_batch_norm(g, options.keep_nodes));
      GLINT_RETURN_IF_ERROR(infer_shapes(g));  // the Add's channel count comes from the conv's output
      GLINT_RETURN_IF_ERROR(fold_conv_add(g, options.keep_nodes));
    }
  }
  GLINT_RETURN_IF_ERROR(remove_dead_nodes(g));
  GLINT_RETURN_IF_ERROR(infer_shapes(g));
  // Need the inferred dtypes (and the normalized input's last dim).
  GLINT_RETURN_IF_ERROR(fuse_layer_norm(g, options.keep_nodes));
  GLINT_RETURN_IF_ERROR(fuse_gelu(g, options.keep_nodes));
  GLINT_RETURN_IF_ERROR(fuse_matmul_transpose(g, options.keep_nodes));
  GLINT_RETURN_IF_ERROR(collapse_reshapes(g, options.keep_nodes));
  GLINT_RETURN_IF_ERROR(fold_matmul_scale(g, options.keep_nodes));
  // They need every value's dtype, and they leave shapes as they are; the
  // residual first, so that a Relu after the Add then fuses into the Conv.
  if (options.fuse_activations) {
    GLINT_RETURN_IF_ERROR(fuse_residual_add(g, options.keep_nodes));
    if (options.fuse_matmul_adds) GLINT_RETURN_IF_ERROR(fuse_matmul_add(g, options.keep_nodes));
    GLINT_RETURN_IF_ERROR(fuse_activations(g, options.keep_nodes));
  }
  // After the fusions, which match MatMul: the rewritten node keeps its
  // fused activation (the runner applies it after the FusedMatMul kernel).
  if (options.transpose_matmul_weights) GLINT_RETURN_IF_ERROR(transpose_matmul_weights(g, options.keep_nodes));
  // After the residual and activation fusions, which match a plain Conv.
  if (options.winograd_conv_weights) GLINT_RETURN_IF_ERROR(winograd_conv_weights(g, options.keep_nodes));
  // After the activation fusions (the Conv's Relu goes with it); the pools
  // downstream get their shapes inferred again.
  if (options.flatten_pooled_convs) {
    GLINT_RETURN_IF_ERROR(flatten_pooled_convs(g, options.keep_nodes));
    GLINT_RETURN_IF_ERROR(infer_shapes(g));
  }
  return Status::Ok();
}

}  // namespace glint::passes
