// RNN, GRU and LSTM (every direction, layout 0/1, sequence_lens, initial
// states, peepholes, clip, custom activations, linear_before_reset,
// input_forget), computed step by step in double.
#include <algorithm>
#include <cmath>
#include <functional>

#include "engine/cpu/kernels.h"
#include "engine/cpu/util.h"

namespace glint::cpu {

namespace {

using Act = std::function<double(double)>;

Status make_act(const ir::Node& node, const std::string& name, float alpha, float beta, bool has_a,
                bool has_b, Act* f) {
  auto a = [&](double d) { return has_a ? alpha : d; };
  auto b = [&](double d) { return has_b ? beta : d; };
  if (name == "Sigmoid") *f = [](double x) { return 1 / (1 + std::exp(-x)); };
  else if (name == "Tanh") *f = [](double x) { return std::tanh(x); };
  else if (name == "Relu") *f = [](double x) { return std::max(0.0, x); };
  else if (name == "LeakyRelu") { double al = a(0.01); *f = [al](double x) { return x < 0 ? al * x : x; }; }
  else if (name == "ThresholdedRelu") { double al = a(1.0); *f = [al](double x) { return x > al ? x : 0.0; }; }
  else if (name == "ScaledTanh") { double al = a(1.0), be = b(1.0); *f = [al, be](double x) { return al * std::tanh(be * x); }; }
  else if (name == "HardSigmoid") { double al = a(0.2), be = b(0.5); *f = [al, be](double x) { return std::clamp(al * x + be, 0.0, 1.0); }; }
  else if (name == "Elu") { double al = a(1.0); *f = [al](double x) { return x < 0 ? al * (std::exp(x) - 1) : x; }; }
  else if (name == "Softsign") *f = [](double x) { return x / (1 + std::fabs(x)); };
  else if (name == "Softplus") *f = [](double x) { return std::log1p(std::exp(x)); };
  else if (name == "Affine") { double al = a(1.0), be = b(0.0); *f = [al, be](double x) { return al * x + be; }; }
  else return node_unsupported(node, "activation '" + name + "' is not supported");
  return Status::Ok();
}

int gates_of(const std::string& op) { return op == "LSTM" ? 4 : op == "GRU" ? 3 : 1; }
int acts_of(const std::string& op) { return op == "LSTM" ? 3 : op == "GRU" ? 2 : 1; }

}  // namespace

Status infer_rnn(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                 const std::vector<const Tensor*>&, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 3));
  const ir::ValueInfo& x = *inputs[0];
  const std::string dir = node.attr_string("direction", "forward");
  const int64_t dirs = dir == "bidirectional" ? 2 : 1;
  const bool layout = node.attr_int("layout", 0) != 0;
  ir::Dim hidden{node.has_attr("hidden_size") ? node.attr_int("hidden_size", 0) : -1, ""};
  if (!hidden.known() && inputs[2]->has_shape && inputs[2]->dims.size() == 3) hidden = inputs[2]->dims[2];
  for (auto& o : outputs) o.dtype = x.dtype;
  if (!x.has_shape) {
    for (auto& o : outputs) o.has_shape = false;
    return Status::Ok();
  }
  if (x.dims.size() != 3) return node_error(node, "X " + x.describe() + " must be 3-D");
  const ir::Dim seq = x.dims[layout ? 1 : 0], batch = x.dims[layout ? 0 : 1];
  const ir::Dim d{dirs, ""};
  outputs[0].has_shape = true;
  outputs[0].dims = layout ? std::vector<ir::Dim>{batch, seq, d, hidden} : std::vector<ir::Dim>{seq, d, batch, hidden};
  for (size_t i = 1; i < outputs.size(); ++i) {
    outputs[i].has_shape = true;
    outputs[i].dims = layout ? std::vector<ir::Dim>{batch, d, hidden} : std::vector<ir::Dim>{d, batch, hidden};
  }
  return Status::Ok();
}

