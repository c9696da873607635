// Every GPU kernel against its CPU kernel: data-driven tables of
// (op, attributes, input shapes, opset, tolerance). Each case builds a node,
// infers its outputs with the registry's shape function, runs the first GPU
// candidate that supports it through the executor (llvmpipe natively) and the
// CPU kernel, and compares element by element with |gpu - cpu| <= tol * (1 + |cpu|).
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "engine/core/half.h"
#include "engine/gl/executor.h"
#include "engine/gl/kernels/kernel.h"
#include "engine/runtime/registry.h"

namespace {

using glint::DataType;
using glint::Shape;
using glint::Tensor;
namespace ir = glint::ir;
namespace gl = glint::gl;

// --- attributes -------------------------------------------------------------
using Attrs = std::map<std::string, ir::Attribute>;
ir::Attribute ai(int64_t v) { ir::Attribute a; a.kind = ir::Attribute::Kind::kInt; a.i = v; return a; }
ir::Attribute af(float v) { ir::Attribute a; a.kind = ir::Attribute::Kind::kFloat; a.f = v; return a; }
ir::Attribute as(const std::string& v) { ir::Attribute a; a.kind = ir::Attribute::Kind::kString; a.s = v; return a; }
ir::Attribute ais(std::vector<int64_t> v) {
  ir::Attribute a; a.kind = ir::Attribute::Kind::kInts; a.ints = std::move(v); return a;
}

// --- a case -----------------------------------------------------------------
struct In {
  Shape shape;
  DataType dtype = DataType::kFloat32;
  bool constant = false;
  std::vector<double> values;  // explicit values (else uniform random in [lo, hi])
  float lo = -2.f, hi = 2.f;
  bool absent = false;
};
In F(Shape s) { In i; i.shape = std::move(s); return i; }
In F(Shape s, float lo, float hi) { In i = F(std::move(s)); i.lo = lo; i.hi = hi; return i; }
In H(Shape s, float lo = -2.f, float hi = 2.f) {
  In i = F(std::move(s), lo, hi);
  i.dtype = DataType::kFloat16;
  return i;
}
In C(Shape s, std::vector<double> v) { In i = F(std::move(s)); i.constant = true; i.values = std::move(v); return i; }
In I64(std::vector<int64_t> v) {
  In i;
  i.shape = {static_cast<int64_t>(v.size())};
  i.dtype = DataType::kInt64;
  i.constant = true;
  for (auto x : v) i.values.push_back(static_cast<double>(x));
  return i;
}
In Absent() { In i; i.absent = true; return i; }

struct Case {
  std::string op;
  Attrs attrs;
  std::vector<In> inputs;
  int opset = 13;
  double tol = 1e-5;
  int outputs = 1;
};

std::string describe(const Case& c) {
  std::ostringstream os;
  os << c.op << " opset " << c.opset << " inputs";
  for (auto& i : c.inputs) os << " " << (i.absent ? "-" : glint::dtype_name(i.dtype) + glint::shape_str(i.shape));
  for (auto& [k, v] : c.attrs) os << " " << k << "=" << v.cache_key();
  return os.str();
}

gl::Executor* executor() {
  static auto ex = gl::create_executor();
  if (!ex.ok()) {
    FAIL("create_executor: " << ex.status().message());
    return nullptr;
  }
  return ex.value().get();
}

ir::Node make_node(const Case& c) {
  ir::Node n;
  n.name = "n";
  n.op_type = c.op;
  n.opset = c.opset;
  n.attrs = c.attrs;
  for (size_t i = 0; i < c.inputs.size(); ++i) n.inputs.push_back(c.inputs[i].absent ? "" : "x" + std::to_string(i));
  for (int i = 0; i < c.outputs; ++i) n.outputs.push_back("y" + std::to_string(i));
  return n;
}

std::vector<Tensor> make_inputs(const Case& c, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<Tensor> ts;
  for (auto& in : c.inputs) {
    if (in.absent) { ts.emplace_back(); continue; }
    Tensor t(in.dtype, in.shape);
    std::uniform_real_distribution<float> u(in.lo, in.hi);
    for (int64_t k = 0; k < t.size(); ++k) {
      double v = in.values.empty() ? u(rng) : in.values[k % in.values.size()];
      if (in.dtype == DataType::kFloat16) v = glint::round_to_half(static_cast<float>(v));
      t.set_from_double(k, v);
    }
    ts.push_back(t);
  }
  return ts;
}

// The context a runtime would hand the kernels, with inputs' descs and constants.
struct Prepared {
  ir::Node node;
  std::vector<Tensor> inputs;
  std::vector<ir::ValueInfo> input_infos;
  std::vector<ir::ValueInfo> outputs;
  gl::KernelContext ctx;
};

std::unique_ptr<Prepared> prepare(const Case& c, uint32_t seed) {
  auto p = std::make_unique<Prepared>();
  p->node = make_node(c);
  p->inputs = make_inputs(c, seed);
  std::vector<const ir::ValueInfo*> infos;
  std::vector<const Tensor*> consts;
  p->input_infos.resize(c.inputs.size());
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    if (c.inputs[i].absent) { infos.push_back(nullptr); consts.push_back(nullptr); continue; }
    p->input_infos[i] = ir::ValueInfo::of(p->inputs[i]);
    infos.push_back(&p->input_infos[i]);
    consts.push_back(c.inputs[i].constant ? &p->inputs[i] : nullptr);
  }
  glint::InferFn infer = glint::find_infer(p->node);
  if (!infer) { FAIL("no shape inference for " << c.op); return nullptr; }
  p->outputs.resize(c.outputs);
  glint::Status st = infer(p->node, infos, consts, p->outputs);
  if (!st.ok()) { FAIL("shape inference: " << st.message()); return nullptr; }
  p->ctx.node = &p->node;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    if (c.inputs[i].absent) p->ctx.inputs.push_back(std::nullopt);
    else p->ctx.inputs.push_back(gl::TensorDesc{p->inputs[i].dtype(), p->inputs[i].shape()});
    p->ctx.constants.push_back(consts[i]);
  }
  for (auto& o : p->outputs) p->ctx.outputs.push_back(gl::TensorDesc{o.dtype, o.concrete()});
  return p;
}

