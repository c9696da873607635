#include "engine/gl/kernels/glsl_util.h"

#include "engine/ops/window.h"

#include <cmath>
#include <cstdio>
#include <cstring>

namespace glint::gl {

std::string glsl_float(double v) {
  float f = static_cast<float>(v);
  if (std::isnan(f)) return "uintBitsToFloat(0x7fc00000u)";
  if (std::isinf(f)) return f > 0 ? "uintBitsToFloat(0x7f800000u)" : "uintBitsToFloat(0xff800000u)";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(f));
  std::string s = buf;
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  if (s[0] == '-') s = "(" + s + ")";
  return s;
}

std::string fused_activation_glsl(const FusedActivation& a, const std::string& expr, bool vec4) {
  const std::string x = "(" + expr + ")";
  switch (a.kind) {
    case FusedActivation::kNone: return expr;
    case FusedActivation::kRelu: return "max(" + x + ", 0.0)";
    case FusedActivation::kClip: {
      // An infinite bound is no bound.
      std::string r = x;
      if (!std::isinf(a.alpha)) r = "max(" + r + ", " + glsl_float(a.alpha) + ")";
      if (!std::isinf(a.beta)) r = "min(" + r + ", " + glsl_float(a.beta) + ")";
      return r;
    }
    case FusedActivation::kLeakyRelu:
      // mix with a bool selects (no arithmetic), so infinities stay exact.
      return vec4 ? "mix(" + x + ", " + x + " * " + glsl_float(a.alpha) + ", lessThan(" + x + ", vec4(0.0)))"
                  : "(" + x + " < 0.0 ? " + x + " * " + glsl_float(a.alpha) + " : " + x + ")";
    case FusedActivation::kSigmoid: return "(1.0 / (1.0 + exp(-" + x + ")))";
    case FusedActivation::kHardSigmoid:
      return "clamp(" + glsl_float(a.alpha) + " * " + x + " + " + glsl_float(a.beta) + ", 0.0, 1.0)";
    case FusedActivation::kTanh:
      // Clamped: some GLSL tanh implementations overflow (NaN) for large |x|;
      // tanh(15) is 1 in float32.
      return "tanh(clamp(" + x + ", -15.0, 15.0))";
    case FusedActivation::kGelu:  // glint_erf: fused_activation_snippets
      return "(0.5 * " + x + " * (1.0 + glint_erf(" + x + " * 0.7071067811865476)))";
  }
  return expr;
}

std::vector<std::string> fused_activation_snippets(const FusedActivation& a) {
  if (a.kind == FusedActivation::kGelu) return {"erf"};
  return {};
}

std::string glsl_int(int64_t v) {
  std::string s = std::to_string(v);
  if (v < 0) s = "(" + s + ")";
  return s;
}

std::string shape_int(ProgramInfo& p, const std::string& name, int64_t v) {
  if (!p.shape_uniforms) return glsl_int(v);
  for (const auto& [n, value] : p.int_uniforms)
    if (n == name && value == v) return name;
  // A name given twice with different values is a kernel bug: both entries
  // stay, and the composer refuses the program naming it.
  p.int_uniforms.push_back({name, static_cast<int>(v)});
  return name;
}

std::string flat_index_expr(const Shape& shape, const std::string& arr) {
  if (shape.empty()) return "0";
  auto strides = shape_strides(shape);
  std::string e;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 1) continue;  // that coordinate is always 0
    if (!e.empty()) e += " + ";
    e += arr + "[" + std::to_string(i) + "]";
    if (strides[i] != 1) e += " * " + std::to_string(strides[i]);
  }
  return e.empty() ? "0" : e;
}

std::string unflatten_stmt(const Shape& shape, const std::string& flat, const std::string& name) {
  size_t n = shape.empty() ? 1 : shape.size();
  std::string s = "int " + name + "[" + std::to_string(n) + "];\n";
  if (shape.empty()) return s + "  " + name + "[0] = 0;\n";
  auto strides = shape_strides(shape);
  s += "  { int r_ = " + flat + ";\n";
  for (size_t i = 0; i < shape.size(); ++i) {
    std::string st = std::to_string(strides[i]);
    if (i + 1 == shape.size()) {
      s += "    " + name + "[" + std::to_string(i) + "] = r_;\n";
    } else {
      s += "    " + name + "[" + std::to_string(i) + "] = r_ / " + st + "; r_ -= " + name + "[" +
           std::to_string(i) + "] * " + st + ";\n";
    }
  }
  return s + "  }\n";
}

std::string getter(const std::string& input, const std::vector<std::string>& args) {
  std::string s = "get" + input + "(";
  for (size_t i = 0; i < args.size(); ++i) s += (i ? ", " : "") + args[i];
  return s + ")";
}

std::string getter_oc(const std::string& input, size_t rank, const std::string& arr) {
  std::vector<std::string> a;
  for (size_t i = 0; i < rank; ++i) a.push_back(arr + "[" + std::to_string(i) + "]");
  return getter(input, a);
}

