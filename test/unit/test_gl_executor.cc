// GL runtime: context, upload/download, shader composer, program cache,
// multi-pass programs, texture pool. Runs on whatever GLES 3 the machine has
// (Mesa llvmpipe via EGL surfaceless here).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <random>
#include <set>

#include "engine/core/half.h"
#include "engine/gl/codegen/embedded_shaders.h"
#include "engine/gl/codegen/shader_composer.h"
#include "engine/gl/device_limits.h"
#include "engine/gl/executor.h"
#include "engine/gl/executor_options.h"
#include "engine/gl/layout/texture_layout.h"

using namespace glint;
using namespace glint::gl;

namespace {

// One executor for the whole test binary (context creation costs ~10 ms).
Executor& executor() {
  static std::unique_ptr<Executor> ex = [] {
    auto r = create_executor();
    if (!r.ok()) FAIL("create_executor: " << r.status().message());
    return std::move(r).value();
  }();
  return *ex;
}

Tensor random_tensor(const Shape& shape, uint32_t seed, DataType dt = DataType::kFloat32) {
  Tensor t(dt, shape);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-10.f, 10.f);
  float* d = t.data<float>();
  for (int64_t i = 0; i < t.size(); ++i) d[i] = dt == DataType::kFloat16 ? round_to_half(u(rng)) : u(rng);
  return t;
}

bool same_bytes(const Tensor& a, const Tensor& b) {
  if (a.byte_size() != b.byte_size()) return false;
  return a.byte_size() == 0 || std::memcmp(a.raw(), b.raw(), a.byte_size()) == 0;
}

GpuTensorPtr up(const Tensor& t) {
  auto r = executor().upload(t);
  REQUIRE(r.ok());
  return r.value();
}

Tensor down(const GpuTensorPtr& t) {
  REQUIRE(t);
  auto r = executor().download(*t);
  INFO(r.status().message());
  REQUIRE(r.ok());
  return r.value();
}

std::vector<GpuTensorPtr> run_ok(const std::vector<ProgramInfo>& passes, const std::vector<GpuTensorPtr>& inputs,
                                 size_t outputs = 1) {
  auto r = executor().run(passes, inputs, outputs);
  INFO(r.status().message());
  REQUIRE(r.ok());
  return r.value();
}

ProgramInfo program(std::string name, std::vector<ProgramInput> inputs, Shape out_shape, std::string body,
                    int node_output = 0) {
  ProgramInfo p;
  p.name = std::move(name);
  p.inputs = std::move(inputs);
  p.output = {DataType::kFloat32, std::move(out_shape)};
  p.node_output = node_output;
  p.body = std::move(body);
  return p;
}

int64_t broadcast_index(const Shape& in, const Shape& out, int64_t out_flat) {
  // numpy broadcasting of `in` against `out` (in aligned right).
  auto os = shape_strides(out);
  auto is = shape_strides(in);
  int64_t idx = 0;
  const size_t off = out.size() - in.size();
  for (size_t d = 0; d < out.size(); ++d) {
    int64_t c = (out_flat / os[d]) % out[d];
    if (d >= off && in[d - off] != 1) idx += c * is[d - off];
  }
  return idx;
}

}  // namespace

TEST_CASE("gl: context creation and capabilities", "[gl]") {
  const Capabilities& caps = executor().caps();
  INFO("renderer: " << caps.renderer << " / " << caps.version);
  CHECK(!caps.renderer.empty());
  CHECK(caps.version.find("OpenGL ES 3") != std::string::npos);
  CHECK(caps.max_texture_size >= 2048);
  CHECK((caps.float_render || caps.imposed_limits.find("float_render=0") != std::string::npos));
  WARN("GL renderer: " << caps.renderer << "; " << caps.version << "; max texture " << caps.max_texture_size
                       << "; half float render " << caps.half_float_render << "; parallel compile "
                       << caps.parallel_compile);
}

TEST_CASE("gl: two executors coexist and refuse each other's tensors", "[gl]") {
  auto second = create_executor();
  REQUIRE(second.ok());
  Tensor a = random_tensor({4, 5}, 1);
  auto mine = up(a);
  auto theirs = second.value()->upload(a);
  REQUIRE(theirs.ok());
  auto bad = executor().download(*theirs.value());
  CHECK(!bad.ok());
  CHECK(bad.status().message().find("another executor") != std::string::npos);
  auto good = second.value()->download(*theirs.value());
  REQUIRE(good.ok());
  CHECK(same_bytes(good.value(), a));
  // A tensor may outlive its executor (its texture is simply forgotten).
  GpuTensorPtr survivor = theirs.value();
  second.value().reset();
  survivor.reset();
  CHECK(down(mine).get_as_double(3) == a.get_as_double(3));
}

TEST_CASE("gl: upload/download round trip", "[gl]") {
  const std::vector<Shape> shapes = {{}, {1}, {7}, {3, 5}, {2, 3, 7, 11}, {1, 1, 1}, {0}, {4, 0, 3},
                                     {1, 1031}, {1031, 1}, {3, 1000, 1000}};
  uint32_t seed = 10;
  for (const Shape& s : shapes) {
    DYNAMIC_SECTION("float32" << shape_str(s)) {
      Tensor t = random_tensor(s, seed++);
      Tensor back = down(up(t));
      CHECK(back.dtype() == DataType::kFloat32);
      CHECK(back.shape() == s);
      REQUIRE(back.byte_size() == t.byte_size());
      CHECK(same_bytes(back, t));
    }
  }
  SECTION("float16 keeps its tag and half precision") {
    Tensor t = random_tensor({5, 9}, 3, DataType::kFloat16);
    Tensor back = down(up(t));
    CHECK(back.dtype() == DataType::kFloat16);
    CHECK(same_bytes(back, t));
  }
  SECTION("special values") {
    Tensor t = Tensor::from_floats({6}, {0.f, -0.f, INFINITY, -INFINITY, 1e-40f, 3.4e38f});
    Tensor back = down(up(t));
    CHECK(same_bytes(back, t));
  }
}

TEST_CASE("gl: RGBA readback path (what GLES guarantees) matches", "[gl]") {
  ExecutorOptions opts;
  opts.force_rgba_readback = true;
  auto ex = create_executor(opts);
  REQUIRE(ex.ok());
  for (const Shape& s : std::vector<Shape>{{}, {7}, {33, 65}, {3, 1000, 1000}}) {
    Tensor t = random_tensor(s, 77);
    auto g = ex.value()->upload(t);
    REQUIRE(g.ok());
    auto back = ex.value()->download(*g.value());
    REQUIRE(back.ok());
    CHECK(same_bytes(back.value(), t));
  }
}

