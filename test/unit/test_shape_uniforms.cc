// Programs whose extents are uniforms (ProgramInfo::shape_uniforms): the
// composer gives one source for passes that differ only in sizes, with the
// sizes as uniform values; in a session such nodes share one compiled
// program, and each draw still computes with its own sizes (the CPU's
// result). Data-driven over the kernels that opt in: the vec4 and depthwise
// convs, the vec4 pools and the channel concat.
#include <catch2/catch.hpp>

#include "engine/core/compare.h"
#include "engine/core/tuning.h"
#include "engine/gl/codegen/shader_composer.h"
#include "engine/runtime/session.h"
#include "test/unit/model_builder.h"
#include "test/unit/random_util.h"

using glint::Tensor;
using glint::test::ModelBuilder;
namespace gl = glint::gl;

namespace {

// A conv body over X as the kernels write it, for a planes output.
gl::ProgramInfo conv_like(const glint::Shape& y, bool shape_uniforms) {
  gl::ProgramInfo p;
  p.name = "shape_generic";
  p.inputs = {{"X", 0}};
  p.output = {glint::DataType::kFloat32, y};
  p.vec4_body = true;
  p.shape_uniforms = shape_uniforms;
  p.body = "vec4 process4(int oc[4]) { return getX4(oc[0], oc[1] >> 2, oc[2], oc[3]); }\n";
  return p;
}

gl::ComposedShader compose(const glint::Shape& x, const glint::Shape& y, bool shape_uniforms) {
  gl::LayoutPolicy policy;
  policy.max_texture_size = 4096;
  policy.max_draw_buffers = 8;
  const gl::TensorDesc xd{glint::DataType::kFloat32, x};
  const gl::ProgramInfo p = conv_like(y, shape_uniforms);
  auto xl = gl::choose_layout(xd, policy);
  auto yl = gl::choose_layout(p.output, policy);
  REQUIRE(xl.ok());
  REQUIRE(yl.ok());
  auto c = gl::compose_fragment_shader(p, {{"X", xd, xl.value()}}, yl.value());
  INFO(c.status().message());
  REQUIRE(c.ok());
  return c.value();
}

// The value of shape int `name` (set through the uniform glint_set_NAME).
int uniform_value(const gl::ComposedShader& c, const std::string& name) {
  for (const auto& [n, v] : c.uniforms)
    if (n == "glint_set_" + name) return v;
  FAIL("no uniform " << name);
  return -1;
}

}  // namespace

TEST_CASE("composer: with shape uniforms, sizes leave the source", "[gl][shape_uniforms]") {
  // Same ranks and layouts, different extents (and remainders: 14 % 4, 12 / 4 odd).
  const glint::Shape x1 = {1, 16, 28, 28}, y1 = {1, 32, 28, 28};
  const glint::Shape x2 = {1, 24, 14, 14}, y2 = {1, 12, 14, 14};
  const gl::ComposedShader a = compose(x1, y1, true), b = compose(x2, y2, true);
  INFO(a.source);
  CHECK(a.source == b.source);
  CHECK(a.source.find("uniform int glint_set_glint_X_H;") != std::string::npos);
  CHECK(a.source.find("28") == std::string::npos);
  CHECK(uniform_value(a, "glint_X_H") == 28);
  CHECK(uniform_value(b, "glint_X_H") == 14);
  CHECK(uniform_value(a, "glint_OUT_H") == 28);
  CHECK(uniform_value(b, "glint_OUT_H") == 14);
  CHECK(uniform_value(b, "glint_OUT_C") == 12);
  // Baked, the sizes are literals: two programs, no uniforms.
  const gl::ComposedShader c = compose(x1, y1, false), d = compose(x2, y2, false);
  CHECK(c.source != d.source);
  CHECK(c.uniforms.empty());
  CHECK(c.source.find("28") != std::string::npos);
}

TEST_CASE("composer: one shape uniform given two sizes is refused", "[gl][shape_uniforms][bad-input]") {
  gl::ProgramInfo p = conv_like({1, 8, 4, 4}, true);
  p.int_uniforms = {{"K", 3}, {"K", 5}};  // what shape_int() leaves for a kernel that names two sizes alike
  auto layout = gl::choose_layout(p.output, gl::LayoutPolicy{4096, 8});
  REQUIRE(layout.ok());
  auto c = gl::compose_fragment_shader(p, {}, layout.value());
  REQUIRE_FALSE(c.ok());
  CHECK_THAT(c.status().message(), Catch::Contains("shape_generic") && Catch::Contains("K is both 3 and 5"));
}

