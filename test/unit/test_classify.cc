// SqueezeNet 1.1 fp16 on the two reference photos, through the same code as
// `glint classify`, on the GPU and the CPU: the reference top-3 in order, each
// within 3 percentage points (../shared/models/README.md; resizers differ).
#include <catch2/catch.hpp>
#include <filesystem>

#include "bindings/native/classify.h"

namespace {

struct Reference {
  const char* image;
  std::vector<std::pair<const char*, double>> top;  // label prefix, percent
};

// onnxruntime 1.30 CPU, BGR 0-255 minus mean, short side 256, centre crop 224.
const std::vector<Reference> kReferences = {
    {"images/chelsea.png", {{"Egyptian cat", 41.8}, {"tiger cat", 32.1}, {"tabby", 24.9}}},
    {"images/coffee.png", {{"espresso", 94.6}, {"consomme", 4.4}}},
};

std::string data(const std::string& rel) {
  std::string p = std::string(GLINT_MODELS_DIR) + "/" + rel;
  INFO("missing " << p << ": run tools/fetch-models.sh (make test does)");
  REQUIRE(std::filesystem::exists(p));
  return p;
}

}  // namespace

TEST_CASE("SqueezeNet classifies the reference photos on GPU and CPU", "[models][classify]") {
  std::string model = data("squeezenet1.1-fp16.onnx");
  for (auto mode : {glint::BackendMode::kGpu, glint::BackendMode::kCpu}) {
    for (const auto& ref : kReferences) {
      INFO(ref.image << " on backend " << glint::backend_mode_name(mode));
      glint::native::ClassifyOptions o;
      o.session.backend = mode;
      o.top = 5;
      o.models_json = std::string(GLINT_SOURCE_DIR) + "/models/models.json";
      auto r = glint::native::classify(model, data(ref.image), o);
      INFO(r.status().message());
      REQUIRE(r.ok());
      REQUIRE(r->top.size() >= ref.top.size());
      for (size_t i = 0; i < ref.top.size(); ++i) {
        INFO("rank " << i + 1 << ": got " << r->top[i].label << " " << 100 * r->top[i].probability << " %");
        CHECK(r->top[i].label.rfind(ref.top[i].first, 0) == 0);
        CHECK(100 * r->top[i].probability == Approx(ref.top[i].second).margin(3.0));
      }
    }
  }
}

TEST_CASE("classify reports unreadable images and unknown models clearly", "[classify][bad-input]") {
  glint::native::ClassifyOptions o;
  o.session.backend = glint::BackendMode::kCpu;
  o.models_json = std::string(GLINT_SOURCE_DIR) + "/models/models.json";
  auto missing = glint::native::classify(data("squeezenet1.1-fp16.onnx"), "/nonexistent/cat.png", o);
  REQUIRE_FALSE(missing.ok());
  CHECK_THAT(missing.status().message(), Catch::Contains("/nonexistent/cat.png"));
  auto not_image = glint::native::classify(data("squeezenet1.1-fp16.onnx"), data("imagenet-labels.txt"), o);
  REQUIRE_FALSE(not_image.ok());
  CHECK_THAT(not_image.status().message(), Catch::Contains("imagenet-labels.txt"));
}
