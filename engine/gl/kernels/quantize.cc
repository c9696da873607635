// QuantizeLinear / DequantizeLinear (per-tensor or per-axis scale and zero
// point, sampled), DynamicQuantizeLinear (a scale pass and a zero-point pass
// over the whole tensor, then the quantizing map) and the window functions
// (HannWindow, HammingWindow, BlackmanWindow: values computed here in double,
// as the CPU kernel does, and baked). Rounding is half to even (nearbyint),
// of the quotient a correctly rounded division gives (glint_divide: divide.glsl).
#include <cmath>

#include "engine/gl/kernels/glsl_util.h"
#include "engine/gl/kernels/kernels.h"

namespace glint::gl {

namespace {

constexpr int64_t kMaxBakedWindow = 4096;

std::string saturate(DataType t, const std::string& v) {
  switch (t) {
    case DataType::kUint8: return "clamp(" + v + ", 0.0, 255.0)";
    case DataType::kInt8: return "clamp(" + v + ", -128.0, 127.0)";
    case DataType::kUint16: return "clamp(" + v + ", 0.0, 65535.0)";
    case DataType::kInt16: return "clamp(" + v + ", -32768.0, 32767.0)";
    default: return v;
  }
}

// Accessor of a per-tensor or per-axis parameter `P` at output coordinate oc.
std::string param(const Shape& x, const Shape& p, int64_t axis, const std::string& P) {
  if (shape_size(p) == 1) return "get" + P + "Flat(0)";
  return "get" + P + "Flat(oc[" + std::to_string(axis) + "])";
}

}  // namespace

bool quantize_supports(const KernelContext& ctx, std::string* why) {
  const std::string& op = ctx.node->op_type;
  if (!any_dtype_op(ctx, why)) return false;
  if (op == "DynamicQuantizeLinear") return input_is_float(ctx, 0, why);
  if (ctx.inputs.size() < 2 || !ctx.inputs[1]) return decline(why, "scale is missing");
  const Shape& x = ctx.inputs[0]->shape;
  int64_t axis = normalize_axis(ctx.node->attr_int("axis", 1), x.size());
  for (size_t i = 1; i < ctx.inputs.size(); ++i) {
    if (!ctx.inputs[i]) continue;
    const Shape& p = ctx.inputs[i]->shape;
    if (shape_size(p) == 1) continue;
    if (p.size() != 1 || axis < 0 || p[0] != x[axis]) return decline(why, "only per-tensor or per-axis parameters");
  }
  if (op == "QuantizeLinear") {
    DataType t = ctx.outputs[0].dtype;
    if (t != DataType::kUint8 && t != DataType::kInt8 && t != DataType::kUint16 && t != DataType::kInt16)
      return decline(why, "cannot quantize to " + dtype_name(t) + " on the GPU");
    return input_is_float(ctx, 0, why);
  }
  return true;
}

Result<std::vector<ProgramInfo>> quantize_build(const KernelContext& ctx) {
  const std::string& op = ctx.node->op_type;
  const Shape& x = ctx.inputs[0]->shape;
  const size_t r = x.size();
  if (op == "DynamicQuantizeLinear") {
    const std::string n = glsl_int(shape_size(x));
    ProgramInfo sc;
    sc.name = "dynamic_quantize_scale";
    sc.inputs = {{"X", 0}};
    sc.output = TensorDesc{DataType::kFloat32, {}};
    sc.node_output = ctx.node->has_output(1) ? 1 : -1;
    sc.body = "float process(int oc[OUT_RANK]) {\n  float lo = 0.0, hi = 0.0;\n  for (int i = 0; i < " + n +
              "; ++i) { float v = getXFlat(i); lo = min(lo, v); hi = max(hi, v); }\n  return glint_divide(hi - lo, 255.0);\n}\n";
    sc.snippets = {"divide"};
    ProgramInfo zp;
    zp.name = "dynamic_quantize_zero_point";
    zp.inputs = {{"X", 0}, {"S", -1}};
    zp.output = TensorDesc{DataType::kUint8, {}};
    zp.node_output = ctx.node->has_output(2) ? 2 : -1;
    zp.body = "float process(int oc[OUT_RANK]) {\n  float lo = 0.0;\n  for (int i = 0; i < " + n +
              "; ++i) lo = min(lo, getXFlat(i));\n  float s = getSFlat(0);\n"
              "  return s != 0.0 ? clamp(roundEven(glint_divide(-lo, s)), 0.0, 255.0) : 0.0;\n}\n";
    zp.snippets = {"divide"};
    ProgramInfo q;
    q.name = "dynamic_quantize";
    q.inputs = {{"X", 0}, {"S", -1}, {"Z", -2}};
    q.output = ctx.outputs[0];
    q.body = "float process(int oc[OUT_RANK]) {\n  float s = getSFlat(0);\n  if (s == 0.0) return 0.0;\n"
             "  return clamp(roundEven(glint_divide(" + getter_oc("X", r) + ", s)) + getZFlat(0), 0.0, 255.0);\n}\n";
    q.snippets = {"divide"};
    return std::vector<ProgramInfo>{sc, zp, q};
  }
  int64_t axis = normalize_axis(ctx.node->attr_int("axis", 1), r);
  const bool has_zp = ctx.inputs.size() > 2 && ctx.inputs[2].has_value();
  ProgramInfo p;
  p.inputs = {{"X", 0}, {"S", 1}};
  if (has_zp) p.inputs.push_back({"Z", 2});
  p.output = ctx.outputs[0];
  std::string s = param(x, ctx.inputs[1]->shape, axis, "S");
  std::string z = has_zp ? param(x, ctx.inputs[2]->shape, axis, "Z") : "0.0";
  if (op == "QuantizeLinear") {
    p.name = "quantize_linear";
    p.body = "float process(int oc[OUT_RANK]) {\n  return " +
             saturate(ctx.outputs[0].dtype, "roundEven(glint_divide(" + getter_oc("X", r) + ", " + s + ")) + " + z) + ";\n}\n";
    p.snippets = {"divide"};
  } else {
    p.name = "dequantize_linear";
    p.body = "float process(int oc[OUT_RANK]) {\n  return (" + getter_oc("X", r) + " - " + z + ") * " + s + ";\n}\n";
  }
  return std::vector<ProgramInfo>{p};
}

bool window_supports(const KernelContext& ctx, std::string* why) {
  if (ctx.outputs.empty() || ctx.outputs[0].shape.size() != 1 || ctx.outputs[0].shape[0] < 0)
    return decline(why, "the window length is not known");
  if (ctx.outputs[0].shape[0] > kMaxBakedWindow) return decline(why, "window longer than 4096 values to bake");
  return all_gpu_dtypes(ctx, why);
}

Result<std::vector<ProgramInfo>> window_build(const KernelContext& ctx) {
  const int64_t size = ctx.outputs[0].shape[0];
  const double N = ctx.node->attr_int("periodic", 1) != 0 ? size : size - 1;
  const double pi = 3.14159265358979323846;
  std::string list;
  for (int64_t n = 0; n < size; ++n) {
    const double a = N > 0 ? 2 * pi * n / N : 0.0;
    double v;
    if (ctx.node->op_type == "HannWindow") v = 0.5 - 0.5 * std::cos(a);
    else if (ctx.node->op_type == "HammingWindow") v = 25.0 / 46.0 - 21.0 / 46.0 * std::cos(a);
    else v = 0.42 - 0.5 * std::cos(a) + 0.08 * std::cos(2 * a);
    list += (n ? ", " : "") + glsl_float(v);
  }
  const std::string L = std::to_string(std::max<int64_t>(size, 1));
  if (size == 0) list = "0.0";
  ProgramInfo p;
  p.name = "window";
  p.output = ctx.outputs[0];
  p.body = "const float WINDOW[" + L + "] = float[" + L + "](" + list +
           ");\nfloat process(int oc[OUT_RANK]) {\n  return WINDOW[oc[0]];\n}\n";
  return std::vector<ProgramInfo>{p};
}

}  // namespace glint::gl
