// CPU kernels for spectral, RoiAlign, text and random ops, checked against
// naive references written here (a direct DFT sum, exact bilinear sampling of
// a linear ramp, hand-counted n-grams) and, for random ops, by range.
#include <catch2/catch.hpp>

#include <cmath>
#include <complex>
#include <limits>
#include <string>
#include <vector>

#include "engine/cpu/kernels.h"
#include "engine/registry/op_table.h"
#include "test/unit/cpu_test_util.h"

using namespace glint;
using namespace glint::test;

namespace {


Tensor S(const Shape& s, const std::vector<std::string>& v) {
  Tensor t(DataType::kString, s);
  t.strings() = v;
  return t;
}

// The shared runner and checker (cpu_test_util.h); here the infer function
// (given the inputs as constants) must match the kernel where it knows the
// whole shape.
Status run(ir::Node node, const std::vector<const Tensor*>& in, std::vector<Tensor>* out) {
  return run_cpu_kernel(std::move(node), in, out, /*exact_shapes=*/false);
}
std::vector<Tensor> run_ok(const ir::Node& node, const std::vector<const Tensor*>& in) {
  return run_cpu_kernel_ok(node, in, /*exact_shapes=*/false);
}
void check_values(const Tensor& got, DataType dt, const Shape& shape, const std::vector<double>& want,
                  double tol = 1e-4) {
  check_tensor_values(got, dt, shape, want, tol);
}

// Direct DFT of a complex sequence zero-padded / truncated to `len`.
std::vector<std::complex<double>> naive_dft(const std::vector<std::complex<double>>& x, size_t len, bool inverse) {
  std::vector<std::complex<double>> y(len);
  const double pi = std::acos(-1.0), sign = inverse ? 1 : -1;
  for (size_t k = 0; k < len; ++k) {
    for (size_t n = 0; n < std::min(len, x.size()); ++n)
      y[k] += x[n] * std::polar(1.0, sign * 2 * pi * double(k) * double(n) / double(len));
    if (inverse) y[k] /= double(len);
  }
  return y;
}

std::vector<double> interleave(const std::vector<std::complex<double>>& v, size_t count) {
  std::vector<double> out;
  for (size_t i = 0; i < count; ++i) { out.push_back(v[i].real()); out.push_back(v[i].imag()); }
  return out;
}

}  // namespace

TEST_CASE("DFT matches a direct sum (real, onesided, inverse, dft_length)", "[cpu]") {
  const std::vector<float> sig = {1.f, -2.f, 0.5f, 3.f, 0.25f};
  std::vector<std::complex<double>> cx(sig.begin(), sig.end());
  Tensor x = F({1, 5, 1}, sig);
  auto full = run_ok(make_node("DFT", 17, 1, {{"axis", ai(1)}}), {&x});
  check_values(full[0], DataType::kFloat32, {1, 5, 2}, interleave(naive_dft(cx, 5, false), 5));

  auto half = run_ok(make_node("DFT", 17, 1, {{"onesided", ai(1)}}), {&x});
  check_values(half[0], DataType::kFloat32, {1, 3, 2}, interleave(naive_dft(cx, 5, false), 3));

  Tensor len = I64({}, {8});
  auto padded = run_ok(make_node("DFT", 17, 2), {&x, &len});
  check_values(padded[0], DataType::kFloat32, {1, 8, 2}, interleave(naive_dft(cx, 8, false), 8));

  // The inverse of the forward transform gives the signal back.
  auto back = run_ok(make_node("DFT", 17, 1, {{"inverse", ai(1)}}), {&full[0]});
  check_values(back[0], DataType::kFloat32, {1, 5, 2}, {1, 0, -2, 0, 0.5, 0, 3, 0, 0.25, 0});
}