// Runs one case; reports (CHECK/FAIL) any mismatch.
void run_case(const Case& c, uint32_t seed = 1234) {
  INFO(describe(c));
  auto p = prepare(c, seed);
  if (!p) return;

  // CPU reference.
  const glint::CpuCandidate* cpu = glint::find_cpu_kernel(p->node);
  if (!cpu) { FAIL("no CPU kernel for " << c.op << " at opset " << c.opset); return; }
  std::vector<const Tensor*> cin;
  for (size_t i = 0; i < p->inputs.size(); ++i) cin.push_back(c.inputs[i].absent ? nullptr : &p->inputs[i]);
  std::vector<Tensor> want(c.outputs);
  glint::Status st = cpu->run(p->node, cin, want);
  if (!st.ok()) { FAIL("cpu kernel: " << st.message()); return; }

  // GPU: the first candidate that supports the node.
  const glint::GpuCandidate* chosen = nullptr;
  std::string reasons;
  for (auto* cand : glint::find_gpu_kernels(p->node)) {
    std::string why;
    if (!cand->supports || cand->supports(p->ctx, &why)) { chosen = cand; break; }
    reasons += std::string(cand->name) + ": " + why + "; ";
  }
  if (!chosen) { FAIL("no GPU kernel supports it: " << reasons); return; }
  auto passes = chosen->build(p->ctx);
  if (!passes.ok()) { FAIL("build: " << passes.status().message()); return; }

  gl::Executor* ex = executor();
  if (!ex) return;
  std::vector<gl::GpuTensorPtr> gin;
  for (size_t i = 0; i < p->inputs.size(); ++i) {
    DataType t = p->inputs[i].dtype();
    if (c.inputs[i].absent || (t != DataType::kFloat32 && t != DataType::kFloat16)) {
      gin.push_back(nullptr);  // shape / index inputs are read by the kernel at build time
      continue;
    }
    auto up = ex->upload(p->inputs[i]);
    if (!up.ok()) { FAIL("upload: " << up.status().message()); return; }
    gin.push_back(up.value());
  }
  auto outs = ex->run(passes.value(), gin, p->node.outputs.size());
  if (!outs.ok()) {
    std::string src;
    for (auto& ps : passes.value()) src += "--- " + ps.name + "\n" + ps.body;
    FAIL("run: " << outs.status().message() << "\n" << src);
    return;
  }
  // Every output the GPU passes write (training-only optional outputs are
  // declined by the kernels and not requested here).
  size_t compared = 0;
  for (size_t oi = 0; oi < outs.value().size(); ++oi) {
    if (!outs.value()[oi]) continue;
    ++compared;
    auto got = ex->download(*outs.value()[oi]);
    if (!got.ok()) { FAIL("download: " << got.status().message()); return; }
    const Tensor& g = got.value();
    const Tensor& w = want[oi];
    INFO("output " << oi);
    CHECK(glint::dtype_name(g.dtype()) == glint::dtype_name(w.dtype()));
    REQUIRE(glint::shape_str(g.shape()) == glint::shape_str(w.shape()));
    double worst = 0;
    int64_t bad = 0, first_bad = -1;
    for (int64_t k = 0; k < w.size(); ++k) {
      double a = g.get_as_double(k), b = w.get_as_double(k);
      if (std::isnan(a) && std::isnan(b)) continue;
      if (std::isinf(b) && a == b) continue;
      double err = std::fabs(a - b) / (1.0 + std::fabs(b));
      if (!(err <= c.tol)) {
        if (first_bad < 0) first_bad = k;
        ++bad;
      }
      if (err > worst || std::isnan(err)) worst = err;
    }
    std::ostringstream detail;
    detail << "worst relative error " << worst << " (tolerance " << c.tol << ")";
    if (first_bad >= 0)
      detail << "; first mismatch at " << first_bad << ": gpu " << g.get_as_double(first_bad) << " cpu "
             << w.get_as_double(first_bad);
    INFO(detail.str());
    CHECK(bad == 0);
  }
  CHECK(compared == static_cast<size_t>(c.outputs));
}

void run_all(const std::vector<Case>& cases) {
  uint32_t seed = 1;
  for (auto& c : cases) run_case(c, seed++);
}

// supports() on a hand-built context (no GL, no inference).
bool gpu_supports(const std::string& op, int opset, Attrs attrs,
                  std::vector<std::optional<gl::TensorDesc>> inputs, std::vector<gl::TensorDesc> outputs,
                  std::vector<const Tensor*> constants, std::string* why, int node_outputs = 1) {
  ir::Node n;
  n.op_type = op;
  n.opset = opset;
  n.attrs = std::move(attrs);
  for (size_t i = 0; i < inputs.size(); ++i) n.inputs.push_back(inputs[i] ? "x" + std::to_string(i) : "");
  for (int i = 0; i < node_outputs; ++i) n.outputs.push_back("y" + std::to_string(i));
  gl::KernelContext ctx;
  ctx.node = &n;
  ctx.inputs = std::move(inputs);
  ctx.outputs = std::move(outputs);
  constants.resize(ctx.inputs.size(), nullptr);
  ctx.constants = std::move(constants);
  auto cands = glint::find_gpu_kernels(n);
  REQUIRE(!cands.empty());
  for (auto* c : cands) {
    std::string w;
    if (!c->supports || c->supports(ctx, &w)) return true;
    *why += w + ";";
  }
  return false;
}

const DataType f32 = DataType::kFloat32;

}  // namespace

