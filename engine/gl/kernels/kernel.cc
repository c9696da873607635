#include "engine/gl/kernels/kernel.h"

#include "engine/gl/layout/texture_layout.h"

namespace glint::gl {

namespace {
bool float_storage(DataType t) { return t == DataType::kFloat32 || t == DataType::kFloat16; }
}  // namespace

// A negative dim: shape inference could not size the output because a shape
// input's value lives on the GPU; the node then runs where it can be sized.
bool outputs_sized(const KernelContext& ctx, std::string* why) {
  for (size_t i = 0; i < ctx.outputs.size(); ++i) {
    if (ctx.node && !ctx.node->has_output(i)) continue;
    for (int64_t d : ctx.outputs[i].shape) {
      if (d >= 0) continue;
      if (why) *why = "output " + std::to_string(i) + " shape " + shape_str(ctx.outputs[i].shape) + " is not known";
      return false;
    }
  }
  return true;
}

bool all_float(const KernelContext& ctx, std::string* why) {
  if (!outputs_sized(ctx, why)) return false;
  for (size_t i = 0; i < ctx.inputs.size(); ++i) {
    if (!ctx.inputs[i] || float_storage(ctx.inputs[i]->dtype)) continue;
    if (why)
      *why = "input " + std::to_string(i) + " is " + dtype_name(ctx.inputs[i]->dtype) +
             " (GPU kernels take float32/float16)";
    return false;
  }
  for (size_t i = 0; i < ctx.outputs.size(); ++i) {
    if (ctx.node && !ctx.node->has_output(i)) continue;  // unused optional output
    if (float_storage(ctx.outputs[i].dtype)) continue;
    if (why)
      *why = "output " + std::to_string(i) + " is " + dtype_name(ctx.outputs[i].dtype) +
             " (GPU kernels write float32/float16)";
    return false;
  }
  return true;
}

bool all_gpu_dtypes(const KernelContext& ctx, std::string* why) {
  if (!outputs_sized(ctx, why)) return false;
  for (size_t i = 0; i < ctx.inputs.size(); ++i) {
    if (!ctx.inputs[i] || gpu_holds_dtype(ctx.inputs[i]->dtype)) continue;
    if (why) *why = "input " + std::to_string(i) + " is " + dtype_name(ctx.inputs[i]->dtype) + " (not held on the GPU)";
    return false;
  }
  for (size_t i = 0; i < ctx.outputs.size(); ++i) {
    if (ctx.node && !ctx.node->has_output(i)) continue;
    if (gpu_holds_dtype(ctx.outputs[i].dtype)) continue;
    if (why) *why = "output " + std::to_string(i) + " is " + dtype_name(ctx.outputs[i].dtype) + " (not held on the GPU)";
    return false;
  }
  return true;
}

}  // namespace glint::gl
