// Image decoding and preprocessing for `glint classify`, label files and
// models/models.json. Expected resize values come from scikit-image 0.19.3
// (skimage.transform.resize, order=1, mode='reflect', preserve_range=True).
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "bindings/native/image.h"
#include "bindings/native/labels.h"
#include "bindings/native/model_config.h"

using namespace glint;
using namespace glint::native;
namespace fs = std::filesystem;

namespace {

Image make_image(int w, int h, int c, std::vector<float> px) {
  Image img;
  img.width = w;
  img.height = h;
  img.channels = c;
  img.pixels = std::move(px);
  return img;
}

// The 7x5 RGB pattern the scikit-image reference values were computed on.
Image pattern_7x5() {
  Image img = make_image(7, 5, 3, std::vector<float>(7 * 5 * 3));
  for (int y = 0; y < 5; ++y) {
    for (int x = 0; x < 7; ++x) {
      img.at(x, y, 0) = static_cast<float>((x * 37 + y * 11) % 256);
      img.at(x, y, 1) = static_cast<float>((x * x * 5 + y * 29) % 256);
      img.at(x, y, 2) = static_cast<float>(((255 - x * 20 - y * 13) % 256 + 256) % 256);
    }
  }
  return img;
}

void require_pixels(const Image& img, const std::vector<float>& expected, double tol) {
  REQUIRE(img.pixels.size() == expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    INFO("element " << i);
    CHECK(img.pixels[i] == Approx(expected[i]).margin(tol));
  }
}

fs::path temp_dir() {
  fs::path dir = fs::temp_directory_path() / ("glint_test_image_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir;
}

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream f(p, std::ios::binary);
  f << text;
}

// A 2x2 RGB PNG: red, green / blue, white.
const unsigned char kTinyPng[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02, 0x08, 0x02, 0x00, 0x00, 0x00, 0xfd, 0xd4, 0x9a,
    0x73, 0x00, 0x00, 0x00, 0x16, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xc0,
    0xf0, 0x9f, 0x81, 0x91, 0x81, 0xe1, 0xff, 0xff, 0xff, 0x0c, 0x00, 0x1e, 0xf6, 0x04, 0xfd, 0x09,
    0xed, 0x34, 0x3e, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};

// An 8x8 grayscale baseline JPEG, every pixel 128.
const unsigned char kTinyJpeg[] = {
    0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01,
    0x00, 0x00, 0xff, 0xdb, 0x00, 0x43, 0x00, 0x03, 0x02, 0x02, 0x03, 0x02, 0x02, 0x03, 0x03, 0x03, 0x03, 0x04,
    0x03, 0x03, 0x04, 0x05, 0x08, 0x05, 0x05, 0x04, 0x04, 0x05, 0x0a, 0x07, 0x07, 0x06, 0x08, 0x0c, 0x0a, 0x0c,
    0x0c, 0x0b, 0x0a, 0x0b, 0x0b, 0x0d, 0x0e, 0x12, 0x10, 0x0d, 0x0e, 0x11, 0x0e, 0x0b, 0x0b, 0x10, 0x16, 0x10,
    0x11, 0x13, 0x14, 0x15, 0x15, 0x15, 0x0c, 0x0f, 0x17, 0x18, 0x16, 0x14, 0x18, 0x12, 0x14, 0x15, 0x14, 0xff,
    0xc0, 0x00, 0x0b, 0x08, 0x00, 0x08, 0x00, 0x08, 0x01, 0x01, 0x11, 0x00, 0xff, 0xc4, 0x00, 0x14, 0x00, 0x01,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xc4,
    0x00, 0x14, 0x10, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3f, 0x00, 0x3f, 0xff, 0xd9};

std::string models_json_path() { return std::string(GLINT_SOURCE_DIR) + "/models/models.json"; }

const char* kMinimalEntry = R"({"models": [{"file": "m.onnx", "input": {"name": "x", "shape": [1,3,4,4]},
  "preprocess": {"color": "RGB", "crop": [4, 4]}, "output": {"name": "y"}}]})";

}  // namespace