TEST_CASE("gpu elementwise unary ops match cpu", "[gpu]") {
  std::vector<Case> cases;
  Shape s = {2, 3, 5, 7};
  for (const char* op : {"Abs", "Neg", "Exp", "Floor", "Ceil", "Sin", "Cos", "Atan"})
    cases.push_back({op, {}, {F(s, -3, 3)}, 13, 1e-5});
  for (const char* op : {"Log", "Sqrt", "Reciprocal"}) cases.push_back({op, {}, {F(s, 0.05f, 5)}, 13, 1e-5});
  cases.push_back({"Tan", {}, {F(s, -1.2f, 1.2f)}, 13, 1e-5});
  for (const char* op : {"Asin", "Acos"}) cases.push_back({op, {}, {F(s, -0.99f, 0.99f)}, 13, 1e-5});
  for (const char* op : {"Sinh", "Cosh", "Asinh"}) cases.push_back({op, {}, {F(s, -3, 3)}, 13, 1e-5});
  cases.push_back({"Acosh", {}, {F(s, 1.01f, 5)}, 13, 1e-5});
  cases.push_back({"Atanh", {}, {F(s, -0.95f, 0.95f)}, 13, 1e-5});
  cases.push_back({"Sign", {}, {F(s, -3, 3)}, 13, 0});
  cases.push_back({"Sign", {}, {C({5}, {-1.0, 0.0, 2.0, -0.0, 0.5})}, 13, 0});
  cases.push_back({"Round", {}, {C({8}, {0.5, 1.5, 2.5, -0.5, -1.5, 2.4, -2.6, 0.49999997})}, 11, 0});
  cases.push_back({"Round", {}, {F(s, -10, 10)}, 11, 0});
  cases.push_back({"Erf", {}, {F(s, -3, 3)}, 13, 1e-6});
  cases.push_back({"Exp", {}, {F({}, -1, 1)}, 13, 1e-6});  // rank 0
  cases.push_back({"Neg", {}, {H({4, 9})}, 13, 1e-3});     // float16
  run_all(cases);
}

TEST_CASE("gpu activations match cpu", "[gpu]") {
  Shape s = {1, 4, 6, 5};
  std::vector<Case> cases = {
      {"Relu", {}, {F(s)}, 14, 0},
      {"Relu", {}, {F({17})}, 6, 0},
      {"Relu", {}, {H({3, 5})}, 14, 0},
      {"LeakyRelu", {}, {F(s)}, 6, 1e-6},
      {"LeakyRelu", {{"alpha", af(0.3f)}}, {F(s)}, 16, 1e-6},
      {"Sigmoid", {}, {F(s, -20, 20)}, 13, 1e-6},
      {"Tanh", {}, {F(s, -30, 30)}, 13, 1e-6},
      {"Clip", {{"min", af(-0.5f)}, {"max", af(0.7f)}}, {F(s)}, 6, 0},
      {"Clip", {{"max", af(0.7f)}}, {F(s)}, 6, 0},
      {"Clip", {}, {F(s)}, 6, 0},
      {"Clip", {}, {F(s), C({}, {-0.25}), C({}, {1.5})}, 13, 0},
      {"Clip", {}, {F(s), Absent(), C({}, {0.5})}, 11, 0},
      {"Clip", {}, {F(s), C({}, {0.0}), Absent()}, 12, 0},
      {"Clip", {}, {F(s)}, 13, 0},
      {"Clip", {}, {F(s), F({}, -1, -0.5f), F({}, 0.5f, 1)}, 13, 0},  // bounds as run-time inputs
      {"Clip", {}, {F(s), Absent(), F({1}, 0.5f, 1)}, 11, 0},
      {"Clip", {}, {F(s), F({}, -1, -0.5f), C({}, {0.25})}, 13, 0},
      {"Elu", {{"alpha", af(0.5f)}}, {F(s)}, 6, 1e-6},
      {"Selu", {}, {F(s)}, 6, 1e-6},
      {"HardSigmoid", {{"alpha", af(0.25f)}, {"beta", af(0.4f)}}, {F(s, -4, 4)}, 6, 1e-6},
      {"Softplus", {}, {F(s, -30, 30)}, 1, 1e-6},
      {"Softsign", {}, {F(s)}, 1, 1e-6},
      {"Celu", {{"alpha", af(2.f)}}, {F(s)}, 12, 1e-6},
      {"HardSwish", {}, {F(s, -5, 5)}, 14, 1e-6},
      {"ThresholdedRelu", {{"alpha", af(0.5f)}}, {F(s)}, 10, 0},
      {"PRelu", {}, {F(s), F({4, 1, 1})}, 16, 1e-6},
      {"PRelu", {}, {F(s), F({5})}, 9, 1e-6},
  };
  run_all(cases);
}

TEST_CASE("gpu binary and variadic ops broadcast like cpu", "[gpu]") {
  std::vector<Case> cases;
  for (const char* op : {"Add", "Sub", "Mul", "Div"}) {
    cases.push_back({op, {}, {F({2, 3, 4}), F({2, 3, 4}, 0.5f, 2)}, 14, 1e-6});
    cases.push_back({op, {}, {F({2, 3, 4}), F({4}, 0.5f, 2)}, 14, 1e-6});
    cases.push_back({op, {}, {F({3, 1}), F({1, 5}, 0.5f, 2)}, 7, 1e-6});
    cases.push_back({op, {}, {F({}), F({2, 1, 3}, 0.5f, 2)}, 13, 1e-6});
    cases.push_back({op, {}, {F({1, 4, 1, 1}), F({2, 1, 3, 5}, 0.5f, 2)}, 13, 1e-6});
  }
  cases.push_back({"Add", {}, {H({2, 3}), H({3})}, 14, 1e-3});
  cases.push_back({"Mod", {{"fmod", ai(1)}}, {F({4, 6}, -10, 10), F({6}, 0.5f, 3)}, 13, 1e-5});
  cases.push_back({"Mod", {{"fmod", ai(1)}}, {F({4, 6}, -10, 10), F({4, 1}, -3, -0.5f)}, 10, 1e-5});
  cases.push_back({"Pow", {}, {F({2, 3, 4}, 0.1f, 3), F({2, 3, 4}, -2, 2)}, 13, 1e-5});
  cases.push_back({"Pow", {}, {F({2, 3, 4}), C({}, {2.0})}, 7, 1e-5});
  cases.push_back({"Pow", {}, {F({2, 3, 4}), C({1}, {3.0})}, 15, 1e-5});
  for (const char* op : {"Max", "Min", "Sum", "Mean"}) {
    cases.push_back({op, {}, {F({2, 3, 4})}, 13, 1e-6});
    cases.push_back({op, {}, {F({2, 3, 4}), F({3, 1}), F({4})}, 13, 1e-6});
    cases.push_back({op, {}, {F({3, 4}), F({3, 4})}, 6, 1e-6});
  }
  run_all(cases);
}

