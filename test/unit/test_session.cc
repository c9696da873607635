// The session: placement (GPU, CPU fallback, forced CPU), feeds checked
// against the model, and unsupported nodes named at creation.
#include <catch2/catch.hpp>
#include <functional>
#include <limits>
#include <map>
#include <random>

#include "engine/core/compare.h"
#include "engine/plan/kernel_context.h"
#include "engine/runtime/runner.h"
#include "engine/runtime/session.h"
#include "test/unit/model_builder.h"

using glint::BackendMode;
using glint::Session;
using glint::SessionOptions;
using glint::Tensor;
using glint::test::ModelBuilder;

namespace {

// n floats uniform in [-0.5, 0.5).
std::vector<float> uniform_floats(std::mt19937& rng, size_t n) {
  std::uniform_real_distribution<float> d(-0.5f, 0.5f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

// x[1,2,6,6] -> Conv(3x3, 4 out, pad 1) -> Relu -> MaxPool 2x2 -> Flatten -> Gemm(3) -> Softmax
ModelBuilder small_cnn() {
  ModelBuilder b(13);
  std::mt19937 rng(7);
  auto rnd = [&](size_t n) { return uniform_floats(rng, n); };
  b.input("x", onnx::TensorProto::FLOAT, {1, 2, 6, 6});
  b.initializer("w", {4, 2, 3, 3}, rnd(4 * 2 * 9));
  b.initializer("b", {4}, rnd(4));
  b.initializer("fc_w", {36, 3}, rnd(36 * 3));
  b.initializer("fc_b", {3}, rnd(3));
  auto& conv = b.node("Conv", {"x", "w", "b"}, {"c"}, "conv");
  ModelBuilder::attr_ints(conv, "pads", {1, 1, 1, 1});
  ModelBuilder::attr_ints(conv, "kernel_shape", {3, 3});
  b.node("Relu", {"c"}, {"r"}, "relu");
  auto& pool = b.node("MaxPool", {"r"}, {"p"}, "pool");
  ModelBuilder::attr_ints(pool, "kernel_shape", {2, 2});
  ModelBuilder::attr_ints(pool, "strides", {2, 2});
  b.node("Flatten", {"p"}, {"f"}, "flatten");
  b.node("Gemm", {"f", "fc_w", "fc_b"}, {"g"}, "fc");
  b.node("Softmax", {"g"}, {"y"}, "softmax");
  b.output("y", onnx::TensorProto::FLOAT, {1, 3});
  return b;
}

Tensor input_x() {
  Tensor t(glint::DataType::kFloat32, {1, 2, 6, 6});
  for (int64_t i = 0; i < t.size(); ++i) t.data<float>()[i] = static_cast<float>((i * 37) % 11) / 11.f - 0.4f;
  return t;
}

std::unique_ptr<Session> make(const std::string& bytes, SessionOptions o) {
  auto s = Session::create(bytes.data(), bytes.size(), o);
  INFO(s.status().message());
  REQUIRE(s.ok());
  return std::move(s).value();
}

std::unique_ptr<Session> make(const std::string& bytes, BackendMode backend) {
  SessionOptions o;
  o.backend = backend;
  return make(bytes, o);
}

}  // namespace

TEST_CASE("default, gpu-only and cpu backends agree on a small CNN", "[session]") {
  std::string bytes = small_cnn().bytes();
  SessionOptions cpu_opts;
  cpu_opts.backend = BackendMode::kCpu;
  auto cpu = make(bytes, cpu_opts);
  auto want = cpu->run({{"x", input_x()}});
  REQUIRE(want.ok());
  for (auto mode : {BackendMode::kDefault, BackendMode::kGpu}) {
    SessionOptions o;
    o.backend = mode;
    auto s = make(bytes, o);
    for (auto& p : s->placements()) {
      INFO(p.node << " " << p.reason);
      CHECK(p.gpu);
    }
    auto got = s->run({{"x", input_x()}});
    REQUIRE(got.ok());
    auto c = glint::compare_tensors(got->at("y"), want->at("y"), 1e-4, 1e-5);
    INFO(c.mismatch);
    CHECK(c.equal);
  }
}

TEST_CASE("a node forced onto the CPU runs there, with transfers at both edges", "[session]") {
  std::string bytes = small_cnn().bytes();
  SessionOptions all_gpu;
  auto reference = make(bytes, all_gpu)->run({{"x", input_x()}});
  REQUIRE(reference.ok());
  SessionOptions o;
  o.force_cpu = {"relu", "fc"};
  auto s = make(bytes, o);
  int on_cpu = 0;
  for (auto& p : s->placements()) {
    bool forced = p.node == "relu" || p.node == "fc";
    CHECK(p.gpu == !forced);
    on_cpu += p.gpu ? 0 : 1;
  }
  CHECK(on_cpu == 2);
  auto got = s->run({{"x", input_x()}});
  REQUIRE(got.ok());
  auto c = glint::compare_tensors(got->at("y"), reference->at("y"), 1e-4, 1e-5);
  INFO(c.mismatch);
  CHECK(c.equal);
}

TEST_CASE("feeds are checked by name, dtype and shape", "[session][bad-input]") {
  std::string bytes = small_cnn().bytes();
  auto s = make(bytes, {});
  SECTION("wrong name") {
    auto r = s->run({{"image", input_x()}});
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.status().message(), Catch::Contains("unknown input 'image'") && Catch::Contains("'x'"));
  }
  SECTION("missing input") {
    auto r = s->run({});
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.status().message(), Catch::Contains("missing input 'x'"));
  }
  SECTION("wrong dtype") {
    Tensor t(glint::DataType::kInt64, {1, 2, 6, 6});
    auto r = s->run({{"x", t}});
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.status().message(), Catch::Contains("expected dtype float32, got int64"));
  }
  SECTION("wrong shape") {
    Tensor t(glint::DataType::kFloat32, {1, 3, 6, 6});
    auto r = s->run({{"x", t}});
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.status().message(), Catch::Contains("expected shape float32[1,2,6,6], got float32[1,3,6,6]"));
  }
  SECTION("a constant fed as an input") {
    auto r = s->run({{"x", input_x()}, {"w", input_x()}});
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.status().message(), Catch::Contains("'w' is a constant"));
  }
}

TEST_CASE("an unknown op is named at session creation", "[session][bad-input]") {
  ModelBuilder b(13);
  b.input("x", onnx::TensorProto::FLOAT, {2});
  b.node("FrobnicateTensor", {"x"}, {"y"}, "frob");
  b.output("y", onnx::TensorProto::FLOAT, {2});
  std::string bytes = b.bytes();
  auto s = Session::create(bytes.data(), bytes.size(), {});
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().code() == glint::StatusCode::kUnsupported);
  CHECK_THAT(s.status().message(), Catch::Contains("frob") && Catch::Contains("FrobnicateTensor") &&
                                       Catch::Contains("opset 13") && Catch::Contains("float32[2]"));
}

TEST_CASE("a Conv whose weights do not match its input is refused with both shapes", "[session][bad-input]") {
  ModelBuilder b(13);
  b.input("x", onnx::TensorProto::FLOAT, {1, 3, 4, 4});
  b.initializer("w", {2, 5, 1, 1}, std::vector<float>(10, 1.f));
  b.node("Conv", {"x", "w"}, {"y"}, "badconv");
  b.output("y", onnx::TensorProto::FLOAT, {1, 2, 4, 4});
  std::string bytes = b.bytes();
  auto s = Session::create(bytes.data(), bytes.size(), {});
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(s.status().message(), Catch::Contains("badconv"));
}