namespace {

// A chain of nodes ending in the node under test, `last`, which repeats the
// structure of an earlier node at other sizes (and the same layouts: at
// most a quarter padding pixels keeps a planes layout, texture_layout.cc). Built twice: whole, and
// without `last` (its inputs as outputs). When `last` shares its program,
// the whole chain compiles nothing the other did not.
struct ShareCase {
  const char* what;
  std::vector<int64_t> input;
  std::vector<std::vector<int64_t>> before_shapes;  // of the values `last` reads
  std::vector<int64_t> y;
  // Adds the nodes; returns the names of the values `last` reads. `b` has
  // the input "x" already.
  std::vector<std::string> (*before)(ModelBuilder& b);
  // Adds `last` reading `ins`, writing "y".
  void (*last)(ModelBuilder& b, const std::vector<std::string>& ins);
};

void conv(ModelBuilder& b, const std::string& in, const std::string& out, int64_t c_in, int64_t c_out, int64_t k,
          int64_t group, int seed) {
  const std::vector<int64_t> w = {c_out, c_in / group, k, k};
  b.initializer(out + "_w", w, glint::test::random_floats(glint::shape_size(w), seed, -1.f, 1.f));
  b.initializer(out + "_b", {c_out}, glint::test::random_floats(c_out, seed + 1));
  auto& n = b.node("Conv", {in, out + "_w", out + "_b"}, {out}, out);
  ModelBuilder::attr_ints(n, "pads", {k / 2, k / 2, k / 2, k / 2});
  if (group > 1) ModelBuilder::attr_int(n, "group", group);
}

void maxpool(ModelBuilder& b, const std::string& in, const std::string& out, int64_t k, int64_t stride) {
  auto& n = b.node("MaxPool", {in}, {out}, out);
  ModelBuilder::attr_ints(n, "kernel_shape", {k, k});
  ModelBuilder::attr_ints(n, "strides", {stride, stride});
}

// 3x3, stride 1, pads 1, count_include_pad: the divisor counts the padding.
void avgpool_counting_pads(ModelBuilder& b, const std::string& in, const std::string& out) {
  auto& n = b.node("AveragePool", {in}, {out}, out);
  ModelBuilder::attr_ints(n, "kernel_shape", {3, 3});
  ModelBuilder::attr_ints(n, "pads", {1, 1, 1, 1});
  ModelBuilder::attr_int(n, "count_include_pad", 1);
}

const std::vector<ShareCase>& share_cases() {
  static const std::vector<ShareCase> cases = {
      {"1x1 convs: 16 -> 16 channels, then 16 -> 12 (an odd number of blocks: the second block's guard)",
       {1, 8, 14, 14}, {{1, 16, 14, 14}}, {1, 12, 14, 14},
       [](ModelBuilder& b) {
         conv(b, "x", "c0", 8, 16, 1, 1, 1);
         conv(b, "c0", "c1", 16, 16, 1, 1, 3);
         return std::vector<std::string>{"c1"};
       },
       [](ModelBuilder& b, const std::vector<std::string>& in) { conv(b, in[0], "y", 16, 12, 1, 1, 5); }},
      {"3x3 convs at 14x14, then at 7x7 (padding, another width remainder)",
       {1, 8, 14, 14}, {{1, 8, 7, 7}}, {1, 8, 7, 7},
       [](ModelBuilder& b) {
         conv(b, "x", "c0", 8, 8, 3, 1, 1);
         conv(b, "c0", "c1", 8, 8, 3, 1, 3);
         maxpool(b, "c1", "p", 2, 2);
         return std::vector<std::string>{"p"};
       },
       [](ModelBuilder& b, const std::vector<std::string>& in) { conv(b, in[0], "y", 8, 8, 3, 1, 5); }},
      {"depthwise 3x3 at 14x14, then at 7x7, batch 2",
       {2, 16, 14, 14}, {{2, 16, 7, 7}}, {2, 16, 7, 7},
       [](ModelBuilder& b) {
         conv(b, "x", "c0", 16, 16, 1, 1, 1);
         conv(b, "c0", "d0", 16, 16, 3, 16, 3);
         maxpool(b, "d0", "p", 2, 2);
         return std::vector<std::string>{"p"};
       },
       [](ModelBuilder& b, const std::vector<std::string>& in) { conv(b, in[0], "y", 16, 16, 3, 16, 5); }},
      {"grouped 3x3 convs (2 groups of 8) at 14x14, then at 7x7",
       {1, 16, 14, 14}, {{1, 16, 7, 7}}, {1, 16, 7, 7},
       [](ModelBuilder& b) {
         conv(b, "x", "c0", 16, 16, 3, 2, 1);
         conv(b, "c0", "c1", 16, 16, 3, 2, 3);
         maxpool(b, "c1", "p", 2, 2);
         return std::vector<std::string>{"p"};
       },
       [](ModelBuilder& b, const std::vector<std::string>& in) { conv(b, in[0], "y", 16, 16, 3, 2, 5); }},
      {"average pools 3x3 with the padding counted, at 14x14, then at 7x7",
       {1, 8, 14, 14}, {{1, 8, 7, 7}}, {1, 8, 7, 7},
       [](ModelBuilder& b) {
         conv(b, "x", "c0", 8, 8, 1, 1, 1);
         avgpool_counting_pads(b, "c0", "a0");
         maxpool(b, "a0", "p", 2, 2);
         return std::vector<std::string>{"p"};
       },
       [](ModelBuilder& b, const std::vector<std::string>& in) { avgpool_counting_pads(b, in[0], "y"); }},
      {"max pools 3x3 stride 2 at 31x31, then at 15x15",
       {1, 8, 31, 31}, {{1, 8, 15, 15}}, {1, 8, 7, 7},
       [](ModelBuilder& b) {
         conv(b, "x", "c0", 8, 8, 1, 1, 1);
         maxpool(b, "c0", "p0", 3, 2);
         return std::vector<std::string>{"p0"};
       },
       [](ModelBuilder& b, const std::vector<std::string>& in) { maxpool(b, in[0], "y", 3, 2); }},
      {"channel concats of 8 + 8, then of 12 + 8 channels",
       {1, 8, 6, 6}, {{1, 12, 6, 6}, {1, 8, 6, 6}}, {1, 20, 6, 6},
       [](ModelBuilder& b) {
         conv(b, "x", "a", 8, 8, 1, 1, 1);
         conv(b, "x", "b", 8, 8, 1, 1, 3);
         auto& c = b.node("Concat", {"a", "b"}, {"ab"}, "cat0");
         ModelBuilder::attr_int(c, "axis", 1);
         conv(b, "ab", "c", 16, 12, 1, 1, 5);
         conv(b, "ab", "d", 16, 8, 1, 1, 7);
         return std::vector<std::string>{"c", "d"};
       },
       [](ModelBuilder& b, const std::vector<std::string>& in) {
         auto& c = b.node("Concat", in, {"y"}, "cat1");
         ModelBuilder::attr_int(c, "axis", 1);
       }},
  };
  return cases;
}

std::string build(const ShareCase& sc, bool with_last) {
  ModelBuilder b(13);
  b.input("x", onnx::TensorProto::FLOAT, sc.input);
  const std::vector<std::string> ins = sc.before(b);
  if (with_last) {
    sc.last(b, ins);
    b.output("y", onnx::TensorProto::FLOAT, sc.y);
  } else {
    for (size_t i = 0; i < ins.size(); ++i) b.output(ins[i], onnx::TensorProto::FLOAT, sc.before_shapes[i]);
  }
  return b.bytes();
}

std::unique_ptr<glint::Session> session(const std::string& bytes, glint::BackendMode backend) {
  glint::SessionOptions opts;
  opts.backend = backend;
  auto s = glint::Session::create(bytes.data(), bytes.size(), opts);
  INFO(s.status().message());
  REQUIRE(s.ok());
  return std::move(s).value();
}

}  // namespace