TEST_CASE("gpu conv matches cpu", "[gpu]") {
  auto attrs = [](std::vector<std::pair<std::string, ir::Attribute>> kv) {
    Attrs a;
    for (auto& [k, v] : kv) a[k] = v;
    return a;
  };
  std::vector<Case> cases = {
      // plain 3x3, bias, no pads
      {"Conv", {}, {F({1, 3, 8, 8}), F({4, 3, 3, 3}), F({4})}, 11, 1e-5},
      // pads, strides, no bias, C=8 so the vec4 path runs twice
      {"Conv", attrs({{"pads", ais({1, 1, 1, 1})}, {"strides", ais({2, 2})}}),
       {F({2, 8, 9, 7}), F({5, 8, 3, 3})}, 11, 1e-5},
      // asymmetric pads, dilations, C=5 (vec4 + remainder)
      {"Conv", attrs({{"pads", ais({0, 2, 1, 0})}, {"dilations", ais({2, 1})}}),
       {F({1, 5, 10, 9}), F({3, 5, 3, 2}), F({3})}, 11, 1e-5},
      // groups
      {"Conv", attrs({{"group", ai(2)}, {"pads", ais({1, 1, 1, 1})}}),
       {F({1, 6, 7, 7}), F({4, 3, 3, 3}), F({4})}, 11, 1e-5},
      // depthwise
      {"Conv", attrs({{"group", ai(8)}, {"pads", ais({1, 1, 1, 1})}, {"strides", ais({2, 2})}}),
       {F({1, 8, 11, 11}), F({8, 1, 3, 3}), F({8})}, 11, 1e-5},
      // depthwise with multiplier 2
      {"Conv", attrs({{"group", ai(4)}}), {F({1, 4, 6, 6}), F({8, 1, 3, 3})}, 11, 1e-5},
      // auto_pad
      {"Conv", attrs({{"auto_pad", as("SAME_UPPER")}, {"strides", ais({2, 2})}}),
       {F({1, 3, 8, 7}), F({2, 3, 4, 4})}, 11, 1e-5},
      {"Conv", attrs({{"auto_pad", as("SAME_LOWER")}, {"strides", ais({2, 2})}}),
       {F({1, 3, 8, 7}), F({2, 3, 4, 4})}, 11, 1e-5},
      {"Conv", attrs({{"auto_pad", as("VALID")}, {"strides", ais({1, 2})}}),
       {F({1, 3, 8, 7}), F({2, 3, 3, 3}), F({2})}, 1, 1e-5},
      // 1x1 and explicit kernel_shape
      {"Conv", attrs({{"kernel_shape", ais({1, 1})}}), {F({2, 16, 5, 5}), F({7, 16, 1, 1}), F({7})}, 11, 1e-5},
      // 1-D
      {"Conv", attrs({{"pads", ais({2, 1})}, {"strides", ais({2})}, {"dilations", ais({2})}}),
       {F({2, 6, 20}), F({4, 6, 3}), F({4})}, 11, 1e-5},
      // float16
      {"Conv", attrs({{"pads", ais({1, 1, 1, 1})}}), {H({1, 4, 5, 5}), H({2, 4, 3, 3}), H({2})}, 11, 2e-3},
  };
  run_all(cases);
}

TEST_CASE("gpu pools match cpu", "[gpu]") {
  auto attrs = [](std::vector<std::pair<std::string, ir::Attribute>> kv) {
    Attrs a;
    for (auto& [k, v] : kv) a[k] = v;
    return a;
  };
  std::vector<Case> cases;
  for (const char* op : {"MaxPool", "AveragePool"}) {
    cases.push_back({op, attrs({{"kernel_shape", ais({2, 2})}, {"strides", ais({2, 2})}}), {F({1, 3, 8, 8})}, 11, 1e-6});
    cases.push_back({op, attrs({{"kernel_shape", ais({3, 3})}, {"pads", ais({1, 1, 1, 1})}, {"strides", ais({2, 2})}}),
                     {F({2, 2, 9, 7})}, 11, 1e-6});
    cases.push_back({op, attrs({{"kernel_shape", ais({3, 3})}, {"strides", ais({2, 2})}, {"ceil_mode", ai(1)}}),
                     {F({1, 2, 8, 8})}, 11, 1e-6});
    cases.push_back({op, attrs({{"kernel_shape", ais({3, 2})}, {"auto_pad", as("SAME_UPPER")}, {"strides", ais({2, 2})}}),
                     {F({1, 2, 7, 6})}, 11, 1e-6});
    cases.push_back({op, attrs({{"kernel_shape", ais({3, 2})}, {"auto_pad", as("SAME_LOWER")}}),
                     {F({1, 2, 7, 6})}, 11, 1e-6});
    cases.push_back({op, attrs({{"kernel_shape", ais({3})}, {"strides", ais({2})}, {"pads", ais({1, 1})}}),
                     {F({2, 3, 11})}, 11, 1e-6});
    cases.push_back({op, attrs({{"kernel_shape", ais({2, 2})}}), {H({1, 2, 5, 5})}, 11, 1e-3});
  }
  cases.push_back({"MaxPool", attrs({{"kernel_shape", ais({2, 2})}, {"dilations", ais({2, 2})}, {"pads", ais({1, 0, 1, 0})}}),
                   {F({1, 2, 8, 8})}, 12, 0});
  cases.push_back({"AveragePool", attrs({{"kernel_shape", ais({3, 3})}, {"pads", ais({1, 1, 1, 1})}, {"count_include_pad", ai(1)}}),
                   {F({1, 2, 6, 5})}, 11, 1e-6});
  cases.push_back({"AveragePool", attrs({{"kernel_shape", ais({3, 3})}, {"strides", ais({2, 2})}, {"pads", ais({1, 1, 1, 1})},
                                         {"count_include_pad", ai(1)}, {"ceil_mode", ai(1)}}),
                   {F({1, 2, 8, 8})}, 11, 1e-6});
  cases.push_back({"LpPool", attrs({{"kernel_shape", ais({2, 2})}}), {F({1, 3, 5, 5})}, 11, 1e-5});
  cases.push_back({"LpPool", attrs({{"kernel_shape", ais({3, 3})}, {"p", ai(3)}, {"pads", ais({1, 1, 1, 1})}, {"strides", ais({2, 2})}}),
                   {F({1, 2, 7, 7})}, 11, 1e-5});
  cases.push_back({"LpPool", attrs({{"kernel_shape", ais({3})}, {"p", ai(1)}}), {F({1, 2, 9})}, 18, 1e-5});
  cases.push_back({"GlobalLpPool", {}, {F({2, 3, 4, 5})}, 2, 1e-5});
  cases.push_back({"GlobalLpPool", attrs({{"p", ai(3)}}), {F({1, 3, 6})}, 2, 1e-5});
  for (const char* op : {"GlobalAveragePool", "GlobalMaxPool"}) {
    cases.push_back({op, {}, {F({2, 5, 7, 7})}, 1, 1e-6});
    cases.push_back({op, {}, {F({1, 3, 10})}, 1, 1e-6});
    cases.push_back({op, {}, {F({1, 4, 1, 1})}, 1, 1e-6});
  }
  run_all(cases);
}

