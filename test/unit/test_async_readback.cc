// Asynchronous readback (pixel-pack buffer + fence): Executor::begin_download,
// begin_downloads (several reads in one buffer) and Session::run_async give
// exactly what download() and run() give. The web
// build polls these so that run() never stalls the page.
#include <catch2/catch.hpp>

#include <cstring>
#include <random>

#include "engine/core/half.h"
#include "engine/gl/executor.h"
#include "engine/gl/executor_options.h"
#include "engine/runtime/session.h"

using namespace glint;
using namespace glint::gl;

namespace {

Tensor random_tensor(DataType dt, const Shape& shape, uint32_t seed) {
  Tensor t(dt, shape);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-100.f, 100.f);
  for (int64_t i = 0; i < t.size(); ++i) t.set_from_double(i, dt == DataType::kBool ? (u(rng) > 0) : u(rng));
  return t;
}

bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() && a.byte_size() == b.byte_size() &&
         (a.byte_size() == 0 || std::memcmp(a.raw(), b.raw(), a.byte_size()) == 0);
}

// Polls like the web build does (natively the fence signals quickly).
Tensor read_async(Executor& ex, const GpuTensor& t) {
  auto p = ex.begin_download(t);
  INFO(p.status().message());
  REQUIRE(p.ok());
  for (int i = 0; i < 1000000 && !p.value()->ready(); ++i) {
  }
  auto r = p.value()->finish();
  INFO(r.status().message());
  REQUIRE(r.ok());
  auto again = p.value()->finish();
  CHECK(!again.ok());  // a pending download is read once
  return r.value();
}

// An executor reading R32F textures back as RED (where the context allows)
// or as RGBA.
std::unique_ptr<Executor> executor_reading(bool rgba) {
  ExecutorOptions opts;
  opts.force_rgba_readback = rgba;
  auto ex = create_executor(opts);
  INFO(ex.status().message());
  REQUIRE(ex.ok());
  return std::move(ex).value();
}

}  // namespace

TEST_CASE("begin_download matches download for every dtype and read format", "[gl][async]") {
  for (bool rgba : {false, true}) {
    auto ex = executor_reading(rgba);
    for (DataType dt : {DataType::kFloat32, DataType::kFloat16, DataType::kInt32, DataType::kBool}) {
      for (const Shape& shape : {Shape{1}, Shape{7}, Shape{3, 5, 17}, Shape{1, 3, 224, 224}, Shape{0, 4}}) {
        INFO((rgba ? "RGBA " : "RED ") << dtype_name(dt) << shape_str(shape));
        Tensor t = random_tensor(dt, shape, 7);
        auto g = ex->upload(t);
        if (!g.ok() && g.status().code() == StatusCode::kUnsupported) continue;  // dtype not on the GPU
        INFO(g.status().message());
        REQUIRE(g.ok());
        auto sync = ex->download(*g.value());
        REQUIRE(sync.ok());
        Tensor async = read_async(*ex, *g.value());
        CHECK(same_bytes(sync.value(), async));
      }
    }
  }
}

// A run's outputs start their reads together, into one buffer behind one
// fence: each still comes out as download() gives it, whatever the others'
// dtypes, layouts and sizes (channel-packed, planes, unpacked, empty, odd
// sizes before others), and in whatever order they are finished.
TEST_CASE("begin_downloads reads several tensors as download does, finished in any order", "[gl][async]") {
  struct Case {
    DataType dtype;
    Shape shape;
  };
  const std::vector<Case> cases = {
      {DataType::kFloat32, {7}},           {DataType::kFloat32, {1, 6, 5, 7}},  {DataType::kInt32, {3, 5, 17}},
      {DataType::kFloat32, {0, 4}},        {DataType::kBool, {13}},             {DataType::kFloat32, {1, 16, 4, 8}},
      {DataType::kFloat16, {2, 3, 5}},     {DataType::kFloat32, {2, 3, 4, 1}},  {DataType::kFloat32, {1, 1, 8192}},
  };
  for (bool rgba : {false, true}) {
    auto ex = executor_reading(rgba);
    std::vector<GpuTensorPtr> held;
    std::vector<const GpuTensor*> ts;
    std::vector<Tensor> want;
    for (size_t i = 0; i < cases.size(); ++i) {
      auto g = ex->upload(random_tensor(cases[i].dtype, cases[i].shape, static_cast<uint32_t>(11 + i)));
      INFO(dtype_name(cases[i].dtype) << shape_str(cases[i].shape) << ": " << g.status().message());
      REQUIRE(g.ok());
      auto sync = ex->download(*g.value());
      REQUIRE(sync.ok());
      want.push_back(sync.value());
      ts.push_back(g.value().get());
      held.push_back(g.value());
    }
    const int64_t before = ex->downloads();
    auto started = ex->begin_downloads(ts);
    INFO(started.status().message());
    REQUIRE(started.ok());
    REQUIRE(started.value().size() == cases.size());
    CHECK(ex->downloads() - before == static_cast<int64_t>(cases.size()));
    held.clear();  // the reads were issued: the textures may go
    for (int i = 0; i < 1000000; ++i) {
      bool all = true;
      for (auto& p : started.value()) all = all && p->ready();
      if (all) break;
    }
    for (size_t k = cases.size(); k-- > 0;) {  // the last first
      INFO((rgba ? "RGBA " : "RED ") << dtype_name(cases[k].dtype) << shape_str(cases[k].shape));
      auto got = started.value()[k]->finish();
      INFO(got.status().message());
      REQUIRE(got.ok());
      CHECK(same_bytes(want[k], got.value()));
      CHECK(!started.value()[k]->finish().ok());  // read once
    }
  }
}

TEST_CASE("Session::run_async gives run()'s outputs", "[gl][async]") {
  const std::string model = std::string(GLINT_MODELS_DIR) + "/mnist/model.onnx";
  for (BackendMode mode : {BackendMode::kDefault, BackendMode::kCpu}) {
    INFO(backend_mode_name(mode));
    SessionOptions opts;
    opts.backend = mode;
    auto s = Session::create_from_file(model, opts);
    if (!s.ok() && s.status().code() == StatusCode::kIoError) {
      WARN("models not fetched: " << s.status().message());
      return;
    }
    INFO(s.status().message());
    REQUIRE(s.ok());
    std::map<std::string, Tensor> feeds{{"Input3", random_tensor(DataType::kFloat32, {1, 1, 28, 28}, 3)}};
    auto want = s.value()->run(feeds);
    REQUIRE(want.ok());
    auto pending = s.value()->run_async(feeds);
    INFO(pending.status().message());
    REQUIRE(pending.ok());
    while (!pending.value()->ready()) {
    }
    auto got = pending.value()->finish();
    INFO(got.status().message());
    REQUIRE(got.ok());
    REQUIRE(got.value().size() == 1);
    CHECK(same_bytes(want.value().at("Plus214_Output_0"), got.value().at("Plus214_Output_0")));

    // Bad feeds fail before anything is started.
    auto bad = s.value()->run_async({{"image", feeds.at("Input3")}});
    REQUIRE(!bad.ok());
    CHECK(bad.status().message().find("unknown input 'image'") != std::string::npos);
  }
}