TEST_CASE("nodes of one structure at other sizes share a program and compute their own sizes",
          "[session][gpu][shape_uniforms]") {
  for (const ShareCase& sc : share_cases()) {
    SECTION(sc.what) {
      const Tensor x = Tensor::from_floats(sc.input, glint::test::random_floats(glint::shape_size(sc.input), 9, -2.f, 2.f));
      const std::string whole = build(sc, true), head = build(sc, false);
      auto cpu = session(whole, glint::BackendMode::kCpu);
      auto want = cpu->run({{"x", x}});
      REQUIRE(want.ok());
      // The executor's program cache outlives sessions: count what the
      // whole chain compiles beyond the chain without its last node.
      auto gpu_head = session(head, glint::BackendMode::kGpu);
      REQUIRE(gpu_head->run({{"x", x}}).ok());
      const int64_t head_programs = gpu_head->gpu_memory()->programs;
      auto gpu = session(whole, glint::BackendMode::kGpu);
      for (const auto& p : gpu->placements()) {
        INFO(p.node);
        CHECK(p.gpu);
      }
      // Twice: the second run draws with the programs found in the first.
      for (int run = 0; run < 2; ++run) {
        auto got = gpu->run({{"x", x}});
        INFO(got.status().message());
        REQUIRE(got.ok());
        auto c = glint::compare_tensors(got->at("y"), want->at("y"), 1e-4, 1e-4);
        INFO("run " << run << ": " << c.mismatch << " max |diff| " << c.max_abs_diff);
        CHECK(c.equal);
      }
      const int64_t programs = gpu->gpu_memory()->programs;
      INFO("programs: " << programs << " after the whole chain, " << head_programs << " before");
      // Counted with the switches that decide the programs at their
      // defaults: without the pass cache a conv's bias pass is drawn (its
      // size baked in), without packing no kernel here takes a vec4 body.
      const glint::OptimizationFlags& flags = glint::optimization_flags();
      if (flags.shape_uniforms && flags.pass_cache && flags.packed) CHECK(programs == head_programs);
    }
  }
}
