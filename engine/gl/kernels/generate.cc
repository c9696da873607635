// Programs that generate values rather than transform sampled data: Shape and
// Size (the input's static shape baked into the source, int64 output),
// ConstantOfShape (the value attribute baked), EyeLike (a baked diagonal) and
// Range (start + i * delta, sampled scalars; the length comes from the
// inferred output shape). None of them reads an input texture except Range.
#include <algorithm>

#include "engine/gl/kernels/glsl_util.h"
#include "engine/gl/kernels/kernels.h"
#include "engine/gl/layout/texture_layout.h"

namespace glint::gl {

namespace {

// A value the output dtype holds exactly on the GPU (integers up to 2^24).
bool representable(DataType t, double v, std::string* why) {
  if (!gpu_holds_dtype(t)) return decline(why, "dtype " + dtype_name(t) + " is not held on the GPU");
  if (is_integer(t) && (v > kGpuExactIntLimit || v < -kGpuExactIntLimit))
    return decline(why, "value " + std::to_string(static_cast<int64_t>(v)) + " exceeds the GPU's exact integer range");
  return true;
}

// Shape's [start, end) window of the dims (opset 15 attributes).
void shape_window(const KernelContext& ctx, int64_t* b, int64_t* e) {
  int64_t r = ctx.inputs[0]->shape.size();
  int64_t start = ctx.node->attr_int("start", 0), end = ctx.node->attr_int("end", r);
  if (start < 0) start += r;
  if (end < 0) end += r;
  *b = std::clamp<int64_t>(start, 0, r);
  *e = std::clamp<int64_t>(end, *b, r);
}

ProgramInfo baked_list(const std::string& name, const TensorDesc& out, const std::vector<double>& values) {
  std::string list;
  for (size_t i = 0; i < values.size(); ++i) list += (i ? ", " : "") + glsl_float(values[i]);
  size_t n = std::max<size_t>(values.size(), 1);
  if (values.empty()) list = "0.0";
  ProgramInfo p;
  p.name = name;
  p.output = out;
  p.body = "const float VALUES[" + std::to_string(n) + "] = float[" + std::to_string(n) + "](" + list +
           ");\nfloat process(int oc[OUT_RANK]) {\n  return VALUES[" + flat_index_expr(out.shape, "oc") + "];\n}\n";
  return p;
}

const ir::Attribute* constant_value(const KernelContext& ctx) { return ctx.node->attr("value"); }

}  // namespace

bool shape_supports(const KernelContext& ctx, std::string* why) {
  if (ctx.inputs.empty() || !ctx.inputs[0]) return decline(why, "input 0 is missing");
  if (ctx.outputs.empty()) return decline(why, "no outputs");
  for (int64_t d : ctx.inputs[0]->shape)
    if (!representable(ctx.outputs[0].dtype, static_cast<double>(d), why)) return false;
  if (!representable(ctx.outputs[0].dtype, static_cast<double>(shape_size(ctx.inputs[0]->shape)), why))
    return false;
  return true;
}

Result<std::vector<ProgramInfo>> shape_build(const KernelContext& ctx) {
  const Shape& x = ctx.inputs[0]->shape;
  std::vector<double> v;
  if (ctx.node->op_type == "Size") {
    v.push_back(static_cast<double>(shape_size(x)));
    return std::vector<ProgramInfo>{baked_list("size", ctx.outputs[0], v)};
  }
  int64_t b, e;
  shape_window(ctx, &b, &e);
  for (int64_t i = b; i < e; ++i) v.push_back(static_cast<double>(x[i]));
  return std::vector<ProgramInfo>{baked_list("shape", ctx.outputs[0], v)};
}

bool constant_of_shape_supports(const KernelContext& ctx, std::string* why) {
  if (ctx.outputs.empty()) return decline(why, "no outputs");
  for (int64_t d : ctx.outputs[0].shape)
    if (d < 0) return decline(why, "the output shape is not known");
  const ir::Attribute* v = constant_value(ctx);
  double value = v && v->t.size() > 0 ? v->t.get_as_double(0) : 0.0;
  return representable(ctx.outputs[0].dtype, value, why);
}

Result<std::vector<ProgramInfo>> constant_of_shape_build(const KernelContext& ctx) {
  const ir::Attribute* v = constant_value(ctx);
  double value = v && v->t.size() > 0 ? v->t.get_as_double(0) : 0.0;
  ProgramInfo p;
  p.name = "constant_of_shape";
  p.output = ctx.outputs[0];
  p.body = "float process(int oc[OUT_RANK]) {\n  return " + glsl_float(value) + ";\n}\n";
  return std::vector<ProgramInfo>{p};
}

bool eye_like_supports(const KernelContext& ctx, std::string* why) {
  if (ctx.inputs.empty() || !ctx.inputs[0]) return decline(why, "input 0 is missing");
  if (ctx.outputs.empty() || ctx.outputs[0].shape.size() != 2) return decline(why, "EyeLike needs a 2-D output");
  return representable(ctx.outputs[0].dtype, 1.0, why);
}

Result<std::vector<ProgramInfo>> eye_like_build(const KernelContext& ctx) {
  ProgramInfo p;
  p.name = "eye_like";
  p.output = ctx.outputs[0];
  p.body = "float process(int oc[OUT_RANK]) {\n  return oc[1] - oc[0] == " + glsl_int(ctx.node->attr_int("k", 0)) +
           " ? 1.0 : 0.0;\n}\n";
  return std::vector<ProgramInfo>{p};
}

bool range_supports(const KernelContext& ctx, std::string* why) {
  if (ctx.inputs.size() != 3) return decline(why, "Range needs start, limit and delta");
  for (auto& in : ctx.inputs)
    if (!in || shape_size(in->shape) != 1) return decline(why, "start, limit and delta must be scalars");
  if (ctx.outputs.empty() || ctx.outputs[0].shape.size() != 1 || ctx.outputs[0].shape[0] < 0)
    return decline(why, "the output length is not known");
  if (!representable(ctx.outputs[0].dtype, 0.0, why)) return false;
  return all_gpu_dtypes(ctx, why);
}

Result<std::vector<ProgramInfo>> range_build(const KernelContext& ctx) {
  ProgramInfo p;
  p.name = "range";
  p.inputs = {{"Start", 0}, {"Delta", 2}};
  p.output = ctx.outputs[0];
  p.body = "float process(int oc[OUT_RANK]) {\n  return getStartFlat(0) + float(oc[0]) * getDeltaFlat(0);\n}\n";
  return std::vector<ProgramInfo>{p};
}

}  // namespace glint::gl