// Compiled programs no step holds are kept up to ExecutorOptions::
// idle_programs, least recently used out first; one a pass cache holds stays
// however many come after it. Each program reads K = 7 through a uniform: a
// freed program's GL name may go to a new program, whose K must still be
// set (Mesa here hands out new names, so that part is only run, not forced).
TEST_CASE("gl: idle programs past the limit are freed, held ones stay, uniforms follow", "[gl]") {
  ExecutorOptions opts;
  opts.idle_programs = 3;
  auto made = create_executor(opts);
  REQUIRE(made.ok());
  Executor& ex = *made.value();
  auto draw = [&](int c, PassCache* cache) {
    ProgramInfo p = program("k_plus_" + std::to_string(c), {}, {4},
                            "float process(int oc[OUT_RANK]) { return float(K) + " + std::to_string(c) + ".0; }");
    p.shape_uniforms = true;
    p.int_uniforms = {{"K", 7}};
    if (cache) cache->resize(1);
    auto out = ex.run({p}, {}, 1, cache);
    INFO(out.status().message());
    REQUIRE(out.ok());
    auto back = ex.download(*out.value()[0]);
    REQUIRE(back.ok());
    for (int i = 0; i < 4; ++i) REQUIRE(back.value().data<float>()[i] == 7.f + c);
  };
  PassCache held;
  draw(1000, &held);
  for (int c = 0; c < 40; ++c) {
    draw(c, nullptr);
    CHECK(ex.memory().programs <= 3 + 1);
  }
  // The held program was never freed: its pass cache draws with it still.
  auto again = ex.run({[&] {
                        ProgramInfo p = program("k_plus_1000", {}, {4}, "float process(int oc[OUT_RANK]) { return float(K) + 1000.0; }");
                        p.shape_uniforms = true;
                        p.int_uniforms = {{"K", 7}};
                        return p;
                      }()},
                      {}, 1, &held);
  REQUIRE(again.ok());
  auto back = ex.download(*again.value()[0]);
  REQUIRE(back.ok());
  CHECK(back.value().data<float>()[0] == 1007.f);
}

TEST_CASE("gl: integer and bool tensors round-trip exactly", "[gl]") {
  for (DataType t : {DataType::kInt64, DataType::kInt32, DataType::kInt16, DataType::kUint16, DataType::kInt8,
                     DataType::kUint8, DataType::kBool, DataType::kUint32, DataType::kUint64}) {
    INFO(dtype_name(t));
    Tensor x(t, {5, 7});
    for (int64_t i = 0; i < x.size(); ++i) {
      double v = t == DataType::kBool ? (i % 3 == 0) : (i * 7) % 100;
      if (t == DataType::kInt64 || t == DataType::kInt32) v = (i % 2 ? -1 : 1) * (double(i) * 479001.0);
      if (t == DataType::kInt8 || t == DataType::kInt16) v = -v;
      x.set_from_double(i, v);
    }
    if (t == DataType::kInt64) x.set_from_double(3, 16777216.0);  // the limit itself is exact
    auto g = executor().upload(x);
    REQUIRE(g.ok());
    CHECK(g.value()->desc().dtype == t);
    auto back = executor().download(*g.value());
    REQUIRE(back.ok());
    CHECK(back->dtype() == t);
    CHECK(same_bytes(back.value(), x));
  }
}

TEST_CASE("gl: unsupported dtypes, values and sizes give clear errors", "[gl]") {
  // int64 beyond the exact float32 range: kUnsupported naming dtype, value and limit.
  auto r = executor().upload(Tensor::from_int64s({3}, {1, 16777217, 3}));
  REQUIRE(!r.ok());
  CHECK(r.status().code() == StatusCode::kUnsupported);
  CHECK(r.status().message().find("int64") != std::string::npos);
  CHECK(r.status().message().find("16777217") != std::string::npos);
  CHECK(r.status().message().find("16777216") != std::string::npos);
  auto neg = executor().upload(Tensor::from_int64s({1}, {-9223372036854775807LL}));
  REQUIRE(!neg.ok());
  CHECK(neg.status().code() == StatusCode::kUnsupported);

  auto dbl = executor().upload(Tensor(DataType::kFloat64, {2}));
  REQUIRE(!dbl.ok());
  CHECK(dbl.status().code() == StatusCode::kUnsupported);
  CHECK(dbl.status().message().find("float64") != std::string::npos);

  // A kernel result past 2^24 in an integer tensor fails its download.
  auto over = program("over", {}, {2}, "float process(int oc[OUT_RANK]) { return 33554432.0; }");
  over.output.dtype = DataType::kInt32;
  auto ro = executor().run({over}, {}, 1);
  REQUIRE(ro.ok());
  auto d = executor().download(*ro.value()[0]);
  REQUIRE(!d.ok());
  CHECK(d.status().code() == StatusCode::kUnsupported);
  CHECK(d.status().message().find("int32") != std::string::npos);

  const int max = executor().caps().max_texture_size;
  auto l = choose_layout({DataType::kFloat32, {int64_t{max} * max + 1}}, executor().layout_policy());
  REQUIRE(!l.ok());
  CHECK(l.status().code() == StatusCode::kUnsupported);
  CHECK(l.status().message().find("does not fit") != std::string::npos);

  auto big = program("too_big", {}, {int64_t{max}, int64_t{max}, 2}, "float process(int oc[OUT_RANK]) { return 1.0; }");
  auto rr = executor().run({big}, {}, 1);
  REQUIRE(!rr.ok());
  CHECK(rr.status().message().find("too_big") != std::string::npos);
}

TEST_CASE("gl: layout choice", "[gl]") {
  auto l = unpacked_r32f_layout(3000000, 16384);
  REQUIRE(l.ok());
  CHECK(l->texels() >= 3000000);
  CHECK(std::abs(l->width - l->height) <= 1);
  auto wide = unpacked_r32f_layout(4000, 64);
  REQUIRE(wide.ok());
  CHECK(wide->width == 64);
  CHECK(wide->height == 63);
  CHECK(!unpacked_r32f_layout(4097, 64).ok());
  auto empty = unpacked_r32f_layout(0, 64);
  REQUIRE(empty.ok());
  CHECK(empty->width == 1);
  CHECK(empty->height == 1);
}