TEST_CASE("gpu matmul and gemm match cpu", "[gpu]") {
  std::vector<Case> cases = {
      {"MatMul", {}, {F({3, 4}), F({4, 5})}, 13, 1e-5},
      {"MatMul", {}, {F({7, 13}), F({13, 6})}, 13, 1e-5},
      {"MatMul", {}, {F({2, 3, 8}), F({8, 5})}, 13, 1e-5},
      {"MatMul", {}, {F({2, 1, 3, 9}), F({4, 9, 2})}, 13, 1e-5},
      {"MatMul", {}, {F({6}), F({2, 6, 3})}, 13, 1e-5},
      {"MatMul", {}, {F({2, 3, 6}), F({6})}, 13, 1e-5},
      {"MatMul", {}, {F({10}), F({10})}, 13, 1e-5},
      {"MatMul", {}, {H({3, 8}), H({8, 2})}, 13, 2e-3},
      {"Gemm", {}, {F({3, 5}), F({5, 4})}, 13, 1e-5},
      {"Gemm", {}, {F({3, 5}), F({5, 4}), F({4})}, 13, 1e-5},
      {"Gemm", {{"transA", ai(1)}, {"alpha", af(0.5f)}, {"beta", af(2.f)}}, {F({6, 3}), F({6, 4}), F({3, 4})}, 11, 1e-5},
      {"Gemm", {{"transB", ai(1)}}, {F({2, 9}), F({7, 9}), F({2, 1})}, 13, 1e-5},
      {"Gemm", {{"transA", ai(1)}, {"transB", ai(1)}}, {F({9, 2}), F({7, 9}), F({})}, 9, 1e-5},
      {"Gemm", {{"beta", af(0.f)}}, {F({2, 4}), F({4, 3}), F({2, 3})}, 13, 1e-5},
      {"Gemm", {{"transB", ai(1)}}, {F({1, 32}), F({10, 32}), F({10})}, 7, 1e-5},
  };
  run_all(cases);
}

TEST_CASE("gpu softmax matches cpu", "[gpu]") {
  std::vector<Case> cases = {
      {"Softmax", {}, {F({2, 10}, -5, 5)}, 13, 1e-6},
      {"Softmax", {}, {F({2, 3, 4, 5}, -5, 5)}, 13, 1e-6},
      {"Softmax", {{"axis", ai(1)}}, {F({2, 3, 4, 5}, -5, 5)}, 13, 1e-6},
      {"Softmax", {{"axis", ai(0)}}, {F({4, 6}, -5, 5)}, 13, 1e-6},
      {"Softmax", {}, {F({2, 3, 4, 5}, -5, 5)}, 11, 1e-6},  // flattened at axis 1
      {"Softmax", {{"axis", ai(2)}}, {F({2, 3, 4, 5}, -5, 5)}, 1, 1e-6},
      {"Softmax", {{"axis", ai(-1)}}, {F({3, 1000}, -50, 50)}, 13, 1e-6},
      {"Softmax", {}, {H({2, 7})}, 13, 1e-3},
      {"LogSoftmax", {}, {F({2, 3, 4, 5}, -5, 5)}, 13, 1e-6},
      {"LogSoftmax", {}, {F({2, 3, 4, 5}, -5, 5)}, 11, 1e-6},
      {"LogSoftmax", {{"axis", ai(0)}}, {F({3, 17}, -20, 20)}, 13, 1e-6},
  };
  run_all(cases);
}

