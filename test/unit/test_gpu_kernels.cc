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
#include <set>
#include <string>
#include <vector>

#include "engine/core/compare.h"
#include "engine/core/half.h"
#include "engine/gl/executor.h"
#include "engine/ops/program.h"
#include "engine/gl/layout/texture_layout.h"
#include "engine/plan/kernel_context.h"
#include "engine/registry/op_table.h"
#include "test/unit/test_util.h"

namespace {

using glint::DataType;
using glint::Shape;
using glint::Tensor;
namespace ir = glint::ir;
namespace gl = glint::gl;

using glint::test::Attrs;
using glint::test::af;
using glint::test::ai;
using glint::test::ais;
using glint::test::as;

// --- a case -----------------------------------------------------------------
struct In {
  Shape shape;
  DataType dtype = DataType::kFloat32;
  bool constant = false;
  std::vector<double> values;  // explicit values (else uniform random in [lo, hi])
  float lo = -2.f, hi = 2.f;
  bool absent = false;
  bool half_values = false;  // float32 values rounded to float16 (a widened float16 model's weights)
};
In Rand(Shape s) { In i; i.shape = std::move(s); return i; }
In Rand(Shape s, float lo, float hi) { In i = Rand(std::move(s)); i.lo = lo; i.hi = hi; return i; }
In H(Shape s, float lo = -2.f, float hi = 2.f) {
  In i = Rand(std::move(s), lo, hi);
  i.dtype = DataType::kFloat16;
  return i;
}
// Constant float32 weights whose values are exact halves: the GPU may hold
// them as packed halves (TensorDesc::half_exact), as a session would.
In FH(Shape s) {
  In i = Rand(std::move(s), -1.f, 1.f);
  i.constant = true;
  i.half_values = true;
  return i;
}
In C(Shape s, std::vector<double> v) { In i = Rand(std::move(s)); i.constant = true; i.values = std::move(v); return i; }
In I64(std::vector<int64_t> v) {
  In i;
  i.shape = {static_cast<int64_t>(v.size())};
  i.dtype = DataType::kInt64;
  i.constant = true;
  for (auto x : v) i.values.push_back(static_cast<double>(x));
  return i;
}
In Absent() { In i; i.absent = true; return i; }
// A run-time (non-constant) integer or bool input, uniform in [lo, hi) (bool: half true).
In N(Shape s, DataType t, float lo = -20.f, float hi = 20.f) {
  In i = Rand(std::move(s), lo, hi);
  i.dtype = t;
  return i;
}
// A run-time input with explicit values.
In V(Shape s, DataType t, std::vector<double> v) {
  In i = Rand(std::move(s));
  i.dtype = t;
  i.values = std::move(v);
  return i;
}

struct Case {
  std::string op;
  Attrs attrs;
  std::vector<In> inputs;
  int opset = 13;
  double tol = 1e-5;
  int outputs = 1;
  std::string domain;  // "" = ai.onnx
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
  n.domain = c.domain;
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
      if (in.values.empty() && in.dtype == DataType::kBool) v = v > 0.5 * (in.lo + in.hi) ? 1.0 : 0.0;
      if (in.values.empty() && glint::is_integer(in.dtype)) v = std::floor(v);
      if (in.dtype == DataType::kFloat16 || in.half_values) v = glint::round_to_half(static_cast<float>(v));
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
    else p->ctx.inputs.push_back(gl::TensorDesc{p->inputs[i].dtype(), p->inputs[i].shape(), c.inputs[i].half_values});
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

  // GPU: the first candidate that supports the node, as the plan asks it.
  const glint::plan::CandidateChoice choice = glint::plan::choose_candidate(glint::find_gpu_kernels(p->node), p->ctx);
  if (!choice.winner) { FAIL("no GPU kernel supports it: " << choice.first_reason()); return; }
  auto passes = glint::plan::build_passes(*choice.winner, p->ctx);
  if (!passes.ok()) { FAIL("build: " << passes.status().message()); return; }