// ---------------------------------------------------------------- decoding --

TEST_CASE("decode_image_memory decodes a PNG to RGB 0..255", "[image]") {
  auto img = decode_image_memory(kTinyPng, sizeof(kTinyPng), "tiny.png");
  REQUIRE(img.ok());
  REQUIRE(img->width == 2);
  REQUIRE(img->height == 2);
  REQUIRE(img->channels == 3);
  require_pixels(*img, {255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255}, 0);
}

TEST_CASE("decode_image_memory decodes a grayscale JPEG to three equal channels", "[image]") {
  auto img = decode_image_memory(kTinyJpeg, sizeof(kTinyJpeg), "tiny.jpg");
  REQUIRE(img.ok());
  REQUIRE(img->width == 8);
  REQUIRE(img->height == 8);
  REQUIRE(img->channels == 3);
  for (float v : img->pixels) CHECK(v == Approx(128).margin(1));
}

TEST_CASE("decode_image reports missing, empty and undecodable files", "[image]") {
  const fs::path dir = temp_dir();
  auto missing = decode_image((dir / "no-such.png").string());
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == StatusCode::kIoError);
  CHECK(missing.status().message().find("no-such.png") != std::string::npos);

  write_file(dir / "empty.png", "");
  auto empty = decode_image((dir / "empty.png").string());
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.status().code() == StatusCode::kInvalidArgument);

  write_file(dir / "page.png", "<!DOCTYPE html><html><body>not an image</body></html>");
  auto html = decode_image((dir / "page.png").string());
  REQUIRE_FALSE(html.ok());
  CHECK(html.status().code() == StatusCode::kInvalidArgument);
  CHECK(html.status().message().find("page.png") != std::string::npos);
  CHECK(html.status().message().find("cannot decode") != std::string::npos);

  // A PNG cut short: header intact, data missing.
  write_file(dir / "cut.png", std::string(reinterpret_cast<const char*>(kTinyPng), 40));
  auto cut = decode_image((dir / "cut.png").string());
  REQUIRE_FALSE(cut.ok());
  CHECK(cut.status().code() == StatusCode::kInvalidArgument);
  fs::remove_all(dir);
}

// ----------------------------------------------------------------- colour --

TEST_CASE("convert_color swaps to BGR and makes BT.601 gray", "[image]") {
  const Image rgb = make_image(2, 1, 3, {10, 20, 30, 255, 0, 0});
  const Image bgr = convert_color(rgb, ColorOrder::kBGR);
  CHECK(bgr.channels == 3);
  require_pixels(bgr, {30, 20, 10, 0, 0, 255}, 0);
  const Image gray = convert_color(rgb, ColorOrder::kGray);
  CHECK(gray.channels == 1);
  require_pixels(gray, {0.299f * 10 + 0.587f * 20 + 0.114f * 30, 0.299f * 255}, 1e-3);
  require_pixels(convert_color(rgb, ColorOrder::kRGB), rgb.pixels, 0);
}

// ----------------------------------------------------------------- resize --

TEST_CASE("resize_bilinear keeps an image of the same size and a constant image", "[image]") {
  const Image src = pattern_7x5();
  require_pixels(resize_bilinear(src, 7, 5, true), src.pixels, 0);
  const Image flat = make_image(13, 9, 1, std::vector<float>(13 * 9, 77.0f));
  for (bool aa : {false, true}) {
    for (auto [w, h] : {std::pair{4, 3}, std::pair{1, 1}, std::pair{40, 2}, std::pair{13, 30}}) {
      const Image out = resize_bilinear(flat, w, h, aa);
      REQUIRE(out.width == w);
      REQUIRE(out.height == h);
      for (float v : out.pixels) CHECK(v == Approx(77.0f).margin(1e-3));
    }
  }
}

