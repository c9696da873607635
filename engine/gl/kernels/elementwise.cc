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
      {"Reciprocal", {"1.0 / x", nullptr}},
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

bool unary_supports(const KernelContext& ctx, std::string* why) {
  if (!unary_defs().count(ctx.node->op_type))
    return decline(why, "no GPU expression for " + ctx.node->op_type);
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
  if (op == "Mod" && ctx.node->attr_int("fmod", 0) == 0)
    return decline(why, "Mod with fmod=0 is for integers (float inputs require fmod=1)");
  return float_op(ctx, why);
}

Result<std::vector<ProgramInfo>> binary_build(const KernelContext& ctx) {
  const std::string& op = ctx.node->op_type;
  ProgramInfo p;
  p.name = "binary_" + op;
  p.output = ctx.outputs[0];
  p.node_output = 0;
  std::string body = "float process(int oc[OUT_RANK]) {\n";
  size_t n = ctx.inputs.size();
  for (size_t i = 0; i < n; ++i) {
    std::string name = "X" + std::to_string(i);
    p.inputs.push_back({name, static_cast<int>(i)});
    body += "  float v" + std::to_string(i) + " = get" + name + "Broadcast(oc);\n";
  }
  std::string r;
  if (op == "Add") r = "v0 + v1";
  else if (op == "Sub") r = "v0 - v1";
  else if (op == "Mul") r = "v0 * v1";
  else if (op == "Div") r = "v0 / v1";
  else if (op == "Mod") {
    r = "glint_fmod(v0, v1)";
    p.snippets.push_back("fmod");
  } else if (op == "Pow") {
    r = "glint_pow(v0, v1)";
    p.snippets.push_back("pow");
  } else {
    const char* fold = op == "Max" ? "max(r, v%)" : op == "Min" ? "min(r, v%)" : "r + v%";
    body += "  float r = v0;\n";
    for (size_t i = 1; i < n; ++i) {
      std::string f = fold;
      f.replace(f.find('%'), 1, std::to_string(i));
      body += "  r = " + f + ";\n";
    }
    r = op == "Mean" ? "r / " + glsl_float(static_cast<double>(n)) : "r";
  }
  p.body = body + "  return " + r + ";\n}\n";
  return std::vector<ProgramInfo>{p};
}

}  // namespace glint::gl