TEST_CASE("symbolic batch dims run with any batch", "[session]") {
  ModelBuilder b(13);
  b.input("x", onnx::TensorProto::FLOAT, {-1, 3});
  b.initializer("w", {3, 2}, {1, 2, 3, 4, 5, 6});
  b.node("MatMul", {"x", "w"}, {"m"});
  b.node("Relu", {"m"}, {"y"});
  b.output("y", onnx::TensorProto::FLOAT, {-1, 2});
  std::string bytes = b.bytes();
  for (auto mode : {BackendMode::kDefault, BackendMode::kCpu}) {
    SessionOptions o;
    o.backend = mode;
    auto s = make(bytes, o);
    for (int64_t n : {1, 3}) {
      Tensor x(glint::DataType::kFloat32, {n, 3});
      for (int64_t i = 0; i < x.size(); ++i) x.data<float>()[i] = static_cast<float>(i) - 2.f;
      auto r = s->run({{"x", x}});
      REQUIRE(r.ok());
      const Tensor& y = r->at("y");
      REQUIRE(y.shape() == glint::Shape{n, 2});
      for (int64_t row = 0; row < n; ++row)
        for (int col = 0; col < 2; ++col) {
          float acc = 0;
          for (int k = 0; k < 3; ++k) acc += x.data<float>()[row * 3 + k] * float(1 + k * 2 + col);
          CHECK(y.data<float>()[row * 2 + col] == Approx(std::max(acc, 0.f)));
        }
    }
  }
}

TEST_CASE("a model asking for a tensor larger than memory gets an error, not a crash", "[session][bad-input]") {
  ModelBuilder b(13);
  b.input("x", onnx::TensorProto::FLOAT, {1});
  b.initializer_i64("shape", {3}, {1000000, 1000000, 1000000});
  b.node("ConstantOfShape", {"shape"}, {"big"}, "huge");
  b.node("Add", {"big", "x"}, {"y"}, "add");
  b.output("y", onnx::TensorProto::FLOAT, {-1, -1, -1});
  std::string bytes = b.bytes();
  for (auto mode : {BackendMode::kCpu, BackendMode::kDefault}) {
    SessionOptions o;
    o.backend = mode;
    auto s = Session::create(bytes.data(), bytes.size(), o);
    if (!s.ok()) {
      CHECK_THAT(s.status().message(), Catch::Contains("out of memory") || Catch::Contains("huge"));
      continue;
    }
    Tensor x(glint::DataType::kFloat32, {1});
    auto r = s.value()->run({{"x", x}});
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.status().message(), Catch::Contains("out of memory") || Catch::Contains("huge"));
  }
}

// Hostile shapes: element counts that overflow int64 (or whose bytes do),
// and sizes past the session's memory cap. Every one is an error naming the
// node, on every backend: no crash, no empty result.
TEST_CASE("hostile shapes and the memory cap give errors naming the node", "[session][bad-input]") {
  struct Case {
    const char* what;
    std::vector<int64_t> shape;  // ConstantOfShape's shape, or Tile's repeats
    bool tile;
    int64_t cap;  // SessionOptions::memory_cap, 0 = default
  };
  const int64_t big = int64_t{1} << 31, huge = int64_t{1} << 32, tiled = int64_t{1} << 30;
  const std::vector<Case> cases = {
      {"[2^31, 2^31] floats: bytes overflow", {big, big}, false, 0},
      {"[2^32, 2^32]: elements overflow", {huge, huge}, false, 0},
      {"4x4 tiled by [2^30, 2^30]", {tiled, tiled}, true, 0},
      {"1 MiB past a 1 MiB cap", {512, 1024}, false, 1 << 20},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    ModelBuilder b(13);
    b.input("x", onnx::TensorProto::FLOAT, {4, 4});
    b.initializer_i64("k", {static_cast<int64_t>(c.shape.size())}, c.shape);
    if (c.tile) {
      b.node("Tile", {"x", "k"}, {"big"}, "hostile");
    } else {
      b.node("ConstantOfShape", {"k"}, {"big"}, "hostile");
    }
    b.node("Neg", {"big"}, {"y"}, "neg");
    b.output("y", onnx::TensorProto::FLOAT, {-1, -1});
    std::string bytes = b.bytes();
    for (auto mode : {BackendMode::kCpu, BackendMode::kDefault}) {
      SessionOptions o;
      o.backend = mode;
      o.memory_cap = c.cap;
      auto s = Session::create(bytes.data(), bytes.size(), o);
      REQUIRE(s.ok());  // a node too large to fold is left for the run, which names it
      Tensor x(glint::DataType::kFloat32, {4, 4});
      auto r = s.value()->run({{"x", x}});
      REQUIRE_FALSE(r.ok());
      // On the GPU the hostile node's texture is fine and the output's read-back
      // is what passes the cap: then the error names the output.
      CHECK_THAT(r.status().message(), Catch::Contains("'hostile'") || Catch::Contains("output 'y'"));
      CHECK_THAT(r.status().message(), Catch::Contains("bytes") || Catch::Contains("elements"));
    }
  }
}