TEST_CASE("gl: composer generates the documented accessors", "[gl]") {
  ProgramInfo p = program("compose", {{"X", 0}, {"S", 1}}, {2, 3}, "float process(int oc[OUT_RANK]) { return 0.0; }");
  auto lx = unpacked_r32f_layout(6, 4096).value();
  auto ls = unpacked_r32f_layout(1, 4096).value();
  const std::vector<ComposerInput> inputs = {{"X", {DataType::kFloat32, {2, 3}}, lx},
                                             {"S", {DataType::kFloat32, {}}, ls}};
  auto src = compose_fragment_shader(p, inputs, lx);
  REQUIRE(src.ok());
  const std::string& s = src.value().source;
  INFO(s);
  CHECK(s.rfind("#version 300 es\n", 0) == 0);
  for (const char* needle :
       {"uniform sampler2D", "const int X_RANK = 2;", "const int X_SIZE = 6;", "const int X_SHAPE[2] = int[2](2, 3);",
        "float getXFlat(int i)", "float getX(int i0, int i1)", "float getXBroadcast(int oc[OUT_RANK])",
        "const int S_RANK = 0;", "float getS()", "float getSBroadcast(int oc[OUT_RANK])", "const int OUT_RANK = 2;",
        "const int OUT_SIZE = 6;", "const int OUT_SHAPE[2] = int[2](2, 3);", "texture(glint_u_X, p)", "(vec2(t) + 0.5) * glint_inv_size_X", "textureSize(glint_u_X, 0)", "process(oc)"}) {
    CHECK(s.find(needle) != std::string::npos);
  }
  CHECK(s.find("S_SHAPE") == std::string::npos);  // no zero-size arrays

  // An input the executor marks for texelFetch (a GPU, not a CPU rasterizer)
  // is read so; the other keeps texture() at texel centres.
  ComposerInput fetched{"X", {DataType::kFloat32, {2, 3}}, lx};
  fetched.texel_fetch = true;
  auto fsrc = compose_fragment_shader(p, {fetched, {"S", {DataType::kFloat32, {}}, ls}}, lx);
  REQUIRE(fsrc.ok());
  CHECK(fsrc.value().source.find("texelFetch(glint_u_X, t, 0)") != std::string::npos);
  CHECK(fsrc.value().source.find("texture(glint_u_X") == std::string::npos);
  CHECK(fsrc.value().source.find("texture(glint_u_S, p)") != std::string::npos);

  // The "divide" snippet: the exact division of divide.glsl, or GLSL's own
  // where the executor says the device rounds it correctly; the latter
  // cannot be asked for by name.
  ProgramInfo div = p;
  div.snippets = {"divide"};
  auto exact = compose_fragment_shader(div, inputs, lx);
  auto native = compose_fragment_shader(div, inputs, lx, ComposerDevice{true});
  REQUIRE(exact.ok());
  REQUIRE(native.ok());
  CHECK(exact.value().source.find("glint_divide_step") != std::string::npos);
  CHECK(native.value().source.find("glint_divide_step") == std::string::npos);
  CHECK(native.value().source.find("float glint_divide(float a, float b) { return a / b; }") != std::string::npos);
  ProgramInfo direct = p;
  direct.snippets = {"divide_native"};
  CHECK(!compose_fragment_shader(direct, inputs, lx).ok());

  ProgramInfo bad = p;
  bad.snippets = {"no_such_snippet"};
  auto e = compose_fragment_shader(bad, inputs, lx);
  REQUIRE(!e.ok());
  CHECK(e.status().message().find("no_such_snippet") != std::string::npos);
  CHECK(e.status().message().find("compose") != std::string::npos);

  ProgramInfo clash = program("clash", {{"X", 0}, {"XFlat", 1}}, {2, 3}, "");
  auto ce = compose_fragment_shader(
      clash, {{"X", {DataType::kFloat32, {2, 3}}, lx}, {"XFlat", {DataType::kFloat32, {2, 3}}, lx}}, lx);
  REQUIRE(!ce.ok());
  CHECK(ce.status().message().find("getXFlat") != std::string::npos);
  ProgramInfo badname = program("badname", {{"gl_X", 0}}, {2, 3}, "");
  CHECK(!compose_fragment_shader(badname, {{"gl_X", {DataType::kFloat32, {2, 3}}, lx}}, lx).ok());
  ProgramInfo pre = p;
  pre.snippets = {"preamble"};
  CHECK(!compose_fragment_shader(pre, {{"X", {DataType::kFloat32, {2, 3}}, lx}, {"S", {DataType::kFloat32, {}}, ls}},
                                 lx).ok());

  ProgramInfo dup = program("dup", {{"X", 0}, {"X", 1}}, {2, 3}, "");
  CHECK(!compose_fragment_shader(dup, {{"X", {DataType::kFloat32, {2, 3}}, lx}, {"X", {DataType::kFloat32, {2, 3}}, lx}},
                                 lx)
             .ok());
}

TEST_CASE("gl: broadcast add of two inputs", "[gl]") {
  struct Case { Shape a, b, out; };
  const std::vector<Case> cases = {
      {{2, 3, 4}, {3, 1}, {2, 3, 4}},
      {{7, 13}, {13}, {7, 13}},
      {{}, {5, 1, 3}, {5, 1, 3}},
      {{2, 1, 5}, {1, 4, 1}, {2, 4, 5}},
      {{}, {}, {}},
      {{33, 65}, {33, 65}, {33, 65}},
  };
  ProgramInfo add = program("add", {{"A", 0}, {"B", 1}}, {},
                            "float process(int oc[OUT_RANK]) { return getABroadcast(oc) + getBBroadcast(oc); }");
  uint32_t seed = 100;
  for (const Case& c : cases) {
    DYNAMIC_SECTION(shape_str(c.a) << " + " << shape_str(c.b)) {
      Tensor a = random_tensor(c.a, seed++), b = random_tensor(c.b, seed++);
      ProgramInfo p = add;
      p.output.shape = c.out;
      auto out = run_ok({p}, {up(a), up(b)});
      Tensor r = down(out[0]);
      REQUIRE(r.shape() == c.out);
      for (int64_t i = 0; i < r.size(); ++i) {
        float want = a.data<float>()[broadcast_index(c.a, c.out, i)] + b.data<float>()[broadcast_index(c.b, c.out, i)];
        REQUIRE(r.data<float>()[i] == want);
      }
    }
  }
}

TEST_CASE("gl: transposed read with explicit indices", "[gl]") {
  Tensor a = random_tensor({3, 5, 7}, 7);
  // out[k][i][j] = a[i][j][k]
  ProgramInfo p = program("transpose", {{"A", 0}}, {7, 3, 5},
                          "float process(int oc[OUT_RANK]) { return getA(oc[1], oc[2], oc[0]); }");
  Tensor r = down(run_ok({p}, {up(a)})[0]);
  for (int k = 0; k < 7; ++k)
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 5; ++j) REQUIRE(r.data<float>()[(k * 3 + i) * 5 + j] == a.data<float>()[(i * 5 + j) * 7 + k]);
}

