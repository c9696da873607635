// Comparisons (Equal, Greater, Less, GreaterOrEqual, LessOrEqual), logical
// ops on bool (And, Or, Xor, Not), Where, IsNaN / IsInf and BitShift: numpy
// broadcasting through getXBroadcast, bool results as 1.0 / 0.0. Integer
// inputs arrive as exact floats, so comparing them as floats is exact.
#include <map>

#include "engine/gl/kernels/glsl_util.h"
#include "engine/gl/kernels/kernels.h"

namespace glint::gl {

namespace {

// op -> GLSL bool expression of `a` (and `b`).
const std::map<std::string, const char*>& logical_exprs() {
  static const std::map<std::string, const char*> m = {
      {"Equal", "a == b"},
      {"Greater", "a > b"},
      {"Less", "a < b"},
      {"GreaterOrEqual", "a >= b"},
      {"LessOrEqual", "a <= b"},
      {"And", "a != 0.0 && b != 0.0"},
      {"Or", "a != 0.0 || b != 0.0"},
      {"Xor", "(a != 0.0) != (b != 0.0)"},
      {"Not", "a == 0.0"},
      {"IsNaN", "isnan(a)"},
  };
  return m;
}

}  // namespace

bool logical_supports(const KernelContext& ctx, std::string* why) {
  const std::string& op = ctx.node->op_type;
  if (!logical_exprs().count(op) && op != "IsInf" && op != "BitShift" && op != "Where")
    return decline(why, "no GPU expression for " + op);
  size_t want = op == "Where" ? 3 : (op == "Not" || op == "IsNaN" || op == "IsInf") ? 1 : 2;
  if (ctx.inputs.size() != want) return decline(why, op + " needs " + std::to_string(want) + " inputs");
  for (auto& in : ctx.inputs)
    if (!in) return decline(why, "an input is missing");
  if (op == "BitShift") {
    std::string dir = ctx.node->attr_string("direction", "");
    if (dir != "LEFT" && dir != "RIGHT") return decline(why, "direction must be LEFT or RIGHT");
  }
  return any_dtype_op(ctx, why);
}

Result<std::vector<ProgramInfo>> logical_build(const KernelContext& ctx) {
  const std::string& op = ctx.node->op_type;
  ProgramInfo p;
  p.name = "logical_" + op;
  p.output = ctx.outputs[0];
  std::string body = "float process(int oc[OUT_RANK]) {\n";
  const char* names[] = {"A", "B", "C"};
  for (size_t i = 0; i < ctx.inputs.size(); ++i) {
    p.inputs.push_back({names[i], static_cast<int>(i)});
    body += std::string("  float ") + static_cast<char>('a' + i) + " = get" + names[i] + "Broadcast(oc);\n";
  }
  if (op == "Where") {
    body += "  return a != 0.0 ? b : c;\n";
  } else if (op == "IsInf") {
    bool pos = ctx.node->attr_int("detect_positive", 1) != 0, neg = ctx.node->attr_int("detect_negative", 1) != 0;
    body += std::string("  return isinf(a) && ((a > 0.0 && ") + (pos ? "true" : "false") + ") || (a < 0.0 && " +
            (neg ? "true" : "false") + ")) ? 1.0 : 0.0;\n";
  } else if (op == "BitShift") {
    // Unsigned shifts as exact multiplications / floored divisions by 2^b
    // (the composer wraps 8/16-bit results; wider ones stay below 2^24 or
    // fail the download's range check).
    if (ctx.node->attr_string("direction", "") == "LEFT") {
      body += "  return a * exp2(b);\n";
    } else {
      body += "  return floor(a / exp2(b));\n";
    }
  } else {
    body += std::string("  return (") + logical_exprs().at(op) + ") ? 1.0 : 0.0;\n";
  }
  p.body = body + "}\n";
  return std::vector<ProgramInfo>{p};
}

}  // namespace glint::gl