// Held-out hostile models (issue 12): outputs too large for memory or for an
// int64 (ConstantOfShape, Expand, Tile, Range, Resize, Pad), negative dims and
// shapes, initializers whose data does not match their dims. Each model holds
// only constants, as `glint run MODEL` would take it; each is an error naming
// the node (or initializer) and the problem, at creation or at the run, on
// every backend: no crash, no hang, no silent result.
TEST_CASE("held-out hostile models give errors naming the node and the problem", "[session][bad-input]") {
  using onnx::TensorProto;
  const int64_t big = int64_t{1} << 31, huge = int64_t{1} << 32, wraps = int64_t{1} << 62;
  const std::vector<float> x16(16, 1.f);
  struct Case {
    const char* what;
    std::function<void(ModelBuilder&)> build;  // makes y, by a node named 'hostile' where there is one
    std::vector<const char*> expect;           // in the error message
  };
  // `op`(x, k): x all ones, [4,4] (or [1,1] to expand), k an int64 constant.
  auto with_k = [&](const char* op, std::vector<int64_t> k) {
    return [=](ModelBuilder& b) {
      const bool expand = std::string(op) == "Expand";
      b.initializer("x", expand ? std::vector<int64_t>{1, 1} : std::vector<int64_t>{4, 4},
                    expand ? std::vector<float>{1.f} : x16);
      b.initializer_i64("k", {static_cast<int64_t>(k.size())}, k);
      b.node(op, {"x", "k"}, {"y"}, "hostile");
    };
  };
  auto resize_scales = [&](float scale) {
    return [=](ModelBuilder& b) {
      b.initializer("x", {1, 1, 4, 4}, x16);
      b.initializer("scales", {4}, {1, 1, scale, scale});
      b.node("Resize", {"x", "", "scales"}, {"y"}, "hostile");
    };
  };
  auto initializer = [&](std::function<void(TensorProto&)> fill) {
    return [=](ModelBuilder& b) {
      auto* t = b.proto().mutable_graph()->add_initializer();
      t->set_name("w");
      fill(*t);
      b.node("Neg", {"w"}, {"y"}, "neg");
    };
  };
  const std::vector<Case> cases = {
      {"Expand to [2^31, 2^31] floats: bytes overflow", with_k("Expand", {big, big}), {"'hostile'", "bytes"}},
      {"Expand to [2^32, 2^32]: elements overflow", with_k("Expand", {huge, huge}), {"'hostile'", "elements"}},
      {"Tile by [2^62, 2^62]: the dims wrap to 0", with_k("Tile", {wraps, wraps}), {"'hostile'", "longer than an int64"}},
      {"Tile by a negative repeat", with_k("Tile", {-1, 2}), {"'hostile'", "non-negative"}},
      {"Pad by 2^31 each side: bytes over the cap", with_k("Pad", {0, big, 0, big}), {"'hostile'", "bytes"}},
      {"Pad by 2^62 each side: the dim wraps", with_k("Pad", {0, wraps, 0, wraps}), {"'hostile'", "longer than an int64"}},
      {"Pad cropping below zero", with_k("Pad", {0, -9, 0, 0}), {"'hostile'", "below zero"}},
      {"Reshape to a negative dim", with_k("Reshape", {-2, 8}), {"'hostile'", "invalid dim -2"}},
      {"Reshape to [2^62, 2^62]: the product wraps (the fuzzer's find)", with_k("Reshape", {wraps, wraps}),
       {"'hostile'", "more elements than an int64 counts"}},
      {"Resize by 1e5: bytes over the cap", resize_scales(1e5f), {"'hostile'", "bytes"}},
      {"Resize by 1e30: past an int64", resize_scales(1e30f), {"'hostile'", "longer than an int64"}},
      {"Resize by infinity", resize_scales(std::numeric_limits<float>::infinity()), {"'hostile'", "finite"}},
      {"Resize to sizes [1, 1, 2^32, 2^32]",
       [&](ModelBuilder& b) {
         b.initializer("x", {1, 1, 4, 4}, x16);
         b.initializer_i64("sizes", {4}, {1, 1, huge, huge});
         b.node("Resize", {"x", "", "", "sizes"}, {"y"}, "hostile");
       },
       {"'hostile'", "elements"}},
      {"ConstantOfShape with a negative dim",
       [&](ModelBuilder& b) {
         b.initializer_i64("k", {2}, {-3, 4});
         b.node("ConstantOfShape", {"k"}, {"y"}, "hostile");
       },
       {"'hostile'", "negative dim"}},
      {"Range over 10^18 int64s",
       [&](ModelBuilder& b) {
         b.initializer_i64("start", {}, {0});
         b.initializer_i64("limit", {}, {1000000000000000000});
         b.initializer_i64("delta", {}, {1});
         b.node("Range", {"start", "limit", "delta"}, {"y"}, "hostile");
       },
       {"'hostile'", "range is too long"}},
      {"a Constant whose 'value' is declared a GRAPH (found by the fuzzer)",
       [&](ModelBuilder& b) {
         auto& n = b.node("Constant", {}, {"y"}, "hostile");
         auto* a = n.add_attribute();
         a->set_name("value");
         a->set_type(onnx::AttributeProto::GRAPH);
         a->mutable_t()->set_data_type(TensorProto::INT64);
         a->mutable_t()->add_dims(1);
         a->mutable_t()->add_int64_data(-1);
       },
       {"'hostile'", "'value' is not declared TENSOR"}},
      {"an RNN whose W is int8 bytes, read as floats before (the fuzzer's find)",
       [&](ModelBuilder& b) {
         b.initializer("x", {1, 1, 15}, std::vector<float>(15, 1.f));
         auto& w = b.initializer_i64("w", {1, 1, 15}, std::vector<int64_t>(15, 1));
         w.clear_int64_data();
         w.set_data_type(TensorProto::INT8);
         for (int i = 0; i < 15; ++i) w.add_int32_data(1);
         b.initializer("r", {1, 1, 1}, {0.5f});
         b.node("RNN", {"x", "w", "r"}, {"y"}, "hostile");
       },
       {"'hostile'", "int8"}},
      {"a Loop counting to INT64_MAX whose condition stays true (the fuzzer's find: a Range with delta 0)",
       [&](ModelBuilder& b) {
         // float64 state: no GPU holds it, so the default backend runs the
         // body on the CPU too, at ~1.5 us an iteration instead of a draw.
         b.initializer_i64("m", {}, {std::numeric_limits<int64_t>::max()});
         for (const char* name : {"p0", "one"}) {
           auto* t = b.proto().mutable_graph()->add_initializer();
           t->set_name(name);
           t->set_data_type(TensorProto::DOUBLE);
           t->add_double_data(1.0);
         }
         auto& n = b.node("Loop", {"m", "", "p0"}, {"y"}, "hostile");
         auto* a = n.add_attribute();
         a->set_name("body");
         a->set_type(onnx::AttributeProto::GRAPH);
         onnx::GraphProto* g = a->mutable_g();
         g->set_name("body");
         auto in = [&](const char* name, int dtype) {
           auto* v = g->add_input();
           v->set_name(name);
           v->mutable_type()->mutable_tensor_type()->set_elem_type(dtype);
           v->mutable_type()->mutable_tensor_type()->mutable_shape();
         };
         in("i", TensorProto::INT64), in("cond", TensorProto::BOOL), in("prev", TensorProto::DOUBLE);
         auto* id = g->add_node();
         id->set_op_type("Identity"), id->add_input("cond"), id->add_output("cond_out");
         auto* add = g->add_node();
         add->set_op_type("Add"), add->add_input("prev"), add->add_input("one"), add->add_output("next");
         g->add_output()->set_name("cond_out");
         g->add_output()->set_name("next");
       },
       {"'hostile'", "Loop ran 262144 iterations without stopping"}},
      {"an initializer with a negative dim",
       initializer([](TensorProto& t) {
         t.set_data_type(TensorProto::FLOAT);
         t.add_dims(-1);
       }),
       {"initializer 'w'", "negative dimension"}},
      {"an initializer with fewer floats than its dims",
       initializer([](TensorProto& t) {
         t.set_data_type(TensorProto::FLOAT);
         t.add_dims(2), t.add_dims(3);
         for (float v : {1.f, 2.f, 3.f, 4.f}) t.add_float_data(v);
       }),
       {"initializer 'w'", "float_data holds 4 elements, dims say 6"}},
      {"an initializer with fewer int64s than its dims",
       initializer([](TensorProto& t) {
         t.set_data_type(TensorProto::INT64);
         t.add_dims(3);
         t.add_int64_data(1), t.add_int64_data(2);
       }),
       {"initializer 'w'", "int64_data holds 2 elements, dims say 3"}},
      {"an initializer whose dims overflow",
       initializer([&](TensorProto& t) {
         t.set_data_type(TensorProto::FLOAT);
         t.add_dims(huge), t.add_dims(huge);
         t.set_raw_data(std::string(16, '\0'));
       }),
       {"initializer 'w'", "too large"}},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    ModelBuilder b(13);
    c.build(b);
    b.output("y", TensorProto::FLOAT, {});
    b.proto().mutable_graph()->mutable_output(0)->mutable_type()->mutable_tensor_type()->clear_shape();
    std::string bytes = b.bytes();
    for (auto mode : {BackendMode::kCpu, BackendMode::kDefault}) {
      SessionOptions o;
      o.backend = mode;
      auto s = Session::create(bytes.data(), bytes.size(), o);
      std::string message;
      if (s.ok()) {
        auto r = s.value()->run({});
        REQUIRE_FALSE(r.ok());
        message = r.status().message();
      } else {
        message = s.status().message();
      }
      INFO(message);
      for (const char* part : c.expect) CHECK_THAT(message, Catch::Contains(part));
    }
  }
}

// A depthwise conv whose weights and bias are constants: its passes that
// re-lay them (taps, packed bias) are drawn once and kept for the session.
// A 1x1 conv whose bias is an input (of more than 16 values, so that the
// kernel does not bake them): its bias pass runs every time, so a new bias
// changes the result.
TEST_CASE("passes over constants are kept across runs; passes over inputs are not", "[session]") {
  ModelBuilder b(13);
  std::mt19937 rng(11);
  auto rnd = [&](size_t n) { return uniform_floats(rng, n); };
  b.input("x", onnx::TensorProto::FLOAT, {1, 8, 6, 12});
  b.input("bias", onnx::TensorProto::FLOAT, {20});
  b.initializer("dw", {8, 1, 3, 3}, rnd(8 * 9));
  b.initializer("db", {8}, rnd(8));
  b.initializer("pw", {20, 8, 1, 1}, rnd(20 * 8));
  auto& dw = b.node("Conv", {"x", "dw", "db"}, {"h"}, "depthwise");
  ModelBuilder::attr_ints(dw, "pads", {1, 1, 1, 1});
  ModelBuilder::attr_int(dw, "group", 8);
  b.node("Conv", {"h", "pw", "bias"}, {"y"}, "pointwise");
  b.output("y", onnx::TensorProto::FLOAT, {1, 20, 6, 12});
  std::string bytes = b.bytes();
  auto cpu = make(bytes, BackendMode::kCpu);
  auto gpu = make(bytes, BackendMode::kGpu);
  std::optional<glint::gl::MemoryStats> settled;
  for (int run = 0; run < glint::kGpuMemorySettleRuns + 3; ++run) {
    Tensor x(glint::DataType::kFloat32, {1, 8, 6, 12}), bias(glint::DataType::kFloat32, {20});
    const auto xs = rnd(x.size()), bs = rnd(bias.size());
    for (int64_t i = 0; i < x.size(); ++i) x.data<float>()[i] = xs[i];
    for (int64_t i = 0; i < bias.size(); ++i) bias.data<float>()[i] = bs[i] * static_cast<float>(run + 1);
    auto want = cpu->run({{"x", x}, {"bias", bias}});
    auto got = gpu->run({{"x", x}, {"bias", bias}});
    REQUIRE(want.ok());
    REQUIRE(got.ok());
    auto c = glint::compare_tensors(got->at("y"), want->at("y"), 1e-4, 1e-5);
    INFO("run " << run << ": " << c.mismatch);
    CHECK(c.equal);
    auto m = gpu->gpu_memory();
    REQUIRE(m.has_value());
    if (run + 1 < glint::kGpuMemorySettleRuns) continue;
    if (!settled) {
      settled = m;
    } else {
      CHECK(m->live_textures == settled->live_textures);
      CHECK(m->texture_bytes == settled->texture_bytes);
    }
  }
}

