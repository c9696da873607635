// Asynchronous readback (pixel-pack buffer + fence): Executor::begin_download
// and Session::run_async give exactly what download() and run() give. The web
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

}  // namespace

TEST_CASE("begin_download matches download for every dtype and read format", "[gl][async]") {
  for (bool rgba : {false, true}) {
    ExecutorOptions opts;
    opts.force_rgba_readback = rgba;
    auto ex = create_executor(opts);
    INFO(ex.status().message());
    REQUIRE(ex.ok());
    for (DataType dt : {DataType::kFloat32, DataType::kFloat16, DataType::kInt32, DataType::kBool}) {
      for (const Shape& shape : {Shape{1}, Shape{7}, Shape{3, 5, 17}, Shape{1, 3, 224, 224}, Shape{0, 4}}) {
        INFO((rgba ? "RGBA " : "RED ") << dtype_name(dt) << shape_str(shape));
        Tensor t = random_tensor(dt, shape, 7);
        auto g = ex.value()->upload(t);
        if (!g.ok() && g.status().code() == StatusCode::kUnsupported) continue;  // dtype not on the GPU
        INFO(g.status().message());
        REQUIRE(g.ok());
        auto sync = ex.value()->download(*g.value());
        REQUIRE(sync.ok());
        Tensor async = read_async(*ex.value(), *g.value());
        CHECK(same_bytes(sync.value(), async));
      }
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