TEST_CASE("gl: a constant uploaded as a layout pass's output reads as the drawn pass", "[gl]") {
  // The runtime uploads a model constant that a pass only lays out
  // (ProgramInfo::reshape_of) instead of compiling and drawing the pass.
  const Tensor b = random_tensor({12}, 21);
  ProgramInfo lay = program("lay_channels", {{"B", 0}}, {1, 12, 1, 1},
                            "float process(int oc[OUT_RANK]) { return getB(oc[1]); }", -1);
  lay.reshape_of = 0;
  ProgramInfo read = program("read_channels", {{"T", -1}}, {12},
                             "float process(int oc[OUT_RANK]) { return getT(0, oc[0], 0, 0) * 2.0 + 1.0; }");
  const int64_t programs = executor().memory().programs;
  REQUIRE(executor().prepare({lay, read}, {TensorDesc{DataType::kFloat32, {12}}}, {true, false}).ok());
  CHECK(executor().memory().programs == programs + 1);  // read_channels only

  PassCache cache;
  cache.resize(2);
  cache.constant = {true, false};
  auto laid = executor().upload_as_output(b.reshaped({1, 12, 1, 1}), lay);
  INFO(laid.status().message());
  REQUIRE(laid.ok());
  cache.outputs[0] = laid.value();
  auto uploaded = executor().run({lay, read}, {up(b)}, 1, &cache);
  INFO(uploaded.status().message());
  REQUIRE(uploaded.ok());
  CHECK(executor().memory().programs == programs + 1);  // nothing compiled for the layout pass
  const Tensor from_upload = down(uploaded.value()[0]);
  for (int64_t i = 0; i < 12; ++i) REQUIRE(from_upload.data<float>()[i] == b.data<float>()[i] * 2.f + 1.f);

  // Drawn, the same values.
  const Tensor drawn = down(run_ok({lay, read}, {up(b)})[0]);
  CHECK(same_bytes(drawn, from_upload));

  // A tensor that is not the pass's output is refused, naming the program.
  auto wrong = executor().upload_as_output(b, lay);
  REQUIRE(!wrong.ok());
  CHECK(wrong.status().message().find("lay_channels") != std::string::npos);
}

TEST_CASE("gl: two passes through a temporary, rank-0 reduction", "[gl]") {
  Tensor a = random_tensor({4, 6}, 9);
  // pass 0: T[i] = sum of row i (temporary); pass 1: out[] = sum of T + A[0][0]
  ProgramInfo rows = program("row_sum", {{"A", 0}}, {4},
                             "float process(int oc[OUT_RANK]) {\n"
                             "  float s = 0.0;\n"
                             "  for (int j = 0; j < A_SHAPE[1]; ++j) s += getA(oc[0], j);\n"
                             "  return s;\n}\n",
                             -1);
  ProgramInfo total = program("total", {{"T", -1}, {"A", 0}}, {},
                              "float process(int oc[OUT_RANK]) {\n"
                              "  float s = 0.0;\n"
                              "  for (int i = 0; i < T_SIZE; ++i) s += getTFlat(i);\n"
                              "  return s + getA(0, 0);\n}\n");
  REQUIRE(executor().prepare({rows, total}, {TensorDesc{DataType::kFloat32, {4, 6}}}, {}).ok());
  const int64_t programs = executor().memory().programs;
  auto outs = run_ok({rows, total}, {up(a)}, 2);
  CHECK(executor().memory().programs == programs);  // prepare compiled them
  REQUIRE(outs.size() == 2);
  CHECK(outs[1] == nullptr);
  Tensor r = down(outs[0]);
  CHECK(r.shape().empty());
  float want = 0.f;
  for (int i = 0; i < 4; ++i) {
    float s = 0.f;
    for (int j = 0; j < 6; ++j) s += a.data<float>()[i * 6 + j];
    want += s;
  }
  want += a.data<float>()[0];
  CHECK(r.data<float>()[0] == Approx(want).epsilon(1e-6));
}

TEST_CASE("gl: a pass may write several node outputs and read earlier ones", "[gl]") {
  Tensor a = random_tensor({9, 9}, 11);
  ProgramInfo neg = program("neg", {{"A", 0}}, {9, 9}, "float process(int oc[OUT_RANK]) { return -getABroadcast(oc); }", 1);
  ProgramInfo twice = program("twice", {{"N", -1}}, {9, 9},
                              "float process(int oc[OUT_RANK]) { return 2.0 * getN(oc[0], oc[1]); }", 0);
  auto outs = run_ok({neg, twice}, {up(a)}, 2);
  Tensor r0 = down(outs[0]), r1 = down(outs[1]);
  for (int i = 0; i < 81; ++i) {
    REQUIRE(r1.data<float>()[i] == -a.data<float>()[i]);
    REQUIRE(r0.data<float>()[i] == -2.f * a.data<float>()[i]);
  }
}

TEST_CASE("gl: large elementwise pass", "[gl]") {
  Tensor a = random_tensor({3, 1000, 1000}, 12);
  ProgramInfo p = program("scale", {{"A", 0}}, {3, 1000, 1000},
                          "float process(int oc[OUT_RANK]) { return getA(oc[0], oc[1], oc[2]) * 0.5 + 1.0; }");
  Tensor r = down(run_ok({p}, {up(a)})[0]);
  for (int64_t i = 0; i < r.size(); i += 997) REQUIRE(r.data<float>()[i] == a.data<float>()[i] * 0.5f + 1.0f);
  CHECK(r.data<float>()[r.size() - 1] == a.data<float>()[r.size() - 1] * 0.5f + 1.0f);
}

TEST_CASE("gl: float16 outputs are rounded to half", "[gl]") {
  ProgramInfo p = program("third", {}, {3}, "float process(int oc[OUT_RANK]) { return float(oc[0] + 1) / 3.0; }");
  p.output.dtype = DataType::kFloat16;
  Tensor r = down(run_ok({p}, {})[0]);
  CHECK(r.dtype() == DataType::kFloat16);
  for (int i = 0; i < 3; ++i) CHECK(r.data<float>()[i] == round_to_half(static_cast<float>(i + 1) / 3.f));
}