TEST_CASE("DFT along axis 2 of a complex batch; last axis is an error", "[cpu]") {
  // x[b][r][n] = complex(b + n, r - n), shape [2,2,3,2], transform over n.
  Tensor x(DataType::kFloat32, {2, 2, 3, 2});
  std::vector<double> want;
  for (int b = 0; b < 2; ++b)
    for (int r = 0; r < 2; ++r) {
      std::vector<std::complex<double>> row;
      for (int n = 0; n < 3; ++n) {
        x.set_from_double(((b * 2 + r) * 3 + n) * 2, b + n);
        x.set_from_double(((b * 2 + r) * 3 + n) * 2 + 1, r - n);
        row.push_back({double(b + n), double(r - n)});
      }
      auto y = interleave(naive_dft(row, 3, false), 3);
      want.insert(want.end(), y.begin(), y.end());
    }
  auto out = run_ok(make_node("DFT", 17, 1, {{"axis", ai(2)}}), {&x});
  check_values(out[0], DataType::kFloat32, {2, 2, 3, 2}, want);

  std::vector<Tensor> bad;
  Status st = run(make_node("DFT", 17, 1, {{"axis", ai(3)}}), {&x}, &bad);
  REQUIRE_FALSE(st.ok());
  CHECK(st.message().find("n_DFT") != std::string::npos);
}

TEST_CASE("STFT frames, windows and transforms each frame", "[cpu]") {
  std::vector<float> sig = {0.f, 1.f, 2.f, -1.f, 0.5f, 3.f, -2.f, 1.f};
  Tensor x = F({1, 8, 1}, sig);
  Tensor step = I64({}, {2});
  Tensor window = F({4}, {0.f, 0.5f, 1.f, 0.5f});
  auto out = run_ok(make_node("STFT", 17, 3), {&x, &step, &window});
  std::vector<double> want;
  for (int f = 0; f < 3; ++f) {
    std::vector<std::complex<double>> frame;
    for (int n = 0; n < 4; ++n) frame.push_back(sig[f * 2 + n] * window.get_as_double(n));
    auto y = interleave(naive_dft(frame, 4, false), 3);
    want.insert(want.end(), y.begin(), y.end());
  }
  check_values(out[0], DataType::kFloat32, {1, 3, 3, 2}, want);

  Tensor flen = I64({}, {4});
  auto plain = run_ok(make_node("STFT", 17, 4, {{"onesided", ai(0)}}), {&x, &step, nullptr, &flen});
  REQUIRE(plain[0].shape() == Shape{1, 3, 4, 2});
  auto y0 = interleave(naive_dft({0, 1, 2, -1}, 4, false), 4);
  for (int i = 0; i < 8; ++i) CHECK(plain[0].get_as_double(i) == Approx(y0[i]).margin(1e-5));
}

TEST_CASE("MelWeightMatrix is triangular filters on mel-spaced bins", "[cpu]") {
  Tensor bins = I64({}, {2}), dft_len = I64({}, {16}), rate = I64({}, {16000});
  Tensor lo = F({}, {0.f}), hi = F({}, {8000.f});
  auto out = run_ok(make_node("MelWeightMatrix", 17, 5), {&bins, &dft_len, &rate, &lo, &hi});
  REQUIRE(out[0].shape() == Shape{9, 2});
  // Edges, computed the reference way: 4 points evenly spaced in mel.
  auto mel = [](double hz) { return 2595 * std::log10(1 + hz / 700); };
  std::vector<int> edge;
  for (int i = 0; i < 4; ++i) {
    double m = mel(0) + i * (mel(8000) - mel(0)) / 4;
    edge.push_back(int(std::floor(17 * 700 * (std::pow(10, m / 2595) - 1) / 16000)));
  }
  for (int j = 0; j < 9; ++j)
    for (int i = 0; i < 2; ++i) {
      double w = 0;
      if (j >= edge[i] && j <= edge[i + 1] && edge[i + 1] > edge[i]) w = double(j - edge[i]) / (edge[i + 1] - edge[i]);
      if (edge[i + 1] == edge[i] && j == edge[i]) w = 1;
      if (j >= edge[i + 1] && j < edge[i + 2]) w = double(edge[i + 2] - j) / (edge[i + 2] - edge[i + 1]);
      INFO("bin " << j << " mel " << i);
      CHECK(out[0].get_as_double(j * 2 + i) == Approx(w).margin(1e-6));
    }
}

