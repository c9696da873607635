#include "engine/plan/work.h"

#include <algorithm>
#include <set>
#include <string>

#include "engine/cpu/conv_winograd.h"

namespace glint::plan {

namespace {

double elements(const std::optional<Shape>& s) {
  if (!s) return 0;
  double n = 1;
  for (int64_t d : *s) n *= static_cast<double>(d);
  return n;
}

double dim(const std::optional<Shape>& s, int i) {
  if (!s || s->empty()) return 0;
  if (i < 0) i += static_cast<int>(s->size());
  return i >= 0 && i < static_cast<int>(s->size()) ? static_cast<double>((*s)[i]) : 0;
}

const std::optional<Shape>& at(const std::vector<std::optional<Shape>>& v, size_t i) {
  static const std::optional<Shape> kNone;
  return i < v.size() ? v[i] : kNone;
}

}  // namespace

double estimate_flops(const ir::Node& n, const std::vector<std::optional<Shape>>& in,
                      const std::vector<std::optional<Shape>>& out) {
  const std::string& op = n.op_type;
  const double out0 = elements(at(out, 0));
  // Each output element of a Conv sums C_in/group x kernel products.
  if (op == "Conv" || op == "ConvInteger" || op == "QLinearConv" || op == "FusedConv") {
    const auto& w = at(in, op == "QLinearConv" ? 3 : 1);
    if (!w || w->size() < 2) return out0;
    double per_output = 1;
    for (size_t i = 1; i < w->size(); ++i) per_output *= static_cast<double>((*w)[i]);
    // Winograd weights [16, M, C] (cpu/conv_winograd.h): count the direct
    // conv's C x 3 x 3 products, the work the node stands for.
    if (cpu::is_winograd(n) && w->size() == 3) per_output = 9 * static_cast<double>((*w)[2]);
    return 2 * out0 * per_output;
  }
  // Each input element scatters into C_out/group x kernel outputs.
  if (op == "ConvTranspose") {
    const auto& w = at(in, 1);
    if (!w || w->size() < 2) return out0;
    double per_input = 1;
    for (size_t i = 1; i < w->size(); ++i) per_input *= static_cast<double>((*w)[i]);
    return 2 * elements(at(in, 0)) * per_input;
  }
  // Output elements x the shared (inner) dimension.
  if (op == "MatMul" || op == "MatMulInteger" || op == "QLinearMatMul" || op == "FusedMatMul" ||
      op == "MatMulNBits" || op == "MatMulIntegerToFloat" || op == "DynamicQuantizeMatMul") {
    double k = dim(at(in, 0), -1);
    if (op == "FusedMatMul" && n.attr_int("transA", 0)) k = dim(at(in, 0), -2);
    if (op == "MatMulNBits") k = static_cast<double>(n.attr_int("K", static_cast<int64_t>(k)));
    return 2 * out0 * (k > 0 ? k : 1);
  }
  if (op == "Gemm") {
    const double k = n.attr_int("transA", 0) ? dim(at(in, 0), 0) : dim(at(in, 0), 1);
    return 2 * out0 * (k > 0 ? k : 1);
  }
  if (op == "Einsum") return 2 * out0 * std::max(1.0, elements(at(in, 0)) / std::max(1.0, out0));
  // Attention: Q·Kᵀ and P·V over every query and key position.
  if (op == "Attention" || op == "MultiHeadAttention" || op == "GroupQueryAttention") {
    const double batch = dim(at(in, 0), 0), seq = dim(at(in, 0), 1);
    const double hidden = dim(at(out, 0), -1);
    double total_seq = seq;
    const auto& present = at(out, 1);
    if (present && present->size() == 4) total_seq = dim(present, 2);
    else if (present && present->size() == 5) total_seq = dim(present, 3);
    double work = 4 * batch * seq * total_seq * hidden;
    if (op == "Attention") work += 2 * batch * seq * dim(at(in, 0), 2) * dim(at(in, 1), 1);  // the QKV projection
    return work;
  }
  // RNNs: per step and direction, the gates' input and recurrent products.
  if (op == "LSTM" || op == "GRU" || op == "RNN") {
    const auto& x = at(in, 0);
    const auto& w = at(in, 1);
    const auto& r = at(in, 2);
    if (!x || !w || !r || x->size() != 3 || w->size() != 3 || r->size() != 3) return out0;
    const double seq = dim(x, 0), batch = dim(x, 1);
    return 2 * seq * batch * dim(w, 0) * dim(w, 1) * (dim(w, 2) + dim(r, 2));
  }
  static const std::set<std::string> kReductions = {
      "ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
      "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare", "ArgMax", "ArgMin", "GlobalAveragePool",
      "GlobalMaxPool", "GlobalLpPool", "Softmax", "LogSoftmax", "LayerNormalization",
      "SkipLayerNormalization", "SimplifiedLayerNormalization", "SkipSimplifiedLayerNormalization",
      "InstanceNormalization", "GroupNormalization", "CumSum", "TopK"};
  if (kReductions.count(op)) return elements(at(in, 0));
  // A pooling window: the kernel's elements per output element.
  if (op == "MaxPool" || op == "AveragePool" || op == "LpPool") {
    double window = 1;
    for (int64_t k : n.attr_ints("kernel_shape")) window *= static_cast<double>(k);
    return out0 * window;
  }
  return out0;
}

}  // namespace glint::plan