TEST_CASE("gl: errors name the program and show the GLSL", "[gl]") {
  ProgramInfo p = program("broken_kernel", {{"A", 0}}, {2},
                          "float process(int oc[OUT_RANK]) {\n  return getA(oc[0]) + undefined_thing;\n}\n");
  auto a = up(random_tensor({2}, 1));
  auto r = executor().run({p}, {a}, 1);
  REQUIRE(!r.ok());
  CHECK(r.status().code() == StatusCode::kGlError);
  const std::string& m = r.status().message();
  INFO(m);
  CHECK(m.find("broken_kernel") != std::string::npos);
  CHECK(m.find("undefined_thing") != std::string::npos);  // info log and source line
  CHECK(m.find("> ") != std::string::npos);               // the marked line
  const int64_t programs = executor().memory().programs;
  auto prep = executor().prepare({p}, {TensorDesc{DataType::kFloat32, {2}}}, {});
  CHECK(!prep.ok());
  CHECK(executor().memory().programs == programs);  // failures are not cached
  // A good program still runs after a failed compile.
  ProgramInfo fine = program("fine", {{"A", 0}}, {2}, "float process(int oc[OUT_RANK]) { return getA(oc[0]) + 1.0; }");
  Tensor a_host = random_tensor({2}, 1);
  Tensor r_fine = down(run_ok({fine}, {up(a_host)})[0]);
  CHECK(r_fine.data<float>()[1] == a_host.data<float>()[1] + 1.f);

  ProgramInfo absent = program("absent", {{"A", 3}}, {2}, "float process(int oc[OUT_RANK]) { return getAFlat(0); }");
  auto r2 = executor().run({absent}, {a}, 1);
  REQUIRE(!r2.ok());
  CHECK(r2.status().message().find("absent") != std::string::npos);

  ProgramInfo forward = program("forward", {{"T", -1}}, {2}, "float process(int oc[OUT_RANK]) { return getTFlat(0); }");
  auto r3 = executor().run({forward}, {}, 1);
  REQUIRE(!r3.ok());
  CHECK(r3.status().message() ==
        "program 'forward' (pass 0): input 'T' reads the output of pass 0, which does not run before it");
  // Compiling resolves the inputs by the same rule: an absent optional node
  // input and a forward read are errors there too, before any GLSL.
  auto p2 = executor().prepare({absent}, {TensorDesc{DataType::kFloat32, {2}}}, {});
  REQUIRE(!p2.ok());
  CHECK(p2.message() == "program 'absent' (pass 0): input 'A' reads node input 3, which is absent");
  ProgramInfo optional = program("optional", {{"A", 0}}, {2}, "float process(int oc[OUT_RANK]) { return getAFlat(0); }");
  auto p3 = executor().prepare({optional}, {std::nullopt}, {});
  REQUIRE(!p3.ok());
  CHECK(p3.message() == "program 'optional' (pass 0): input 'A' reads node input 0, which is absent");
  auto p4 = executor().prepare({forward}, {}, {});
  REQUIRE(!p4.ok());
  CHECK(p4.message() == r3.status().message());
}

TEST_CASE("gl: texture pool keeps memory flat across runs", "[gl]") {
  Tensor a = random_tensor({17, 31}, 5);
  ProgramInfo p0 = program("p0", {{"A", 0}}, {17, 31}, "float process(int oc[OUT_RANK]) { return getABroadcast(oc) * 3.0; }", -1);
  ProgramInfo p1 = program("p1", {{"T", -1}, {"A", 0}}, {31, 17},
                           "float process(int oc[OUT_RANK]) { return getT(oc[1], oc[0]) - getA(oc[1], oc[0]); }");
  auto ga = up(a);
  MemoryStats first;
  for (int iter = 0; iter < 20; ++iter) {
    auto outs = run_ok({p0, p1}, {ga});
    Tensor r = down(outs[0]);
    if (iter == 0) {
      for (int i = 0; i < 17; ++i)
        for (int j = 0; j < 31; ++j)
          REQUIRE(r.data<float>()[j * 17 + i] == a.data<float>()[i * 31 + j] * 3.f - a.data<float>()[i * 31 + j]);
    }
    outs.clear();
    MemoryStats m = executor().memory();
    if (iter == 0) {
      first = m;
    } else {
      REQUIRE(m.live_textures == first.live_textures);
      REQUIRE(m.pooled_textures == first.pooled_textures);
      REQUIRE(m.texture_bytes == first.texture_bytes);
      REQUIRE(m.programs == first.programs);
    }
  }
  // Only the uploaded input stays live.
  const MemoryStats before = executor().memory();
  ga.reset();
  const MemoryStats after = executor().memory();
  CHECK(after.live_textures == before.live_textures - 1);
  CHECK(after.pooled_textures == before.pooled_textures + 1);
  CHECK(after.texture_bytes == before.texture_bytes);
}

// A flat copy that may alias its input (ProgramInfo::view_of): where the
// input's layout is the output's (unpacked: it hangs only on the element
// count) no texture is drawn and the output reads as the input; into a
// rank-4 float (channel-packed) it draws. Either way the values are the
// input's, in row-major order.
TEST_CASE("gl: a flat copy over a texture already laid out as its output draws nothing", "[gl]") {
  struct Case {
    Shape to;
    int64_t new_textures;
  };
  for (const Case& c : {Case{{6, 4}, 0}, Case{{24}, 0}, Case{{1, 2, 3, 4}, 1}}) {
    INFO("[2,3,4] as " << shape_str(c.to));
    Tensor a = random_tensor({2, 3, 4}, 23);
    auto ga = up(a);
    ProgramInfo p = program("copy", {{"X", 0}}, c.to,
                            "float process(int oc[OUT_RANK]) { return getXFlat(" +
                                std::string(c.to.size() == 1 ? "oc[0]" : c.to.size() == 2 ? "oc[0] * 4 + oc[1]"
                                                                                          : "((oc[0] * 2 + oc[1]) * 3 + oc[2]) * 4 + oc[3]") +
                                "); }");
    p.view_of = 0;
    const MemoryStats before = executor().memory();
    auto outs = run_ok({p}, {ga});
    CHECK(executor().memory().live_textures - before.live_textures == c.new_textures);
    CHECK(outs[0]->desc().shape == c.to);
    // A later program reads the output under its own shape.
    ProgramInfo col = program("col", {{"V", 0}}, {6}, "float process(int oc[OUT_RANK]) { return getVFlat(oc[0] * 4 + 3); }");
    Tensor r = down(run_ok({col}, {outs[0]})[0]);
    for (int i = 0; i < 6; ++i) REQUIRE(r.data<float>()[i] == a.data<float>()[i * 4 + 3]);
    ga.reset();  // a view keeps the texture alive
    CHECK(same_bytes(down(outs[0]).reshaped({2, 3, 4}), a));
  }
}

