#include "engine/gl/kernels/kernel.h"

namespace glint::gl {

namespace {
bool float_storage(DataType t) { return t == DataType::kFloat32 || t == DataType::kFloat16; }
}  // namespace

bool all_float(const KernelContext& ctx, std::string* why) {
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

}  // namespace glint::gl