// A MatMul's constant B is packed by a pass drawn once; once those passes
// have run a few times nothing reads B's own texture and the session deletes
// it (GraphRunner::release_cached_constants). A new batch size builds new
// passes, whose packing pass needs B again: it goes up again, and every run
// still matches the CPU.
TEST_CASE("weights only cached passes read are let go, and come back for new passes", "[session]") {
  ModelBuilder b(13);
  std::mt19937 rng(12);
  auto rnd = [&](size_t n) { return uniform_floats(rng, n); };
  b.input("x", onnx::TensorProto::FLOAT, {-1, 12});
  b.initializer("w", {12, 20}, rnd(12 * 20));
  b.node("MatMul", {"x", "w"}, {"y"});
  b.output("y", onnx::TensorProto::FLOAT, {-1, 20});
  std::string bytes = b.bytes();
  auto cpu = make(bytes, BackendMode::kCpu);
  auto gpu = make(bytes, BackendMode::kGpu);
  for (int64_t rows : {2, 2, 2, 2, 5, 5, 5, 5, 2, 2}) {
    Tensor x(glint::DataType::kFloat32, {rows, 12});
    const auto xs = rnd(x.size());
    for (int64_t i = 0; i < x.size(); ++i) x.data<float>()[i] = xs[i];
    auto want = cpu->run({{"x", x}});
    auto got = gpu->run({{"x", x}});
    REQUIRE(want.ok());
    INFO("rows " << rows << ": " << got.status().message());
    REQUIRE(got.ok());
    auto c = glint::compare_tensors(got->at("y"), want->at("y"), 1e-4, 1e-5);
    INFO(c.mismatch);
    CHECK(c.equal);
  }
}

// The work tally (plan/work.h estimates): every step's FLOPs land on the side
// it ran on, a forced CPU node is listed with its reason, and an If body's
// steps count (the If itself adds nothing).
TEST_CASE("the work tally counts each step's FLOPs where it ran, bodies included", "[session][work]") {
  SessionOptions o;
  o.force_cpu = {"fc"};
  auto s = make(small_cnn().bytes(), o);
  auto tally = std::make_shared<glint::WorkTally>();
  s->set_work_tally(tally);
  REQUIRE(s->run({{"x", input_x()}}).ok());
  s->set_work_tally(nullptr);
  // Conv: 2 x (4x6x6 outputs) x (2x3x3 products) = 5184 (the Relu is fused
  // into it, no step of its own); MaxPool 4x3x3 outputs x 4 = 144; Flatten
  // 36; Softmax over its 3 inputs.
  CHECK(tally->gpu_flops == 5184 + 144 + 36 + 3);
  CHECK(tally->gpu_steps == 4);
  // Gemm: 2 x 3 outputs x 36.
  CHECK(tally->cpu_flops == 216);
  REQUIRE(tally->cpu_nodes.count("fc") == 1);
  CHECK(tally->cpu_nodes.at("fc").op == "Gemm");
  CHECK(tally->cpu_nodes.at("fc").reason.find("forced") != std::string::npos);
  // Not counting any more.
  REQUIRE(s->run({{"x", input_x()}}).ok());
  CHECK(tally->cpu_flops == 216);

  // y = If(c) then Abs(MatMul(x, w)) else MatMul(x, w); x and w from the outer
  // scope (Abs: an op that does not fuse into the product, as a Relu would).
  ModelBuilder b(13);
  b.input("c", onnx::TensorProto::BOOL, {});
  b.input("x", onnx::TensorProto::FLOAT, {2, 3});
  b.initializer("w", {3, 4}, std::vector<float>(12, 0.5f));
  auto& node = b.node("If", {"c"}, {"y"}, "branch");
  auto body = [&](const char* attr, const char* name, bool abs) {
    onnx::GraphProto* g = &ModelBuilder::attr_graph(node, attr, name);
    auto* mm = g->add_node();
    mm->set_op_type("MatMul");
    mm->set_name("mm");
    mm->add_input("x");
    mm->add_input("w");
    mm->add_output(abs ? "m" : "y_body");
    if (abs) {
      auto* r = g->add_node();
      r->set_op_type("Abs");
      r->set_name("abs");
      r->add_input("m");
      r->add_output("y_body");
    }
    ModelBuilder::graph_output(*g, "y_body", onnx::TensorProto::FLOAT);
  };
  body("then_branch", "then", true);
  body("else_branch", "else", false);
  b.output("y", onnx::TensorProto::FLOAT, {2, 4});
  SessionOptions forced;
  forced.force_cpu = {"mm"};
  for (const SessionOptions& opts : {SessionOptions{}, forced}) {
    auto branchy = make(b.bytes(), opts);
    auto t = std::make_shared<glint::WorkTally>();
    branchy->set_work_tally(t);
    Tensor cond(glint::DataType::kBool, {});
    cond.data<uint8_t>()[0] = 1;
    Tensor x(glint::DataType::kFloat32, {2, 3});
    for (int64_t i = 0; i < x.size(); ++i) x.data<float>()[i] = 0.25f * static_cast<float>(i) - 0.5f;
    auto out = branchy->run({{"c", cond}, {"x", x}});
    INFO(out.status().message());
    REQUIRE(out.ok());
    // MatMul: 2 x (2x4 outputs) x 3 = 48; Abs: 8.
    CHECK(t->gpu_flops + t->cpu_flops == 56);
    if (opts.force_cpu.empty()) {
      CHECK(t->gpu_flops == 56);
      CHECK(t->cpu_nodes.empty());
    } else {
      CHECK(t->cpu_flops == 48);
      CHECK(t->cpu_nodes.count("then/mm") == 1);
    }
  }
}