std::string vec4_sum(int64_t n, const std::function<std::string(const std::string&)>& at,
                     const std::string& acc, const std::string& term, const std::string& weight,
                     const std::string& indent) {
  std::string s;
  int64_t n4 = n / 4 * 4;
  if (n4 > 0) {
    s += indent + "for (int i = 0; i < " + glsl_int(n4) + "; i += 4) {\n";
    s += indent + "  vec4 v = vec4(" + at("i") + ", " + at("i + 1") + ", " + at("i + 2") + ", " + at("i + 3") +
         ");\n";
    s += indent + "  " + acc + " += dot(" + term + ", " + weight + ");\n" + indent + "}\n";
  }
  if (n > n4) {
    std::string vals, mask;
    for (int64_t j = 0; j < 4; ++j) {
      bool live = n4 + j < n;
      vals += std::string(j ? ", " : "") + (live ? at(glsl_int(n4 + j)) : "0.0");
      mask += std::string(j ? ", " : "") + (live ? "1.0" : "0.0");
    }
    s += indent + "{\n" + indent + "  vec4 v = vec4(" + vals + ");\n";
    s += indent + "  " + acc + " += dot(" + term + ", (" + weight + ") * vec4(" + mask + "));\n" + indent + "}\n";
  }
  return s;
}

int64_t normalize_axis(int64_t axis, int64_t rank) {
  if (axis < 0) axis += rank;
  return (axis < 0 || axis >= rank) ? -1 : axis;
}

static bool float_dtype(DataType t) { return t == DataType::kFloat32 || t == DataType::kFloat16; }

bool float_op(const KernelContext& ctx, std::string* why) {
  if (ctx.inputs.empty() || !ctx.inputs[0]) return decline(why, "input 0 is missing");
  if (ctx.outputs.empty()) return decline(why, "no outputs");
  return all_float(ctx, why);
}

bool any_dtype_op(const KernelContext& ctx, std::string* why) {
  if (ctx.inputs.empty() || !ctx.inputs[0]) return decline(why, "input 0 is missing");
  if (ctx.outputs.empty()) return decline(why, "no outputs");
  return all_gpu_dtypes(ctx, why);
}

bool is_int_like(DataType t) { return t == DataType::kBool || is_integer(t); }

bool input_is_float(const KernelContext& ctx, size_t i, std::string* why) {
  if (i >= ctx.inputs.size() || !ctx.inputs[i]) return decline(why, "input " + std::to_string(i) + " is missing");
  if (ctx.outputs.empty()) return decline(why, "no outputs");
  if (!float_dtype(ctx.inputs[i]->dtype))
    return decline(why, "input " + std::to_string(i) + " is " + dtype_name(ctx.inputs[i]->dtype) +
                            " (GPU kernels take float32/float16)");
  return true;
}

ProgramInfo unary_map(const KernelContext& ctx, const std::string& name, const std::string& expr,
                      const std::string& prelude, std::vector<std::string> snippets) {
  ProgramInfo p;
  p.name = name;
  p.inputs = {{"X", 0}};
  p.output = ctx.outputs[0];
  p.node_output = 0;
  p.snippets = std::move(snippets);
  const Shape& in = ctx.inputs[0]->shape;
  if (in.size() == 4 && in == p.output.shape && !is_int_like(p.output.dtype)) {
    // Four channels per fetch; the expression stays scalar (it may use ?:).
    p.vec4_body = true;
    p.body = prelude + "float glint_map(float x) { return " + expr +
             "; }\nvec4 process4(int oc[4]) {\n  vec4 v = getX4(oc[0], oc[1] / 4, oc[2], oc[3]);\n"
             "  return vec4(glint_map(v.x), glint_map(v.y), glint_map(v.z), glint_map(v.w));\n}\n";
    return p;
  }
  p.body = prelude + "float process(int oc[OUT_RANK]) {\n  float x = " +
           getter_oc("X", in.size()) + ";\n  return " + expr + ";\n}\n";
  return p;
}

ProgramInfo flat_copy(const KernelContext& ctx, const std::string& name) {
  ProgramInfo p;
  p.name = name;
  p.inputs = {{"X", 0}};
  p.output = ctx.outputs[0];
  p.node_output = 0;
  const Shape& in = ctx.inputs[0]->shape;
  const Shape& out = ctx.outputs[0].shape;
  if (in == out) {
    p.body = "float process(int oc[OUT_RANK]) {\n  return " + getter_oc("X", in.size()) + ";\n}\n";
  } else {
    p.body = "float process(int oc[OUT_RANK]) {\n  return getXFlat(" + flat_index_expr(out, "oc") +
             ");\n}\n";
  }
  return p;
}

Result<Window> resolve_window(const ir::Node& node, const Shape& in_spatial, const Shape& out_spatial,
                              const std::vector<int64_t>& kernel) {
  // The geometry the CPU kernels and shape functions use (engine/ops/window.h).
  ops::WindowGeometry g;
  GLINT_RETURN_IF_ERROR(ops::window_geometry(node, in_spatial, kernel, /*allow_ceil=*/true, &g));
  if (g.out.size() != out_spatial.size())
    return invalid_argument(node.describe() + ": the output has " + std::to_string(out_spatial.size()) +
                            " spatial dims, the window " + std::to_string(g.out.size()));
  return Window{g.kernel, g.strides, g.dilations, g.pads_begin, g.pads_end};
}

}  // namespace glint::gl