TEST_CASE("gpu normalization matches cpu", "[gpu]") {
  std::vector<Case> cases = {
      {"BatchNormalization", {}, {F({2, 3, 4, 5}), F({3}), F({3}), F({3}), F({3}, 0.1f, 2)}, 15, 1e-5},
      {"BatchNormalization", {{"epsilon", af(1e-3f)}}, {F({1, 4, 3}), F({4}), F({4}), F({4}), F({4}, 0.1f, 2)}, 9, 1e-5},
      {"BatchNormalization", {}, {F({3, 2}), F({2}), F({2}), F({2}), F({2}, 0.1f, 2)}, 14, 1e-5},
      {"BatchNormalization", {{"spatial", ai(1)}}, {F({1, 3, 4, 4}), F({3}), F({3}), F({3}), F({3}, 0.1f, 2)}, 7, 1e-5},
      {"BatchNormalization", {}, {H({1, 2, 3, 3}), H({2}), H({2}), H({2}), H({2}, 0.1f, 2)}, 15, 2e-3},
      {"InstanceNormalization", {}, {F({2, 3, 4, 5}), F({3}), F({3})}, 6, 1e-5},
      {"InstanceNormalization", {{"epsilon", af(1e-2f)}}, {F({1, 2, 7}), F({2}), F({2})}, 6, 1e-5},
      {"LayerNormalization", {}, {F({2, 3, 8}), F({8}), F({8})}, 17, 1e-5},
      {"LayerNormalization", {{"axis", ai(1)}}, {F({2, 3, 4}), F({3, 4}), F({3, 4})}, 17, 1e-5},
      {"LayerNormalization", {{"axis", ai(-2)}, {"epsilon", af(1e-3f)}}, {F({2, 3, 4}), F({3, 4})}, 17, 1e-5},
      {"LayerNormalization", {{"axis", ai(1)}}, {F({2, 3, 4}), F({3, 4}), F({3, 4})}, 17, 1e-5, 3},
      {"LayerNormalization", {{"axis", ai(0)}}, {F({2, 5}), F({2, 5}), F({2, 5})}, 17, 1e-5, 3},
      {"LayerNormalization", {}, {F({2, 3, 6}), F({6})}, 17, 1e-5, 2},
  };
  run_all(cases);
}

TEST_CASE("gpu shape ops match cpu", "[gpu]") {
  std::vector<Case> cases = {
      {"Reshape", {}, {F({2, 3, 4}), I64({4, -1})}, 13, 0},
      {"Reshape", {}, {F({2, 3, 4}), I64({0, 12})}, 14, 0},
      {"Reshape", {}, {F({24}), I64({2, 3, 4})}, 5, 0},
      {"Flatten", {}, {F({2, 3, 4, 5})}, 13, 0},
      {"Flatten", {{"axis", ai(0)}}, {F({2, 3, 4})}, 13, 0},
      {"Flatten", {{"axis", ai(-1)}}, {F({2, 3, 4})}, 13, 0},
      {"Transpose", {}, {F({2, 3, 4})}, 13, 0},
      {"Transpose", {{"perm", ais({0, 2, 3, 1})}}, {F({2, 3, 4, 5})}, 13, 0},
      {"Transpose", {{"perm", ais({1, 0})}}, {F({5, 7})}, 1, 0},
      {"Concat", {{"axis", ai(1)}}, {F({2, 3, 4}), F({2, 1, 4}), F({2, 5, 4})}, 13, 0},
      {"Concat", {{"axis", ai(-1)}}, {F({2, 3}), F({2, 4})}, 13, 0},
      {"Concat", {{"axis", ai(0)}}, {F({1, 3}), F({2, 3})}, 4, 0},
      {"Concat", {{"axis", ai(0)}}, {F({5})}, 13, 0},
      {"Identity", {}, {F({3, 4})}, 13, 0},
      {"Squeeze", {}, {F({1, 3, 1, 4}), I64({0, 2})}, 13, 0},
      {"Squeeze", {{"axes", ais({-2})}}, {F({3, 1, 4})}, 11, 0},
      {"Squeeze", {}, {F({1, 3, 1})}, 1, 0},
      {"Unsqueeze", {}, {F({3, 4}), I64({0, 3})}, 13, 0},
      {"Unsqueeze", {{"axes", ais({1})}}, {F({3, 4})}, 11, 0},
      {"Identity", {}, {H({3})}, 16, 0},
      {"Cast", {{"to", ai(10)}}, {F({3, 5})}, 13, 0},
      {"Cast", {{"to", ai(1)}}, {H({3, 5})}, 13, 0},
      {"Cast", {{"to", ai(1)}}, {F({4})}, 13, 0},
      {"CastLike", {}, {F({3, 5}), H({1})}, 15, 0},
      {"CastLike", {}, {H({3, 5}), F({2})}, 15, 0},
  };
  run_all(cases);
}

TEST_CASE("gpu pad matches cpu", "[gpu]") {
  std::vector<Case> cases = {
      {"Pad", {{"pads", ais({1, 0, 2, 1})}, {"value", af(1.5f)}}, {F({2, 3})}, 2, 0},
      {"Pad", {{"pads", ais({0, 0, 1, 1, 0, 0, 1, 1})}}, {F({1, 2, 3, 3})}, 2, 0},
      {"Pad", {}, {F({2, 3, 4}), I64({0, 1, 2, 0, 2, 1})}, 13, 0},
      {"Pad", {}, {F({2, 3, 4}), I64({0, 1, 2, 0, 2, 1}), C({}, {-3.0})}, 13, 0},
      {"Pad", {}, {F({2, 5}), I64({0, -1, 1, 2})}, 13, 0},  // negative pads crop
      {"Pad", {{"mode", as("reflect")}}, {F({3, 4}), I64({2, 1, 1, 3})}, 13, 0},
      {"Pad", {{"mode", as("edge")}}, {F({3, 4}), I64({2, 1, 1, 3})}, 13, 0},
      {"Pad", {{"mode", as("reflect")}}, {F({1, 2, 4, 4}), I64({0, 0, 1, 1, 0, 0, 1, 1})}, 11, 0},
      {"Pad", {{"mode", as("edge")}}, {F({1, 2, 4, 4}), I64({0, 0, 2, 2, 0, 0, 2, 2})}, 2 + 9, 0},
      {"Pad", {}, {F({2, 3, 4}), I64({1, 1, 1, 1}), C({}, {0.5}), I64({0, -1})}, 18, 0},
      {"Pad", {{"mode", as("wrap")}}, {F({3, 4}), I64({1, 2, 3, 2})}, 19, 0},
  };
  run_all(cases);
}