// Shape arithmetic on the default backend stays on the CPU: Shape reads its
// GPU input's shape without a read-back, and the Gather / Mul / Unsqueeze /
// Concat / Equal over its few integers run on their CPU kernels, where the
// Reshape reads its target as values. The float work stays on the GPU, even
// the 12-element Relu fed from the CPU, and so does a ConstantOfShape whose
// output is large; gpu-only keeps everything drawn.
TEST_CASE("default backend: shape arithmetic runs on the CPU, the float work on the GPU", "[session][work]") {
  ModelBuilder b(13);
  b.input("x", onnx::TensorProto::FLOAT, {-1, 6});
  b.initializer_i64("zero", {}, {0});
  b.initializer_i64("two", {}, {2});
  b.initializer_i64("three", {1}, {3});
  b.initializer_i64("axes0", {1}, {0});
  b.node("Relu", {"x"}, {"r"}, "relu");
  b.node("Shape", {"r"}, {"s"}, "shape");
  b.node("Gather", {"s", "zero"}, {"n"}, "gather");
  b.node("Mul", {"n", "two"}, {"n2"}, "mul");
  b.node("Unsqueeze", {"n2", "axes0"}, {"n2v"}, "unsqueeze");
  ModelBuilder::attr_int(b.node("Concat", {"n2v", "three"}, {"target"}, "concat"), "axis", 0);
  b.node("Reshape", {"r", "target"}, {"y"}, "reshape");
  b.node("Equal", {"n", "two"}, {"is_two"}, "equal");
  // A value-sized op over index values: its [2n, 2048] zeros stay drawn.
  b.initializer_i64("wide", {1}, {2048});
  ModelBuilder::attr_int(b.node("Concat", {"n2v", "wide"}, {"big_shape"}, "concat_wide"), "axis", 0);
  b.node("ConstantOfShape", {"big_shape"}, {"big"}, "fill");
  b.output("y", onnx::TensorProto::FLOAT, {-1, 3});
  b.output("is_two", onnx::TensorProto::BOOL, {});
  b.output("big", onnx::TensorProto::FLOAT, {-1, 2048});
  auto cpu = make(b.bytes(), BackendMode::kCpu);
  for (BackendMode mode : {BackendMode::kDefault, BackendMode::kGpu}) {
    auto s = make(b.bytes(), mode);
    for (int64_t rows : {2, 5}) {
      Tensor x(glint::DataType::kFloat32, {rows, 6});
      for (int64_t i = 0; i < x.size(); ++i) x.data<float>()[i] = 0.5f * static_cast<float>(i % 7) - 1.f;
      auto tally = std::make_shared<glint::WorkTally>();
      s->set_work_tally(tally);
      auto got = s->run({{"x", x}});
      s->set_work_tally(nullptr);
      INFO(backend_mode_name(mode) << ", rows " << rows << ": " << got.status().message());
      REQUIRE(got.ok());
      auto want = cpu->run({{"x", x}});
      REQUIRE(want.ok());
      CHECK(got->at("y").shape() == glint::Shape{rows * 2, 3});
      auto c = glint::compare_tensors(got->at("y"), want->at("y"), 0, 0);
      INFO(c.mismatch);
      CHECK(c.equal);
      CHECK(got->at("is_two").data<uint8_t>()[0] == (rows == 2 ? 1 : 0));
      auto zeros = glint::compare_tensors(got->at("big"), want->at("big"), 0, 0);
      INFO(zeros.mismatch);
      CHECK(zeros.equal);
      if (mode == BackendMode::kGpu) {
        CHECK(tally->cpu_steps == 0);
        continue;
      }
      CHECK(tally->gpu_steps == 3);  // Relu, Reshape, ConstantOfShape
      for (const char* name : {"relu", "reshape", "fill"}) CHECK(tally->cpu_nodes.count(name) == 0);
      REQUIRE(tally->cpu_nodes.count("shape") == 1);
      CHECK(tally->cpu_nodes.at("shape").reason == "reads only a shape (CPU, no read-back)");
      for (const char* name : {"gather", "mul", "unsqueeze", "concat", "equal", "concat_wide"}) {
        INFO(name);
        REQUIRE(tally->cpu_nodes.count(name) == 1);
        CHECK(tally->cpu_nodes.at(name).reason == "small index values on the CPU (no read-back)");
      }
    }
  }
}

// An If on the default backend: its branch reads an outer value the GPU
// made and returns one the GPU reads next, both left in GPU memory (a read-
// back at the branch's edge stalls every queued draw); the run reads back its
// output alone, and both branches give the CPU backend's values.
TEST_CASE("default backend: an If's branch takes and returns GPU values without read-backs", "[session]") {
  ModelBuilder b(13);
  b.input("c", onnx::TensorProto::BOOL, {});
  b.input("x", onnx::TensorProto::FLOAT, {2, 3});
  b.node("Relu", {"x"}, {"r"}, "relu");
  auto& node = b.node("If", {"c"}, {"y"}, "branch");
  auto body = [&](const char* attr, const char* name, const char* op) {
    onnx::GraphProto* g = &ModelBuilder::attr_graph(node, attr, name);
    auto* n = g->add_node();
    n->set_op_type(op);
    n->set_name(std::string(name) + "_op");
    n->add_input("r");
    n->add_input("r");
    if (std::string(op) == "Sigmoid") n->mutable_input()->RemoveLast();
    n->add_output("y_body");
    ModelBuilder::graph_output(*g, "y_body", onnx::TensorProto::FLOAT);
  };
  body("then_branch", "then", "Mul");
  body("else_branch", "else", "Sigmoid");
  b.node("Add", {"y", "r"}, {"z"}, "add");
  b.output("z", onnx::TensorProto::FLOAT, {2, 3});
  auto cpu = make(b.bytes(), BackendMode::kCpu);
  auto s = make(b.bytes(), BackendMode::kDefault);
  auto gpu = glint::shared_executor();
  REQUIRE(gpu.ok());
  Tensor x(glint::DataType::kFloat32, {2, 3});
  for (int64_t i = 0; i < x.size(); ++i) x.data<float>()[i] = 0.75f * static_cast<float>(i) - 1.5f;
  for (int branch : {1, 0, 1}) {
    Tensor cond(glint::DataType::kBool, {});
    cond.data<uint8_t>()[0] = static_cast<uint8_t>(branch);
    const int64_t before = gpu.value()->downloads();
    auto got = s->run({{"c", cond}, {"x", x}});
    const int64_t read_back = gpu.value()->downloads() - before;
    INFO("branch " << branch << ": " << got.status().message());
    REQUIRE(got.ok());
    CHECK(read_back == 1);  // z
    auto want = cpu->run({{"c", cond}, {"x", x}});
    REQUIRE(want.ok());
    auto c = glint::compare_tensors(got->at("z"), want->at("z"), 1e-6, 1e-6);
    INFO(c.mismatch);
    CHECK(c.equal);
  }
}

// Tensors larger than one texture of the device (a 20,000,000-element
// activation; BERT's 30522x768 word embedding table): on the default
// backend the nodes that cannot hold them run on the CPU, named with the
// reason, and the results are those of the CPU backend. (Under the
// small-device profile, max_texture_size=4096 holds 16.7M texels: CTest
// unit-small-device.)
TEST_CASE("tensors larger than a texture run on the default backend", "[session]") {
  const int64_t n = 20000000, vocab = 30522, hidden = 768;
  ModelBuilder b(13);
  b.input("x", onnx::TensorProto::FLOAT, {n});
  b.input("ids", onnx::TensorProto::INT64, {1, 8});
  b.initializer("two", {1}, {2.f});
  std::mt19937 rng(5);
  b.initializer("table", {vocab, hidden}, uniform_floats(rng, static_cast<size_t>(vocab * hidden)));
  b.node("Mul", {"x", "two"}, {"m"}, "scale");
  b.node("Relu", {"m"}, {"r"}, "relu");
  b.node("ReduceMax", {"r"}, {"y"}, "max");
  b.node("Gather", {"table", "ids"}, {"e"}, "embed");
  b.output("y", onnx::TensorProto::FLOAT, {1});
  b.output("e", onnx::TensorProto::FLOAT, {1, 8, hidden});
  std::string bytes = b.bytes();
  Tensor x(glint::DataType::kFloat32, {n});
  for (int64_t i = 0; i < n; ++i) x.data<float>()[i] = static_cast<float>((i * 7919) % 100003) / 1000.f - 50.f;
  x.data<float>()[n - 1] = 1000.f;  // last, where a loop stopped early would not look
  Tensor ids = Tensor::from_int64s({1, 8}, {0, 101, 2054, vocab - 1, 7, 999, 15000, 1});

  SessionOptions cpu_options;
  cpu_options.backend = BackendMode::kCpu;
  auto expected = make(bytes, cpu_options)->run({{"x", x}, {"ids", ids}});
  REQUIRE(expected.ok());
  auto session = make(bytes, SessionOptions{});
  auto got = session->run({{"x", x}, {"ids", ids}});
  INFO(got.status().message());
  REQUIRE(got.ok());
  for (const char* name : {"y", "e"}) {
    INFO("output " << name);
    CHECK(glint::compare_tensors(got.value().at(name), expected.value().at(name), 0.0, 0.0).equal);
  }
  float largest = 0.f;
  for (int64_t i = 0; i < n; ++i) largest = std::max(largest, 2.f * x.data<float>()[i]);
  CHECK(got.value().at("y").data<float>()[0] == largest);
  CHECK(got.value().at("e").data<float>()[3 * hidden + 5] == b.proto().graph().initializer(1).float_data(
                                                                   static_cast<int>((vocab - 1) * hidden + 5)));
  auto caps = session->gpu_caps();
  REQUIRE(caps);
  const bool fits = int64_t{caps->max_texture_size} * caps->max_texture_size >= n;
  for (const auto& p : session->placements()) {
    if (p.node != "scale" && p.node != "relu") continue;
    INFO(p.node << ": " << p.reason);
    CHECK(p.gpu == fits);
    if (!fits) CHECK_THAT(p.reason, Catch::Contains("20000000 elements does not fit"));
  }
}

