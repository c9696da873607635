// RNN, GRU and LSTM (every direction, layout 0/1, sequence_lens, initial
// states, peepholes, clip, custom activations, linear_before_reset,
// input_forget), step by step: each step's products with W and R as
// matrix-vector products (the SIMD GEMM for float storage, in double for
// float64), the gates' activations in double.
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

// out[0:rows] += M[0:rows, 0:cols] v (M row-major): the float GEMM's
// matrix-vector path; a scalar loop in double.
void matvec_acc(float* out, const float* m, const float* v, int64_t rows, int64_t cols) {
  gemm(false, true, 1, rows, cols, 1.f, v, cols, m, cols, 1.f, out, rows);
}
void matvec_acc(double* out, const double* m, const double* v, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    double acc = 0;
    for (int64_t c = 0; c < cols; ++c) acc += m[r * cols + c] * v[c];
    out[r] += acc;
  }
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
  const bool is_rnn = op == "RNN", is_gru = op == "GRU";
  // The rows R multiplies h_{t-1} into with the others (GRU's candidate rows apart).
  const int64_t recurrent_rows = is_gru ? 2 * H : G * H;
  // Float16 and bfloat16 are stored as float: T is the storage type.
  const auto run = [&](auto tag) -> Status {
    using T = decltype(tag);
    for (const Tensor* t : {&w, &r, bias, h0, c0, peep})
      if (t && (!is_float(t->dtype()) || (t->dtype() == DataType::kFloat64) != std::is_same_v<T, double>))
        return node_error(node, "X is " + dtype_name(x.dtype()) + " but another float input is " +
                                    dtype_name(t->dtype()) + " (they must match)");
    const T* px = x.data<T>();
    auto y_at = [&](int64_t t, int64_t d, int64_t b, int64_t h) {
      return layout ? ((b * S + t) * D + d) * H + h : ((t * D + d) * B + b) * H + h;
    };
    auto state_at = [&](int64_t d, int64_t b, int64_t h) { return layout ? (b * D + d) * H + h : (d * B + b) * H + h; };
    Tensor* Y = !outputs[0].empty_storage() ? &outputs[0] : nullptr;
    std::vector<T> g(G * H), hprev(H), cprev(H), hnew(H), rh(H), cand(H);
    std::vector<double> z(H), rr(H);
    for (int64_t d = 0; d < D; ++d) {
      const bool reverse = dir == "reverse" || d == 1;
      const Act& f = acts[d * A];
      const Act& gg = A > 1 ? acts[d * A + 1] : acts[d * A];
      const Act& hh = A > 2 ? acts[d * A + 2] : acts[d * A];
      const T* Wd = w.data<T>() + d * G * H * I;
      const T* Rd = r.data<T>() + d * G * H * H;
      const T* Wb = bias ? bias->data<T>() + d * 2 * G * H : nullptr;
      const T* Rb = bias ? Wb + G * H : nullptr;
      auto P = [&](int64_t k, int64_t h) -> double { return peep ? peep->data<T>()[d * 3 * H + k * H + h] : 0.0; };
      for (int64_t b = 0; b < B; ++b) {
        const int64_t len = lens ? std::clamp<int64_t>(lens->get_as_int64(b), 0, S) : S;
        for (int64_t h = 0; h < H; ++h) {
          // Laid out as Y_h / Y_c are: [B, D, H] with layout 1.
          hprev[h] = h0 ? h0->data<T>()[state_at(d, b, h)] : T(0);
          cprev[h] = c0 ? c0->data<T>()[state_at(d, b, h)] : T(0);
        }
        for (int64_t s = 0; s < len; ++s) {
          const int64_t t = reverse ? len - 1 - s : s;
          // g = W x_t + Wb, then + Rb + R h_{t-1} (GRU: its candidate rows apart).
          for (int64_t row = 0; row < G * H; ++row)
            g[row] = (Wb ? Wb[row] : T(0)) + (Rb && row < recurrent_rows ? Rb[row] : T(0));
          matvec_acc(g.data(), Wd, px + (layout ? (b * S + t) * I : (t * B + b) * I), G * H, I);
          matvec_acc(g.data(), Rd, hprev.data(), recurrent_rows, H);
          if (is_rnn) {
            for (int64_t h = 0; h < H; ++h) hnew[h] = static_cast<T>(f(cl(g[h])));
          } else if (is_gru) {
            for (int64_t h = 0; h < H; ++h) {
              z[h] = f(cl(g[h]));
              rr[h] = f(cl(g[H + h]));
              rh[h] = lbr ? hprev[h] : static_cast<T>(rr[h] * hprev[h]);
              cand[h] = T(0);
            }
            matvec_acc(cand.data(), Rd + 2 * H * H, rh.data(), H, H);
            for (int64_t h = 0; h < H; ++h) {
              const double rb = Rb ? Rb[2 * H + h] : 0.0;
              const double pre = lbr ? g[2 * H + h] + rr[h] * (cand[h] + rb) : g[2 * H + h] + cand[h] + rb;
              const double ht = gg(cl(pre));
              hnew[h] = static_cast<T>((1 - z[h]) * ht + z[h] * hprev[h]);
            }
          } else {
            for (int64_t h = 0; h < H; ++h) {
              const double it = f(cl(g[h] + P(0, h) * cprev[h]));
              const double ft = input_forget ? 1 - it : f(cl(g[2 * H + h] + P(2, h) * cprev[h]));
              const double ct = gg(cl(g[3 * H + h]));
              const double cnew = ft * cprev[h] + it * ct;
              const double ot = f(cl(g[H + h] + P(1, h) * cnew));
              hnew[h] = static_cast<T>(ot * hh(cnew));
              cprev[h] = static_cast<T>(cnew);
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
  };
  return x.dtype() == DataType::kFloat64 ? run(double{}) : run(float{});
}

}  // namespace glint::cpu
