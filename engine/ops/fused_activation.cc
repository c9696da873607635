#include "engine/ops/fused_activation.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "engine/ir/graph.h"

namespace glint {

namespace {

struct KindName {
  FusedActivation::Kind kind;
  const char* op;
};
constexpr KindName kKinds[] = {
    {FusedActivation::kRelu, "Relu"},       {FusedActivation::kClip, "Clip"},
    {FusedActivation::kLeakyRelu, "LeakyRelu"}, {FusedActivation::kSigmoid, "Sigmoid"},
    {FusedActivation::kHardSigmoid, "HardSigmoid"}, {FusedActivation::kTanh, "Tanh"},
    {FusedActivation::kGelu, "Gelu"},
};

const char* op_name(FusedActivation::Kind k) {
  for (auto& e : kKinds)
    if (e.kind == k) return e.op;
  return "";
}

FusedActivation::Kind kind_of(const std::string& op) {
  for (auto& e : kKinds)
    if (op == e.op) return e.kind;
  return FusedActivation::kNone;
}

std::string number(float v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g", static_cast<double>(v));
  return buf;
}

}  // namespace

std::string FusedActivation::describe() const {
  switch (kind) {
    case kNone: return "";
    case kRelu: case kSigmoid: case kTanh: case kGelu: return op_name(kind);
    case kLeakyRelu: return std::string(op_name(kind)) + "(" + number(alpha) + ")";
    case kClip: case kHardSigmoid:
      return std::string(op_name(kind)) + "(" + number(alpha) + ", " + number(beta) + ")";
  }
  return "";
}

FusedActivation activation_from_op(const ir::Node& n) {
  FusedActivation a;
  // com.microsoft Gelu (what passes::fuse_gelu makes), ONNX Gelu (opset 20)
  // without the tanh approximation.
  if (n.op_type == "Gelu" && (n.domain == "com.microsoft" || (n.domain.empty() && n.opset >= 20)) &&
      gelu_approximation(n) == "none") {
    a.kind = FusedActivation::kGelu;
    return a;
  }
  if (!n.domain.empty() || n.op_type == "Gelu") return a;
  a.kind = kind_of(n.op_type);
  switch (a.kind) {
    case FusedActivation::kLeakyRelu: a.alpha = n.attr_float("alpha", 0.01f); break;
    case FusedActivation::kHardSigmoid:
      a.alpha = n.attr_float("alpha", 0.2f);
      a.beta = n.attr_float("beta", 0.5f);
      break;
    case FusedActivation::kClip:
      // Before opset 11 the bounds are attributes; from 11 on they are inputs.
      a.alpha = n.opset < 11 ? n.attr_float("min", -std::numeric_limits<float>::infinity())
                             : -std::numeric_limits<float>::infinity();
      a.beta = n.opset < 11 ? n.attr_float("max", std::numeric_limits<float>::infinity())
                            : std::numeric_limits<float>::infinity();
      break;
    default: break;
  }
  return a;
}

std::string gelu_approximation(const ir::Node& n) {
  return n.domain.empty() ? n.attr_string("approximate", "none") : "none";
}

FusedActivation fused_activation_of(const ir::Node& n) {
  FusedActivation a;
  const ir::Attribute* k = n.attr(kFusedActivationAttr);
  if (k == nullptr || k->kind != ir::Attribute::Kind::kString) return a;
  a.kind = kind_of(k->s);
  if (a.kind == FusedActivation::kNone) return a;
  a.alpha = n.attr_float(kFusedActivationAlphaAttr, 0.f);
  a.beta = n.attr_float(kFusedActivationBetaAttr, 0.f);
  return a;
}

int fused_residual_input(const ir::Node& n) {
  const ir::Attribute* r = n.attr(kFusedResidualAttr);
  if (r == nullptr || r->kind != ir::Attribute::Kind::kInt || r->i != 1 || !n.has_input(3)) return -1;
  return 3;
}

void set_fused_residual(ir::Node& n, const std::string& residual) {
  n.inputs.resize(3);  // an absent bias stays "" (absent)
  n.inputs.push_back(residual);
  n.attrs[kFusedResidualAttr] = ir::Attribute::of_int(1);
}

int fused_addend_count(const ir::Node& n) {
  const ir::Attribute* c = n.attr(kFusedAddendsAttr);
  if (c == nullptr || c->kind != ir::Attribute::Kind::kInt || c->i < 1 || c->i > kMaxFusedAddends) return 0;
  return static_cast<int>(c->i);
}

void add_fused_addend(ir::Node& n, const std::string& addend) {
  const int count = fused_addend_count(n);
  n.inputs.resize(2 + count);
  n.inputs.push_back(addend);
  n.attrs[kFusedAddendsAttr] = ir::Attribute::of_int(count + 1);
}

bool addend_broadcasts_to(const Shape& addend, const Shape& y) {
  if (addend.size() > y.size()) return false;
  const size_t lead = y.size() - addend.size();
  for (size_t d = 0; d < addend.size(); ++d)
    if (addend[d] != 1 && addend[d] != y[lead + d]) return false;
  return true;
}

void set_fused_activation(ir::Node& n, const FusedActivation& a) {
  n.attrs.erase(kFusedActivationAttr);
  n.attrs.erase(kFusedActivationAlphaAttr);
  n.attrs.erase(kFusedActivationBetaAttr);
  if (a.kind == FusedActivation::kNone) return;
  ir::Attribute kind;
  kind.kind = ir::Attribute::Kind::kString;
  kind.s = op_name(a.kind);
  n.attrs[kFusedActivationAttr] = kind;
  n.attrs[kFusedActivationAlphaAttr] = ir::Attribute::of_float(a.alpha);
  n.attrs[kFusedActivationBetaAttr] = ir::Attribute::of_float(a.beta);
}

void apply_fused_activation(const FusedActivation& a, float* data, int64_t n) {
  const double alpha = a.alpha, beta = a.beta;
  auto each = [&](auto f) {
    for (int64_t i = 0; i < n; ++i) data[i] = f(data[i], alpha, beta);
  };
  switch (a.kind) {
    case FusedActivation::kNone: return;
    case FusedActivation::kRelu: return each(activation_value<FusedActivation::kRelu, float>);
    case FusedActivation::kClip: {
      // As the Clip kernel does on floats.
      const float lo = a.alpha, hi = a.beta;
      for (int64_t i = 0; i < n; ++i) {
        const float v = data[i];
        data[i] = v < lo ? lo : (v > hi ? hi : v);
      }
      return;
    }
    case FusedActivation::kLeakyRelu: return each(activation_value<FusedActivation::kLeakyRelu, float>);
    case FusedActivation::kSigmoid: return each(activation_value<FusedActivation::kSigmoid, float>);
    case FusedActivation::kHardSigmoid: return each(activation_value<FusedActivation::kHardSigmoid, float>);
    case FusedActivation::kTanh: return each(activation_value<FusedActivation::kTanh, float>);
    case FusedActivation::kGelu: return each(activation_value<FusedActivation::kGelu, float>);
  }
}

void apply_fused_activation(const FusedActivation& a, Tensor& y) {
  if (a.kind == FusedActivation::kNone || !is_float_storage(y.dtype())) return;
  apply_fused_activation(a, y.data<float>(), y.size());
}

}  // namespace glint