// Work per output past what one fragment may loop (kMaxFragmentLoopIterations:
// llvmpipe silently stops longer loops, a real GPU's watchdog may reset):
// the node runs on its CPU kernel, with the reason, and the answer is the
// CPU backend's. The decisive value sits at the end of each block, where a
// loop stopped early would miss it.
TEST_CASE("reductions longer than a fragment may loop run on the CPU, correctly", "[session]") {
  struct Case {
    const char* op;
    std::vector<int64_t> shape;
    int opset;
  };
  const std::vector<Case> cases = {
      {"GlobalAveragePool", {1, 2, 300, 300}, 13}, {"GlobalMaxPool", {1, 2, 300, 300}, 13},
      {"ReduceSum", {2, 90000}, 13},               {"ArgMax", {2, 90000}, 13},
      {"Softmax", {2, 90000}, 13},                 {"LayerNormalization", {2, 90000}, 17},
  };
  for (const Case& c : cases) {
    INFO(c.op);
    ModelBuilder b(c.opset);
    const bool arg = std::string(c.op) == "ArgMax";
    b.input("x", onnx::TensorProto::FLOAT, c.shape);
    std::vector<std::string> inputs = {"x"};
    const int64_t row = c.shape.back() * (c.shape.size() == 4 ? c.shape[2] : 1);
    if (std::string(c.op) == "ReduceSum") {
      b.initializer_i64("axes", {1}, {1});
      inputs.push_back("axes");
    }
    if (std::string(c.op) == "LayerNormalization") {
      b.initializer("scale", {row}, std::vector<float>(static_cast<size_t>(row), 1.f));
      inputs.push_back("scale");
    }
    auto& node = b.node(c.op, inputs, {"y"}, "long");
    if (arg) ModelBuilder::attr_int(node, "axis", 1);
    b.output("y", arg ? onnx::TensorProto::INT64 : onnx::TensorProto::FLOAT, {});
    std::string bytes = b.bytes();
    Tensor x(glint::DataType::kFloat32, c.shape);
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    for (int64_t i = 0; i < x.size(); ++i) x.data<float>()[i] = u(rng);
    for (int64_t end = row - 1; end < x.size(); end += row) x.data<float>()[end] = 50.f;
    SessionOptions cpu_options;
    cpu_options.backend = BackendMode::kCpu;
    auto want = make(bytes, cpu_options)->run({{"x", x}});
    REQUIRE(want.ok());
    auto session = make(bytes, SessionOptions{});
    auto got = session->run({{"x", x}});
    INFO(got.status().message());
    REQUIRE(got.ok());
    auto cmp = glint::compare_tensors(got.value().at("y"), want.value().at("y"), 1e-5, 1e-6);
    INFO(cmp.mismatch);
    CHECK(cmp.equal);
    for (const auto& p : session->placements()) {
      INFO(p.reason);
      CHECK(!p.gpu);
      CHECK_THAT(p.reason, Catch::Contains("times in one fragment"));
    }
  }
}

// A decoder's attention sees a new length every step. A small node whose
// programs bake its sizes runs on the GPU for its first two sizes and on its
// CPU kernel for every new size after that (no compile per step); a node with
// real work (the MatMul) stays on the GPU whatever its sizes; sizes that
// alternate between two keep their programs. Results match the CPU backend
// on every run.
TEST_CASE("small nodes whose sizes keep changing take their CPU kernel, not a compile per size", "[session]") {
  ModelBuilder b(13);
  b.input("a", onnx::TensorProto::FLOAT, {1, -1});
  b.input("x", onnx::TensorProto::FLOAT, {-1, 256});
  std::mt19937 rng(3);
  b.initializer("w", {256, 1024}, uniform_floats(rng, 256 * 1024));
  b.node("Add", {"a", "a"}, {"s"}, "add");
  b.node("Softmax", {"s"}, {"y"}, "softmax");
  b.node("MatMul", {"x", "w"}, {"z"}, "mm");
  b.output("y", onnx::TensorProto::FLOAT, {1, -1});
  b.output("z", onnx::TensorProto::FLOAT, {-1, 1024});
  const std::string bytes = b.bytes();
  auto cpu = make(bytes, BackendMode::kCpu);
  auto run = [&](Session& s, int64_t n) {
    Tensor a(glint::DataType::kFloat32, {1, n}), x(glint::DataType::kFloat32, {16 + n, 256});
    for (int64_t i = 0; i < n; ++i) a.data<float>()[i] = 0.1f * static_cast<float>(i % 7) - 0.3f;
    for (int64_t i = 0; i < x.size(); ++i) x.data<float>()[i] = static_cast<float>((i * 13) % 17) / 17.f - 0.5f;
    s.set_profiling(true);
    auto r = s.run({{"a", a}, {"x", x}});
    INFO(r.status().message());
    REQUIRE(r.ok());
    auto want = cpu->run({{"a", a}, {"x", x}});
    REQUIRE(want.ok());
    for (const char* out : {"y", "z"}) {
      const glint::Comparison c = glint::compare_tensors(r->at(out), want->at(out), 1e-4, 1e-4);
      INFO(out << " at n = " << n << ": " << c.mismatch);
      CHECK(c.equal);
    }
    std::map<std::string, bool> on_gpu;
    for (const auto& e : s.take_profile()) on_gpu[e.node] = e.gpu;
    return on_gpu;
  };
  SECTION("a new size every run") {
    auto s = make(bytes, BackendMode::kDefault);
    auto tally = std::make_shared<glint::WorkTally>();
    s->set_work_tally(tally);
    for (int64_t n = 5; n < 10; ++n) {
      auto gpu = run(*s, n);
      INFO("n = " << n);
      const bool small_on_gpu = n < 7;  // sizes 5 and 6 compile; 7 is the third
      CHECK(gpu.at("add") == small_on_gpu);
      CHECK(gpu.at("softmax") == small_on_gpu);
      CHECK(gpu.at("mm"));
    }
    REQUIRE(tally->cpu_nodes.count("softmax") == 1);
    INFO(tally->cpu_nodes.at("softmax").reason);
    CHECK(tally->cpu_nodes.at("softmax").reason.find("values its programs bake changed on 3 runs") != std::string::npos);
    CHECK(tally->cpu_nodes.count("mm") == 0);
  }
  SECTION("two sizes in turn") {
    auto s = make(bytes, BackendMode::kDefault);
    for (int64_t n : {5, 6, 5, 6, 5, 6}) {
      auto gpu = run(*s, n);
      INFO("n = " << n);
      CHECK(gpu.at("add"));
      CHECK(gpu.at("softmax"));
    }
  }
}