TEST_CASE("gpu reductions match cpu", "[gpu]") {
  std::vector<Case> cases;
  for (const char* op : {"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceSumSquare",
                         "ReduceLogSum"}) {
    std::string o = op;
    float lo = o == "ReduceLogSum" ? 0.1f : o == "ReduceProd" ? 0.5f : -2.f;
    float hi = o == "ReduceProd" ? 1.5f : 2.f;
    bool axes_input = o == "ReduceSum";
    cases.push_back({op, {{"axes", ais({1, 3})}}, {F({2, 3, 4, 5}, lo, hi)}, 11, 1e-5});
    cases.push_back({op, {{"axes", ais({-1})}, {"keepdims", ai(0)}}, {F({2, 3, 4}, lo, hi)}, 11, 1e-5});
    cases.push_back({op, {}, {F({3, 4}, lo, hi)}, 11, 1e-5});
    cases.push_back({op, {{"keepdims", ai(0)}}, {F({3, 4}, lo, hi)}, 11, 1e-5});
    cases.push_back({op, {{"axes", ais({0})}}, {F({5}, lo, hi)}, 1, 1e-5});
    cases.push_back({op, {{"axes", ais({1, 2})}}, {F({2, 3, 5}, lo, hi)}, 11, 1e-5});  // trailing block, 15
    cases.push_back({op, {{"axes", ais({2})}, {"keepdims", ai(0)}}, {F({2, 3, 7}, lo, hi)}, 11, 1e-5});
    if (axes_input) {
      cases.push_back({op, {}, {F({2, 3, 4}, lo, hi), I64({0, 2})}, 13, 1e-5});
      cases.push_back({op, {{"keepdims", ai(0)}}, {F({2, 3, 4}, lo, hi), I64({1})}, 13, 1e-5});
      cases.push_back({op, {{"noop_with_empty_axes", ai(1)}}, {F({2, 3}, lo, hi)}, 13, 0});
    } else {
      cases.push_back({op, {}, {F({2, 3, 4}, lo, hi), I64({0, 2})}, 18, 1e-5});
      cases.push_back({op, {{"axes", ais({1})}, {"keepdims", ai(0)}}, {F({2, 3, 4}, lo, hi)}, 13, 1e-5});
    }
  }
  run_all(cases);
}

TEST_CASE("gpu slicing, tiling and friends match cpu", "[gpu]") {
  const int64_t kBig = std::numeric_limits<int64_t>::max();
  std::vector<Case> cases = {
      {"Slice", {}, {F({5, 6}), I64({1, 2}), I64({4, -1})}, 13, 0},
      {"Slice", {}, {F({5, 6, 3}), I64({-1, 0}), I64({-kBig, 6}), I64({0, 1}), I64({-2, 2})}, 13, 0},
      {"Slice", {}, {F({4, 7}), I64({10}), I64({-10}), I64({1}), I64({-3})}, 13, 0},
      {"Slice", {{"starts", ais({1})}, {"ends", ais({kBig})}, {"axes", ais({1})}}, {F({3, 5})}, 9, 0},
      {"Split", {{"axis", ai(1)}}, {F({2, 6, 3})}, 11, 0, 3},
      {"Split", {}, {F({7, 2}), I64({2, 5})}, 13, 0, 2},
      {"Split", {{"axis", ai(-1)}, {"split", ais({1, 3, 1})}}, {F({2, 5})}, 11, 0, 3},
      {"Expand", {}, {F({3, 1}), I64({2, 3, 4})}, 13, 0},
      {"Expand", {}, {F({1, 4}), I64({3, 1})}, 8, 0},
      {"Tile", {}, {F({2, 3}), I64({2, 3})}, 13, 0},
      {"Gather", {}, {F({5, 4}), I64({0, 4, -1, 2})}, 13, 0},
      {"Gather", {{"axis", ai(1)}}, {F({2, 5, 3}), I64({1})}, 13, 0},
      {"Gather", {{"axis", ai(-1)}}, {F({2, 5, 3}), [] { In i = I64({2, 0, 1, 1, -3, 0}); i.shape = {2, 3}; return i; }()}, 11, 0},
      {"Gather", {{"axis", ai(1)}}, {F({3, 4}), [] { In i = I64({2}); i.shape = {}; return i; }()}, 13, 0},
      {"Tile", {}, {F({1, 3, 2}), I64({3, 1, 2})}, 6, 0},
      {"Dropout", {}, {F({3, 4})}, 13, 0},
      {"Dropout", {{"ratio", af(0.3f)}}, {F({3, 4})}, 10, 0},
      {"Dropout", {}, {F({3, 4}), C({}, {0.5})}, 12, 0},
  };
  run_all(cases);
}

TEST_CASE("gpu hardmax, lrn, mish and logsumexp match cpu", "[gpu]") {
  std::vector<Case> cases = {
      {"Hardmax", {}, {F({3, 8})}, 13, 0},
      {"Hardmax", {{"axis", ai(1)}}, {F({2, 4, 3})}, 13, 0},
      {"Hardmax", {}, {F({2, 4, 3})}, 11, 0},
      {"Hardmax", {}, {C({2, 4}, {1, 3, 3, 0, 5, 5, 5, 5})}, 13, 0},  // ties: first wins
      {"LRN", {{"size", ai(3)}}, {F({1, 5, 4, 4})}, 13, 1e-5},
      {"LRN", {{"size", ai(4)}, {"alpha", af(1e-2f)}, {"beta", af(0.5f)}, {"bias", af(2.f)}}, {F({2, 6, 3, 2})}, 13, 1e-5},
      {"Mish", {}, {F({4, 25}, -20, 20)}, 18, 1e-5},
      {"ReduceLogSumExp", {{"axes", ais({1})}}, {F({2, 5, 3}, -50, 50)}, 13, 1e-5},
      {"ReduceLogSumExp", {}, {F({4, 3})}, 13, 1e-5},
      {"ReduceLogSumExp", {}, {F({2, 5, 3}), I64({0, 2})}, 18, 1e-5},
  };
  run_all(cases);
}