TEST_CASE("resize_bilinear samples pixel centres and mirrors at the edges", "[image]") {
  // scikit-image: resize([[0, 100]], (1, 4)) == [[25, 25, 75, 75]]
  const Image row = make_image(2, 1, 1, {0, 100});
  require_pixels(resize_bilinear(row, 4, 1, false), {25, 25, 75, 75}, 1e-4);
  require_pixels(resize_bilinear(row, 4, 1, true), {25, 25, 75, 75}, 1e-4);  // upscaling: no filter
  // Halving without a filter averages neighbour pairs.
  const Image four = make_image(4, 1, 1, {0, 10, 20, 40});
  require_pixels(resize_bilinear(four, 2, 1, false), {5, 30}, 1e-4);
}

TEST_CASE("resize_bilinear matches scikit-image's resize with and without anti-aliasing", "[image]") {
  const Image src = pattern_7x5();
  SECTION("7x5 -> 4x3, anti_aliasing=True") {
    require_pixels(resize_bilinear(src, 4, 3, true),
                   {18.9509, 12.2321, 242.3027, 82.4511, 33.4821, 207.9783, 147.2011, 85.9821, 172.9783,
                    210.7012, 167.7054, 138.6539, 37.1248, 60.1452, 220.8244, 100.625,  81.3952,  186.5,
                    165.375,  133.8952, 151.5,    228.8752, 213.9455, 117.1756, 55.2988, 108.0584, 199.3461,
                    118.7989, 129.3084, 165.0217, 183.5489, 181.8082, 130.0217, 146.0908, 110.1423, 95.6973},
                   1e-3);
  }
  SECTION("7x5 -> 4x3, anti_aliasing=False") {
    require_pixels(resize_bilinear(src, 4, 3, false),
                   {17.5417, 11.5417, 243.1667, 82.2917, 32.7917, 208.1667, 147.0417, 85.2917, 173.1667,
                    211.7917, 169.0417, 138.1667, 35.875,  59.875,  221.5,    100.625, 81.125,  186.5,
                    165.375,  133.625,  151.5,    230.125,  217.375,  116.5,    54.2083, 108.2083, 199.8333,
                    118.9583, 129.4583, 164.8333, 183.7083, 181.9583, 129.8333, 141.7917, 105.7083, 94.8333},
                   1e-3);
  }
  SECTION("7x5 -> 2x2, anti_aliasing=True") {
    require_pixels(resize_bilinear(src, 2, 2, true),
                   {63.7902, 42.6021, 214.1834, 177.9618, 134.5978, 152.4654, 87.9891, 106.3961, 185.5346,
                    187.3084, 158.1135, 123.8166},
                   1e-3);
  }
  SECTION("7x5 -> 9x10 (upscale), first row") {
    const Image out = resize_bilinear(src, 9, 10, true);
    REQUIRE(out.pixels.size() == 9 * 10 * 3);
    const std::vector<float> first_row = {6.8611,   7.8056,   249.5278, 27.4167,  10.5833,  238.4167, 56.1944,
                                          18.9167,  222.8611, 84.9722,  32.8056,  207.3056, 113.75,   52.25,
                                          191.75,   142.5278, 79.4722,  176.1944, 171.3056, 112.25,   160.6389,
                                          200.0833, 150.5833, 145.0833, 220.6389, 181.1389, 133.9722};
    for (size_t i = 0; i < first_row.size(); ++i) CHECK(out.pixels[i] == Approx(first_row[i]).margin(1e-3));
  }
}

// ------------------------------------------------------------ size + crop --

TEST_CASE("short_side_size keeps the aspect ratio", "[image]") {
  int w = 0, h = 0;
  short_side_size(451, 300, 256, &w, &h);
  CHECK((w == 385 && h == 256));
  short_side_size(300, 451, 256, &w, &h);
  CHECK((w == 256 && h == 385));
  short_side_size(600, 400, 256, &w, &h);
  CHECK((w == 384 && h == 256));
  short_side_size(100, 100, 28, &w, &h);
  CHECK((w == 28 && h == 28));
}