// A graph whose sizes are known only at run time (a decoder's KV-cache
// length) has no static bound on its textures: the pool keeps what its runs
// need instead of deleting and making textures every run (each new WebGL
// texture costs a synchronous glGetError). Lengths that come back (a decode
// loop returning to its cache length) make no new textures after the first
// round; a static graph keeps its bound.
TEST_CASE("a graph with run-time sizes leaves the texture pool unbounded, and lengths that come back make no textures", "[session]") {
  ModelBuilder b(13);
  b.input("x", onnx::TensorProto::FLOAT, {1, -1, 64});
  std::mt19937 rng(5);
  b.initializer("w", {64, 4096}, uniform_floats(rng, 64 * 4096));
  b.node("MatMul", {"x", "w"}, {"y"}, "mm");
  b.output("y", onnx::TensorProto::FLOAT, {1, -1, 4096});
  auto s = make(b.bytes(), BackendMode::kGpu);
  auto cpu = make(b.bytes(), BackendMode::kCpu);
  CHECK(s->memory_budget() == 0);
  int64_t after_first_round = -1;
  for (int round = 0; round < 3; ++round) {
    for (int64_t n = 100; n < 108; ++n) {
      Tensor x(glint::DataType::kFloat32, {1, n, 64});
      for (int64_t i = 0; i < x.size(); ++i) x.data<float>()[i] = static_cast<float>((i * 7) % 13) / 13.f - 0.5f;
      auto got = s->run({{"x", x}});
      INFO(got.status().message());
      REQUIRE(got.ok());
      auto want = cpu->run({{"x", x}});
      REQUIRE(want.ok());
      const glint::Comparison c = glint::compare_tensors(got->at("y"), want->at("y"), 1e-4, 1e-4);
      INFO("n = " << n << ": " << c.mismatch);
      CHECK(c.equal);
    }
    const int64_t created = s->gpu_memory()->textures_created;
    if (round == 0) after_first_round = created;
    else CHECK(created == after_first_round);
  }

  ModelBuilder fixed(13);
  fixed.input("x", onnx::TensorProto::FLOAT, {1, 100, 64});
  fixed.initializer("w", {64, 4096}, uniform_floats(rng, 64 * 4096));
  fixed.node("MatMul", {"x", "w"}, {"y"}, "mm");
  fixed.output("y", onnx::TensorProto::FLOAT, {1, 100, 4096});
  CHECK(make(fixed.bytes(), BackendMode::kGpu)->memory_budget() > 0);
}

TEST_CASE("tensors kept on the GPU are fed back without a transfer, and refused where they do not fit", "[session]") {
  // A decoder's loop in small: a cache that grows a row a step (present =
  // past ++ x) and a recurrent state (h' = tanh(h w + x)), both fed back.
  ModelBuilder b(13);
  b.input("x", onnx::TensorProto::FLOAT, {1, 4});
  b.input("past", onnx::TensorProto::FLOAT, {1, -1, 4});
  b.input("h", onnx::TensorProto::FLOAT, {1, 4});
  std::mt19937 rng(11);
  b.initializer("w", {4, 4}, uniform_floats(rng, 16));
  b.initializer_i64("axis1", {1}, {1});
  b.node("Unsqueeze", {"x", "axis1"}, {"row"}, "row");
  auto& cat = b.node("Concat", {"past", "row"}, {"present"}, "cat");
  ModelBuilder::attr_int(cat, "axis", 1);
  b.node("MatMul", {"h", "w"}, {"hw"}, "mm");
  b.node("Add", {"hw", "x"}, {"pre"}, "add");
  b.node("Tanh", {"pre"}, {"h_next"}, "tanh");
  b.output("present", onnx::TensorProto::FLOAT, {1, -1, 4});
  b.output("h_next", onnx::TensorProto::FLOAT, {1, 4});
  const std::string bytes = b.bytes();
  auto cpu = make(bytes, BackendMode::kCpu);
  auto x_at = [](int step) {
    Tensor x(glint::DataType::kFloat32, {1, 4});
    for (int i = 0; i < 4; ++i) x.data<float>()[i] = 0.25f * static_cast<float>((step * 5 + i) % 7) - 0.7f;
    return x;
  };
  auto download = [&](const glint::KeptOutput& t) {
    auto r = glint::read_kept(t);
    INFO(r.status().message());
    REQUIRE(r.ok());
    return std::move(r).value();
  };

  // `state_on_gpu`: where h_next is kept (its producer's side).
  auto loop = [&](SessionOptions o, bool state_on_gpu) {
    auto s = make(bytes, o);
    Tensor past(glint::DataType::kFloat32, {1, 2, 4}), h(glint::DataType::kFloat32, {1, 4});
    for (int64_t i = 0; i < past.size(); ++i) past.data<float>()[i] = 0.1f * static_cast<float>(i % 5);
    for (int64_t i = 0; i < h.size(); ++i) h.data<float>()[i] = 0.2f;
    glint::GpuResident resident;
    resident.keep = {"present", "h_next"};
    std::map<std::string, Tensor> cpu_feeds{{"past", past}, {"h", h}};
    for (int step = 0; step < 5; ++step) {
      auto want = cpu->run({{"x", x_at(step)}, {"past", past}, {"h", h}});
      REQUIRE(want.ok());
      cpu_feeds["x"] = x_at(step);
      auto pending = s->run_async(cpu_feeds, {}, resident);
      INFO("step " << step << ": " << pending.status().message());
      REQUIRE(pending.ok());
      auto read = (*pending)->finish();
      REQUIRE(read.ok());
      CHECK(read->empty());  // every output stayed on the GPU
      auto kept = (*pending)->take_kept();
      REQUIRE(kept.size() == 2);
      for (const char* name : {"present", "h_next"}) {
        const glint::Comparison c = glint::compare_tensors(download(kept.at(name)), want->at(name), 1e-5, 1e-5);
        INFO(name << ": " << c.mismatch);
        CHECK(c.equal);
      }
      // The cache's Concat has a new size every step: after
      // kSizesBeforeCpu of them it runs on the CPU (runner.cc), and its
      // output is kept there.
      const bool cat_on_gpu = step + 1 < glint::plan::kSizesBeforeCpu;
      const glint::KeptOutput& present = kept.at("present");
      CHECK(static_cast<bool>(present.gpu) == cat_on_gpu);
      CHECK(present.cpu.has_value() == !cat_on_gpu);
      CHECK((present.gpu ? present.gpu->desc().shape : present.cpu->shape()) == glint::Shape{1, 3 + step, 4});
      CHECK(static_cast<bool>(kept.at("h_next").gpu) == state_on_gpu);
      CHECK(kept.at("h_next").cpu.has_value() == !state_on_gpu);
      // The next step reads them where they are: nothing from the CPU but x.
      cpu_feeds = {};
      resident.feeds = {{"past", kept.at("present")}, {"h", kept.at("h_next")}};
      past = want->at("present");
      h = want->at("h_next");
    }
  };
  SECTION("every node on the GPU") { loop(SessionOptions{}, true); }
  SECTION("a state computed on the CPU is kept there, and fed back from there") {
    SessionOptions o;
    o.force_cpu = {"tanh"};
    loop(o, false);
  }

  SECTION("what does not fit is refused with an error that says why") {
    auto s = make(bytes, BackendMode::kDefault);
    const std::map<std::string, Tensor> feeds{{"x", x_at(0)}, {"past", Tensor(glint::DataType::kFloat32, {1, 2, 4})},
                                              {"h", Tensor(glint::DataType::kFloat32, {1, 4})}};
    glint::GpuResident keep;
    keep.keep = {"present", "h_next"};
    auto first = s->run_async(feeds, {}, keep);
    REQUIRE(first.ok());
    auto kept = (*first)->take_kept();
    auto refused = [&](Session& session, std::map<std::string, Tensor> cpu_feeds, glint::GpuResident r,
                       const std::string& says) {
      auto run = session.run_async(cpu_feeds, {}, r);
      REQUIRE_FALSE(run.ok());
      INFO(run.status().message());
      CHECK(run.status().message().find(says) != std::string::npos);
    };
    glint::GpuResident wrong;
    wrong.feeds = {{"h", kept.at("present")}, {"past", kept.at("present")}};
    refused(*s, {{"x", x_at(1)}}, wrong, "input 'h': expected shape");
    wrong.feeds = {{"x", kept.at("h_next")}, {"past", kept.at("present")}, {"h", kept.at("h_next")}};
    refused(*s, {{"x", x_at(1)}}, wrong, "input 'x' is fed twice (from the CPU and as kept)");
    wrong.feeds = {{"nope", kept.at("h_next")}};
    refused(*s, feeds, wrong, "unknown input 'nope'");
    glint::GpuResident bad_keep;
    bad_keep.keep = {"hw"};
    refused(*s, feeds, bad_keep, "output 'hw' to keep on the GPU is no output of the model");
    glint::GpuResident to_cpu;
    to_cpu.feeds = {{"past", kept.at("present")}, {"h", kept.at("h_next")}};
    refused(*cpu, {{"x", x_at(1)}}, to_cpu, "input 'h': a GPU tensor was fed to a session that runs on the CPU");
    refused(*cpu, feeds, keep, "output 'h_next' cannot stay on the GPU: the session runs on the CPU");
  }
}