  gl::Executor* ex = executor();
  if (!ex) return;
  std::vector<gl::GpuTensorPtr> gin;
  for (size_t i = 0; i < p->inputs.size(); ++i) {
    if (c.inputs[i].absent || !gl::gpu_holds_dtype(p->inputs[i].dtype())) {
      gin.push_back(nullptr);  // read by the kernel at build time, if at all
      continue;
    }
    auto up = ex->upload(p->inputs[i], c.inputs[i].half_values);
    if (!up.ok() && c.inputs[i].constant) {
      gin.push_back(nullptr);  // e.g. INT64_MAX slice ends: baked, never sampled
      continue;
    }
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
    // |gpu - cpu| <= tol * (1 + |cpu|), NaN = NaN, infinities by sign.
    const glint::Comparison cmp = glint::compare_tensors(g, w, c.tol, c.tol);
    INFO(cmp.mismatch << " (tolerance " << c.tol << ", max |diff| " << cmp.max_abs_diff << ")");
    CHECK(cmp.equal);
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
  const glint::plan::CandidateChoice choice = glint::plan::choose_candidate(cands, ctx);
  for (auto& d : choice.declined) *why += d.reason + ";";
  return choice.winner != nullptr;
}

const DataType f32 = DataType::kFloat32;

}  // namespace

TEST_CASE("gpu elementwise unary ops match cpu", "[gpu]") {
  std::vector<Case> cases;
  Shape s = {2, 3, 5, 7};
  for (const char* op : {"Abs", "Neg", "Exp", "Floor", "Ceil", "Sin", "Cos", "Atan"})
    cases.push_back({op, {}, {Rand(s, -3, 3)}, 13, 1e-5});
  for (const char* op : {"Log", "Sqrt", "Reciprocal"}) cases.push_back({op, {}, {Rand(s, 0.05f, 5)}, 13, 1e-5});
  cases.push_back({"Tan", {}, {Rand(s, -1.2f, 1.2f)}, 13, 1e-5});
  for (const char* op : {"Asin", "Acos"}) cases.push_back({op, {}, {Rand(s, -0.99f, 0.99f)}, 13, 1e-5});
  for (const char* op : {"Sinh", "Cosh", "Asinh"}) cases.push_back({op, {}, {Rand(s, -3, 3)}, 13, 1e-5});
  cases.push_back({"Acosh", {}, {Rand(s, 1.01f, 5)}, 13, 1e-5});
  cases.push_back({"Atanh", {}, {Rand(s, -0.95f, 0.95f)}, 13, 1e-5});
  cases.push_back({"Sign", {}, {Rand(s, -3, 3)}, 13, 0});
  cases.push_back({"Sign", {}, {C({5}, {-1.0, 0.0, 2.0, -0.0, 0.5})}, 13, 0});
  cases.push_back({"Round", {}, {C({8}, {0.5, 1.5, 2.5, -0.5, -1.5, 2.4, -2.6, 0.49999997})}, 11, 0});
  cases.push_back({"Round", {}, {Rand(s, -10, 10)}, 11, 0});
  cases.push_back({"Erf", {}, {Rand(s, -3, 3)}, 13, 1e-6});
  cases.push_back({"Exp", {}, {Rand({}, -1, 1)}, 13, 1e-6});  // rank 0
  cases.push_back({"Neg", {}, {H({4, 9})}, 13, 1e-3});     // float16
  run_all(cases);
}

TEST_CASE("gpu activations match cpu", "[gpu]") {
  Shape s = {1, 4, 6, 5};
  std::vector<Case> cases = {
      {"Relu", {}, {Rand(s)}, 14, 0},
      {"Relu", {}, {Rand({17})}, 6, 0},
      {"Relu", {}, {H({3, 5})}, 14, 0},
      {"LeakyRelu", {}, {Rand(s)}, 6, 1e-6},
      {"LeakyRelu", {{"alpha", af(0.3f)}}, {Rand(s)}, 16, 1e-6},
      {"Sigmoid", {}, {Rand(s, -20, 20)}, 13, 1e-6},
      {"Tanh", {}, {Rand(s, -30, 30)}, 13, 1e-6},
      {"Clip", {{"min", af(-0.5f)}, {"max", af(0.7f)}}, {Rand(s)}, 6, 0},
      {"Clip", {{"max", af(0.7f)}}, {Rand(s)}, 6, 0},
      {"Clip", {}, {Rand(s)}, 6, 0},
      {"Clip", {}, {Rand(s), C({}, {-0.25}), C({}, {1.5})}, 13, 0},
      {"Clip", {}, {Rand(s), Absent(), C({}, {0.5})}, 11, 0},
      {"Clip", {}, {Rand(s), C({}, {0.0}), Absent()}, 12, 0},
      {"Clip", {}, {Rand(s)}, 13, 0},
      {"Clip", {}, {Rand(s), Rand({}, -1, -0.5f), Rand({}, 0.5f, 1)}, 13, 0},  // bounds as run-time inputs
      {"Clip", {}, {Rand(s), Absent(), Rand({1}, 0.5f, 1)}, 11, 0},
      {"Clip", {}, {Rand(s), Rand({}, -1, -0.5f), C({}, {0.25})}, 13, 0},
      {"Elu", {{"alpha", af(0.5f)}}, {Rand(s)}, 6, 1e-6},
      {"Selu", {}, {Rand(s)}, 6, 1e-6},
      {"HardSigmoid", {{"alpha", af(0.25f)}, {"beta", af(0.4f)}}, {Rand(s, -4, 4)}, 6, 1e-6},
      {"Softplus", {}, {Rand(s, -30, 30)}, 1, 1e-6},
      {"Softsign", {}, {Rand(s)}, 1, 1e-6},
      {"Celu", {{"alpha", af(2.f)}}, {Rand(s)}, 12, 1e-6},
      {"HardSwish", {}, {Rand(s, -5, 5)}, 14, 1e-6},
      {"ThresholdedRelu", {{"alpha", af(0.5f)}}, {Rand(s)}, 10, 0},
      {"PRelu", {}, {Rand(s), Rand({4, 1, 1})}, 16, 1e-6},
      {"PRelu", {}, {Rand(s), Rand({5})}, 9, 1e-6},
  };
  run_all(cases);
}

TEST_CASE("gpu binary and variadic ops broadcast like cpu", "[gpu]") {
  std::vector<Case> cases;
  for (const char* op : {"Add", "Sub", "Mul", "Div"}) {
    cases.push_back({op, {}, {Rand({2, 3, 4}), Rand({2, 3, 4}, 0.5f, 2)}, 14, 1e-6});
    cases.push_back({op, {}, {Rand({2, 3, 4}), Rand({4}, 0.5f, 2)}, 14, 1e-6});
    cases.push_back({op, {}, {Rand({3, 1}), Rand({1, 5}, 0.5f, 2)}, 7, 1e-6});
    cases.push_back({op, {}, {Rand({}), Rand({2, 1, 3}, 0.5f, 2)}, 13, 1e-6});
    cases.push_back({op, {}, {Rand({1, 4, 1, 1}), Rand({2, 1, 3, 5}, 0.5f, 2)}, 13, 1e-6});
  }
  cases.push_back({"Add", {}, {H({2, 3}), H({3})}, 14, 1e-3});
  cases.push_back({"Mod", {{"fmod", ai(1)}}, {Rand({4, 6}, -10, 10), Rand({6}, 0.5f, 3)}, 13, 1e-5});
  cases.push_back({"Mod", {{"fmod", ai(1)}}, {Rand({4, 6}, -10, 10), Rand({4, 1}, -3, -0.5f)}, 10, 1e-5});
  cases.push_back({"Pow", {}, {Rand({2, 3, 4}, 0.1f, 3), Rand({2, 3, 4}, -2, 2)}, 13, 1e-5});
  cases.push_back({"Pow", {}, {Rand({2, 3, 4}), C({}, {2.0})}, 7, 1e-5});
  cases.push_back({"Pow", {}, {Rand({2, 3, 4}), C({1}, {3.0})}, 15, 1e-5});
  for (const char* op : {"Max", "Min", "Sum", "Mean"}) {
    cases.push_back({op, {}, {Rand({2, 3, 4})}, 13, 1e-6});
    cases.push_back({op, {}, {Rand({2, 3, 4}), Rand({3, 1}), Rand({4})}, 13, 1e-6});
    cases.push_back({op, {}, {Rand({3, 4}), Rand({3, 4})}, 6, 1e-6});
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
      {"Conv", {}, {Rand({1, 3, 8, 8}), Rand({4, 3, 3, 3}), Rand({4})}, 11, 1e-5},
      // pads, strides, no bias, C=8 so the vec4 path runs twice
      {"Conv", attrs({{"pads", ais({1, 1, 1, 1})}, {"strides", ais({2, 2})}}),
       {Rand({2, 8, 9, 7}), Rand({5, 8, 3, 3})}, 11, 1e-5},
      // asymmetric pads, dilations, C=5 (vec4 + remainder)
      {"Conv", attrs({{"pads", ais({0, 2, 1, 0})}, {"dilations", ais({2, 1})}}),
       {Rand({1, 5, 10, 9}), Rand({3, 5, 3, 2}), Rand({3})}, 11, 1e-5},
      // groups
      {"Conv", attrs({{"group", ai(2)}, {"pads", ais({1, 1, 1, 1})}}),
       {Rand({1, 6, 7, 7}), Rand({4, 3, 3, 3}), Rand({4})}, 11, 1e-5},
      // depthwise
      {"Conv", attrs({{"group", ai(8)}, {"pads", ais({1, 1, 1, 1})}, {"strides", ais({2, 2})}}),
       {Rand({1, 8, 11, 11}), Rand({8, 1, 3, 3}), Rand({8})}, 11, 1e-5},
      // depthwise with multiplier 2
      {"Conv", attrs({{"group", ai(4)}}), {Rand({1, 4, 6, 6}), Rand({8, 1, 3, 3})}, 11, 1e-5},
      // auto_pad
      {"Conv", attrs({{"auto_pad", as("SAME_UPPER")}, {"strides", ais({2, 2})}}),
       {Rand({1, 3, 8, 7}), Rand({2, 3, 4, 4})}, 11, 1e-5},
      {"Conv", attrs({{"auto_pad", as("SAME_LOWER")}, {"strides", ais({2, 2})}}),
       {Rand({1, 3, 8, 7}), Rand({2, 3, 4, 4})}, 11, 1e-5},
      {"Conv", attrs({{"auto_pad", as("VALID")}, {"strides", ais({1, 2})}}),
       {Rand({1, 3, 8, 7}), Rand({2, 3, 3, 3}), Rand({2})}, 1, 1e-5},
      // 1x1 and explicit kernel_shape
      {"Conv", attrs({{"kernel_shape", ais({1, 1})}}), {Rand({2, 16, 5, 5}), Rand({7, 16, 1, 1}), Rand({7})}, 11, 1e-5},
      // 1-D
      {"Conv", attrs({{"pads", ais({2, 1})}, {"strides", ais({2})}, {"dilations", ais({2})}}),
       {Rand({2, 6, 20}), Rand({4, 6, 3}), Rand({4})}, 11, 1e-5},
      // float16
      {"Conv", attrs({{"pads", ais({1, 1, 1, 1})}}), {H({1, 4, 5, 5}), H({2, 4, 3, 3}), H({2})}, 11, 2e-3},
      // rows of 7+ pixels and two or more channel blocks: outputs with
      // planes, a tile of 4 pixels x 8 channels per fragment
      // (texture_layout.h), with pads (guards), odd row ends, an odd last
      // channel block, strides, dilations, groups of 8 and of 4 channels
      {"Conv", attrs({{"pads", ais({1, 1, 1, 1})}}), {Rand({1, 8, 9, 16}), Rand({12, 8, 3, 3}), Rand({12})}, 11, 1e-5},
      {"Conv", attrs({{"pads", ais({1, 1, 1, 1})}, {"strides", ais({2, 2})}}),
       {Rand({2, 5, 6, 13}), Rand({6, 5, 3, 3}), Rand({6})}, 11, 1e-5},
      {"Conv", {}, {Rand({1, 16, 4, 12}), Rand({8, 16, 1, 1}), Rand({8})}, 11, 1e-5},
      {"Conv", attrs({{"group", ai(2)}, {"pads", ais({0, 1, 0, 1})}}), {Rand({1, 8, 6, 12}), Rand({8, 4, 3, 3})}, 11, 1e-5},
      {"Conv", attrs({{"group", ai(8)}, {"pads", ais({1, 1, 1, 1})}}), {Rand({1, 8, 5, 14}), Rand({8, 1, 3, 3}), Rand({8})}, 11,
       1e-5},
      {"Conv", attrs({{"group", ai(6)}, {"pads", ais({1, 1, 1, 1})}, {"strides", ais({2, 2})}}),
       {Rand({1, 6, 9, 15}), Rand({6, 1, 3, 3})}, 11, 1e-5},
      {"Conv", attrs({{"pads", ais({0, 2, 1, 2})}, {"dilations", ais({1, 2})}}),
       {Rand({1, 12, 6, 16}), Rand({20, 12, 3, 3}), Rand({20})}, 11, 1e-5},
      {"Conv", attrs({{"group", ai(12)}, {"pads", ais({2, 2, 2, 2})}, {"dilations", ais({2, 2})}, {"strides", ais({1, 2})}}),
       {Rand({1, 12, 7, 31}), Rand({12, 1, 3, 3}), Rand({12})}, 11, 1e-5},
      {"Conv", attrs({{"group", ai(2)}}), {Rand({1, 16, 3, 12}), Rand({16, 8, 1, 1}), Rand({16})}, 11, 1e-5},
      // weights that are exact halves: eight channels per weight fetch, with
      // an odd last block (C=12), one layer and planes
      {"Conv", attrs({{"pads", ais({1, 1, 1, 1})}}), {Rand({1, 12, 5, 5}), FH({6, 12, 3, 3}), Rand({6})}, 11, 1e-5},
      {"Conv", attrs({{"pads", ais({1, 1, 1, 1})}}), {Rand({1, 12, 7, 16}), FH({6, 12, 3, 3}), Rand({6})}, 11, 1e-5},
      {"Conv", {}, {Rand({1, 3, 8, 8}), FH({5, 3, 1, 1})}, 11, 1e-5},
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
    cases.push_back({op, attrs({{"kernel_shape", ais({2, 2})}, {"strides", ais({2, 2})}}), {Rand({1, 3, 8, 8})}, 11, 1e-6});
    cases.push_back({op, attrs({{"kernel_shape", ais({3, 3})}, {"pads", ais({1, 1, 1, 1})}, {"strides", ais({2, 2})}}),
                     {Rand({2, 2, 9, 7})}, 11, 1e-6});
    cases.push_back({op, attrs({{"kernel_shape", ais({3, 3})}, {"strides", ais({2, 2})}, {"ceil_mode", ai(1)}}),
                     {Rand({1, 2, 8, 8})}, 11, 1e-6});
    cases.push_back({op, attrs({{"kernel_shape", ais({3, 2})}, {"auto_pad", as("SAME_UPPER")}, {"strides", ais({2, 2})}}),
                     {Rand({1, 2, 7, 6})}, 11, 1e-6});
    cases.push_back({op, attrs({{"kernel_shape", ais({3, 2})}, {"auto_pad", as("SAME_LOWER")}}),
                     {Rand({1, 2, 7, 6})}, 11, 1e-6});
    cases.push_back({op, attrs({{"kernel_shape", ais({3})}, {"strides", ais({2})}, {"pads", ais({1, 1})}}),
                     {Rand({2, 3, 11})}, 11, 1e-6});
    cases.push_back({op, attrs({{"kernel_shape", ais({2, 2})}}), {H({1, 2, 5, 5})}, 11, 1e-3});
  }
  cases.push_back({"MaxPool", attrs({{"kernel_shape", ais({2, 2})}, {"dilations", ais({2, 2})}, {"pads", ais({1, 0, 1, 0})}}),
                   {Rand({1, 2, 8, 8})}, 12, 0});
  // Enough channels for a planes output, so the MaxPool tile runs: a
  // ceil_mode window past the end, padding, dilation; all-negative values,
  // so that a column read as zero instead of padding would win.
  cases.push_back({"MaxPool", attrs({{"kernel_shape", ais({3, 3})}, {"strides", ais({2, 2})}, {"ceil_mode", ai(1)}}),
                   {Rand({1, 12, 14, 14}, -3, -1)}, 12, 0});
  cases.push_back({"MaxPool", attrs({{"kernel_shape", ais({3, 3})}, {"pads", ais({1, 1, 1, 1})}}), {Rand({2, 8, 9, 16}, -3, -1)},
                   12, 0});
  cases.push_back({"MaxPool", attrs({{"kernel_shape", ais({2, 2})}, {"dilations", ais({2, 2})}, {"pads", ais({1, 0, 1, 0})},
                                     {"strides", ais({2, 1})}}),
                   {Rand({1, 16, 8, 16}, -3, -1)}, 12, 0});
  cases.push_back({"AveragePool", attrs({{"kernel_shape", ais({3, 3})}, {"pads", ais({1, 1, 1, 1})}, {"count_include_pad", ai(1)}}),
                   {Rand({1, 2, 6, 5})}, 11, 1e-6});
  cases.push_back({"AveragePool", attrs({{"kernel_shape", ais({3, 3})}, {"strides", ais({2, 2})}, {"pads", ais({1, 1, 1, 1})},
                                         {"count_include_pad", ai(1)}, {"ceil_mode", ai(1)}}),
                   {Rand({1, 2, 8, 8})}, 11, 1e-6});
  cases.push_back({"LpPool", attrs({{"kernel_shape", ais({2, 2})}}), {Rand({1, 3, 5, 5})}, 11, 1e-5});
  cases.push_back({"LpPool", attrs({{"kernel_shape", ais({3, 3})}, {"p", ai(3)}, {"pads", ais({1, 1, 1, 1})}, {"strides", ais({2, 2})}}),
                   {Rand({1, 2, 7, 7})}, 11, 1e-5});
  cases.push_back({"LpPool", attrs({{"kernel_shape", ais({3})}, {"p", ai(1)}}), {Rand({1, 2, 9})}, 18, 1e-5});
  cases.push_back({"GlobalLpPool", {}, {Rand({2, 3, 4, 5})}, 2, 1e-5});
  cases.push_back({"GlobalLpPool", attrs({{"p", ai(3)}}), {Rand({1, 3, 6})}, 2, 1e-5});
  for (const char* op : {"GlobalAveragePool", "GlobalMaxPool"}) {
    cases.push_back({op, {}, {Rand({2, 5, 7, 7})}, 1, 1e-6});
    cases.push_back({op, {}, {Rand({1, 3, 10})}, 1, 1e-6});
    cases.push_back({op, {}, {Rand({1, 4, 1, 1})}, 1, 1e-6});
  }
  run_all(cases);
}

TEST_CASE("gpu matmul and gemm match cpu", "[gpu]") {
  std::vector<Case> cases = {
      {"MatMul", {}, {Rand({3, 4}), Rand({4, 5})}, 13, 1e-5},
      {"MatMul", {}, {Rand({7, 13}), Rand({13, 6})}, 13, 1e-5},
      {"MatMul", {}, {Rand({2, 3, 8}), Rand({8, 5})}, 13, 1e-5},
      {"MatMul", {}, {Rand({2, 1, 3, 9}), Rand({4, 9, 2})}, 13, 1e-5},
      // Attention weights x values in a PP-OCR recognizer and a Swin block:
      // rank-4 outputs whose shaders once took a driver minutes to compile.
      {"MatMul", {}, {Rand({1, 8, 55, 55}), Rand({1, 8, 55, 15})}, 13, 1e-4},
      {"MatMul", {}, {Rand({1, 28, 28, 384}), Rand({384, 96})}, 13, 1e-4},
      {"MatMul", {}, {Rand({6}), Rand({2, 6, 3})}, 13, 1e-5},
      {"MatMul", {}, {Rand({2, 3, 6}), Rand({6})}, 13, 1e-5},
      {"MatMul", {}, {Rand({10}), Rand({10})}, 13, 1e-5},
      {"MatMul", {}, {H({3, 8}), H({8, 2})}, 13, 2e-3},
      {"Gemm", {}, {Rand({3, 5}), Rand({5, 4})}, 13, 1e-5},
      {"Gemm", {}, {Rand({3, 5}), Rand({5, 4}), Rand({4})}, 13, 1e-5},
      {"Gemm", {{"transA", ai(1)}, {"alpha", af(0.5f)}, {"beta", af(2.f)}}, {Rand({6, 3}), Rand({6, 4}), Rand({3, 4})}, 11, 1e-5},
      {"Gemm", {{"transB", ai(1)}}, {Rand({2, 9}), Rand({7, 9}), Rand({2, 1})}, 13, 1e-5},
      {"Gemm", {{"transA", ai(1)}, {"transB", ai(1)}}, {Rand({9, 2}), Rand({7, 9}), Rand({})}, 9, 1e-5},
      {"Gemm", {{"beta", af(0.f)}}, {Rand({2, 4}), Rand({4, 3}), Rand({2, 3})}, 13, 1e-5},
      {"Gemm", {{"transB", ai(1)}}, {Rand({1, 32}), Rand({10, 32}), Rand({10})}, 7, 1e-5},
      // Enough rows and columns for the tiled product (4 rows x 8 columns a
      // fragment): rows, columns and depth that fill no tile evenly, batches
      // folded into rows, B transposed, Gemm's alpha, beta and C.
      {"MatMul", {}, {Rand({18, 10}), Rand({10, 13})}, 13, 1e-5},
      {"MatMul", {}, {Rand({2, 17, 12}), Rand({12, 16})}, 13, 1e-5},
      {"Gemm", {{"alpha", af(0.5f)}, {"beta", af(2.f)}}, {Rand({16, 5}), Rand({5, 9}), Rand({9})}, 13, 1e-5},
      {"Gemm", {{"transA", ai(1)}, {"transB", ai(1)}}, {Rand({33, 20}), Rand({40, 33}), Rand({20, 1})}, 13, 1e-5},
      // Batches of tiled products (attention's heads): rank 3 and 4, B read
      // per batch.
      {"MatMul", {}, {Rand({3, 20, 6}), Rand({3, 6, 10})}, 13, 1e-5},
      {"MatMul", {}, {Rand({2, 3, 17, 12}), Rand({2, 3, 12, 9})}, 13, 1e-5},
  };
  run_all(cases);
}

TEST_CASE("gpu matmul: enough rows and columns make a tiled product", "[gpu]") {
  // What decides the draw: the tile pass for 17 x 16 outputs (batches folded
  // into rows, or batches of B), the one-output-per-fragment products for a
  // single row or broadcast batches.
  auto names = [](const Case& c) {
    auto p = prepare(c, 1);
    REQUIRE(p);
    const auto choice = glint::plan::choose_candidate(glint::find_gpu_kernels(p->node), p->ctx);
    REQUIRE(choice.winner);
    auto passes = glint::plan::build_passes(*choice.winner, p->ctx);
    REQUIRE(passes.ok());
    std::set<std::string> out;
    for (const auto& ps : passes.value()) out.insert(ps.name);
    return out;
  };
  CHECK(names({"MatMul", {}, {Rand({2, 17, 12}), Rand({12, 16})}, 13, 1e-5}).count("matmul_tile"));
  CHECK(names({"MatMul", {}, {Rand({1, 12}), Rand({12, 16})}, 13, 1e-5}).count("matmul_packed"));
  CHECK(names({"MatMul", {}, {Rand({2, 3, 17, 12}), Rand({2, 3, 12, 9})}, 13, 1e-5}).count("matmul_tile"));
  CHECK(names({"MatMul", {}, {Rand({2, 1, 17, 12}), Rand({2, 3, 12, 9})}, 13, 1e-5}).count("matmul"));  // broadcast
}

TEST_CASE("gpu softmax matches cpu", "[gpu]") {
  std::vector<Case> cases = {
      {"Softmax", {}, {Rand({2, 10}, -5, 5)}, 13, 1e-6},
      {"Softmax", {}, {Rand({2, 3, 4, 5}, -5, 5)}, 13, 1e-6},
      {"Softmax", {{"axis", ai(1)}}, {Rand({2, 3, 4, 5}, -5, 5)}, 13, 1e-6},
      {"Softmax", {{"axis", ai(0)}}, {Rand({4, 6}, -5, 5)}, 13, 1e-6},
      {"Softmax", {}, {Rand({2, 3, 4, 5}, -5, 5)}, 11, 1e-6},  // flattened at axis 1
      {"Softmax", {{"axis", ai(2)}}, {Rand({2, 3, 4, 5}, -5, 5)}, 1, 1e-6},
      {"Softmax", {{"axis", ai(-1)}}, {Rand({3, 1000}, -50, 50)}, 13, 1e-6},
      {"Softmax", {}, {H({2, 7})}, 13, 1e-3},
      {"LogSoftmax", {}, {Rand({2, 3, 4, 5}, -5, 5)}, 13, 1e-6},
      {"LogSoftmax", {}, {Rand({2, 3, 4, 5}, -5, 5)}, 11, 1e-6},
      {"LogSoftmax", {{"axis", ai(0)}}, {Rand({3, 17}, -20, 20)}, 13, 1e-6},
  };
  run_all(cases);
}

TEST_CASE("gpu normalization matches cpu", "[gpu]") {
  std::vector<Case> cases = {
      {"BatchNormalization", {}, {Rand({2, 3, 4, 5}), Rand({3}), Rand({3}), Rand({3}), Rand({3}, 0.1f, 2)}, 15, 1e-5},
      {"BatchNormalization", {{"epsilon", af(1e-3f)}}, {Rand({1, 4, 3}), Rand({4}), Rand({4}), Rand({4}), Rand({4}, 0.1f, 2)}, 9, 1e-5},
      {"BatchNormalization", {}, {Rand({3, 2}), Rand({2}), Rand({2}), Rand({2}), Rand({2}, 0.1f, 2)}, 14, 1e-5},
      {"BatchNormalization", {{"spatial", ai(1)}}, {Rand({1, 3, 4, 4}), Rand({3}), Rand({3}), Rand({3}), Rand({3}, 0.1f, 2)}, 7, 1e-5},
      {"BatchNormalization", {}, {H({1, 2, 3, 3}), H({2}), H({2}), H({2}), H({2}, 0.1f, 2)}, 15, 2e-3},
      {"InstanceNormalization", {}, {Rand({2, 3, 4, 5}), Rand({3}), Rand({3})}, 6, 1e-5},
      {"InstanceNormalization", {{"epsilon", af(1e-2f)}}, {Rand({1, 2, 7}), Rand({2}), Rand({2})}, 6, 1e-5},
      {"LayerNormalization", {}, {Rand({2, 3, 8}), Rand({8}), Rand({8})}, 17, 1e-5},
      {"LayerNormalization", {{"axis", ai(1)}}, {Rand({2, 3, 4}), Rand({3, 4}), Rand({3, 4})}, 17, 1e-5},
      {"LayerNormalization", {{"axis", ai(-2)}, {"epsilon", af(1e-3f)}}, {Rand({2, 3, 4}), Rand({3, 4})}, 17, 1e-5},
      {"LayerNormalization", {{"axis", ai(1)}}, {Rand({2, 3, 4}), Rand({3, 4}), Rand({3, 4})}, 17, 1e-5, 3},
      {"LayerNormalization", {{"axis", ai(0)}}, {Rand({2, 5}), Rand({2, 5}), Rand({2, 5})}, 17, 1e-5, 3},
      {"LayerNormalization", {}, {Rand({2, 3, 6}), Rand({6})}, 17, 1e-5, 2},
  };
  run_all(cases);
}

// com.microsoft ops of optimized transformer exports (gelu.cc, normalization.cc)
// against their CPU kernels (engine/cpu/contrib.cc, tested against the
// formulas in test_contrib_ops.cc).
TEST_CASE("gpu com.microsoft gelus, bias adds and skip norms match cpu", "[gpu]") {
  std::vector<Case> cases = {
      {"Gelu", {}, {Rand({2, 5, 8}, -4, 4)}, 1, 1e-5},
      {"QuickGelu", {{"alpha", af(1.5f)}}, {Rand({3, 7}, -6, 6)}, 1, 1e-5},
      {"FastGelu", {}, {Rand({2, 3, 8}, -4, 4)}, 1, 1e-5},
      {"FastGelu", {}, {Rand({2, 3, 8}, -40, 40), Rand({8})}, 1, 1e-5},
      {"BiasGelu", {}, {Rand({2, 4, 6}, -4, 4), Rand({6})}, 1, 1e-5},
      {"BiasAdd", {}, {Rand({2, 3, 8}), Rand({8}), Rand({2, 3, 8})}, 1, 1e-6},
      {"SkipLayerNormalization", {}, {Rand({2, 3, 8}), Rand({2, 3, 8}), Rand({8}), Rand({8}), Rand({8})}, 1, 1e-5},
      {"SkipLayerNormalization", {{"epsilon", af(1e-5f)}}, {Rand({2, 3, 8}), Rand({3, 8}), Rand({8}), Rand({8})}, 1, 1e-5, 4},
      {"SkipSimplifiedLayerNormalization", {}, {Rand({1, 4, 16}), Rand({1, 4, 16}), Rand({16}), Rand({16})}, 1, 1e-5, 4},
      {"SimplifiedLayerNormalization", {{"epsilon", af(1e-6f)}}, {Rand({2, 3, 12}), Rand({12})}, 1, 1e-5, 2},
      {"SimplifiedLayerNormalization", {{"axis", ai(1)}}, {Rand({2, 3, 4}), Rand({3, 4})}, 1, 1e-5},
      {"FusedMatMul", {{"alpha", af(0.125f)}, {"transB", ai(1)}}, {Rand({2, 4, 5, 8}), Rand({2, 4, 6, 8})}, 1, 1e-5},
      {"FusedMatMul", {{"transA", ai(1)}}, {Rand({3, 8, 5}), Rand({8, 6})}, 1, 1e-5},
      {"FusedMatMul", {{"transA", ai(1)}, {"transB", ai(1)}, {"alpha", af(2.f)}}, {Rand({8, 5}), Rand({6, 8})}, 1, 1e-5},
      {"FusedMatMul", {{"transB", ai(1)}}, {Rand({2, 7, 16}), Rand({12, 16})}, 1, 1e-5},
      {"FusedMatMul", {{"transB", ai(1)}, {"alpha", af(0.5f)}}, {Rand({3, 7, 9}), Rand({21, 9})}, 1, 1e-5},  // tiled
      {"FusedMatMul", {{"transB", ai(1)}, {"alpha", af(0.125f)}}, {Rand({2, 4, 18, 8}), Rand({2, 4, 16, 8})}, 1, 1e-5},  // tiled, batched
  };
  for (auto& c : cases) c.domain = "com.microsoft";
  run_all(cases);
}

TEST_CASE("gpu ONNX Gelu (opset 20) matches cpu", "[gpu]") {
  std::vector<Case> cases = {
      {"Gelu", {}, {Rand({2, 5, 8}, -4, 4)}, 20, 1e-5},
      {"Gelu", {{"approximate", as("none")}}, {Rand({3, 7}, -6, 6)}, 20, 1e-5},
      {"Gelu", {{"approximate", as("tanh")}}, {Rand({2, 3, 8}, -40, 40)}, 20, 1e-5},
  };
  run_all(cases);
}

TEST_CASE("gpu shape ops match cpu", "[gpu]") {
  std::vector<Case> cases = {
      {"Reshape", {}, {Rand({2, 3, 4}), I64({4, -1})}, 13, 0},
      {"Reshape", {}, {Rand({2, 3, 4}), I64({0, 12})}, 14, 0},
      {"Reshape", {}, {Rand({24}), I64({2, 3, 4})}, 5, 0},
      {"Flatten", {}, {Rand({2, 3, 4, 5})}, 13, 0},
      {"Flatten", {{"axis", ai(0)}}, {Rand({2, 3, 4})}, 13, 0},
      {"Flatten", {{"axis", ai(-1)}}, {Rand({2, 3, 4})}, 13, 0},
      {"Transpose", {}, {Rand({2, 3, 4})}, 13, 0},
      {"Transpose", {{"perm", ais({0, 2, 3, 1})}}, {Rand({2, 3, 4, 5})}, 13, 0},
      {"Transpose", {{"perm", ais({1, 0})}}, {Rand({5, 7})}, 1, 0},
      {"Concat", {{"axis", ai(1)}}, {Rand({2, 3, 4}), Rand({2, 1, 4}), Rand({2, 5, 4})}, 13, 0},
      {"Concat", {{"axis", ai(-1)}}, {Rand({2, 3}), Rand({2, 4})}, 13, 0},
      {"Concat", {{"axis", ai(0)}}, {Rand({1, 3}), Rand({2, 3})}, 4, 0},
      {"Concat", {{"axis", ai(0)}}, {Rand({5})}, 13, 0},
      // DenseNet-style: more inputs than a pass may sample (groups of 15
      // first), and inputs X1 and X14 whose accessors once clashed.
      {"Concat", {{"axis", ai(1)}}, std::vector<In>(20, Rand({1, 4, 3, 3})), 13, 0},
      {"Concat", {{"axis", ai(1)}}, std::vector<In>(33, Rand({1, 2, 2, 3})), 13, 0},
      {"Concat", {{"axis", ai(0)}}, std::vector<In>(16, Rand({2, 3})), 13, 0},
      // Channel concats into a planes output at multiples of 8: an odd
      // block count at the end; two images; a last part of one block, which
      // is not planes itself.
      {"Concat", {{"axis", ai(1)}}, {Rand({1, 8, 5, 16}), Rand({1, 16, 5, 16}), Rand({1, 12, 5, 16})}, 13, 0},
      {"Concat", {{"axis", ai(1)}}, {Rand({2, 8, 3, 13}), Rand({2, 8, 3, 13})}, 13, 0},
      {"Concat", {{"axis", ai(1)}}, {Rand({1, 8, 5, 16}), Rand({1, 4, 5, 16})}, 13, 0},
      // Rank-4 concats along the batch, height and width: a decode step's
      // key cache and its new key; two images; one channel block; the width.
      {"Concat", {{"axis", ai(2)}}, {Rand({1, 6, 7, 16}), Rand({1, 6, 1, 16})}, 13, 0},
      {"Concat", {{"axis", ai(-2)}}, {Rand({2, 12, 3, 13}), Rand({2, 12, 2, 13}), Rand({2, 12, 1, 13})}, 13, 0},
      {"Concat", {{"axis", ai(0)}}, {Rand({1, 8, 3, 13}), Rand({2, 8, 3, 13})}, 13, 0},
      {"Concat", {{"axis", ai(2)}}, {Rand({1, 3, 4, 5}), Rand({1, 3, 2, 5})}, 13, 0},
      {"Concat", {{"axis", ai(3)}}, {Rand({1, 8, 3, 5}), Rand({1, 8, 3, 8})}, 13, 0},
      {"Identity", {}, {Rand({3, 4})}, 13, 0},
      {"Squeeze", {}, {Rand({1, 3, 1, 4}), I64({0, 2})}, 13, 0},
      {"Squeeze", {{"axes", ais({-2})}}, {Rand({3, 1, 4})}, 11, 0},
      {"Squeeze", {}, {Rand({1, 3, 1})}, 1, 0},
      {"Unsqueeze", {}, {Rand({3, 4}), I64({0, 3})}, 13, 0},
      {"Unsqueeze", {{"axes", ais({1})}}, {Rand({3, 4})}, 11, 0},
      {"Identity", {}, {H({3})}, 16, 0},
      {"Cast", {{"to", ai(10)}}, {Rand({3, 5})}, 13, 0},
      {"Cast", {{"to", ai(1)}}, {H({3, 5})}, 13, 0},
      {"Cast", {{"to", ai(1)}}, {Rand({4})}, 13, 0},
      {"CastLike", {}, {Rand({3, 5}), H({1})}, 15, 0},
      {"CastLike", {}, {H({3, 5}), Rand({2})}, 15, 0},
  };
  run_all(cases);
}

TEST_CASE("gpu pad matches cpu", "[gpu]") {
  std::vector<Case> cases = {
      {"Pad", {{"pads", ais({1, 0, 2, 1})}, {"value", af(1.5f)}}, {Rand({2, 3})}, 2, 0},
      {"Pad", {{"pads", ais({0, 0, 1, 1, 0, 0, 1, 1})}}, {Rand({1, 2, 3, 3})}, 2, 0},
      {"Pad", {}, {Rand({2, 3, 4}), I64({0, 1, 2, 0, 2, 1})}, 13, 0},
      {"Pad", {}, {Rand({2, 3, 4}), I64({0, 1, 2, 0, 2, 1}), C({}, {-3.0})}, 13, 0},
      {"Pad", {}, {Rand({2, 5}), I64({0, -1, 1, 2})}, 13, 0},  // negative pads crop
      {"Pad", {{"mode", as("reflect")}}, {Rand({3, 4}), I64({2, 1, 1, 3})}, 13, 0},
      {"Pad", {{"mode", as("edge")}}, {Rand({3, 4}), I64({2, 1, 1, 3})}, 13, 0},
      {"Pad", {{"mode", as("reflect")}}, {Rand({1, 2, 4, 4}), I64({0, 0, 1, 1, 0, 0, 1, 1})}, 11, 0},
      {"Pad", {{"mode", as("edge")}}, {Rand({1, 2, 4, 4}), I64({0, 0, 2, 2, 0, 0, 2, 2})}, 2 + 9, 0},
      {"Pad", {}, {Rand({2, 3, 4}), I64({1, 1, 1, 1}), C({}, {0.5}), I64({0, -1})}, 18, 0},
      {"Pad", {{"mode", as("wrap")}}, {Rand({3, 4}), I64({1, 2, 3, 2})}, 19, 0},
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
    cases.push_back({op, {{"axes", ais({1, 3})}}, {Rand({2, 3, 4, 5}, lo, hi)}, 11, 1e-5});
    cases.push_back({op, {{"axes", ais({-1})}, {"keepdims", ai(0)}}, {Rand({2, 3, 4}, lo, hi)}, 11, 1e-5});
    cases.push_back({op, {}, {Rand({3, 4}, lo, hi)}, 11, 1e-5});
    cases.push_back({op, {{"keepdims", ai(0)}}, {Rand({3, 4}, lo, hi)}, 11, 1e-5});
    cases.push_back({op, {{"axes", ais({0})}}, {Rand({5}, lo, hi)}, 1, 1e-5});
    cases.push_back({op, {{"axes", ais({1, 2})}}, {Rand({2, 3, 5}, lo, hi)}, 11, 1e-5});  // trailing block, 15
    cases.push_back({op, {{"axes", ais({2})}, {"keepdims", ai(0)}}, {Rand({2, 3, 7}, lo, hi)}, 11, 1e-5});
    if (axes_input) {
      cases.push_back({op, {}, {Rand({2, 3, 4}, lo, hi), I64({0, 2})}, 13, 1e-5});
      cases.push_back({op, {{"keepdims", ai(0)}}, {Rand({2, 3, 4}, lo, hi), I64({1})}, 13, 1e-5});
      cases.push_back({op, {{"noop_with_empty_axes", ai(1)}}, {Rand({2, 3}, lo, hi)}, 13, 0});
    } else {
      cases.push_back({op, {}, {Rand({2, 3, 4}, lo, hi), I64({0, 2})}, 18, 1e-5});
      cases.push_back({op, {{"axes", ais({1})}, {"keepdims", ai(0)}}, {Rand({2, 3, 4}, lo, hi)}, 13, 1e-5});
    }
  }
  run_all(cases);
}

TEST_CASE("gpu slicing, tiling and friends match cpu", "[gpu]") {
  const int64_t kBig = std::numeric_limits<int64_t>::max();
  std::vector<Case> cases = {
      {"Slice", {}, {Rand({5, 6}), I64({1, 2}), I64({4, -1})}, 13, 0},
      {"Slice", {}, {Rand({5, 6, 3}), I64({-1, 0}), I64({-kBig, 6}), I64({0, 1}), I64({-2, 2})}, 13, 0},
      {"Slice", {}, {Rand({4, 7}), I64({10}), I64({-10}), I64({1}), I64({-3})}, 13, 0},
      {"Slice", {{"starts", ais({1})}, {"ends", ais({kBig})}, {"axes", ais({1})}}, {Rand({3, 5})}, 9, 0},
      {"Split", {{"axis", ai(1)}}, {Rand({2, 6, 3})}, 11, 0, 3},
      {"Split", {}, {Rand({7, 2}), I64({2, 5})}, 13, 0, 2},
      {"Split", {{"axis", ai(-1)}, {"split", ais({1, 3, 1})}}, {Rand({2, 5})}, 11, 0, 3},
      {"Expand", {}, {Rand({3, 1}), I64({2, 3, 4})}, 13, 0},
      {"Expand", {}, {Rand({1, 4}), I64({3, 1})}, 8, 0},
      {"Tile", {}, {Rand({2, 3}), I64({2, 3})}, 13, 0},
      {"Gather", {}, {Rand({5, 4}), I64({0, 4, -1, 2})}, 13, 0},
      {"Gather", {{"axis", ai(1)}}, {Rand({2, 5, 3}), I64({1})}, 13, 0},
      {"Gather", {{"axis", ai(-1)}}, {Rand({2, 5, 3}), [] { In i = I64({2, 0, 1, 1, -3, 0}); i.shape = {2, 3}; return i; }()}, 11, 0},
      {"Gather", {{"axis", ai(1)}}, {Rand({3, 4}), [] { In i = I64({2}); i.shape = {}; return i; }()}, 13, 0},
      {"Tile", {}, {Rand({1, 3, 2}), I64({3, 1, 2})}, 6, 0},
      {"Dropout", {}, {Rand({3, 4})}, 13, 0},
      {"Dropout", {{"ratio", af(0.3f)}}, {Rand({3, 4})}, 10, 0},
      {"Dropout", {}, {Rand({3, 4}), C({}, {0.5})}, 12, 0},
  };
  run_all(cases);
}

TEST_CASE("gpu hardmax, lrn, mish and logsumexp match cpu", "[gpu]") {
  std::vector<Case> cases = {
      {"Hardmax", {}, {Rand({3, 8})}, 13, 0},
      {"Hardmax", {{"axis", ai(1)}}, {Rand({2, 4, 3})}, 13, 0},
      {"Hardmax", {}, {Rand({2, 4, 3})}, 11, 0},
      {"Hardmax", {}, {C({2, 4}, {1, 3, 3, 0, 5, 5, 5, 5})}, 13, 0},  // ties: first wins
      {"LRN", {{"size", ai(3)}}, {Rand({1, 5, 4, 4})}, 13, 1e-5},
      {"LRN", {{"size", ai(4)}, {"alpha", af(1e-2f)}, {"beta", af(0.5f)}, {"bias", af(2.f)}}, {Rand({2, 6, 3, 2})}, 13, 1e-5},
      {"Mish", {}, {Rand({4, 25}, -20, 20)}, 18, 1e-5},
      {"ReduceLogSumExp", {{"axes", ais({1})}}, {Rand({2, 5, 3}, -50, 50)}, 13, 1e-5},
      {"ReduceLogSumExp", {}, {Rand({4, 3})}, 13, 1e-5},
      {"ReduceLogSumExp", {}, {Rand({2, 5, 3}), I64({0, 2})}, 18, 1e-5},
  };
  run_all(cases);
}

TEST_CASE("gpu kernels at model sizes match cpu", "[gpu]") {
  // Shapes from classification CNNs: multi-row textures and long reductions,
  // whose summation order differs from the CPU's (hence 1e-4).
  std::vector<Case> cases = {
      {"Conv", {{"pads", ais({1, 1, 1, 1})}}, {Rand({1, 32, 28, 28}), Rand({64, 32, 3, 3}, -0.2f, 0.2f), Rand({64})}, 11, 1e-4},
      {"Conv", {{"pads", ais({3, 3, 3, 3})}, {"strides", ais({2, 2})}},
       {Rand({1, 3, 64, 64}), Rand({16, 3, 7, 7}, -0.2f, 0.2f)}, 11, 1e-4},
      {"Conv", {{"group", ai(64)}, {"pads", ais({1, 1, 1, 1})}},
       {Rand({1, 64, 28, 28}), Rand({64, 1, 3, 3}), Rand({64})}, 11, 1e-4},
      {"MaxPool", {{"kernel_shape", ais({3, 3})}, {"strides", ais({2, 2})}, {"pads", ais({1, 1, 1, 1})}},
       {Rand({1, 64, 56, 56})}, 12, 0},
      {"GlobalAveragePool", {}, {Rand({1, 512, 7, 7})}, 1, 1e-5},
      {"Gemm", {{"transB", ai(1)}}, {Rand({1, 1024}), Rand({1000, 1024}, -0.1f, 0.1f), Rand({1000})}, 11, 1e-4},
      {"MatMul", {}, {Rand({2, 64, 256}), Rand({256, 96})}, 13, 1e-4},
      {"Softmax", {}, {Rand({1, 1000}, -10, 10)}, 13, 1e-5},
      {"Add", {}, {Rand({1, 64, 56, 56}), Rand({1, 64, 56, 56})}, 14, 1e-6},
      {"Transpose", {{"perm", ais({0, 2, 3, 1})}}, {Rand({1, 64, 30, 30})}, 13, 0},
  };
  run_all(cases);
}

TEST_CASE("gpu kernels decline what they cannot do", "[gpu]") {
  using gl::TensorDesc;
  auto d = [](DataType t, Shape s) { return std::optional<TensorDesc>(TensorDesc{t, std::move(s)}); };
  auto o = [](DataType t, Shape s) { return TensorDesc{t, std::move(s)}; };
  std::string why;

  SECTION("dtypes the GPU does not hold, or float math on integers") {
    CHECK_FALSE(gpu_supports("Relu", 14, {}, {d(DataType::kFloat64, {4})}, {o(DataType::kFloat64, {4})}, {}, &why));
    CHECK(why.find("float64") != std::string::npos);
    why.clear();
    CHECK_FALSE(gpu_supports("Sigmoid", 13, {}, {d(DataType::kInt32, {4})}, {o(DataType::kInt32, {4})}, {}, &why));
    CHECK(why.find("int32") != std::string::npos);
    why.clear();
    CHECK_FALSE(gpu_supports("Mean", 13, {}, {d(DataType::kInt64, {4}), d(DataType::kInt64, {4})},
                             {o(DataType::kInt64, {4})}, {}, &why));
    CHECK(!why.empty());
  }
  SECTION("an output whose shape is not known") {
    CHECK_FALSE(gpu_supports("Reshape", 14, {}, {d(f32, {4}), d(DataType::kInt64, {2})}, {o(f32, {-1, -1})}, {},
                             &why));
    CHECK(why.find("not known") != std::string::npos);
  }
  SECTION("absent data input") {
    CHECK_FALSE(gpu_supports("Relu", 14, {}, {std::nullopt}, {o(f32, {4})}, {}, &why));
    CHECK(why.find("missing") != std::string::npos);
  }
  SECTION("integer Add is exact, so accepted") {
    CHECK(gpu_supports("Add", 14, {}, {d(DataType::kInt64, {4}), d(DataType::kInt64, {4})},
                       {o(DataType::kInt64, {4})}, {}, &why));
  }
  SECTION("3-D conv") {
    CHECK_FALSE(gpu_supports("Conv", 11, {}, {d(f32, {1, 2, 4, 4, 4}), d(f32, {2, 2, 3, 3, 3})},
                             {o(f32, {1, 2, 2, 2, 2})}, {}, &why));
    CHECK(why.find("3-D") != std::string::npos);
  }
  SECTION("MaxPool with Indices is supported") {
    Attrs a{{"kernel_shape", ais({2, 2})}};
    CHECK(gpu_supports("MaxPool", 12, a, {d(f32, {1, 1, 4, 4})},
                       {o(f32, {1, 1, 3, 3}), o(DataType::kInt64, {1, 1, 3, 3})}, {}, &why, 2));
  }
  SECTION("Clip with a bound of several elements") {
    CHECK_FALSE(gpu_supports("Clip", 13, {}, {d(f32, {4}), d(f32, {2}), std::nullopt}, {o(f32, {4})}, {}, &why));
    CHECK(why.find("one element") != std::string::npos);
  }
  SECTION("BatchNormalization running statistics outside training mode") {
    auto c = d(f32, {3});
    CHECK_FALSE(gpu_supports("BatchNormalization", 15, {},
                             {d(f32, {1, 3, 2, 2}), c, c, c, c}, {o(f32, {1, 3, 2, 2}), o(f32, {3}), o(f32, {3})}, {},
                             &why, 3));
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
  SECTION("Dropout training mode from a run-time input") {
    CHECK_FALSE(gpu_supports("Dropout", 13, {}, {d(f32, {4}), d(f32, {}), d(DataType::kBool, {})},
                             {o(f32, {4}), o(DataType::kBool, {4})}, {}, &why, 2));
    CHECK(why.find("training_mode") != std::string::npos);
  }
  SECTION("Cast from or to a dtype the GPU does not hold") {
    CHECK_FALSE(gpu_supports("Cast", 13, {{"to", ai(11)}}, {d(f32, {4})}, {o(DataType::kFloat64, {4})}, {}, &why));
    CHECK(why.find("float64") != std::string::npos);
    CHECK(gpu_supports("Cast", 13, {{"to", ai(7)}}, {d(f32, {4})}, {o(DataType::kInt64, {4})}, {}, &why));
  }
}

// --- integer and bool tensors on the GPU (exact floats in R32F) --------------

TEST_CASE("gpu integer and bool elementwise ops match cpu exactly", "[gpu]") {
  const DataType i64 = DataType::kInt64, i32 = DataType::kInt32, u8 = DataType::kUint8, i8 = DataType::kInt8;
  const DataType b = DataType::kBool;
  Shape s = {3, 4, 5};
  std::vector<Case> cases = {
      {"Add", {}, {N(s, i64, -1000, 1000), N({5}, i64, -1000, 1000)}, 14, 0},
      {"Sub", {}, {N(s, i32), N(s, i32)}, 14, 0},
      {"Mul", {}, {N(s, i64, -300, 300), N({4, 1}, i64, -300, 300)}, 14, 0},
      {"Add", {}, {N(s, u8, 0, 255), N(s, u8, 0, 255)}, 14, 0},  // wraps modulo 256
      {"Mul", {}, {N(s, i8, -100, 100), N(s, i8, -100, 100)}, 14, 0},
      {"Div", {}, {V({8}, i64, {7, -7, 7, -7, 0, 100, -1, 16777215}), V({8}, i64, {2, 2, -2, -2, 5, 7, 3, 16777216})}, 14, 0},
      {"Mod", {}, {V({6}, i64, {5, -5, 5, -5, 0, 13}), V({6}, i64, {3, 3, -3, -3, 4, 13})}, 13, 0},
      {"Mod", {{"fmod", ai(1)}}, {V({6}, i32, {5, -5, 5, -5, 0, 13}), V({6}, i32, {3, 3, -3, -3, 4, 13})}, 13, 0},
      {"Pow", {}, {V({4}, i64, {2, 3, -2, 5}), V({4}, i64, {10, 3, 3, 0})}, 15, 0},
      {"Pow", {}, {Rand({4}, 0.5f, 2), V({4}, i64, {2, 3, -1, 0})}, 15, 1e-6},
      {"Max", {}, {N(s, i32), N({5}, i32), N({1}, i32)}, 13, 0},
      {"Min", {}, {N(s, DataType::kInt16), N(s, DataType::kInt16)}, 13, 0},
      {"Neg", {}, {N(s, i64)}, 13, 0},
      {"Abs", {}, {N(s, i32)}, 13, 0},
      {"Relu", {}, {N(s, i8)}, 14, 0},
      {"Clip", {}, {N(s, i8), V({}, i8, {-5}), V({}, i8, {7})}, 13, 0},
      {"Equal", {}, {N(s, i64, -3, 3), N({5}, i64, -3, 3)}, 13, 0},
      {"Greater", {}, {Rand(s), Rand({5})}, 13, 0},
      {"Less", {}, {N(s, i32, -3, 3), N(s, i32, -3, 3)}, 13, 0},
      {"GreaterOrEqual", {}, {Rand(s), Rand(s)}, 16, 0},
      {"LessOrEqual", {}, {N(s, i64, -3, 3), N({1}, i64, -3, 3)}, 16, 0},
      {"And", {}, {N(s, b), N({4, 5}, b)}, 7, 0},
      {"Or", {}, {N(s, b), N(s, b)}, 7, 0},
      {"Xor", {}, {N(s, b), N({1, 5}, b)}, 7, 0},
      {"Not", {}, {N(s, b)}, 1, 0},
      {"Where", {}, {N(s, b), Rand(s), Rand({5})}, 16, 0},
      {"Where", {}, {N({4, 5}, b), N(s, i64), N(s, i64)}, 16, 0},
      {"IsNaN", {}, {V({5}, DataType::kFloat32, {1, NAN, INFINITY, -INFINITY, 0})}, 13, 0},
      {"IsInf", {}, {V({5}, DataType::kFloat32, {1, NAN, INFINITY, -INFINITY, 0})}, 10, 0},
      {"IsInf", {{"detect_negative", ai(0)}}, {V({5}, DataType::kFloat32, {1, NAN, INFINITY, -INFINITY, 0})}, 10, 0},
      {"BitShift", {{"direction", as("LEFT")}}, {V({4}, u8, {1, 2, 3, 200}), V({4}, u8, {1, 2, 3, 1})}, 11, 0},
      {"BitShift", {{"direction", as("RIGHT")}}, {V({3}, DataType::kUint32, {16, 4, 1}), V({3}, DataType::kUint32, {1, 2, 3})}, 11, 0},
  };
  run_all(cases);
}

TEST_CASE("gpu Cast between every held dtype matches cpu", "[gpu]") {
  std::vector<DataType> types = {DataType::kFloat32, DataType::kFloat16, DataType::kInt64, DataType::kInt32,
                                 DataType::kInt16, DataType::kUint16, DataType::kInt8, DataType::kUint8,
                                 DataType::kBool, DataType::kUint32};
  std::vector<Case> cases;
  for (DataType from : types)
    for (DataType to : types) {
      In x = glint::is_float(from) ? Rand({37}, -300, 300) : N({37}, from, -300, 300);
      if (from == DataType::kUint8 || from == DataType::kUint16 || from == DataType::kUint32) x.lo = 0;
      // A negative value wrapped into uint32 is past 2^24: the download refuses it (tested in test_gl_executor).
      if (to == DataType::kUint32 && glint::is_integer(from)) { x.lo = 0; x.hi = 100; }
      cases.push_back({"Cast", {{"to", ai(static_cast<int64_t>(to))}}, {x}, 13, 0});
    }
  // Saturation and NaN of float -> integer; truncation toward zero.
  cases.push_back({"Cast", {{"to", ai(3)}}, {V({6}, DataType::kFloat32, {1e9, -1e9, NAN, -2.7, 2.7, 127.5})}, 13, 0});
  cases.push_back({"Cast", {{"to", ai(2)}}, {V({4}, DataType::kFloat32, {300, -5, 255.9, 0.5})}, 13, 0});
  run_all(cases);
}

TEST_CASE("gpu data movement of integer tensors matches cpu", "[gpu]") {
  const DataType i64 = DataType::kInt64;
  std::vector<Case> cases = {
      {"Transpose", {{"perm", ais({1, 0, 2})}}, {N({2, 3, 4}, i64)}, 13, 0},
      {"Concat", {{"axis", ai(0)}}, {N({2}, i64), N({3}, i64)}, 13, 0},
      {"Unsqueeze", {}, {N({3}, i64), I64({0})}, 13, 0},
      {"Reshape", {}, {N({2, 6}, DataType::kBool), I64({3, 4})}, 14, 0},
      {"Slice", {}, {N({10}, i64), I64({1}), I64({9223372036854775807LL})}, 13, 0},
      {"Gather", {{"axis", ai(0)}}, {Rand({5, 4}), V({2, 3}, i64, {0, -1, 3, 2, 4, -5})}, 13, 0},  // run-time indices
      {"Gather", {{"axis", ai(1)}}, {N({3, 4}, DataType::kInt32), I64({2, 0})}, 13, 0},
      {"Expand", {}, {N({3, 1}, i64), I64({2, 3, 4})}, 13, 0},
      {"Tile", {}, {N({2, 3}, DataType::kUint8, 0, 100), I64({2, 2})}, 13, 0},
      {"Pad", {{"mode", as("edge")}}, {N({3, 4}, DataType::kInt32), I64({1, 0, 2, 1})}, 13, 0},
      {"ReduceSum", {}, {N({3, 4}, i64), I64({1})}, 13, 0},
      {"ReduceMax", {{"axes", ais({0})}}, {N({3, 4}, DataType::kInt32)}, 13, 0},
      {"MaxPool", {{"kernel_shape", ais({2, 2})}}, {N({1, 1, 5, 5}, DataType::kUint8, 0, 255)}, 12, 0},
      {"Dropout", {}, {Rand({3, 4})}, 13, 0, 2},  // inference: mask all true
  };
  run_all(cases);
}

TEST_CASE("gpu generated values match cpu", "[gpu]") {
  ir::Attribute value;
  value.kind = ir::Attribute::Kind::kTensor;
  value.t = Tensor::from_int64s({1}, {7});
  std::vector<Case> cases = {
      {"Shape", {}, {Rand({2, 3, 4})}, 13, 0},
      {"Shape", {{"start", ai(1)}, {"end", ai(-1)}}, {Rand({2, 3, 4, 5})}, 15, 0},
      {"Shape", {}, {Rand({})}, 13, 0},
      {"Size", {}, {Rand({2, 3, 4})}, 13, 0},
      {"ConstantOfShape", {{"value", value}}, {I64({2, 3})}, 9, 0},
      {"ConstantOfShape", {}, {I64({4})}, 9, 0},
      {"EyeLike", {{"k", ai(1)}}, {Rand({3, 4})}, 9, 0},
      {"EyeLike", {{"dtype", ai(7)}, {"k", ai(-1)}}, {Rand({4, 3})}, 9, 0},
      {"Range", {}, {C({}, {1.0}), C({}, {7.5}), C({}, {1.5})}, 11, 1e-6},
      {"Range", {}, {V({}, DataType::kInt32, {10}), V({}, DataType::kInt32, {-3}), V({}, DataType::kInt32, {-4})}, 11, 0},
  };
  // Range's length comes from shape inference on constant inputs.
  for (auto& in : cases.back().inputs) in.constant = true;
  run_all(cases);
}

TEST_CASE("gpu index and selection ops match cpu", "[gpu]") {
  const DataType i64 = DataType::kInt64;
  std::vector<Case> cases = {
      {"ArgMax", {{"axis", ai(1)}}, {Rand({3, 5, 4})}, 13, 0},
      {"ArgMax", {{"axis", ai(-1)}, {"keepdims", ai(0)}}, {Rand({3, 5, 4})}, 13, 0},
      {"ArgMin", {{"axis", ai(0)}, {"select_last_index", ai(1)}}, {V({4, 2}, DataType::kFloat32, {1, 2, 0, 2, 0, 1, 3, 2})}, 12, 0},
      {"ArgMax", {{"axis", ai(1)}, {"select_last_index", ai(1)}}, {N({3, 6}, DataType::kInt32, -2, 2)}, 12, 0},
      {"Trilu", {}, {Rand({2, 4, 5})}, 14, 0},
      {"Trilu", {{"upper", ai(0)}}, {Rand({4, 5}), V({}, i64, {-1})}, 14, 0},
      {"Trilu", {}, {N({5, 3}, i64), V({}, i64, {2})}, 14, 0},
      {"CumSum", {}, {Rand({3, 4}), V({}, DataType::kInt32, {1})}, 14, 1e-6},
      {"CumSum", {{"exclusive", ai(1)}, {"reverse", ai(1)}}, {N({3, 4}, i64), V({}, i64, {0})}, 14, 0},
      {"CumSum", {{"reverse", ai(1)}}, {Rand({2, 3, 4}), V({}, i64, {-1})}, 14, 1e-6},
      {"GatherElements", {{"axis", ai(1)}}, {Rand({3, 4}), V({3, 2}, i64, {0, 3, -1, 2, 1, 1})}, 13, 0},
      {"GatherND", {}, {Rand({2, 3, 4}), V({2, 2}, i64, {0, 1, 1, -1})}, 13, 0},
      {"GatherND", {{"batch_dims", ai(1)}}, {Rand({2, 3, 4}), V({2, 1}, i64, {2, 0})}, 13, 0},
      {"ScatterElements", {{"axis", ai(0)}}, {Rand({3, 3}), V({2, 3}, i64, {1, 0, 2, 0, 2, 1}), Rand({2, 3})}, 13, 0},
      {"ScatterElements", {{"axis", ai(1)}, {"reduction", as("add")}}, {Rand({1, 5}), V({1, 2}, i64, {1, 1}), Rand({1, 2})}, 16, 1e-6},
      {"ScatterND", {}, {Rand({4, 4, 4}), V({2, 1}, i64, {0, 2}), Rand({2, 4, 4})}, 13, 0},
      {"ScatterND", {{"reduction", as("mul")}}, {Rand({4}), V({2, 1}, i64, {1, 3}), Rand({2})}, 16, 1e-6},
      {"OneHot", {{"axis", ai(-1)}}, {V({4}, i64, {0, 2, -1, 5}), C({}, {4}), C({2}, {-1, 3})}, 11, 0},
      {"OneHot", {{"axis", ai(0)}}, {V({2, 2}, DataType::kFloat32, {0, 1, 2, 1.5}), C({}, {3}), C({2}, {0, 1})}, 11, 0},
      {"DepthToSpace", {{"blocksize", ai(2)}}, {Rand({1, 8, 2, 3})}, 13, 0},
      {"DepthToSpace", {{"blocksize", ai(2)}, {"mode", as("CRD")}}, {Rand({2, 8, 2, 3})}, 13, 0},
      {"SpaceToDepth", {{"blocksize", ai(2)}}, {Rand({1, 2, 4, 6})}, 13, 0},
      {"Shrink", {{"lambd", af(1.5f)}, {"bias", af(0.5f)}}, {Rand({3, 5})}, 9, 0},
      {"ReduceL1", {{"axes", ais({1})}}, {Rand({3, 4, 2})}, 13, 1e-6},
      {"ReduceL2", {}, {Rand({3, 4, 2})}, 13, 1e-6},
  };
  run_all(cases);
}

TEST_CASE("gpu losses match cpu", "[gpu]") {
  const DataType i64 = DataType::kInt64;
  std::vector<Case> cases;
  for (const char* op : {"NegativeLogLikelihoodLoss", "SoftmaxCrossEntropyLoss"})
    for (const char* red : {"none", "sum", "mean"}) {
      cases.push_back({op, {{"reduction", as(red)}}, {Rand({3, 5}), N({3}, i64, 0, 5)}, 13, 1e-5});
      cases.push_back({op, {{"reduction", as(red)}, {"ignore_index", ai(2)}},
                       {Rand({2, 4, 3, 2}), V({2, 3, 2}, i64, {0, 2, 3, 1, 2, 2, 1, 0, 3, 2, 0, 1}), Rand({4}, 0.1f, 1)}, 13, 1e-5});
    }
  cases.push_back({"SoftmaxCrossEntropyLoss", {{"reduction", as("mean")}}, {Rand({3, 5, 2}), N({3, 2}, i64, 0, 5)}, 13, 1e-5, 2});
  run_all(cases);
}

TEST_CASE("gpu Resize and Upsample match cpu", "[gpu]") {
  Shape s = {1, 2, 4, 5};
  auto scales = [](std::vector<double> v) { return C({static_cast<int64_t>(v.size())}, v); };
  std::vector<Case> cases;
  for (const char* ct : {"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn",
                         "half_pixel_symmetric"})
    for (const char* mode : {"nearest", "linear", "cubic"}) {
      Attrs a{{"mode", as(mode)}, {"coordinate_transformation_mode", as(ct)}};
      cases.push_back({"Resize", a, {Rand(s), Absent(), scales({1, 1, 1.5, 0.6})}, 19, 1e-5});
    }
  for (const char* nm : {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"})
    cases.push_back({"Resize", {{"mode", as("nearest")}, {"nearest_mode", as(nm)}, {"coordinate_transformation_mode", as("asymmetric")}},
                     {Rand(s), Absent(), scales({1, 1, 2.5, 1.7})}, 13, 0});
  cases.push_back({"Resize", {{"mode", as("cubic")}, {"exclude_outside", ai(1)}, {"cubic_coeff_a", af(-0.5f)}},
                   {Rand(s), Absent(), scales({1, 1, 0.8, 2})}, 13, 1e-5});
  cases.push_back({"Resize", {{"mode", as("linear")}, {"antialias", ai(1)}}, {Rand({1, 1, 8, 9}), Absent(), scales({1, 1, 0.5, 0.4})}, 18, 1e-5});
  cases.push_back({"Resize", {{"mode", as("linear")}, {"coordinate_transformation_mode", as("tf_crop_and_resize")}, {"extrapolation_value", af(7.f)}},
                   {Rand(s), C({8}, {0, 0, 0.2, -0.3, 1, 1, 0.9, 1.2}), Absent(), I64({1, 2, 3, 6})}, 13, 1e-5});
  cases.push_back({"Resize", {{"mode", as("linear")}, {"axes", ais({3, 2})}, {"keep_aspect_ratio_policy", as("not_larger")}},
                   {Rand(s), Absent(), Absent(), I64({7, 7})}, 18, 1e-5});
  cases.push_back({"Resize", {{"mode", as("nearest")}}, {Rand(s), scales({1, 1, 2, 3})}, 10, 0});
  cases.push_back({"Resize", {{"mode", as("linear")}}, {N(s, DataType::kUint8, 0, 255), Absent(), scales({1, 1, 1.5, 1.5})}, 13, 0});
  cases.push_back({"Upsample", {{"mode", as("nearest")}, {"scales", ir::Attribute{}}}, {Rand(s)}, 7, 0});
  cases.back().attrs["scales"].kind = ir::Attribute::Kind::kFloats;
  cases.back().attrs["scales"].floats = {1, 1, 2, 3};
  cases.push_back({"Upsample", {{"mode", as("linear")}}, {Rand(s), scales({1, 1, 2, 1.5})}, 9, 1e-5});
  run_all(cases);
}

TEST_CASE("gpu ConvTranspose and GridSample match cpu", "[gpu]") {
  std::vector<Case> cases = {
      {"ConvTranspose", {}, {Rand({1, 2, 3, 3}), Rand({2, 3, 3, 3}), Rand({3})}, 11, 1e-5},
      {"ConvTranspose", {{"strides", ais({2, 2})}, {"pads", ais({1, 0, 0, 1})}, {"output_padding", ais({1, 1})}},
       {Rand({2, 2, 3, 4}), Rand({2, 2, 3, 2})}, 11, 1e-5},
      {"ConvTranspose", {{"group", ai(2)}, {"dilations", ais({2, 1})}}, {Rand({1, 4, 3, 3}), Rand({4, 1, 2, 2})}, 11, 1e-5},
      {"ConvTranspose", {{"strides", ais({3, 2})}, {"output_shape", ais({10, 8})}}, {Rand({1, 1, 3, 3}), Rand({1, 2, 3, 3})}, 11, 1e-5},
      {"ConvTranspose", {{"strides", ais({2, 2})}, {"auto_pad", as("SAME_UPPER")}}, {Rand({1, 1, 3, 3}), Rand({1, 2, 3, 3})}, 11, 1e-5},
      {"ConvTranspose", {{"strides", ais({2, 2})}, {"auto_pad", as("SAME_LOWER")}}, {Rand({1, 1, 3, 3}), Rand({1, 2, 3, 3})}, 11, 1e-5},
      {"ConvTranspose", {}, {Rand({1, 1, 5}), Rand({1, 2, 3})}, 11, 1e-5},
      {"ConvTranspose", {}, {Rand({1, 1, 2, 3, 2}), Rand({1, 2, 2, 2, 2})}, 11, 1e-5},
  };
  for (const char* mode : {"bilinear", "nearest", "bicubic"})
    for (const char* pad : {"zeros", "border", "reflection"})
      for (int align : {0, 1})
        cases.push_back({"GridSample", {{"mode", as(mode)}, {"padding_mode", as(pad)}, {"align_corners", ai(align)}},
                         {Rand({1, 2, 4, 5}), Rand({1, 3, 6, 2}, -1.6f, 1.6f)}, 16, 1e-5});
  run_all(cases);
}

// Quotients on and beside k + 0.5, where a division that is not correctly
// rounded (NVIDIA's: a reciprocal and a product) used to round the other way
// (shaders/divide.glsl): x = fl((k + 0.5) * s) and its float
// neighbours, for scales whose reciprocals are inexact, into 8- and 16-bit
// types; the GPU must equal the CPU's float division exactly.
TEST_CASE("gpu QuantizeLinear rounds quotients beside ties as float division does", "[gpu]") {
  struct Target { DataType type; double zero_point; std::vector<int> ks; int opset; };
  const std::vector<Target> targets = {
      {DataType::kUint8, 128, {-128, -25, -1, 0, 1, 24, 25, 126}, 13},
      {DataType::kInt8, 0, {-128, -3, -1, 0, 2, 101, 126}, 13},
      {DataType::kUint16, 0, {0, 7, 255, 4096, 30001, 65000}, 21},
      {DataType::kInt16, -5, {-32000, -1025, -2, 0, 3, 16385, 32000}, 21},
  };
  const std::vector<float> scales = {5.f / 255.f, 0.1f, 3.7f, 1e-3f, 0.0137f, 0.75f};
  std::vector<Case> cases;
  for (const Target& t : targets)
    for (float s : scales) {
      std::vector<double> x;
      for (int k : t.ks) {
        float tie = static_cast<float>((k + 0.5) * static_cast<double>(s));
        float below = std::nextafter(tie, -INFINITY), above = std::nextafter(tie, INFINITY);
        for (float v : {std::nextafter(below, -INFINITY), below, tie, above, std::nextafter(above, INFINITY)})
          x.push_back(v);
      }
      cases.push_back({"QuantizeLinear", {},
                       {V({static_cast<int64_t>(x.size())}, DataType::kFloat32, x), C({}, {s}),
                        V({}, t.type, {t.zero_point})},
                       t.opset, 0});
    }
  run_all(cases);
}

// Div and Reciprocal as a correctly rounded float division (shaders/
// divide.glsl): GLSL's division may be a reciprocal and a product, a few ulp
// off (NVIDIA's is; DynamicQuantizeLinear's expanded form then rounded a zero
// point the other way). The GPU must equal the CPU bit for bit: quotients over
// many binades, either sign, next to powers of two and integers, exact ones,
// and zeros and infinities.
TEST_CASE("gpu Div and Reciprocal equal float division exactly", "[gpu]") {
  std::mt19937 rng(20261204);
  std::uniform_real_distribution<float> mantissa(1.f, 2.f);
  std::uniform_int_distribution<int> exponent(-30, 30), coin(0, 1);
  auto draw = [&] { return (coin(rng) ? -1.f : 1.f) * std::ldexp(mantissa(rng), exponent(rng)); };
  std::vector<double> a, b;
  auto pair = [&](float x, float y) { a.push_back(x); b.push_back(y); };
  for (int i = 0; i < 200; ++i) pair(draw(), draw());
  const float s = 5.f / 255.f;
  pair(-2.5f, s);  // DynamicQuantizeLinear's zero point: -127.49999, not -127.5
  for (float y : {3.f, 7.f, 0.1f, 1.1f, -s, 1e-3f})
    for (float k : {1.f, 2.f, 10.f, -127.f, 1024.f}) {
      const float x = k * y;  // quotients at, just below and just above k
      pair(x, y);
      pair(std::nextafter(x, -INFINITY), y);
      pair(std::nextafter(x, INFINITY), y);
    }
  pair(6.f, 3.f);
  pair(1.f, 0.f);
  pair(-1.f, 0.f);
  pair(0.f, 0.f);
  pair(0.f, -5.f);
  pair(INFINITY, 2.f);
  pair(3.f, -INFINITY);
  while (a.size() % 32) pair(draw(), draw());
  const int64_t n = static_cast<int64_t>(a.size());
  std::vector<double> y_nonzero;
  for (double v : b) y_nonzero.push_back(v == 0.0 ? 1.0 : v);
  std::vector<Case> cases = {
      {"Div", {}, {V({n}, DataType::kFloat32, a), V({n}, DataType::kFloat32, b)}, 14, 0},
      // rank 4: four channels a fragment (the vec4 form)
      {"Div", {}, {V({1, 4, n / 16, 4}, DataType::kFloat32, a), V({1, 4, n / 16, 4}, DataType::kFloat32, b)}, 14, 0},
      {"Reciprocal", {}, {V({n}, DataType::kFloat32, y_nonzero)}, 13, 0},
  };
  run_all(cases);
}

TEST_CASE("gpu quantization, windows and MaxPool indices match cpu", "[gpu]") {
  const DataType u8 = DataType::kUint8, i8 = DataType::kInt8;
  std::vector<Case> cases = {
      {"QuantizeLinear", {}, {Rand({2, 3, 4}, -300, 300), C({}, {2.0}), V({}, u8, {128})}, 13, 0},
      {"QuantizeLinear", {}, {Rand({2, 3, 4}, -300, 300), Rand({3}, 0.5f, 3), V({3}, i8, {-3, 0, 5})}, 13, 0},
      {"QuantizeLinear", {}, {V({6}, DataType::kFloat32, {0, 2, 3, 1000, -254, -1000}), C({}, {2.0})}, 10, 0},
      {"DequantizeLinear", {}, {N({2, 3, 4}, u8, 0, 255), Rand({3}, 0.1f, 2), N({3}, u8, 0, 255)}, 13, 1e-6},
      {"DequantizeLinear", {}, {N({5}, i8, -128, 127), C({}, {0.5})}, 10, 1e-6},
      {"DynamicQuantizeLinear", {}, {Rand({3, 4}, -3, 5)}, 11, 0, 3},
      {"DynamicQuantizeLinear", {}, {Rand({6}, 1, 5)}, 11, 0, 3},
      {"MaxPool", {{"kernel_shape", ais({2, 2})}, {"strides", ais({2, 2})}, {"pads", ais({1, 1, 0, 0})}},
       {Rand({2, 2, 5, 5})}, 12, 0, 2},
      {"MaxPool", {{"kernel_shape", ais({3, 2})}, {"storage_order", ai(1)}}, {Rand({1, 2, 5, 4})}, 12, 0, 2},
  };
  for (const char* op : {"HannWindow", "HammingWindow", "BlackmanWindow"})
    for (int periodic : {0, 1}) {
      Case c{op, {{"periodic", ai(periodic)}}, {V({}, DataType::kInt32, {10})}, 17, 1e-6};
      c.inputs[0].constant = true;
      cases.push_back(c);
    }
  run_all(cases);
}

TEST_CASE("gpu TopK and ReverseSequence match cpu", "[gpu]") {
  const DataType i64 = DataType::kInt64;
  std::vector<Case> cases = {
      {"TopK", {}, {Rand({3, 7}), I64({3})}, 11, 0, 2},
      {"TopK", {{"axis", ai(0)}, {"largest", ai(0)}}, {Rand({5, 4}), I64({2})}, 11, 0, 2},
      {"TopK", {{"axis", ai(1)}}, {V({2, 5}, DataType::kInt32, {3, 1, 3, 2, 3, 0, 0, 1, 0, 1}), I64({4})}, 11, 0, 2},
      {"TopK", {{"k", ai(2)}}, {Rand({2, 3, 4})}, 1, 0, 2},
      {"ReverseSequence", {{"batch_axis", ai(1)}, {"time_axis", ai(0)}}, {Rand({4, 3, 2}), V({3}, i64, {4, 2, 1})}, 10, 0},
      {"ReverseSequence", {{"batch_axis", ai(0)}, {"time_axis", ai(1)}}, {Rand({3, 4}), V({3}, i64, {1, 3, 4})}, 10, 0},
  };
  run_all(cases);
}

TEST_CASE("gpu integer matmul / conv and data-dependent selections match cpu", "[gpu]") {
  const DataType u8 = DataType::kUint8, i8 = DataType::kInt8, i64 = DataType::kInt64, b = DataType::kBool;
  std::vector<Case> cases = {
      {"MatMulInteger", {}, {N({4, 3}, u8, 0, 255), N({3, 2}, u8, 0, 255), V({}, u8, {12}), V({}, u8, {0})}, 10, 0},
      {"MatMulInteger", {}, {N({2, 4, 3}, i8, -128, 127), N({3, 5}, i8, -128, 127), V({4}, i8, {1, -2, 3, 0}), V({5}, i8, {0, 1, 2, 3, 4})}, 10, 0},
      {"ConvInteger", {{"pads", ais({1, 1, 1, 1})}}, {N({1, 2, 4, 4}, u8, 0, 255), N({3, 2, 2, 2}, u8, 0, 255), V({}, u8, {1})}, 10, 0},
      {"QLinearMatMul", {}, {N({2, 4}, u8, 0, 255), C({}, {0.02}), V({}, u8, {113}), N({4, 3}, u8, 0, 255), C({}, {0.01}),
                             V({}, u8, {114}), C({}, {0.05}), V({}, u8, {118})}, 10, 0},
      {"QLinearConv", {}, {N({1, 1, 5, 5}, u8, 0, 255), C({}, {0.004}), V({}, u8, {2}), N({2, 1, 2, 2}, u8, 0, 255),
                           C({2}, {0.003, 0.004}), V({2}, u8, {3, 4}), C({}, {0.02}), V({}, u8, {5}), V({2}, DataType::kInt32, {100, -50})}, 10, 0},
      {"Compress", {{"axis", ai(1)}}, {Rand({3, 4}), C({3}, {1, 0, 1})}, 11, 0},
      {"Compress", {}, {Rand({3, 2}), C({5}, {0, 1, 1, 0, 1})}, 11, 0},
      {"NonZero", {}, {C({3, 4}, {0, 1, 0, 2, 0, 0, 3, 0, 4, 0, 0, 5})}, 13, 0},
      {"MaxUnpool", {{"kernel_shape", ais({2, 2})}, {"strides", ais({2, 2})}},
       {Rand({1, 1, 2, 2}), V({1, 1, 2, 2}, i64, {5, 7, 13, 15})}, 11, 0},
  };
  for (auto& c : cases)
    if (c.op == "Compress" || c.op == "NonZero")
      for (auto& i : c.inputs)
        if (i.constant) i.dtype = c.op == "Compress" ? b : DataType::kFloat32;
  run_all(cases);
}

TEST_CASE("gpu MeanVarianceNormalization and Det match cpu", "[gpu]") {
  std::vector<Case> cases = {
      {"MeanVarianceNormalization", {}, {Rand({2, 3, 4, 2})}, 13, 1e-5},
      {"MeanVarianceNormalization", {{"axes", ais({1, -1})}}, {Rand({2, 3, 4})}, 13, 1e-5},
      {"Det", {}, {Rand({3, 3})}, 11, 1e-5},
      {"Det", {}, {Rand({2, 4, 4})}, 11, 1e-5},
      {"Det", {}, {C({2, 2, 2}, {1, 2, 2, 4, 0, 1, 1, 0})}, 11, 1e-6},  // singular, then a swap
  };
  run_all(cases);
}

TEST_CASE("gpu BatchNormalization training mode matches cpu", "[gpu]") {
  Attrs a{{"training_mode", ai(1)}, {"momentum", af(0.8f)}};
  std::vector<Case> cases = {
      {"BatchNormalization", a, {Rand({2, 3, 4, 5}), Rand({3}), Rand({3}), Rand({3}), Rand({3}, 0.5f, 2)}, 15, 1e-5, 3},
      {"BatchNormalization", a, {Rand({3, 2, 7}), Rand({2}), Rand({2}), Rand({2}), Rand({2}, 0.5f, 2)}, 15, 1e-5, 1},
  };
  run_all(cases);
}

TEST_CASE("gpu Einsum matches cpu", "[gpu]") {
  auto eq = [](const char* e) { return Attrs{{"equation", as(e)}}; };
  std::vector<Case> cases = {
      {"Einsum", eq("ij,jk->ik"), {Rand({3, 4}), Rand({4, 5})}, 12, 1e-5},
      {"Einsum", eq("bij,bjk->bik"), {Rand({2, 3, 4}), Rand({2, 4, 5})}, 12, 1e-5},
      {"Einsum", eq("ij->ji"), {Rand({3, 4})}, 12, 0},
      {"Einsum", eq("ii->i"), {Rand({4, 4})}, 12, 0},
      {"Einsum", eq("ii"), {Rand({4, 4})}, 12, 1e-5},
      {"Einsum", eq("i,i"), {Rand({7}), Rand({7})}, 12, 1e-5},
      {"Einsum", eq("i,j->ij"), {Rand({3}), Rand({4})}, 12, 1e-6},
      {"Einsum", eq("ij->"), {Rand({3, 4})}, 12, 1e-5},
      {"Einsum", eq("ij, jk"), {Rand({2, 3}), Rand({3, 2})}, 12, 1e-5},
  };
  run_all(cases);
}

TEST_CASE("gpu RNN GRU LSTM match cpu", "[gpu]") {
  const DataType i32 = DataType::kInt32;
  const int64_t S = 4, B = 3, I = 5, H = 2;
  auto rnn = [&](const char* op, int G, Attrs a, int D, bool extras, int outputs) {
    std::vector<In> ins = {Rand({S, B, I}), Rand({D, G * H, I}, -0.7f, 0.7f), Rand({D, G * H, H}, -0.7f, 0.7f)};
    if (extras) {
      ins.push_back(Rand({D, 2 * G * H}, -0.5f, 0.5f));
      ins.push_back(V({B}, i32, {4, 2, 3}));
      ins.push_back(Rand({D, B, H}));
      if (std::string(op) == "LSTM") {
        ins.push_back(Rand({D, B, H}));
        ins.push_back(Rand({D, 3 * H}, -0.5f, 0.5f));
      }
    }
    a["hidden_size"] = ai(H);
    return Case{op, a, ins, 14, 1e-5, outputs};
  };
  std::vector<Case> cases = {
      rnn("RNN", 1, {}, 1, false, 2),
      rnn("RNN", 1, {{"direction", as("bidirectional")}}, 2, true, 2),
      rnn("GRU", 3, {}, 1, true, 2),
      rnn("GRU", 3, {{"linear_before_reset", ai(1)}, {"direction", as("reverse")}}, 1, true, 2),
      rnn("LSTM", 4, {}, 1, false, 3),
      rnn("LSTM", 4, {{"direction", as("bidirectional")}, {"clip", af(0.8f)}}, 2, true, 3),
      rnn("LSTM", 4, {{"input_forget", ai(1)}}, 1, true, 3),
  };
  // layout 1: X [B, S, I], outputs batch-major.
  Case l = rnn("GRU", 3, {{"layout", ai(1)}}, 1, false, 2);
  l.inputs[0] = Rand({B, S, I});
  cases.push_back(l);
  run_all(cases);
}

// The time step is a uniform: a sequence of any length costs the same few
// programs (init, step, outputs), not a compile per step.
TEST_CASE("gpu LSTM compiles one step program for every time step", "[gpu]") {
  const int64_t S = 24, B = 2, I = 3, H = 4;
  Case c{"LSTM", {{"hidden_size", ai(H)}, {"direction", as("bidirectional")}},
         {Rand({S, B, I}), Rand({2, 4 * H, I}, -0.7f, 0.7f), Rand({2, 4 * H, H}, -0.7f, 0.7f)}, 14, 1e-5, 3};
  gl::Executor* ex = executor();
  REQUIRE(ex);
  const int64_t before = ex->memory().programs;
  run_case(c);
  CHECK(ex->memory().programs - before <= 5);
}

TEST_CASE("gpu NonMaxSuppression matches cpu", "[gpu]") {
  // Inputs constant: the output length comes from shape inference on them.
  std::vector<double> boxes = {0, 0, 1, 1, 0, 0.1, 1, 1.1, 0, -0.1, 1, 0.9, 0, 10, 1, 11, 0, 10.1, 1, 11.1, 0, 100, 1, 101};
  std::vector<double> scores = {0.9, 0.75, 0.6, 0.95, 0.5, 0.3, 0.1, 0.2, 0.3, 0.9, 0.8, 0.7};
  auto c = [](Shape s, std::vector<double> v, DataType t = DataType::kFloat32) {
    In i = C(std::move(s), std::move(v));
    i.dtype = t;
    return i;
  };
  std::vector<Case> cases = {
      {"NonMaxSuppression", {}, {c({1, 6, 4}, boxes), c({1, 2, 6}, scores), c({1}, {3}, DataType::kInt64), c({1}, {0.5}),
                                  c({1}, {0.0})}, 11, 0},
      {"NonMaxSuppression", {}, {c({2, 3, 4}, boxes), c({2, 2, 3}, scores), c({1}, {2}, DataType::kInt64), c({1}, {0.3})}, 11, 0},
      {"NonMaxSuppression", {{"center_point_box", ai(1)}}, {c({1, 6, 4}, boxes), c({1, 2, 6}, scores),
                                                            c({1}, {10}, DataType::kInt64), c({1}, {0.2}), c({1}, {0.25})}, 11, 0},
      // A limit beyond what a float holds exactly (exporters pass INT64_MAX):
      // baked into the shader, clamped to the box count.
      {"NonMaxSuppression", {}, {c({1, 6, 4}, boxes), c({1, 2, 6}, scores), c({1}, {1099511627776.0}, DataType::kInt64),
                                  c({1}, {0.5})}, 11, 0},
  };
  run_all(cases);
}

TEST_CASE("gpu Unique matches cpu", "[gpu]") {
  std::vector<double> v = {2, 1, 1, 3, 4, 3, 1, 2, 0, 1, 1, 3};
  std::vector<Case> cases = {
      {"Unique", {}, {C({12}, v)}, 11, 0, 4},
      {"Unique", {{"sorted", ai(0)}}, {C({12}, v)}, 11, 0, 4},
      {"Unique", {{"axis", ai(0)}}, {C({6, 2}, v)}, 11, 0, 4},
      {"Unique", {{"axis", ai(-1)}, {"sorted", ai(0)}}, {C({2, 6}, v)}, 11, 0, 4},
      {"Unique", {{"axis", ai(1)}}, {C({2, 3, 2}, v)}, 11, 0, 4},
  };
  run_all(cases);
}

TEST_CASE("gpu training optimizers match cpu", "[gpu]") {
  auto opt = [](const char* op, Attrs a, int n, int states) {
    Case c{op, a, {C({}, {0.1}), V({}, DataType::kInt64, {3})}, 1, 1e-5, n * (1 + states)};
    for (int g = 0; g < 2 + states; ++g)
      for (int k = 0; k < n; ++k) c.inputs.push_back(g >= 2 ? Rand({2, 3}, 0.1f, 1) : Rand({2, 3}));
    return c;
  };
  std::vector<Case> cases = {
      opt("Adagrad", {{"decay_factor", af(0.1f)}, {"norm_coefficient", af(0.01f)}}, 2, 1),
      opt("Momentum", {{"alpha", af(0.9f)}, {"beta", af(0.5f)}, {"mode", as("standard")}}, 1, 1),
      opt("Momentum", {{"alpha", af(0.9f)}, {"beta", af(0.5f)}, {"mode", as("nesterov")}}, 2, 1),
      opt("Adam", {{"alpha", af(0.9f)}, {"beta", af(0.8f)}, {"norm_coefficient_post", af(0.1f)}}, 2, 2),
  };
  for (auto& c : cases) c.domain = "ai.onnx.preview.training";
  run_all(cases);
}