TEST_CASE("gl: empty tensors and high ranks", "[gl]") {
  SECTION("an empty output is allocated, not drawn") {
    Tensor a(DataType::kFloat32, {3, 0});
    ProgramInfo p = program("empty", {{"A", 0}}, {3, 0}, "float process(int oc[OUT_RANK]) { return getABroadcast(oc); }");
    auto outs = run_ok({p}, {up(a)});
    Tensor r = down(outs[0]);
    CHECK(r.shape() == Shape{3, 0});
    CHECK(r.size() == 0);
  }
  SECTION("rank 6 broadcast") {
    const Shape as = {2, 1, 3, 1, 2, 3}, bs = {1, 4, 2, 1}, os = {2, 1, 3, 4, 2, 3};
    Tensor a = random_tensor(as, 31), b = random_tensor(bs, 32);
    ProgramInfo p = program("mul6", {{"A", 0}, {"B", 1}}, os,
                            "float process(int oc[OUT_RANK]) { return getABroadcast(oc) * getBBroadcast(oc); }");
    Tensor r = down(run_ok({p}, {up(a), up(b)})[0]);
    for (int64_t i = 0; i < r.size(); ++i) {
      REQUIRE(r.data<float>()[i] ==
              a.data<float>()[broadcast_index(as, os, i)] * b.data<float>()[broadcast_index(bs, os, i)]);
    }
  }
  SECTION("more inputs than texture units is unsupported") {
    ProgramInfo p = program("wide", {}, {1}, "float process(int oc[OUT_RANK]) { return 0.0; }");
    std::vector<GpuTensorPtr> ins;
    auto one = up(Tensor::scalar_f32(1.f));
    for (int i = 0; i < 200; ++i) {
      p.inputs.push_back({"I" + std::to_string(i), i});
      ins.push_back(one);
    }
    auto r = executor().run({p}, ins, 1);
    REQUIRE(!r.ok());
    CHECK(r.status().code() == StatusCode::kUnsupported);
    CHECK(r.status().message().find("texture units") != std::string::npos);
  }
}

TEST_CASE("gl: snippets are included once, in order", "[gl]") {
  // Uses whichever op snippet the library holds (kernels add them); the
  // composer's behaviour does not depend on which.
  std::string name;
  for (const auto& [k, v] : glint::gl::embedded_shaders()) {
    if (k != "preamble" && k != "quad_vertex") { name = k; break; }
  }
  if (name.empty()) {
    WARN("no op snippets in shaders/ yet; snippet inclusion not exercised");
    return;
  }
  ProgramInfo p = program("snip", {}, {1}, "float process(int oc[OUT_RANK]) { return 0.0; }");
  p.snippets = {name, name};
  auto lo = unpacked_r32f_layout(1, 4096).value();
  auto src = compose_fragment_shader(p, {}, lo);
  REQUIRE(src.ok());
  const std::string marker = "// snippet " + name + "\n";
  const size_t first = src.value().source.find(marker);
  REQUIRE(first != std::string::npos);
  CHECK(src.value().source.find(marker, first + 1) == std::string::npos);
  CHECK(first < src.value().source.find("// kernel body"));
  auto r = executor().run({p}, {}, 1);  // and it compiles
  INFO(r.status().message());
  CHECK(r.ok());
}

// A scalar body (process) writing a channel-packed output: the composer
// calls it in one loop over the texel's lanes instead of inlining a copy per
// lane (a driver's compiler took minutes over 32 inlined MatMul bodies), and
// the executor does not give such an output planes.
TEST_CASE("gl: a scalar body is called once per texel, in a loop", "[gl]") {
  const Shape shape = {1, 10, 3, 9};
  ProgramInfo p = program("scalar_into_packed", {}, shape,
                          "float process(int oc[OUT_RANK]) { return float(((oc[0] * 10 + oc[1]) * 3 + oc[2]) * 9 + oc[3]); }");
  auto layout = choose_layout(p.output, executor().layout_policy()).value();
  auto src = compose_fragment_shader(p, {}, layout);
  REQUIRE(src.ok());
  size_t calls = 0;
  for (size_t at = src.value().source.find("= process("); at != std::string::npos; at = src.value().source.find("= process(", at + 1))
    ++calls;
  INFO(src.value().source);
  CHECK(calls == 1);
  auto out = run_ok({p}, {});
  auto got = executor().download(*out[0]);
  REQUIRE(got.ok());
  for (int64_t i = 0; i < got->size(); ++i) CHECK(got->data<float>()[i] == static_cast<float>(i));
}