TEST_CASE("gpu kernels at model sizes match cpu", "[gpu]") {
  // Shapes from classification CNNs: multi-row textures and long reductions,
  // whose summation order differs from the CPU's (hence 1e-4).
  std::vector<Case> cases = {
      {"Conv", {{"pads", ais({1, 1, 1, 1})}}, {F({1, 32, 28, 28}), F({64, 32, 3, 3}, -0.2f, 0.2f), F({64})}, 11, 1e-4},
      {"Conv", {{"pads", ais({3, 3, 3, 3})}, {"strides", ais({2, 2})}},
       {F({1, 3, 64, 64}), F({16, 3, 7, 7}, -0.2f, 0.2f)}, 11, 1e-4},
      {"Conv", {{"group", ai(64)}, {"pads", ais({1, 1, 1, 1})}},
       {F({1, 64, 28, 28}), F({64, 1, 3, 3}), F({64})}, 11, 1e-4},
      {"MaxPool", {{"kernel_shape", ais({3, 3})}, {"strides", ais({2, 2})}, {"pads", ais({1, 1, 1, 1})}},
       {F({1, 64, 56, 56})}, 12, 0},
      {"GlobalAveragePool", {}, {F({1, 512, 7, 7})}, 1, 1e-5},
      {"Gemm", {{"transB", ai(1)}}, {F({1, 1024}), F({1000, 1024}, -0.1f, 0.1f), F({1000})}, 11, 1e-4},
      {"MatMul", {}, {F({2, 64, 256}), F({256, 96})}, 13, 1e-4},
      {"Softmax", {}, {F({1, 1000}, -10, 10)}, 13, 1e-5},
      {"Add", {}, {F({1, 64, 56, 56}), F({1, 64, 56, 56})}, 14, 1e-6},
      {"Transpose", {{"perm", ais({0, 2, 3, 1})}}, {F({1, 64, 30, 30})}, 13, 0},
  };
  run_all(cases);
}

TEST_CASE("gpu kernels decline what they cannot do", "[gpu]") {
  using gl::TensorDesc;
  auto d = [](DataType t, Shape s) { return std::optional<TensorDesc>(TensorDesc{t, std::move(s)}); };
  auto o = [](DataType t, Shape s) { return TensorDesc{t, std::move(s)}; };
  std::string why;

  SECTION("non-float dtype") {
    CHECK_FALSE(gpu_supports("Relu", 14, {}, {d(DataType::kInt32, {4})}, {o(DataType::kInt32, {4})}, {}, &why));
    CHECK(why.find("int32") != std::string::npos);
  }
  SECTION("absent data input") {
    CHECK_FALSE(gpu_supports("Relu", 14, {}, {std::nullopt}, {o(f32, {4})}, {}, &why));
    CHECK(why.find("missing") != std::string::npos);
  }
  SECTION("integer Add") {
    CHECK_FALSE(gpu_supports("Add", 14, {}, {d(DataType::kInt64, {4}), d(DataType::kInt64, {4})},
                             {o(DataType::kInt64, {4})}, {}, &why));
    CHECK(!why.empty());
  }
  SECTION("3-D conv") {
    CHECK_FALSE(gpu_supports("Conv", 11, {}, {d(f32, {1, 2, 4, 4, 4}), d(f32, {2, 2, 3, 3, 3})},
                             {o(f32, {1, 2, 2, 2, 2})}, {}, &why));
    CHECK(why.find("3-D") != std::string::npos);
  }
  SECTION("MaxPool with Indices") {
    Attrs a{{"kernel_shape", ais({2, 2})}};
    CHECK_FALSE(gpu_supports("MaxPool", 12, a, {d(f32, {1, 1, 4, 4})},
                             {o(f32, {1, 1, 3, 3}), o(DataType::kInt64, {1, 1, 3, 3})}, {}, &why, 2));
    CHECK(why.find("Indices") != std::string::npos);
  }
  SECTION("Clip with a bound of several elements") {
    CHECK_FALSE(gpu_supports("Clip", 13, {}, {d(f32, {4}), d(f32, {2}), std::nullopt}, {o(f32, {4})}, {}, &why));
    CHECK(why.find("one element") != std::string::npos);
  }
  SECTION("BatchNormalization training") {
    auto c = d(f32, {3});
    CHECK_FALSE(gpu_supports("BatchNormalization", 15, {{"training_mode", ai(1)}},
                             {d(f32, {1, 3, 2, 2}), c, c, c, c}, {o(f32, {1, 3, 2, 2})}, {}, &why));
    CHECK(!why.empty());
    why.clear();
    CHECK_FALSE(gpu_supports("BatchNormalization", 7, {{"spatial", ai(0)}},
                             {d(f32, {1, 3, 2, 2}), c, c, c, c}, {o(f32, {1, 3, 2, 2})}, {}, &why));
    CHECK(why.find("spatial") != std::string::npos);
  }
  SECTION("non-constant shape-like inputs") {
    auto i64 = [&](Shape sh) { return d(DataType::kInt64, std::move(sh)); };
    CHECK_FALSE(gpu_supports("Slice", 13, {}, {d(f32, {4, 4}), i64({1}), i64({1})}, {o(f32, {2, 4})}, {}, &why));
    CHECK(why.find("constant") != std::string::npos);
    why.clear();
    CHECK_FALSE(gpu_supports("Pad", 13, {}, {d(f32, {4}), i64({2})}, {o(f32, {6})}, {}, &why));
    CHECK(why.find("constant") != std::string::npos);
    why.clear();
    CHECK_FALSE(gpu_supports("ReduceMean", 18, {}, {d(f32, {4, 4}), i64({1})}, {o(f32, {4, 1})}, {}, &why));
    CHECK(why.find("constant") != std::string::npos);
  }
  SECTION("Dropout mask") {
    CHECK_FALSE(gpu_supports("Dropout", 13, {}, {d(f32, {4})}, {o(f32, {4}), o(DataType::kBool, {4})}, {}, &why, 2));
    CHECK(why.find("mask") != std::string::npos);
  }
  SECTION("Cast to an integer type") {
    CHECK_FALSE(gpu_supports("Cast", 13, {{"to", ai(7)}}, {d(f32, {4})}, {o(DataType::kInt64, {4})}, {}, &why));
    CHECK(why.find("int64") != std::string::npos);
  }
}