TEST_CASE("RoiAlign samples a linear ramp exactly (both pixel conventions)", "[cpu]") {
  // X[y][x] = 4y + x: bilinear sampling of it is exact, so each output is the
  // ramp at the mean sample point.
  Tensor X(DataType::kFloat32, {1, 1, 4, 4});
  for (int i = 0; i < 16; ++i) X.set_from_double(i, i);
  Tensor rois = F({1, 4}, {0.f, 0.f, 3.f, 3.f});
  Tensor idx = I64({1}, {0});
  Attrs a = {{"output_height", ai(2)}, {"output_width", ai(2)}, {"sampling_ratio", ai(1)},
             {"coordinate_transformation_mode", as("output_half_pixel")}};
  auto out = run_ok(make_node("RoiAlign", 16, 3, a), {&X, &rois, &idx});
  // Bins of 1.5 from 0: centres 0.75 and 2.25.
  auto ramp = [](double y, double x) { return 4 * y + x; };
  check_values(out[0], DataType::kFloat32, {1, 1, 2, 2},
               {ramp(0.75, 0.75), ramp(0.75, 2.25), ramp(2.25, 0.75), ramp(2.25, 2.25)});
  a["coordinate_transformation_mode"] = as("half_pixel");
  auto hp = run_ok(make_node("RoiAlign", 16, 3, a), {&X, &rois, &idx});
  // Shifted by -0.5: centres 0.25 and 1.75.
  check_values(hp[0], DataType::kFloat32, {1, 1, 2, 2},
               {ramp(0.25, 0.25), ramp(0.25, 1.75), ramp(1.75, 0.25), ramp(1.75, 1.75)});

  Tensor bad_idx = I64({1}, {3});
  std::vector<Tensor> bad;
  Status st = run(make_node("RoiAlign", 16, 3, a), {&X, &rois, &bad_idx}, &bad);
  REQUIRE_FALSE(st.ok());
  CHECK(st.message().find("n_RoiAlign") != std::string::npos);
}

TEST_CASE("RoiAlign refuses a sampling grid it could not finish, and gives NaN for a NaN roi", "[cpu][bad-input]") {
  Tensor X(DataType::kFloat32, {1, 2, 4, 4});
  for (int i = 0; i < 32; ++i) X.set_from_double(i, i);
  Tensor idx = I64({1}, {0});
  Tensor rois = F({1, 4}, {0.f, 0.f, 3.f, 3.f});
  auto refused = [&](Attrs a, const Tensor& r, const std::string& says) {
    std::vector<Tensor> out;
    Status st = run(make_node("RoiAlign", 16, 3, a), {&X, &r, &idx}, &out);
    REQUIRE_FALSE(st.ok());
    INFO(st.message());
    CHECK(st.message().find(says) != std::string::npos);
  };
  // The fuzzer's case: 4194303^2 samples a bin (it ran for hours).
  refused({{"sampling_ratio", ai(4194303)}}, rois, "more than 2^28: sampling_ratio or the rois are out of range");
  refused({{"sampling_ratio", ai(-1)}}, rois, "sampling_ratio must be >= 0, given -1");
  // Adaptive sampling over a roi a billion pixels wide.
  refused({}, F({1, 4}, {0.f, 0.f, 1e9f, 1e9f}), "more than 2^28");
  // half_pixel keeps a negative width: no column, so no sample, however tall
  // (the fuzzer's case: 6e20 rows, once cast to an integer). Zeros, as the
  // ONNX reference gives for an empty grid.
  Tensor backwards_roi = F({1, 4}, {3.f, 0.f, 0.f, 6e20f});
  auto flat = run_ok(make_node("RoiAlign", 16, 3, {{"output_height", ai(1)}, {"output_width", ai(1)}}),
                     {&X, &backwards_roi, &idx});
  check_values(flat[0], DataType::kFloat32, {1, 2, 1, 1}, {0, 0});
  // A roi with a NaN corner samples nowhere: NaN out, no crash.
  Tensor nan_roi = F({1, 4}, {0.f, std::nanf(""), 3.f, 3.f});
  auto out = run_ok(make_node("RoiAlign", 16, 3, {{"output_height", ai(2)}, {"output_width", ai(2)}}), {&X, &nan_roi, &idx});
  REQUIRE(out[0].shape() == Shape{1, 2, 2, 2});
  for (int64_t i = 0; i < out[0].size(); ++i) CHECK(std::isnan(out[0].get_as_double(i)));
}