// Channel-packed layouts (four floats per RGBA32F texel; eight exact halves
// in the bits of an RGBA32F texel for half-exact constants): the choice, the host-side
// packing, and every accessor and output path of the composer against them.
TEST_CASE("gl: channel-packed layouts", "[gl]") {
  const int max = executor().caps().max_texture_size;
  const LayoutPolicy limits = executor().layout_policy();
  SECTION("choice") {
    // A desktop's policy, whatever limits the test's executor runs under.
    const LayoutPolicy limits{max, kPlanes};
    auto act = choose_layout({DataType::kFloat32, {1, 10, 5, 7}}, limits).value();
    CHECK(act.kind == LayoutKind::kChannelsPlanes);
    CHECK(act.width == 2);   // 7 pixels, 4 per texel position
    CHECK(act.layers == 8);  // x 2 channel blocks
    CHECK(act.height == 2 * 5);  // C4 = 3 blocks, C8 = 2 pairs of H rows
    auto four_targets = choose_layout({DataType::kFloat32, {1, 10, 5, 7}}, LayoutPolicy{max, 4}).value();
    CHECK(four_targets.kind == LayoutKind::kChannelsRGBA);  // planes need 8 render targets
    auto one_block = choose_layout({DataType::kFloat32, {1, 3, 5, 8}}, limits).value();
    CHECK(one_block.kind == LayoutKind::kChannelsRGBA);  // planes would leave half the layers empty
    auto narrow = choose_layout({DataType::kFloat32, {1, 6, 5, 6}}, limits).value();
    CHECK(narrow.kind == LayoutKind::kChannelsRGBA);  // planes would waste 2 of 8 pixels
    CHECK(narrow.width == 6);
    auto tall_weights = choose_layout({DataType::kFloat32, {int64_t{max}, 8, 3, 3}}, limits).value();
    CHECK(tall_weights.kind == LayoutKind::kChannelsRowsRGBA);
    CHECK(tall_weights.height == max);
    CHECK(choose_layout({DataType::kInt64, {1, 6, 5, 7}}, limits)->kind == LayoutKind::kUnpackedR32F);
    CHECK(choose_layout({DataType::kFloat32, {6, 5, 7}}, limits)->kind == LayoutKind::kUnpackedR32F);
    auto half = choose_layout({DataType::kFloat32, {16, 12, 3, 3}, true}, limits).value();
    CHECK(half.kind == LayoutKind::kChannelsHalf8);
    CHECK(half.width == 2 * 3 * 3);
    CHECK(half.format() == TextureFormat::kRGBA32F);
    CHECK(half.half_packed());
  }
  SECTION("upload and download round trip, channels not a multiple of four") {
    for (const Shape& s : {Shape{1, 6, 5, 7}, Shape{2, 3, 4, 1}, Shape{3, 9, 1, 2}, Shape{2, 5, 3, 13}, Shape{2, 10, 3, 13}}) {
      Tensor t = random_tensor(s, 7);
      CHECK(same_bytes(down(up(t)), t));
    }
  }
  SECTION("half-exact constants: packed halves only when every value is a half") {
    // Weights-like values (|v| < 1.875: every half there packs safely).
    Tensor t = random_tensor({5, 11, 3, 2}, 9, DataType::kFloat16).retagged(DataType::kFloat32);
    for (int64_t i = 0; i < t.size(); ++i) t.data<float>()[i] = round_to_half(t.data<float>()[i] / 8.f);
    CHECK(values_half_exact(t.data<float>(), t.size()));
    const float unsafe[] = {2.0f, -2.125f, 1.875f, 65504.0f * 2};
    for (float v : unsafe) CHECK(!values_half_exact(&v, 1));
    auto g = executor().upload(t, true);
    REQUIRE(g.ok());
    CHECK(g.value()->desc().half_exact);
    CHECK(same_bytes(down(g.value()), t));
    Tensor not_half = random_tensor({5, 11, 3, 2}, 9);
    auto g2 = executor().upload(not_half, true);
    REQUIRE(g2.ok());
    CHECK(!g2.value()->desc().half_exact);  // checked again: never lossy
    CHECK(same_bytes(down(g2.value()), not_half));
  }
  SECTION("scalar and vec4 bodies read and write every layout") {
  for (const Shape& s : {Shape{2, 7, 3, 5}, Shape{2, 7, 3, 13}, Shape{2, 10, 3, 13}}) {  // one layer; planes; odd C4
    Tensor x = random_tensor(s, 11, DataType::kFloat16).retagged(DataType::kFloat32);
    for (int64_t i = 0; i < x.size(); ++i) x.data<float>()[i] = round_to_half(x.data<float>()[i] / 8.f);
    for (bool half : {false, true}) {
      auto gx = executor().upload(x, half);
      REQUIRE(gx.ok());
      CHECK(gx.value()->desc().half_exact == half);
      // getX, getXFlat, getXBroadcast, getX4, getX8: all must give x back.
      const std::string W = std::to_string(s[3]), C = std::to_string(s[1]);
      const std::string bodies[] = {
          "float process(int oc[OUT_RANK]) { return getX(oc[0], oc[1], oc[2], oc[3]); }",
          "float process(int oc[OUT_RANK]) { return getXFlat(((oc[0] * " + C + " + oc[1]) * 3 + oc[2]) * " + W + " + oc[3]); }",
          "float process(int oc[OUT_RANK]) { return getXBroadcast(oc); }",
          "vec4 process4(int oc[4]) { return getX4(oc[0], oc[1] / 4, oc[2], oc[3]); }",
          "vec4 process4(int oc[4]) { mat2x4 m = getX8(oc[0], oc[1] / 8, oc[2], oc[3]); "
          "return (oc[1] / 4) % 2 == 0 ? m[0] : m[1]; }",
      };
      for (const std::string& body : bodies) {
        INFO((half ? "half8 input, " : "rgba input, ") << shape_str(s) << " " << body);
        ProgramInfo p = program("copy", {{"X", 0}}, s, body);
        p.vec4_body = body.rfind("vec4", 0) == 0;
        CHECK(same_bytes(down(run_ok({p}, {gx.value()})[0]), x));
        // And into an unpacked (rank-3 view) output, through the scalar wrapper.
        ProgramInfo flat = program("copy_flat", {{"X", 0}}, {2 * s[1], 3, s[3]},
                                   "float process(int oc[OUT_RANK]) { return getX(oc[0] / " + C + ", oc[0] % " + C +
                                       ", oc[1], oc[2]); }");
        CHECK(same_bytes(down(run_ok({flat}, {gx.value()})[0]).retagged(DataType::kFloat32),
                         x.reshaped({2 * s[1], 3, s[3]})));
      }
    }
  }
  }
}

// A cursor body: output (n, c4, h, w) read as getX4At(cursor, dn, dc4, dw)
// from a cursor at an even image, an even block and a multiple-of-4 pixel
// (plus `w_shift`), every offset a literal as the conv tiles write them.
std::string cursor_body(int w_shift) {
  std::string reads;
  for (int dn = 0; dn < 2; ++dn)
    for (int dc4 = 0; dc4 < 2; ++dc4)
      for (int p = 0; p < 4; ++p)
        reads += std::string(reads.empty() ? "" : ", ") + "getX4At(c, " + std::to_string(dn) + ", " +
                 std::to_string(dc4) + ", " + std::to_string(p - w_shift) + ")";
  return "vec4 process4(int oc[4]) {\n  int c4 = oc[1] / 4;\n"
         "  vec4 c = getXCursor(oc[0] - oc[0] % 2, c4 - c4 % 2, oc[2], oc[3] - oc[3] % 4 + " + std::to_string(w_shift) +
         ");\n  vec4 v[16] = vec4[16](" + reads + ");\n  return v[(oc[0] % 2) * 8 + (c4 % 2) * 4 + oc[3] % 4];\n}\n";
}

TEST_CASE("gl: cursor reads (getXCursor, getX4At) give what getX4 gives, on every layout", "[gl]") {
  const int max = executor().caps().max_texture_size;
  std::set<LayoutKind> kinds;
  // rgba; planes; planes with an odd block count; rows (too tall for rgba)
  for (const Shape& s : {Shape{2, 7, 3, 5}, Shape{2, 7, 3, 13}, Shape{2, 10, 3, 13}, Shape{max, 8, 1, 2}}) {
    Tensor x = random_tensor(s, 13, DataType::kFloat16).retagged(DataType::kFloat32);
    for (int64_t i = 0; i < x.size(); ++i) x.data<float>()[i] = round_to_half(x.data<float>()[i] / 8.f);
    for (bool half : {false, true}) {
      auto gx = executor().upload(x, half);
      REQUIRE(gx.ok());
      const TextureLayout layout = choose_layout(gx.value()->desc(), executor().layout_policy()).value();
      kinds.insert(layout.kind);
      for (int w_shift : {0, 4}) {  // offsets 0..3 and -4..-1
        const std::string body = cursor_body(w_shift);
        INFO(shape_str(s) << ", " << layout_str(layout) << "\n" << body);
        ProgramInfo p = program("cursor", {{"X", 0}}, s, body);
        p.vec4_body = true;
        CHECK(same_bytes(down(run_ok({p}, {gx.value()})[0]), x));
      }
    }
  }
  const bool planes = executor().layout_policy().planes && executor().layout_policy().max_draw_buffers >= kPlanes;
  for (LayoutKind k : {LayoutKind::kChannelsRGBA, LayoutKind::kChannelsRowsRGBA, LayoutKind::kChannelsHalf8})
    CHECK(kinds.count(k));
  CHECK(kinds.count(LayoutKind::kChannelsPlanes) == (planes ? 1u : 0u));
}

