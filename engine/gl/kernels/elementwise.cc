// Elementwise math: unary functions (one table, op -> GLSL expression of x)
// and numpy-broadcasting binary / variadic ops through getXBroadcast
// (Add, Sub, Mul, Div, Pow, Mod with fmod=1, Max, Min, Sum, Mean).
#include <map>

#include "engine/gl/kernels/glsl_util.h"
#include "engine/gl/kernels/kernels.h"

namespace glint::gl {

namespace {

struct UnaryDef {
  const char* expr;     // of `float x`
  const char* snippet;  // shaders/<snippet>.glsl, or nullptr
};

const std::map<std::string, UnaryDef>& unary_defs() {
  static const std::map<std::string, UnaryDef> defs = {
      {"Abs", {"abs(x)", nullptr}},
      {"Neg", {"-x", nullptr}},
      {"Exp", {"exp(x)", nullptr}},
      {"Log", {"log(x)", nullptr}},
      {"Sqrt", {"sqrt(x)", nullptr}},
      {"Reciprocal", {"glint_divide(1.0, x)", "divide"}},
      {"Floor", {"floor(x)", nullptr}},
      {"Ceil", {"ceil(x)", nullptr}},
      // ONNX Round is half-to-even, which GLSL's roundEven is.
      {"Round", {"roundEven(x)", nullptr}},
      {"Sign", {"sign(x)", nullptr}},
      {"Sin", {"sin(x)", nullptr}},
      {"Cos", {"cos(x)", nullptr}},
      {"Tan", {"tan(x)", nullptr}},
      // Through atan: GLSL's asin/acos are loosely specified (llvmpipe's
      // are off by ~2e-4); its atan is accurate.
      {"Asin", {"atan(x, sqrt((1.0 - x) * (1.0 + x)))", nullptr}},
      {"Acos", {"atan(sqrt((1.0 - x) * (1.0 + x)), x)", nullptr}},
      {"Atan", {"atan(x)", nullptr}},
      {"Sinh", {"sinh(x)", nullptr}},
      {"Cosh", {"cosh(x)", nullptr}},
      {"Asinh", {"asinh(x)", nullptr}},
      {"Acosh", {"acosh(x)", nullptr}},
      {"Atanh", {"atanh(x)", nullptr}},
      {"Erf", {"glint_erf(x)", "erf"}},
  };
  return defs;
}

}  // namespace

// Unary ops whose float expression is exact on integers (held as exact floats).
bool int_exact_unary(const std::string& op) { return op == "Abs" || op == "Neg" || op == "Sign"; }

bool unary_supports(const KernelContext& ctx, std::string* why) {
  if (!unary_defs().count(ctx.node->op_type))
    return decline(why, "no GPU expression for " + ctx.node->op_type);
  if (int_exact_unary(ctx.node->op_type) && !ctx.outputs.empty() && is_integer(ctx.outputs[0].dtype))
    return any_dtype_op(ctx, why);
  return float_op(ctx, why);
}

Result<std::vector<ProgramInfo>> unary_build(const KernelContext& ctx) {
  auto it = unary_defs().find(ctx.node->op_type);
  if (it == unary_defs().end()) return unsupported("no GPU expression for " + ctx.node->op_type);
  std::vector<std::string> snippets;
  if (it->second.snippet) snippets.push_back(it->second.snippet);
  return std::vector<ProgramInfo>{
      unary_map(ctx, "unary_" + ctx.node->op_type, it->second.expr, "", snippets)};
}

bool binary_supports(const KernelContext& ctx, std::string* why) {
  const std::string& op = ctx.node->op_type;
  bool variadic = op == "Max" || op == "Min" || op == "Sum" || op == "Mean";
  size_t n = 0;
  for (auto& in : ctx.inputs) n += in ? 1 : 0;
  if (n != ctx.inputs.size()) return decline(why, "an input is missing");
  if (!variadic && n != 2) return decline(why, op + " needs 2 inputs");
  if (n < 1) return decline(why, op + " has no inputs");
  if (n > 15) return decline(why, "more than 15 inputs (sampler limit)");
  if (!ctx.outputs.empty() && is_integer(ctx.outputs[0].dtype)) {
    // Integer arithmetic on exact floats: exact while results stay below 2^24
    // (the download checks that range). Mean would need integer division.
    if (op == "Mean") return decline(why, "Mean of integers");
    return any_dtype_op(ctx, why);
  }
  if (op == "Mod" && ctx.node->attr_int("fmod", 0) == 0)
    return decline(why, "Mod with fmod=0 is for integers (float inputs require fmod=1)");
  if (op == "Pow" && !ctx.outputs.empty() && ctx.inputs.size() == 2 && ctx.inputs[1] &&
      is_float(ctx.outputs[0].dtype) && is_integer(ctx.inputs[1]->dtype)) {
    // A float base with an integer exponent (Pow from opset 12).
    if (!input_is_float(ctx, 0, why)) return false;
    return any_dtype_op(ctx, why);
  }
  return float_op(ctx, why);
}

namespace {

// Max / Min / Sum / Mean over v0 .. v{n-1} (of GLSL type `type`): appends the
// statements to `body`, returns the result expression.
std::string variadic_fold(const std::string& op, size_t n, const std::string& type, std::string* body) {
  const char* fold = op == "Max" ? "max(r, v%)" : op == "Min" ? "min(r, v%)" : "r + v%";
  *body += "  " + type + " r = v0;\n";
  for (size_t i = 1; i < n; ++i) {
    std::string f = fold;
    f.replace(f.find('%'), 1, std::to_string(i));
    *body += "  r = " + f + ";\n";
  }
  return op == "Mean" ? "r / " + glsl_float(static_cast<double>(n)) : "r";
}

}  // namespace

Result<std::vector<ProgramInfo>> binary_build(const KernelContext& ctx) {
  const std::string& op = ctx.node->op_type;
  ProgramInfo p;
  p.name = "binary_" + op;
  p.output = ctx.outputs[0];
  p.node_output = 0;
  size_t n = ctx.inputs.size();
  const Shape& y = ctx.outputs[0].shape;
  const bool vec4_op = op == "Add" || op == "Sub" || op == "Mul" || op == "Div" || op == "Max" || op == "Min" ||
                       op == "Sum" || op == "Mean";
  if (vec4_op && y.size() == 4 && !is_int_like(ctx.outputs[0].dtype)) {
    // Four channels per fragment: same-shape inputs in one fetch, broadcast
    // ones lane by lane; the arithmetic is the same on vec4.
    p.vec4_body = true;
    std::string b = "vec4 process4(int oc[4]) {\n";
    bool lanes = false;
    for (size_t i = 0; i < n; ++i) lanes = lanes || ctx.inputs[i]->shape != y;
    if (lanes) {
      for (int j = 1; j < 4; ++j)
        b += "  int o" + std::to_string(j) + "[4] = oc; o" + std::to_string(j) + "[1] += " + std::to_string(j) + ";\n";
    }
    for (size_t i = 0; i < n; ++i) {
      std::string name = "X" + std::to_string(i);
      p.inputs.push_back({name, static_cast<int>(i)});
      std::string v = "v" + std::to_string(i);
      if (ctx.inputs[i]->shape == y) {
        b += "  vec4 " + v + " = get" + name + "4(oc[0], oc[1] / 4, oc[2], oc[3]);\n";
      } else {
        std::string g = "get" + name + "Broadcast";
        b += "  vec4 " + v + " = vec4(" + g + "(oc), " + g + "(o1), " + g + "(o2), " + g + "(o3));\n";
      }
    }
    std::string r;
    if (op == "Add") r = "v0 + v1";
    else if (op == "Sub") r = "v0 - v1";
    else if (op == "Mul") r = "v0 * v1";
    else if (op == "Div") {
      r = "glint_divide(v0, v1)";
      p.snippets.push_back("divide");
    } else r = variadic_fold(op, n, "vec4", &b);
    p.body = b + "  return " + r + ";\n}\n";
    return std::vector<ProgramInfo>{p};
  }
  std::string body = "float process(int oc[OUT_RANK]) {\n";
  for (size_t i = 0; i < n; ++i) {
    std::string name = "X" + std::to_string(i);
    p.inputs.push_back({name, static_cast<int>(i)});
    body += "  float v" + std::to_string(i) + " = get" + name + "Broadcast(oc);\n";
  }
  std::string r;
  const bool int_out = is_integer(ctx.outputs[0].dtype);
  if (int_out && op == "Div") {
    // Integer division truncates toward zero; done on ints so no float
    // rounding can push a quotient across an integer.
    r = "float(int(sign(v0) * sign(v1)) * (int(abs(v0)) / int(abs(v1))))";
  } else if (int_out && op == "Mod") {
    // |v0| % |v1| on ints, then the sign rule: fmod=1 takes the dividend's
    // sign (C fmod), fmod=0 the divisor's (Python %).
    body += "  float m = float(int(abs(v0)) % int(abs(v1)));\n";
    if (ctx.node->attr_int("fmod", 0) != 0) {
      body += "  if (v0 < 0.0) m = -m;\n";
    } else {
      body += "  if (m != 0.0 && (v0 < 0.0) != (v1 < 0.0)) m = abs(v1) - m;\n";
      body += "  if (v1 < 0.0) m = -m;\n";
    }
    r = "m";
  } else if (int_out && op == "Pow") {
    // Exact powers: repeated multiplication for a non-negative integer
    // exponent (pow() on floats may land just beside the integer).
    body += "  float p = 1.0;\n  int e = int(v1);\n";
    body += "  if (e < 0) return v0 == 1.0 ? 1.0 : (v0 == -1.0 ? ((e % 2) == 0 ? 1.0 : -1.0) : 0.0);\n";
    body += "  for (int k = 0; k < 64; ++k) { if (k >= e) break; p *= v0; }\n";
    r = "p";
  } else if (op == "Add") r = "v0 + v1";
  else if (op == "Sub") r = "v0 - v1";
  else if (op == "Mul") r = "v0 * v1";
  else if (op == "Div") {
    // correctly rounded, as the CPU's: a Round or Cast after it sees the same value
    r = "glint_divide(v0, v1)";
    p.snippets.push_back("divide");
  } else if (op == "Mod") {
    r = "glint_fmod(v0, v1)";
    p.snippets.push_back("fmod");
  } else if (op == "Pow") {
    r = "glint_pow(v0, v1)";
    p.snippets.push_back("pow");
  } else {
    r = variadic_fold(op, n, "float", &body);
  }
  p.body = body + "  return " + r + ";\n}\n";
  return std::vector<ProgramInfo>{p};
}

}  // namespace glint::gl
