// The real models end to end: MNIST against its reference output, and
// SqueezeNet 1.1 fp16 on GPU vs CPU. The models come from
// tools/fetch-models.sh (make test runs it first).
#include <catch2/catch.hpp>
#include <filesystem>

#include "engine/core/compare.h"
#include "engine/onnx/loader.h"
#include "engine/runtime/runner.h"
#include "engine/runtime/session.h"

using glint::BackendMode;
using glint::Session;
using glint::SessionOptions;
using glint::Tensor;

namespace {

std::string model_path(const std::string& rel) {
  std::string p = std::string(GLINT_MODELS_DIR) + "/" + rel;
  INFO("missing " << p << ": run tools/fetch-models.sh (make test does)");
  REQUIRE(std::filesystem::exists(p));
  return p;
}

std::unique_ptr<Session> open(const std::string& path, BackendMode mode) {
  SessionOptions o;
  o.backend = mode;
  auto s = Session::create_from_file(path, o);
  INFO(s.status().message());
  REQUIRE(s.ok());
  return std::move(s).value();
}

}  // namespace

TEST_CASE("MNIST matches its reference output on every backend", "[models]") {
  std::string model = model_path("mnist/model.onnx");
  auto input = glint::onnx_loader::load_tensor_pb_file(model_path("mnist/test_data_set_0/input_0.pb"), nullptr);
  auto want = glint::onnx_loader::load_tensor_pb_file(model_path("mnist/test_data_set_0/output_0.pb"), nullptr);
  REQUIRE(input.ok());
  REQUIRE(want.ok());
  for (auto mode : {BackendMode::kGpu, BackendMode::kDefault, BackendMode::kCpu}) {
    INFO("backend " << glint::backend_mode_name(mode));
    auto s = open(model, mode);
    REQUIRE(s->inputs().size() == 1);
    auto out = s->run({{s->inputs()[0].name, input.value()}});
    INFO(out.status().message());
    REQUIRE(out.ok());
    auto c = glint::compare_tensors(out->at(s->outputs()[0].name), want.value(), 0.0, 1e-4);
    INFO(c.mismatch << " max |diff| " << c.max_abs_diff);
    CHECK(c.equal);
  }
}

TEST_CASE("SqueezeNet fp16 runs wholly on the GPU and agrees with the CPU", "[models]") {
  std::string model = model_path("squeezenet1.1-fp16.onnx");
  auto gpu = open(model, BackendMode::kDefault);
  for (auto& p : gpu->placements()) {
    INFO(p.node << " (" << p.op << "): " << p.reason);
    CHECK(p.gpu);
  }
  auto cpu = open(model, BackendMode::kCpu);
  REQUIRE(gpu->inputs().size() == 1);
  const auto& io = gpu->inputs()[0];
  REQUIRE(io.info.dtype == glint::DataType::kFloat16);
  // A smooth synthetic image in BGR 0-255 minus the mean: exercises every
  // layer without needing the photos.
  Tensor x(glint::DataType::kFloat16, {1, 3, 224, 224});
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 224; ++y)
      for (int xx = 0; xx < 224; ++xx)
        x.set_from_double((c * 224 + y) * 224 + xx, 120.0 * std::sin(0.05 * (xx + 2 * y) + c) + 10.0 * c);
  auto g = gpu->run({{io.name, x}});
  auto r = cpu->run({{io.name, x}});
  REQUIRE(g.ok());
  REQUIRE(r.ok());
  const Tensor& gy = g->at(gpu->outputs()[0].name);
  const Tensor& cy = r->at(cpu->outputs()[0].name);
  REQUIRE(gy.shape() == glint::Shape{1, 1000, 1, 1});
  auto c = glint::compare_tensors(gy, cy, 0.0, 1e-3);
  INFO(c.mismatch << " max |diff| " << c.max_abs_diff);
  CHECK(c.equal);
  double sum = 0;
  for (int64_t i = 0; i < gy.size(); ++i) sum += gy.get_as_double(i);
  CHECK(sum == Approx(1.0).margin(0.01));  // its output is already a softmax
}

TEST_CASE("repeated runs keep GPU memory flat", "[models][memory]") {
  auto s = open(model_path("mnist/model.onnx"), BackendMode::kDefault);
  auto input = glint::onnx_loader::load_tensor_pb_file(model_path("mnist/test_data_set_0/input_0.pb"), nullptr);
  REQUIRE(input.ok());
  std::map<std::string, Tensor> feeds{{s->inputs()[0].name, input.value()}};
  // Once settled (glint::kGpuMemorySettleRuns), nothing changes.
  for (int i = 0; i < glint::kGpuMemorySettleRuns; ++i) REQUIRE(s->run(feeds).ok());
  auto settled = s->gpu_memory();
  REQUIRE(settled);
  for (int i = 0; i < 20; ++i) REQUIRE(s->run(feeds).ok());
  auto after = s->gpu_memory();
  CHECK(after->texture_bytes == settled->texture_bytes);
  CHECK(after->live_textures + after->pooled_textures == settled->live_textures + settled->pooled_textures);
}