TEST_CASE("center_crop takes the centred window", "[image]") {
  Image img = make_image(5, 4, 1, std::vector<float>(20));
  for (int i = 0; i < 20; ++i) img.pixels[i] = static_cast<float>(i);
  // Offsets (5-3)/2 = 1, (4-2)/2 = 1.
  require_pixels(center_crop(img, 3, 2), {6, 7, 8, 11, 12, 13}, 0);
  // Odd margins round down: (5-2)/2 = 1, (4-1)/2 = 1.
  require_pixels(center_crop(img, 2, 1), {6, 7}, 0);
  require_pixels(center_crop(img, 5, 4), img.pixels, 0);
}

// --------------------------------------------------- normalise + layout --

TEST_CASE("to_nchw applies invert, mean and scale per channel and transposes", "[image]") {
  const Image img = make_image(2, 1, 3, {10, 20, 30, 40, 50, 60});
  Preprocess p;
  p.mean = {1, 2, 3};
  p.scale = {1, 0.5f, 2};
  Tensor t = to_nchw(img, p);
  REQUIRE(t.dtype() == DataType::kFloat32);
  REQUIRE(t.shape() == Shape{1, 3, 1, 2});
  const float* d = t.data<float>();
  const std::vector<float> want = {9, 39, 9, 24, 54, 114};  // c0: 10-1, 40-1; c1: (20-2)/2, ...
  for (int i = 0; i < 6; ++i) CHECK(d[i] == Approx(want[i]));

  p.invert = true;
  p.mean = {0, 0, 0};
  p.scale = {1.0f / 255, 1.0f / 255, 1.0f / 255};
  t = to_nchw(img, p);
  CHECK(t.data<float>()[0] == Approx(245.0 / 255));
}

TEST_CASE("preprocess_image: short side, centre crop, BGR minus mean, NCHW", "[image]") {
  // 8x4 image whose red channel is the column index, green the row, blue 100.
  Image img = make_image(8, 4, 3, std::vector<float>(8 * 4 * 3));
  for (int y = 0; y < 4; ++y) {
    for (int x = 0; x < 8; ++x) {
      img.at(x, y, 0) = static_cast<float>(x);
      img.at(x, y, 1) = static_cast<float>(y);
      img.at(x, y, 2) = 100;
    }
  }
  Preprocess p;
  p.resize = ResizeMode::kShortSide;
  p.resize_size = 4;  // no resampling: short side already 4
  p.crop_width = 2;
  p.crop_height = 2;
  p.color = ColorOrder::kBGR;
  p.mean = {100, 1, 0};  // in B, G, R order
  auto t = preprocess_image(img, p);
  REQUIRE(t.ok());
  REQUIRE(t->shape() == Shape{1, 3, 2, 2});
  const float* d = t->data<float>();
  // Crop offsets x0 = 3, y0 = 1. Channel 0 is blue - 100, 1 is green - 1, 2 is red.
  const std::vector<float> want = {0, 0, 0, 0, 0, 0, 1, 1, 3, 4, 3, 4};
  for (int i = 0; i < 12; ++i) CHECK(d[i] == Approx(want[i]));
}

TEST_CASE("preprocess_image: exact resize to one gray channel", "[image]") {
  const Image img = make_image(4, 4, 3, std::vector<float>(4 * 4 * 3, 255.0f));
  Preprocess p;
  p.resize = ResizeMode::kExact;
  p.crop_width = 28;
  p.crop_height = 28;
  p.color = ColorOrder::kGray;
  p.scale = {1.0f / 255, 1, 1};
  auto t = preprocess_image(img, p);
  REQUIRE(t.ok());
  REQUIRE(t->shape() == Shape{1, 1, 28, 28});
  for (int64_t i = 0; i < t->size(); ++i) REQUIRE(t->data<float>()[i] == Approx(1.0f).margin(1e-5));
}