TEST_CASE("StringNormalizer filters stopwords and changes case", "[cpu]") {
  Tensor x = S({4}, {"monday", "Tuesday", "MONDAY", "wed"});
  auto out = run_ok(make_node("StringNormalizer", 10, 1,
                              {{"stopwords", ass({"monday"})}, {"case_change_action", as("UPPER")}}),
                    {&x});
  REQUIRE(out[0].shape() == Shape{2});
  CHECK(out[0].strings() == std::vector<std::string>{"TUESDAY", "WED"});
  auto sens = run_ok(make_node("StringNormalizer", 10, 1,
                               {{"stopwords", ass({"monday"})}, {"is_case_sensitive", ai(1)}}),
                     {&x});
  CHECK(sens[0].strings() == std::vector<std::string>{"Tuesday", "MONDAY", "wed"});
  Tensor all = S({1, 2}, {"monday", "Monday"});
  auto empty = run_ok(make_node("StringNormalizer", 10, 1, {{"stopwords", ass({"monday"})}}), {&all});
  REQUIRE(empty[0].shape() == Shape{1, 1});
  CHECK(empty[0].strings() == std::vector<std::string>{""});
}

TEST_CASE("TfIdfVectorizer counts uni- and skip-bigrams", "[cpu]") {
  // Pool: unigrams 1, 3; bigrams (1,2), (1,1). Input 1 2 1 2 3:
  // 1 twice, 3 once, (1,2) twice (skip 0), (1,1) once (positions 0, 2, skip 1).
  Tensor x = I64({5}, {1, 2, 1, 2, 3});
  Attrs a = {{"min_gram_length", ai(1)}, {"max_gram_length", ai(2)}, {"max_skip_count", ai(1)},
             {"mode", as("TF")}, {"ngram_counts", ais({0, 2})}, {"ngram_indexes", ais({0, 1, 2, 3})},
             {"pool_int64s", ais({1, 3, 1, 2, 1, 1})}};
  auto tf = run_ok(make_node("TfIdfVectorizer", 9, 1, a), {&x});
  check_values(tf[0], DataType::kFloat32, {4}, {2, 1, 2, 1});
  a["weights"] = afs({1.f, 1.f, 0.5f, 2.f});
  a["mode"] = as("TFIDF");
  check_values(run_ok(make_node("TfIdfVectorizer", 9, 1, a), {&x})[0], DataType::kFloat32, {4}, {2, 1, 1, 2});
  a["mode"] = as("IDF");
  check_values(run_ok(make_node("TfIdfVectorizer", 9, 1, a), {&x})[0], DataType::kFloat32, {4}, {1, 1, 0.5, 2});

  // Strings, two rows, bigrams only.
  Tensor s = S({2, 3}, {"a", "b", "a", "a", "b", "c"});
  Attrs b = {{"min_gram_length", ai(2)}, {"max_gram_length", ai(2)}, {"mode", as("TF")},
             {"ngram_counts", ais({0, 0})}, {"ngram_indexes", ais({1, 0})},
             {"pool_strings", ass({"a", "b", "b", "a"})}};
  check_values(run_ok(make_node("TfIdfVectorizer", 9, 1, b), {&s})[0], DataType::kFloat32, {2, 2}, {1, 1, 0, 1});
}