// A channel concat pass with concat_channel_offsets: copied texel rows when
// every part lines up with the planes output (plane_rows_in), drawn
// otherwise; bit for bit the concatenation either way, read back whole and
// through a later pass's accessor.
TEST_CASE("gl: channel concats into planes are texel copies where the layouts line up", "[gl]") {
  struct ConcatCase {
    std::vector<int64_t> channels;
    int64_t n;
    bool copied;  // when this context has planes and float layer copies
  };
  const ConcatCase cases[] = {
      {{8, 16, 12}, 2, true},   // two images; the last part ends in a padding block
      {{8, 8}, 1, true},
      {{12, 8}, 1, false},      // the second part starts inside a plane row
      {{8, 4}, 1, false},       // a one-block part is not planes
  };
  const int64_t H = 3, W = 13;
  const LayoutPolicy policy = executor().layout_policy();
  const bool planes = policy.planes && policy.max_draw_buffers >= kPlanes && !policy.float_bits;
  for (const ConcatCase& c : cases) {
    int64_t total = 0;
    std::vector<Tensor> parts;
    std::vector<GpuTensorPtr> inputs;
    std::vector<ProgramInput> pins;
    std::vector<int64_t> offsets;
    std::string body = "vec4 process4(int oc[4]) {\n  int c4 = oc[1] / 4;\n";
    for (size_t j = 0; j < c.channels.size(); ++j) {
      parts.push_back(random_tensor({c.n, c.channels[j], H, W}, 40 + static_cast<uint32_t>(j)));
      inputs.push_back(up(parts.back()));
      const std::string name = "P" + std::to_string(j);
      pins.push_back({name, static_cast<int>(j)});
      const std::string get = "get" + name + "4(oc[0], c4 - " + std::to_string(total / 4) + ", oc[2], oc[3])";
      body += j + 1 == c.channels.size() ? "  return " + get + ";\n"
                                         : "  if (c4 < " + std::to_string((total + c.channels[j]) / 4) + ") return " + get + ";\n";
      offsets.push_back(total);
      total += c.channels[j];
    }
    body += "}\n";
    Tensor want(DataType::kFloat32, {c.n, total, H, W});
    for (int64_t n = 0, at = 0; n < c.n; ++n)
      for (const Tensor& t : parts) {
        const int64_t image = t.size() / c.n;
        std::memcpy(want.data<float>() + at, t.data<float>() + n * image, image * sizeof(float));
        at += image;
      }
    INFO("channels " << c.channels.size() << " parts, " << total << " in all, N " << c.n);
    ProgramInfo concat = program("concat_channels", pins, {c.n, total, H, W}, body);
    concat.vec4_body = true;
    concat.concat_channel_offsets = offsets;
    const int64_t copies_before = executor().copy_passes();
    CHECK(same_bytes(down(run_ok({concat}, inputs)[0]), want));
    CHECK(executor().copy_passes() - copies_before == (c.copied && planes ? 1 : 0));
    // Read by a later pass as its input, through getX4.
    ProgramInfo first = concat;
    first.node_output = -1;
    ProgramInfo plus = program("plus_one", {{"X", -1}}, {c.n, total, H, W},
                               "vec4 process4(int oc[4]) { return getX4(oc[0], oc[1] / 4, oc[2], oc[3]) + 1.0; }");
    plus.vec4_body = true;
    Tensor want_plus = want;
    for (int64_t i = 0; i < want_plus.size(); ++i) want_plus.data<float>()[i] += 1.f;
    CHECK(same_bytes(down(run_ok({first, plus}, inputs)[0]), want_plus));
  }
}

TEST_CASE("gl: without float render targets, textures hold float bits and give the same results", "[gl]") {
  // An executor made while float_render=0 is imposed (as on a phone without
  // EXT_color_buffer_float) keeps every value in R32UI / RGBA32UI texels.
  const std::string previous = device_limits_spec();
  set_device_limits("float_render=0");
  auto made = create_executor();
  set_device_limits(previous);
  REQUIRE(made.ok());
  Executor& bits = *made.value();
  CHECK(!bits.caps().float_render);
  REQUIRE(bits.layout_policy().float_bits);
  auto through = [](Executor& ex, const Tensor& t, const std::vector<ProgramInfo>& passes) {
    auto g = ex.upload(t);
    REQUIRE(g.ok());
    auto out = ex.run(passes, {g.value()}, 1);
    INFO(out.status().message());
    REQUIRE(out.ok());
    auto back = ex.download(*out.value()[0]);
    REQUIRE(back.ok());
    return back.value();
  };
  for (const Shape& s : {Shape{7}, Shape{33, 65}, Shape{2, 7, 3, 5}, Shape{2, 10, 3, 13}}) {
    DYNAMIC_SECTION("shape " << shape_str(s)) {
      Tensor x = random_tensor(s, 21);
      const float specials[] = {0.f, -0.f, INFINITY, -INFINITY, 1e-40f, 3.4e38f, -1.5f};
      for (size_t i = 0; i < std::size(specials); ++i) x.data<float>()[i] = specials[i];
      auto layout = choose_layout({DataType::kFloat32, s}, bits.layout_policy()).value();
      CHECK(layout.bits);
      CHECK((layout.format() == TextureFormat::kR32UI || layout.format() == TextureFormat::kRGBA32UI));
      // Upload and download keep every bit.
      auto g = bits.upload(x);
      REQUIRE(g.ok());
      auto back = bits.download(*g.value());
      REQUIRE(back.ok());
      CHECK(same_bytes(back.value(), x));
      // A program reads and writes them as floats: the same bits as with
      // float textures.
      ProgramInfo p = program("scale", {{"X", 0}}, s, "float process(int oc[OUT_RANK]) { "
                              "int i = 0; for (int d = 0; d < OUT_RANK; ++d) i = i * OUT_SHAPE[d] + oc[d]; "
                              "return getXFlat(i) * 3.0 - 1.0; }\n");
      Tensor with_bits = through(bits, x, {p});
      Tensor with_floats = through(executor(), x, {p});
      CHECK(same_bytes(with_bits, with_floats));
      CHECK(with_bits.data<float>()[6] == -5.5f);
    }
  }
}