Status rnn(const ir::Node& node, const std::vector<const Tensor*>& inputs, std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 3));
  const std::string& op = node.op_type;
  const Tensor& x = *inputs[0];
  const Tensor& w = *inputs[1];
  const Tensor& r = *inputs[2];
  auto in = [&](size_t i) -> const Tensor* { return i < inputs.size() ? inputs[i] : nullptr; };
  const Tensor *bias = in(3), *lens = in(4), *h0 = in(5), *c0 = op == "LSTM" ? in(6) : nullptr,
               *peep = op == "LSTM" ? in(7) : nullptr;
  if (!is_float(x.dtype())) return node_unsupported(node, "X has dtype " + dtype_name(x.dtype()));
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_rnn, node, inputs, outputs));
  const std::string dir = node.attr_string("direction", "forward");
  if (dir != "forward" && dir != "reverse" && dir != "bidirectional")
    return node_error(node, "unknown direction '" + dir + "'");
  const int64_t D = dir == "bidirectional" ? 2 : 1, G = gates_of(op);
  const bool layout = node.attr_int("layout", 0) != 0;
  const int64_t S = x.shape()[layout ? 1 : 0], B = x.shape()[layout ? 0 : 1], I = x.shape()[2];
  const int64_t H = r.rank() == 3 ? r.shape()[2] : 0;
  if (w.shape() != Shape{D, G * H, I} || r.shape() != Shape{D, G * H, H} ||
      (bias && bias->shape() != Shape{D, 2 * G * H}) || (h0 && h0->size() != D * B * H) ||
      (c0 && c0->size() != D * B * H) || (peep && peep->shape() != Shape{D, 3 * H}) ||
      (lens && lens->size() != B) || (node.has_attr("hidden_size") && node.attr_int("hidden_size", 0) != H))
    return node_error(node, "inconsistent shapes: X " + tensor_desc(x) + ", W " + tensor_desc(w) + ", R " +
                                tensor_desc(r) + (bias ? ", B " + tensor_desc(*bias) : std::string()));
  // Activations: per direction, acts_of(op) names.
  std::vector<std::string> names;
  if (node.has_attr("activations")) names = node.attr("activations")->strings;
  const int A = acts_of(op);
  const std::vector<std::string> dflt = op == "RNN" ? std::vector<std::string>{"Tanh"}
                                      : op == "GRU" ? std::vector<std::string>{"Sigmoid", "Tanh"}
                                                    : std::vector<std::string>{"Sigmoid", "Tanh", "Tanh"};
  if (names.empty()) for (int64_t d = 0; d < D; ++d) names.insert(names.end(), dflt.begin(), dflt.end());
  if (static_cast<int64_t>(names.size()) != A * D)
    return node_error(node, "expected " + std::to_string(A * D) + " activations, given " + std::to_string(names.size()));
  const auto alphas = node.attr_floats("activation_alpha"), betas = node.attr_floats("activation_beta");
  std::vector<Act> acts(names.size());
  for (size_t i = 0; i < names.size(); ++i)
    GLINT_RETURN_IF_ERROR(make_act(node, names[i], i < alphas.size() ? alphas[i] : 0.f, i < betas.size() ? betas[i] : 0.f,
                                   i < alphas.size(), i < betas.size(), &acts[i]));
  const bool has_clip = node.has_attr("clip");
  const double clip = node.attr_float("clip", 0.f);
  auto cl = [&](double v) { return has_clip ? std::clamp(v, -clip, clip) : v; };
  const bool lbr = node.attr_int("linear_before_reset", 0) != 0, input_forget = node.attr_int("input_forget", 0) != 0;
  auto X = [&](int64_t t, int64_t b, int64_t i) { return x.get_as_double(layout ? (b * S + t) * I + i : (t * B + b) * I + i); };
  auto y_at = [&](int64_t t, int64_t d, int64_t b, int64_t h) {
    return layout ? ((b * S + t) * D + d) * H + h : ((t * D + d) * B + b) * H + h;
  };
  auto state_at = [&](int64_t d, int64_t b, int64_t h) { return layout ? (b * D + d) * H + h : (d * B + b) * H + h; };
  Tensor* Y = !outputs[0].empty_storage() ? &outputs[0] : nullptr;
  std::vector<double> g(G * H), hprev(H), cprev(H), hnew(H), rh(H);
  for (int64_t d = 0; d < D; ++d) {
    const bool reverse = dir == "reverse" || d == 1;
    const Act& f = acts[d * A];
    const Act& gg = A > 1 ? acts[d * A + 1] : acts[d * A];
    const Act& hh = A > 2 ? acts[d * A + 2] : acts[d * A];
    auto Wv = [&](int64_t row, int64_t col) { return w.get_as_double((d * G * H + row) * I + col); };
    auto Rv = [&](int64_t row, int64_t col) { return r.get_as_double((d * G * H + row) * H + col); };
    auto Wb = [&](int64_t row) { return bias ? bias->get_as_double(d * 2 * G * H + row) : 0.0; };
    auto Rb = [&](int64_t row) { return bias ? bias->get_as_double(d * 2 * G * H + G * H + row) : 0.0; };
    auto P = [&](int64_t k, int64_t h) { return peep ? peep->get_as_double(d * 3 * H + k * H + h) : 0.0; };
    for (int64_t b = 0; b < B; ++b) {
      const int64_t len = lens ? std::clamp<int64_t>(lens->get_as_int64(b), 0, S) : S;
      for (int64_t h = 0; h < H; ++h) {
        hprev[h] = h0 ? h0->get_as_double((d * B + b) * H + h) : 0.0;
        cprev[h] = c0 ? c0->get_as_double((d * B + b) * H + h) : 0.0;
      }
      for (int64_t s = 0; s < len; ++s) {
        const int64_t t = reverse ? len - 1 - s : s;
        // g[row] = X_t W^T + Wb + Rb (+ H_{t-1} R^T except for GRU's candidate gate).
        for (int64_t row = 0; row < G * H; ++row) {
          double acc = Wb(row);
          for (int64_t i = 0; i < I; ++i) acc += X(t, b, i) * Wv(row, i);
          g[row] = acc;
        }
        if (op == "RNN") {
          for (int64_t h = 0; h < H; ++h) {
            double acc = g[h] + Rb(h);
            for (int64_t k = 0; k < H; ++k) acc += hprev[k] * Rv(h, k);
            hnew[h] = f(cl(acc));
          }
        } else if (op == "GRU") {
          std::vector<double> z(H), rr(H);
          for (int64_t h = 0; h < H; ++h) {
            double az = g[h] + Rb(h), ar = g[H + h] + Rb(H + h);
            for (int64_t k = 0; k < H; ++k) az += hprev[k] * Rv(h, k), ar += hprev[k] * Rv(H + h, k);
            z[h] = f(cl(az));
            rr[h] = f(cl(ar));
          }
          for (int64_t h = 0; h < H; ++h) {
            double acc = 0;
            for (int64_t k = 0; k < H; ++k) acc += (lbr ? hprev[k] : rr[k] * hprev[k]) * Rv(2 * H + h, k);
            const double cand = lbr ? g[2 * H + h] + rr[h] * (acc + Rb(2 * H + h)) : g[2 * H + h] + acc + Rb(2 * H + h);
            const double ht = gg(cl(cand));
            hnew[h] = (1 - z[h]) * ht + z[h] * hprev[h];
          }
        } else {
          for (int64_t row = 0; row < 4 * H; ++row) {
            double acc = g[row] + Rb(row);
            for (int64_t k = 0; k < H; ++k) acc += hprev[k] * Rv(row, k);
            g[row] = acc;
          }
          for (int64_t h = 0; h < H; ++h) {
            const double it = f(cl(g[h] + P(0, h) * cprev[h]));
            const double ft = input_forget ? 1 - it : f(cl(g[2 * H + h] + P(2, h) * cprev[h]));
            const double ct = gg(cl(g[3 * H + h]));
            const double cnew = ft * cprev[h] + it * ct;
            const double ot = f(cl(g[H + h] + P(1, h) * cnew));
            hnew[h] = ot * hh(cnew);
            cprev[h] = cnew;
          }
        }
        hprev = hnew;
        if (Y) for (int64_t h = 0; h < H; ++h) Y->set_from_double(y_at(t, d, b, h), hprev[h]);
      }
      for (int64_t h = 0; h < H; ++h) {
        if (outputs.size() > 1 && node.has_output(1)) outputs[1].set_from_double(state_at(d, b, h), hprev[h]);
        if (outputs.size() > 2 && node.has_output(2)) outputs[2].set_from_double(state_at(d, b, h), cprev[h]);
      }
    }
  }
  return Status::Ok();
}

}  // namespace glint::cpu