TEST_CASE("preprocess_image rejects impossible settings", "[image]") {
  const Image img = make_image(4, 4, 3, std::vector<float>(4 * 4 * 3));
  Preprocess p;
  auto no_size = preprocess_image(img, p);
  REQUIRE_FALSE(no_size.ok());
  CHECK(no_size.status().code() == StatusCode::kInvalidArgument);
  p.crop_width = 10;
  p.crop_height = 5;
  p.resize_size = 4;
  auto too_big = preprocess_image(img, p);
  REQUIRE_FALSE(too_big.ok());
  CHECK(too_big.status().message().find("larger") != std::string::npos);
  auto not_rgb = preprocess_image(make_image(2, 2, 1, {0, 0, 0, 0}), p);
  REQUIRE_FALSE(not_rgb.ok());
}

TEST_CASE("chelsea.png preprocesses as scikit-image does (if fetched)", "[image]") {
  const std::string path = std::string(GLINT_MODELS_DIR) + "/images/chelsea.png";
  if (!fs::exists(path)) {
    WARN("skipped: " << path << " is missing (run tools/fetch-models.sh)");
    return;
  }
  auto img = decode_image(path);
  REQUIRE(img.ok());
  REQUIRE(img->width == 451);
  REQUIRE(img->height == 300);
  CHECK(img->at(0, 0, 0) == 143);
  CHECK(img->at(0, 0, 1) == 120);
  CHECK(img->at(0, 0, 2) == 104);
  CHECK(img->at(450, 299, 0) == 162);

  auto configs = load_model_configs(models_json_path());
  REQUIRE(configs.ok());
  auto cfg = find_model_config(*configs, std::string(GLINT_MODELS_DIR) + "/squeezenet1.1-fp16.onnx");
  REQUIRE(cfg.ok());
  auto t = preprocess_image(*img, cfg->preprocess);
  REQUIRE(t.ok());
  REQUIRE(t->shape() == Shape{1, 3, 224, 224});
  // Reference: resize(img, (256, 385), anti_aliasing=True) → [16:240, 80:304],
  // BGR minus [104, 117, 123], NCHW.
  const float* d = t->data<float>();
  const int64_t plane = 224 * 224;
  const double expected_mean[3] = {-30.4033, -11.322, 23.3916};
  for (int c = 0; c < 3; ++c) {
    double sum = 0;
    for (int64_t i = 0; i < plane; ++i) sum += d[c * plane + i];
    CHECK(sum / plane == Approx(expected_mean[c]).margin(1e-3));
  }
  CHECK(d[0] == Approx(5.1516).margin(1e-3));                          // [0,0,0]
  CHECK(d[2 * plane + 100 * 224 + 50] == Approx(-50.5525).margin(1e-3));  // [2,100,50]
  CHECK(d[1 * plane + 223 * 224 + 223] == Approx(50.1926).margin(1e-3));  // [1,223,223]
}

TEST_CASE("coffee.png preprocesses as scikit-image does (if fetched)", "[image]") {
  const std::string path = std::string(GLINT_MODELS_DIR) + "/images/coffee.png";
  if (!fs::exists(path)) {
    WARN("skipped: " << path << " is missing (run tools/fetch-models.sh)");
    return;
  }
  Preprocess p;
  p.resize_size = 256;
  p.crop_width = p.crop_height = 224;
  p.color = ColorOrder::kBGR;
  p.mean = {104, 117, 123};
  auto t = load_and_preprocess(path, p);
  REQUIRE(t.ok());
  const float* d = t->data<float>();
  const int64_t plane = 224 * 224;
  const double expected_mean[3] = {-54.8169, -37.5501, 32.115};
  for (int c = 0; c < 3; ++c) {
    double sum = 0;
    for (int64_t i = 0; i < plane; ++i) sum += d[c * plane + i];
    CHECK(sum / plane == Approx(expected_mean[c]).margin(1e-3));
  }
  CHECK(d[0] == Approx(-79.9904).margin(1e-3));
  CHECK(d[2 * plane + 100 * 224 + 50] == Approx(-16.5955).margin(1e-3));
}