TEST_CASE("Random ops: seeded, in range, right dtype and shape", "[cpu]") {
  Attrs u = {{"shape", ais({3, 4})}, {"low", af(2.f)}, {"high", af(3.f)}, {"seed", af(7.f)}};
  auto a = run_ok(make_node("RandomUniform", 1, 0, u), {});
  auto b = run_ok(make_node("RandomUniform", 1, 0, u), {});
  REQUIRE(a[0].shape() == Shape{3, 4});
  for (int64_t i = 0; i < a[0].size(); ++i) {
    CHECK(a[0].get_as_double(i) >= 2.0);
    CHECK(a[0].get_as_double(i) <= 3.0);
    CHECK(a[0].get_as_double(i) == b[0].get_as_double(i));  // same seed, same values
  }
  Tensor like(DataType::kFloat64, {2000});
  auto n = run_ok(make_node("RandomNormalLike", 1, 1, {{"mean", af(5.f)}, {"seed", af(1.f)}}), {&like});
  REQUIRE(n[0].dtype() == DataType::kFloat64);
  double mean = 0;
  for (int64_t i = 0; i < n[0].size(); ++i) mean += n[0].get_as_double(i) / n[0].size();
  CHECK(mean == Approx(5.0).margin(0.15));

  Tensor p = F({4}, {0.f, 1.f, 0.f, 1.f});
  auto bern = run_ok(make_node("Bernoulli", 15, 1, {{"dtype", ai(9)}}), {&p});
  REQUIRE(bern[0].dtype() == DataType::kBool);
  check_values(bern[0], DataType::kBool, {4}, {0, 1, 0, 1});

  Tensor logits = F({2, 3}, {0.f, -1e9f, -1e9f, -1e9f, -1e9f, 0.f});
  auto m = run_ok(make_node("Multinomial", 7, 1, {{"sample_size", ai(5)}, {"seed", af(3.f)}}), {&logits});
  check_values(m[0], DataType::kInt32, {2, 5}, {0, 0, 0, 0, 0, 2, 2, 2, 2, 2});

  // Seeds no int64 holds (the fuzzer's Bernoulli had seed NaN) still seed, repeatably.
  for (float seed : {std::nanf(""), 1e30f, -std::numeric_limits<float>::infinity()}) {
    INFO("seed " << seed);
    Attrs odd = {{"shape", ais({8})}, {"seed", af(seed)}};
    auto first = run_ok(make_node("RandomUniform", 1, 0, odd), {});
    auto again = run_ok(make_node("RandomUniform", 1, 0, odd), {});
    for (int64_t i = 0; i < first[0].size(); ++i) CHECK(first[0].get_as_double(i) == again[0].get_as_double(i));
  }
}

TEST_CASE("Dropout in training mode zeroes or scales each element", "[cpu]") {
  Tensor x = F({1000}, std::vector<float>(1000, 3.f));
  Tensor ratio = F({}, {0.25f});
  Tensor train(DataType::kBool, {});
  train.set_from_double(0, 1);
  ir::Node node = make_node("Dropout", 13, 3, {{"seed", af(0.f)}}, 2);
  std::vector<Tensor> out(2);
  REQUIRE(cpu::dropout_training(node, {&x, &ratio, &train}, out).ok());
  REQUIRE(out[1].dtype() == DataType::kBool);
  int kept = 0;
  for (int64_t i = 0; i < 1000; ++i) {
    const double y = out[0].get_as_double(i), k = out[1].get_as_double(i);
    CHECK(y == Approx(k ? 4.0 : 0.0));
    kept += k != 0;
  }
  CHECK(kept > 650);
  CHECK(kept < 850);
  // Not training: the identity, mask all ones.
  Tensor off(DataType::kBool, {});
  std::vector<Tensor> inf(2);
  REQUIRE(cpu::dropout_training(node, {&x, &ratio, &off}, inf).ok());
  CHECK(inf[0].get_as_double(5) == 3.0);
  CHECK(inf[1].get_as_double(5) == 1.0);
}

TEST_CASE("integer results past their dtype's range wrap, and NaN is 0, without undefined casts", "[cpu]") {
  // Found by the fuzzer: an int8 Pow of 2^7 cast 128 to int8 directly.
  Tensor x(DataType::kInt8, {1}), e(DataType::kInt8, {1});
  x.data<int8_t>()[0] = 2, e.data<int8_t>()[0] = 7;
  check_values(run_ok(make_node("Pow", 15, 2), {&x, &e})[0], DataType::kInt8, {1}, {-128});
  Tensor t(DataType::kInt8, {4});
  for (int64_t i = 0; i < 4; ++i) t.set_from_double(i, std::vector<double>{-129, std::nan(""), 1e30, -1e30}[i]);
  CHECK(t.data<int8_t>()[0] == 127);
  CHECK(t.data<int8_t>()[1] == 0);
  CHECK(t.data<int8_t>()[2] == -1);  // saturated to INT64_MAX, whose low byte is 0xff
  CHECK(t.data<int8_t>()[3] == 0);   // INT64_MIN's low byte
  Tensor u(DataType::kUint64, {2});
  u.set_from_double(0, 1e30), u.set_from_double(1, -1);
  CHECK(u.data<uint64_t>()[0] == UINT64_MAX);
  CHECK(u.data<uint64_t>()[1] == UINT64_MAX);  // -1 wraps
}
