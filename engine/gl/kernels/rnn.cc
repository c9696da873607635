// RNN, GRU and LSTM with their default activations (every direction, layout
// 0/1, initial states, peepholes, clip, linear_before_reset, input_forget),
// as the CPU kernel defines them. The state lives in a float32 history
// tensor [S + 1, D, B, 2H] (h, then c): an init pass writes slot 0 from the
// initial states, step pass k copies the history and fills slot k + 1 (each
// fragment recomputes the gate dot products it needs), and the outputs are
// read from the history. With sequence_lens, a batch entry's state stops
// changing after its length (and its Y past it is 0). Custom activations
// stay on the CPU.
#include "engine/gl/kernels/glsl_util.h"
#include "engine/gl/kernels/kernels.h"

namespace glint::gl {

namespace {

constexpr int64_t kMaxSteps = 256;

std::vector<std::string> default_acts(const std::string& op) {
  if (op == "RNN") return {"Tanh"};
  if (op == "GRU") return {"Sigmoid", "Tanh"};
  return {"Sigmoid", "Tanh", "Tanh"};
}

const TensorDesc* opt(const KernelContext& ctx, size_t i) {
  return i < ctx.inputs.size() && ctx.inputs[i] ? &*ctx.inputs[i] : nullptr;
}

}  // namespace

bool rnn_supports(const KernelContext& ctx, std::string* why) {
  if (!input_is_float(ctx, 0, why) || !all_gpu_dtypes(ctx, why)) return false;
  const ir::Node& n = *ctx.node;
  if (ctx.inputs.size() < 3 || !ctx.inputs[1] || !ctx.inputs[2]) return decline(why, "X, W and R are required");
  // Every input but sequence_lens is T; the CPU kernel names a mismatch.
  for (size_t i = 1; i < ctx.inputs.size(); ++i)
    if (i != 4 && ctx.inputs[i] && ctx.inputs[i]->dtype != ctx.inputs[0]->dtype)
      return decline(why, "an input's dtype differs from X's");
  const std::string dir = n.attr_string("direction", "forward");
  if (dir != "forward" && dir != "reverse" && dir != "bidirectional") return decline(why, "unknown direction");
  const int64_t D = dir == "bidirectional" ? 2 : 1;
  if (n.has_attr("activations")) {
    auto want = default_acts(n.op_type);
    auto got = n.attr("activations")->strings;
    for (size_t i = 0; i < got.size(); ++i)
      if (got[i] != want[i % want.size()]) return decline(why, "custom activation " + got[i]);
    if (got.size() != want.size() * D) return decline(why, "activation count");
  }
  const Shape& x = ctx.inputs[0]->shape;
  const Shape& r = ctx.inputs[2]->shape;
  if (x.size() != 3 || r.size() != 3) return decline(why, "X and R must be 3-D");
  const bool layout = n.attr_int("layout", 0) != 0;
  if (x[layout ? 1 : 0] > kMaxSteps) return decline(why, "more than 256 steps");
  const int64_t G = n.op_type == "LSTM" ? 4 : n.op_type == "GRU" ? 3 : 1, H = r[2];
  if (ctx.inputs[1]->shape != Shape{D, G * H, x[2]} || r != Shape{D, G * H, H})
    return decline(why, "W / R shapes do not match");
  if (opt(ctx, 3) && opt(ctx, 3)->shape != Shape{D, 2 * G * H}) return decline(why, "B shape does not match");
  return true;
}

Result<std::vector<ProgramInfo>> rnn_build(const KernelContext& ctx) {
  const ir::Node& n = *ctx.node;
  const std::string& op = n.op_type;
  const Shape& x = ctx.inputs[0]->shape;
  const bool layout = n.attr_int("layout", 0) != 0;
  const std::string dir = n.attr_string("direction", "forward");
  const int64_t D = dir == "bidirectional" ? 2 : 1, S = x[layout ? 1 : 0], B = x[layout ? 0 : 1], I = x[2];
  const int64_t H = ctx.inputs[2]->shape[2], G = op == "LSTM" ? 4 : op == "GRU" ? 3 : 1;
  const bool bias = opt(ctx, 3) != nullptr, h0 = opt(ctx, 5) != nullptr;
  const bool c0 = op == "LSTM" && opt(ctx, 6), peep = op == "LSTM" && opt(ctx, 7);
  const bool lens = opt(ctx, 4) != nullptr;
  const std::string len_of = [&](const std::string& b) {
    return lens ? "clamp(int(getLFlat(" + b + ")), 0, " + glsl_int(S) + ")" : glsl_int(S);
  }("b");
  const TensorDesc hist{DataType::kFloat32, {S + 1, D, B, 2 * H}};
  const std::string Hs = glsl_int(H);
  std::vector<ProgramInfo> passes;

  // Slot 0: the initial states.
  ProgramInfo init;
  init.name = "rnn_init";
  init.output = hist;
  init.node_output = -1;
  std::string ib = "float process(int oc[OUT_RANK]) {\n  if (oc[0] != 0) return 0.0;\n  int d = oc[1], b = oc[2], j = oc[3];\n";
  std::string state = [&](bool layout_state) {
    return layout_state ? std::string("(b * ") + glsl_int(D) + " + d) * " + Hs : std::string("(d * ") + glsl_int(B) + " + b) * " + Hs;
  }(layout);
  if (h0) {
    init.inputs.push_back({"H0", 5});
    ib += "  if (j < " + Hs + ") return getH0Flat(" + state + " + j);\n";
  }
  if (c0) {
    init.inputs.push_back({"C0", 6});
    ib += "  if (j >= " + Hs + ") return getC0Flat(" + state + " + j - " + Hs + ");\n";
  }
  init.body = ib + "  return 0.0;\n}\n";
  passes.push_back(init);

  const bool has_clip = n.has_attr("clip");
  const std::string clip = glsl_float(n.attr_float("clip", 0.f));
  auto cl = [&](const std::string& v) { return has_clip ? "clamp(" + v + ", -" + clip + ", " + clip + ")" : v; };
  const std::string sig = "rnn_sigmoid", th = "rnn_tanh";
  std::string helpers =
      "float rnn_sigmoid(float v) { return 1.0 / (1.0 + exp(-v)); }\n"
      "float rnn_tanh(float v) { return tanh(clamp(v, -15.0, 15.0)); }\n";
  std::string xat = layout ? "getX(b, t, i)" : "getX(t, b, i)";
  helpers += "float rnn_gate(int K, int t, int d, int b, int row, bool recur) {\n  float a = " +
             std::string(bias ? "getBias(d, row) + getBias(d, " + glsl_int(G * H) + " + row)" : "0.0") + ";\n" +
             "  for (int i = 0; i < " + glsl_int(I) + "; ++i) a += " + xat + " * getW(d, row, i);\n" +
             "  if (recur) for (int k = 0; k < " + Hs + "; ++k) a += getHist(K, d, b, k) * getR(d, row, k);\n  return a;\n}\n";
  const bool lbr = n.attr_int("linear_before_reset", 0) != 0, input_forget = n.attr_int("input_forget", 0) != 0;
  for (int64_t K = 0; K < S; ++K) {
    ProgramInfo p;
    p.name = "rnn_step";
    p.inputs = {{"Hist", -static_cast<int>(passes.size())}, {"X", 0}, {"W", 1}, {"R", 2}};
    if (bias) p.inputs.push_back({"Bias", 3});
    if (peep) p.inputs.push_back({"P", 7});
    if (lens) p.inputs.push_back({"L", 4});
    p.output = hist;
    p.node_output = -1;
    // The step is a uniform: every step pass shares one program (baked, a
    // 2-layer bidirectional LSTM over 30 steps was 60 compiles of a minute).
    p.int_uniforms = {{"RNN_STEP", static_cast<int>(K)}};
    std::string b = helpers + "float process(int oc[OUT_RANK]) {\n  int K = RNN_STEP;\n" +
                    "  if (oc[0] != K + 1) return getHist(oc[0], oc[1], oc[2], oc[3]);\n  int d = oc[1], b = oc[2], j = oc[3];\n" +
                    "  bool rev = " + (dir == "reverse" ? std::string("true") : std::string("d == 1")) + ";\n" +
                    "  int len = " + len_of + ";\n  if (K >= len) return getHist(K, d, b, j);\n" +
                    "  int t = rev ? len - 1 - K : K;\n";
    if (op == "RNN") {
      b += "  if (j >= " + Hs + ") return 0.0;\n  return " + th + "(" + cl("rnn_gate(K, t, d, b, j, true)") + ");\n";
    } else if (op == "GRU") {
      std::string rb2 = bias ? "getBias(d, " + glsl_int(5 * H) + " + j)" : "0.0";
      std::string wb2 = bias ? "getBias(d, " + glsl_int(2 * H) + " + j)" : "0.0";
      b += "  if (j >= " + Hs + ") return 0.0;\n  float hp = getHist(K, d, b, j);\n  float z = " + sig + "(" +
           cl("rnn_gate(K, t, d, b, j, true)") + ");\n  float acc = 0.0;\n  for (int k = 0; k < " + Hs + "; ++k) {\n" +
           "    float rk = " + sig + "(" + cl("rnn_gate(K, t, d, b, " + Hs + " + k, true)") + ");\n" +
           "    acc += " + (lbr ? "getHist(K, d, b, k)" : "rk * getHist(K, d, b, k)") + " * getR(d, " + glsl_int(2 * H) +
           " + j, k);\n  }\n  float rj = " + sig + "(" + cl("rnn_gate(K, t, d, b, " + Hs + " + j, true)") + ");\n" +
           "  float xg = rnn_gate(K, t, d, b, " + glsl_int(2 * H) + " + j, false) - " + rb2 + ";\n" +
           "  float cand = " + (lbr ? "xg + rj * (acc + " + rb2 + ")" : "xg + acc + " + rb2) + ";\n" +
           "  float ht = " + th + "(" + cl("cand") + ");\n  return (1.0 - z) * ht + z * hp;\n";
      (void)wb2;
    } else {
      auto P = [&](int k) { return peep ? "getP(d, " + glsl_int(k * H) + " + h)" : std::string("0.0"); };
      b += "  int h = j < " + Hs + " ? j : j - " + Hs + ";\n  float cp = getHist(K, d, b, " + Hs + " + h);\n" +
           "  float it = " + sig + "(" + cl("rnn_gate(K, t, d, b, h, true) + " + P(0) + " * cp") + ");\n" +
           "  float ft = " + (input_forget ? std::string("1.0 - it") : sig + "(" + cl("rnn_gate(K, t, d, b, " + glsl_int(2 * H) + " + h, true) + " + P(2) + " * cp") + ")") + ";\n" +
           "  float ct = " + th + "(" + cl("rnn_gate(K, t, d, b, " + glsl_int(3 * H) + " + h, true)") + ");\n" +
           "  float cn = ft * cp + it * ct;\n  if (j >= " + Hs + ") return cn;\n" +
           "  float ot = " + sig + "(" + cl("rnn_gate(K, t, d, b, " + Hs + " + h, true) + " + P(1) + " * cn") + ");\n" +
           "  return ot * " + th + "(cn);\n";
    }
    p.body = b + "}\n";
    passes.push_back(p);
  }
  const int last = -static_cast<int>(passes.size());
  // Y[t, d, b, h] (layout 1: [b, t, d, h]) from the slot of the step that computed time t.
  if (n.has_output(0) && !ctx.outputs.empty()) {
    ProgramInfo y;
    y.name = "rnn_y";
    y.inputs = {{"Hist", last}};
    if (lens) y.inputs.push_back({"L", 4});
    y.output = ctx.outputs[0];
    y.node_output = 0;
    std::string t = layout ? "oc[1]" : "oc[0]", d = layout ? "oc[2]" : "oc[1]", bb = layout ? "oc[0]" : "oc[2]";
    const std::string len_y = lens ? "clamp(int(getLFlat(" + bb + ")), 0, " + glsl_int(S) + ")" : glsl_int(S);
    y.body = "float process(int oc[OUT_RANK]) {\n  bool rev = " +
             (dir == "reverse" ? std::string("true") : d + " == 1") + ";\n  int len = " + len_y + ";\n  if (" + t +
             " >= len) return 0.0;\n  int k = rev ? len - 1 - " + t + " : " + t + ";\n  return getHist(k + 1, " + d + ", " +
             bb + ", oc[3]);\n}\n";
    passes.push_back(y);
  }
  for (int o = 1; o <= 2; ++o) {
    if (!n.has_output(o) || static_cast<size_t>(o) >= ctx.outputs.size()) continue;
    ProgramInfo s;
    s.name = o == 1 ? "rnn_y_h" : "rnn_y_c";
    s.inputs = {{"Hist", last}};
    s.output = ctx.outputs[o];
    s.node_output = o;
    std::string d = layout ? "oc[1]" : "oc[0]", bb = layout ? "oc[0]" : "oc[1]";
    s.body = "float process(int oc[OUT_RANK]) {\n  return getHist(" + glsl_int(S) + ", " + d + ", " + bb + ", " +
             (o == 2 ? Hs + " + " : std::string()) + "oc[2]);\n}\n";
    passes.push_back(s);
  }
  return passes;
}

}  // namespace glint::gl