// ----------------------------------------------------------------- labels --

TEST_CASE("parse_labels reads index,name lines whose names contain commas", "[image][labels]") {
  auto l = parse_labels("0,tench, Tinca tinca\r\n1,goldfish\r\n\r\n3,great white shark, white shark\n");
  REQUIRE(l.ok());
  REQUIRE(l->size() == 4);
  CHECK((*l)[0] == "tench, Tinca tinca");
  CHECK((*l)[1] == "goldfish");
  CHECK((*l)[2].empty());
  CHECK((*l)[3] == "great white shark, white shark");
}

TEST_CASE("parse_labels reads one name per line", "[image][labels]") {
  auto l = parse_labels("\xEF\xBB\xBF" "cat\ndog, hound\n7 seas\n\n");
  REQUIRE(l.ok());
  REQUIRE(l->size() == 3);
  CHECK((*l)[0] == "cat");
  CHECK((*l)[1] == "dog, hound");
  CHECK((*l)[2] == "7 seas");
}

TEST_CASE("parse_labels rejects empty files and repeated indices", "[image][labels]") {
  auto empty = parse_labels("\n\n", "x.txt");
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.status().message().find("x.txt") != std::string::npos);
  auto twice = parse_labels("0,a\n1,b\n0,c\n", "y.txt");
  REQUIRE_FALSE(twice.ok());
  CHECK(twice.status().message().find("y.txt:3") != std::string::npos);
  auto missing = load_labels("/nonexistent/labels.txt");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == StatusCode::kIoError);
}

TEST_CASE("imagenet-labels.txt has the 1000 classes (if fetched)", "[image][labels]") {
  const std::string path = std::string(GLINT_MODELS_DIR) + "/imagenet-labels.txt";
  if (!fs::exists(path)) {
    WARN("skipped: " << path << " is missing (run tools/fetch-models.sh)");
    return;
  }
  auto l = load_labels(path);
  REQUIRE(l.ok());
  REQUIRE(l->size() == 1000);
  CHECK((*l)[0] == "tench, Tinca tinca");
  CHECK((*l)[285] == "Egyptian cat");
  CHECK((*l)[967] == "espresso");
}

// ------------------------------------------------------------ models.json --

TEST_CASE("models/models.json describes SqueezeNet and MNIST", "[image][config]") {
  auto configs = load_model_configs(models_json_path());
  REQUIRE(configs.ok());

  auto sq = find_model_config(*configs, "models/data/squeezenet1.1-fp16.onnx");
  REQUIRE(sq.ok());
  CHECK(sq->input_name == "data_0");
  CHECK(sq->input_shape == Shape{1, 3, 224, 224});
  CHECK(sq->input_dtype == DataType::kFloat16);
  CHECK(sq->output_name == "softmaxout_1");
  CHECK(sq->output_softmaxed);
  CHECK(sq->preprocess.resize == ResizeMode::kShortSide);
  CHECK(sq->preprocess.resize_size == 256);
  CHECK(sq->preprocess.crop_width == 224);
  CHECK(sq->preprocess.crop_height == 224);
  CHECK(sq->preprocess.color == ColorOrder::kBGR);
  CHECK(sq->preprocess.mean == std::array<float, 3>{104, 117, 123});
  CHECK(sq->preprocess.scale == std::array<float, 3>{1, 1, 1});
  CHECK(sq->labels_file == "imagenet-labels.txt");
  CHECK(resolve_labels_path(*sq, "models/data/squeezenet1.1-fp16.onnx") == "models/data/imagenet-labels.txt");

  auto mn = find_model_config(*configs, "/somewhere/else/models/data/mnist/model.onnx");
  REQUIRE(mn.ok());
  CHECK(mn->input_name == "Input3");
  CHECK(mn->input_shape == Shape{1, 1, 28, 28});
  CHECK(mn->input_dtype == DataType::kFloat32);
  CHECK(mn->output_name == "Plus214_Output_0");
  CHECK_FALSE(mn->output_softmaxed);
  CHECK(mn->preprocess.color == ColorOrder::kGray);
  CHECK(mn->preprocess.resize == ResizeMode::kExact);
  CHECK(mn->preprocess.scale[0] == Approx(1.0 / 255));
  CHECK(mn->labels.size() == 10);
  CHECK(mn->labels_file.empty());
  CHECK(resolve_labels_path(*mn, "models/data/mnist/model.onnx").empty());

  // A bare file name matches by name when only one entry has it.
  auto bare = find_model_config(*configs, "squeezenet1.1-fp16.onnx");
  REQUIRE(bare.ok());
  CHECK(bare->name == "squeezenet1.1-fp16");
  // A copy elsewhere under the same file name.
  auto moved = find_model_config(*configs, "/tmp/x/model.onnx");
  REQUIRE(moved.ok());
  CHECK(moved->name == "mnist");

  auto unknown = find_model_config(*configs, "models/data/resnet50.onnx");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.status().message().find("resnet50.onnx") != std::string::npos);
  CHECK(unknown.status().message().find("squeezenet1.1-fp16.onnx") != std::string::npos);
}