TEST_CASE("a GPU tensor kept from before the GL context was released is refused, not read", "[session]") {
  // What a lost WebGL context leaves behind: the JS layer releases the
  // executor and rebuilds its sessions on a new one; a KV cache the page
  // still holds lay in the old context's textures.
  ModelBuilder b(13);
  b.input("x", onnx::TensorProto::FLOAT, {1, 4});
  b.node("Neg", {"x"}, {"y"}, "neg");
  b.output("y", onnx::TensorProto::FLOAT, {1, 4});
  const std::string bytes = b.bytes();
  const std::map<std::string, Tensor> feeds{{"x", Tensor(glint::DataType::kFloat32, {1, 4})}};
  glint::GpuResident keep;
  keep.keep = {"y"};
  glint::KeptOutput old;
  {
    auto s = make(bytes, BackendMode::kGpu);
    auto r = s->run_async(feeds, {}, keep);
    REQUIRE(r.ok());
    old = (*r)->take_kept().at("y");
    REQUIRE(old.gpu);
  }
  glint::release_shared_executor();
  auto gone = glint::read_kept(old);
  REQUIRE_FALSE(gone.ok());
  CHECK(gone.status().message().find("GL context was lost or released") != std::string::npos);
  auto s = make(bytes, BackendMode::kGpu);
  glint::GpuResident stale;
  stale.feeds = {{"x", old}};
  auto r = s->run_async({}, {}, stale);
  REQUIRE_FALSE(r.ok());
  INFO(r.status().message());
  CHECK(r.status().message().find("input 'x': its GPU tensor belongs to another GL context") != std::string::npos);
  auto fresh = s->run_async(feeds, {}, keep);
  REQUIRE(fresh.ok());
  stale.feeds = {{"x", (*fresh)->take_kept().at("y")}};
  auto again = s->run_async({}, {}, stale);
  INFO(again.status().message());
  CHECK(again.ok());
}

TEST_CASE("programs are rebuilt when a value they bake changes, and only then", "[session]") {
  // Gather bakes a few indices known on the CPU into its program; MatMul
  // looks at no value. Both read feeds that change every run.
  ModelBuilder b(13);
  b.input("idx", onnx::TensorProto::INT64, {2});
  b.input("x", onnx::TensorProto::FLOAT, {1, 4});
  std::mt19937 rng(5);
  b.initializer("table", {10, 4}, uniform_floats(rng, 40));
  b.initializer("w", {4, 4}, uniform_floats(rng, 16));
  b.node("Gather", {"table", "idx"}, {"rows"}, "gather");
  b.node("MatMul", {"x", "w"}, {"y"}, "mm");
  b.output("rows", onnx::TensorProto::FLOAT, {2, 4});
  b.output("y", onnx::TensorProto::FLOAT, {1, 4});
  const std::string bytes = b.bytes();
  auto cpu = make(bytes, BackendMode::kCpu);
  auto s = make(bytes, BackendMode::kDefault);
  auto tally = std::make_shared<glint::WorkTally>();
  s->set_work_tally(tally);
  for (int run = 0; run < 6; ++run) {
    Tensor idx(glint::DataType::kInt64, {2}), x(glint::DataType::kFloat32, {1, 4});
    idx.data<int64_t>()[0] = run % 10;
    idx.data<int64_t>()[1] = (3 * run + 1) % 10;
    for (int i = 0; i < 4; ++i) x.data<float>()[i] = 0.1f * static_cast<float>(run + i) - 0.2f;
    auto got = s->run({{"idx", idx}, {"x", x}});
    auto want = cpu->run({{"idx", idx}, {"x", x}});
    REQUIRE(got.ok());
    REQUIRE(want.ok());
    for (const char* out : {"rows", "y"}) {
      const glint::Comparison c = glint::compare_tensors(got->at(out), want->at(out), 1e-5, 1e-5);
      INFO("run " << run << ", " << out << ": " << c.mismatch);
      CHECK(c.equal);
    }
  }
  // The MatMul's programs never changed: it stayed on the GPU. The Gather's
  // baked indices changed every run: after kSizesBeforeCpu builds it took
  // its CPU kernel rather than a compile per run.
  CHECK(tally->cpu_nodes.count("mm") == 0);
  REQUIRE(tally->cpu_nodes.count("gather") == 1);
  CHECK(tally->cpu_nodes.at("gather").reason.find("values its programs bake changed on 3 runs") != std::string::npos);
}

// A Reshape whose input already lies as its output would hands that
// texture out under the new shape (ProgramInfo::view_of; the executor's
// test shows no texture is drawn); one into a rank-4 float still draws.
// Sharing is safe: the input is read again after the view, the view is a
// graph output and read by another node, and runs repeat (textures go back
// to the pool between them).
TEST_CASE("a reshape into a view and a reshape that draws give the CPU's results", "[session][gpu]") {
  const std::vector<std::vector<int64_t>> targets = {{4, 6}, {24}, {1, 2, 3, 4}};
  for (const auto& to : targets) {
    INFO("[2,3,4] as " << glint::shape_str(to));
    const auto& c = to;
    ModelBuilder b(13);
    b.input("x", onnx::TensorProto::FLOAT, {2, 3, 4});
    b.initializer_i64("shape", {static_cast<int64_t>(c.size())}, c);
    b.node("Reshape", {"x", "shape"}, {"r"}, "reshape");
    b.node("Neg", {"r"}, {"y"}, "neg");
    b.node("Abs", {"x"}, {"z"}, "abs");
    b.output("r", onnx::TensorProto::FLOAT, c);
    b.output("y", onnx::TensorProto::FLOAT, c);
    b.output("z", onnx::TensorProto::FLOAT, {2, 3, 4});
    const std::string bytes = b.bytes();
    auto cpu = make(bytes, BackendMode::kCpu);
    auto gpu = make(bytes, BackendMode::kGpu);
    std::mt19937 rng(17);
    for (int run = 0; run < 3; ++run) {
      Tensor x(glint::DataType::kFloat32, {2, 3, 4});
      const auto xs = uniform_floats(rng, 24);
      for (int i = 0; i < 24; ++i) x.data<float>()[i] = xs[i];
      auto got = gpu->run({{"x", x}});
      auto want = cpu->run({{"x", x}});
      REQUIRE(got.ok());
      REQUIRE(want.ok());
      for (const char* out : {"r", "y", "z"}) {
        const glint::Comparison cmp = glint::compare_tensors(got->at(out), want->at(out), 0, 0);
        INFO("run " << run << ", " << out << ": " << cmp.mismatch);
        CHECK(cmp.equal);
      }
    }
  }
}

// A shape input declared 2^31 long (Reshape, Expand, ConstantOfShape): the
// output's rank is left unknown at creation instead of building 2^31 dims
// (80 GB; found by the GPU-plan fuzzer). The session is made; a feed of
// another length is refused by the declared dims, naming the input.
TEST_CASE("a shape input declared absurdly long does not build its dims", "[session][bad-input]") {
  for (const char* op : {"Reshape", "Expand", "ConstantOfShape"}) {
    INFO(op);
    ModelBuilder b(13);
    b.input("x", onnx::TensorProto::FLOAT, {1, 8});
    b.input("shape", onnx::TensorProto::INT64, {int64_t{1} << 31});
    if (std::string(op) == "ConstantOfShape") {
      b.node(op, {"shape"}, {"y"}, "op");
      b.node("Add", {"y", "x"}, {"z"}, "add");
    } else {
      b.node(op, {"x", "shape"}, {"z"}, "op");
    }
    b.output("z", onnx::TensorProto::FLOAT, {});
    b.proto().mutable_graph()->mutable_output(0)->mutable_type()->mutable_tensor_type()->clear_shape();
    for (auto mode : {BackendMode::kCpu, BackendMode::kDefault}) {
      auto s = make(b.bytes(), mode);
      Tensor x(glint::DataType::kFloat32, {1, 8});
      auto got = s->run({{"x", x}, {"shape", Tensor::from_int64s({2}, {2, 8})}});
      REQUIRE_FALSE(got.ok());
      CHECK_THAT(got.status().message(), Catch::Contains("'shape'") && Catch::Contains("2147483648"));
    }
  }
}