TEST_CASE("locate_models_json finds models/models.json from a model under models/data", "[image][config]") {
  const std::string found = locate_models_json(std::string(GLINT_SOURCE_DIR) + "/models/data/mnist/model.onnx");
  REQUIRE_FALSE(found.empty());
  CHECK(fs::equivalent(found, models_json_path()));
}

TEST_CASE("models.json errors are clear", "[image][config]") {
  auto missing = load_model_configs("/nonexistent/models.json");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == StatusCode::kIoError);
  CHECK(missing.status().message().find("/nonexistent/models.json") != std::string::npos);

  auto malformed = parse_model_configs("{\"models\": [ {\"file\": }", "bad.json");
  REQUIRE_FALSE(malformed.ok());
  CHECK(malformed.status().message().find("bad.json") != std::string::npos);
  CHECK(malformed.status().message().find("malformed JSON") != std::string::npos);

  auto not_models = parse_model_configs("[1, 2]", "list.json");
  REQUIRE_FALSE(not_models.ok());
  CHECK(not_models.status().message().find("\"models\"") != std::string::npos);

  auto ok = parse_model_configs(kMinimalEntry);
  REQUIRE(ok.ok());
  CHECK(ok->at(0).name == "m");
  CHECK(ok->at(0).preprocess.antialias);

  std::string bad_color = kMinimalEntry;
  bad_color.replace(bad_color.find("\"RGB\""), 5, "\"CMYK\"");
  auto color = parse_model_configs(bad_color, "c.json");
  REQUIRE_FALSE(color.ok());
  CHECK(color.status().message().find("models[0].preprocess.color") != std::string::npos);

  std::string bad_shape = kMinimalEntry;
  bad_shape.replace(bad_shape.find("[1,3,4,4]"), 9, "[1,3,5,4]");
  auto shape = parse_model_configs(bad_shape);
  REQUIRE_FALSE(shape.ok());
  CHECK(shape.status().message().find("does not match") != std::string::npos);

  std::string bad_mean = kMinimalEntry;
  bad_mean.replace(bad_mean.find("\"crop\""), 6, "\"mean\": [1, 2], \"crop\"");
  auto mean = parse_model_configs(bad_mean);
  REQUIRE_FALSE(mean.ok());
  CHECK(mean.status().message().find("mean") != std::string::npos);

  std::string no_output = kMinimalEntry;
  no_output.replace(no_output.find(", \"output\": {\"name\": \"y\"}"), 25, "");
  auto output = parse_model_configs(no_output);
  REQUIRE_FALSE(output.ok());
  CHECK(output.status().message().find("output") != std::string::npos);
}
