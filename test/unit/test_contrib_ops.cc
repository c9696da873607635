// com.microsoft ops (engine/cpu/contrib.cc) against references written here
// from onnxruntime's ContribOperators.md formulas, element by element.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "test/unit/cpu_test_util.h"
#include "test/unit/random_util.h"

using namespace glint;
using namespace glint::test;

namespace {


std::vector<double> as_doubles(const std::vector<float>& v) { return {v.begin(), v.end()}; }

}  // namespace

TEST_CASE("contrib: the GELU family", "[cpu][contrib]") {
  const std::vector<float> xv = random_floats(24, 3, -3.f, 3.f), bv = random_floats(4, 4);
  Tensor x = F({2, 3, 4}, xv), bias = F({4}, bv);
  auto gelu = [](double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); };
  auto fast = [](double v) { return 0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v))); };
  std::vector<double> want_gelu, want_bias_gelu, want_fast, want_quick, want_tanh;
  for (size_t i = 0; i < xv.size(); ++i) {
    const double v = xv[i], vb = v + bv[i % 4];
    want_gelu.push_back(gelu(v));
    want_tanh.push_back(fast(v));
    want_bias_gelu.push_back(gelu(vb));
    want_fast.push_back(fast(vb));
    want_quick.push_back(v / (1 + std::exp(-1.5 * v)));
  }
  check_tensor_values(run_cpu_kernel_ok(ms_node("Gelu", 1), {&x}, false)[0], DataType::kFloat32, {2, 3, 4}, want_gelu, 1e-5);
  check_tensor_values(run_cpu_kernel_ok(ms_node("BiasGelu", 2), {&x, &bias}, false)[0], DataType::kFloat32, {2, 3, 4},
                      want_bias_gelu, 1e-5);
  check_tensor_values(run_cpu_kernel_ok(ms_node("FastGelu", 2), {&x, &bias}, false)[0], DataType::kFloat32, {2, 3, 4},
                      want_fast, 1e-5);
  check_tensor_values(run_cpu_kernel_ok(ms_node("QuickGelu", 1, {{"alpha", af(1.5f)}}), {&x}, false)[0],
                      DataType::kFloat32, {2, 3, 4}, want_quick, 1e-5);
  Tensor bad = F({3}, {1, 2, 3});
  std::vector<Tensor> out;
  CHECK_FALSE(run_cpu_kernel(ms_node("BiasGelu", 2), {&x, &bad}, &out, false).ok());
  // ONNX Gelu (opset 20), both forms, on the same kernel.
  check_tensor_values(run_cpu_kernel_ok(make_node("Gelu", 20, 1), {&x}, false)[0], DataType::kFloat32, {2, 3, 4},
                      want_gelu, 1e-5);
  check_tensor_values(run_cpu_kernel_ok(make_node("Gelu", 20, 1, {{"approximate", as("tanh")}}), {&x}, false)[0],
                      DataType::kFloat32, {2, 3, 4}, want_tanh, 1e-5);
  Status s = run_cpu_kernel(make_node("Gelu", 20, 1, {{"approximate", as("erf")}}), {&x}, &out, false);
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(s.message(), Catch::Contains("approximate must be 'none' or 'tanh', given 'erf'"));
}

TEST_CASE("contrib: BiasAdd and FusedMatMul", "[cpu][contrib]") {
  const std::vector<float> xv = random_floats(12, 5), bv = random_floats(3, 6), sv = random_floats(12, 7);
  Tensor x = F({2, 2, 3}, xv), bias = F({3}, bv), skip = F({2, 2, 3}, sv);
  std::vector<double> want;
  for (size_t i = 0; i < xv.size(); ++i) want.push_back(double(xv[i]) + bv[i % 3] + sv[i]);
  check_tensor_values(run_cpu_kernel_ok(ms_node("BiasAdd", 3), {&x, &bias, &skip}, false)[0], DataType::kFloat32,
                      {2, 2, 3}, want, 1e-6);

  // Y = alpha * A^T * B^T for A [2, 3, 4] (transA) and B [5, 3] (transB).
  const std::vector<float> av = random_floats(24, 8), bmv = random_floats(15, 9);
  Tensor a = F({2, 3, 4}, av), b = F({5, 3}, bmv);
  std::vector<double> y;
  for (int m = 0; m < 2; ++m)
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 5; ++j) {
        double acc = 0;
        for (int k = 0; k < 3; ++k) acc += double(av[m * 12 + k * 4 + i]) * bmv[j * 3 + k];
        y.push_back(0.5 * acc);
      }
  auto fm = ms_node("FusedMatMul", 2, {{"alpha", af(0.5f)}, {"transA", ai(1)}, {"transB", ai(1)}});
  check_tensor_values(run_cpu_kernel_ok(fm, {&a, &b}, true)[0], DataType::kFloat32, {2, 4, 5}, y, 1e-5);
}

TEST_CASE("contrib: SkipLayerNormalization and the simplified (RMS) norms", "[cpu][contrib]") {
  const int64_t N = 2, S = 3, C = 8;
  const std::vector<float> xv = random_floats(N * S * C, 10), sv = random_floats(N * S * C, 11),
                           gv = random_floats(C, 12), betav = random_floats(C, 13), biasv = random_floats(C, 14);
  Tensor x = F({N, S, C}, xv), skip = F({N, S, C}, sv), gamma = F({C}, gv), beta = F({C}, betav), bias = F({C}, biasv);
  std::vector<double> ln, rms, sum, mean, inv, rms_inv, plain_rms;
  for (int64_t r = 0; r < N * S; ++r) {
    std::vector<double> row(C);
    double mu = 0, sq = 0, psq = 0;
    for (int64_t j = 0; j < C; ++j) {
      row[j] = double(xv[r * C + j]) + sv[r * C + j] + biasv[j];
      mu += row[j] / C;
      sq += row[j] * row[j] / C;
      psq += double(xv[r * C + j]) * xv[r * C + j] / C;
    }
    double var = 0;
    for (double v : row) var += (v - mu) * (v - mu) / C;
    const double i_ln = 1 / std::sqrt(var + 1e-6), i_rms = 1 / std::sqrt(sq + 1e-6), i_plain = 1 / std::sqrt(psq + 1e-5);
    mean.push_back(mu);
    inv.push_back(i_ln);
    rms_inv.push_back(i_rms);
    for (int64_t j = 0; j < C; ++j) {
      ln.push_back((row[j] - mu) * i_ln * gv[j] + betav[j]);
      rms.push_back(row[j] * i_rms * gv[j]);
      sum.push_back(row[j]);
      plain_rms.push_back(xv[r * C + j] * i_plain * gv[j]);
    }
  }
  auto sln = ms_node("SkipLayerNormalization", 5, {{"epsilon", af(1e-6f)}}, 4);
  auto out = run_cpu_kernel_ok(sln, {&x, &skip, &gamma, &beta, &bias}, true);
  check_tensor_values(out[0], DataType::kFloat32, {N, S, C}, ln, 1e-5);
  check_tensor_values(out[1], DataType::kFloat32, {N, S, 1}, mean, 1e-5);
  check_tensor_values(out[2], DataType::kFloat32, {N, S, 1}, inv, 1e-4);
  check_tensor_values(out[3], DataType::kFloat32, {N, S, C}, sum, 1e-6);

  auto ssln = ms_node("SkipSimplifiedLayerNormalization", 4, {{"epsilon", af(1e-6f)}}, 4);
  out = run_cpu_kernel_ok(ssln, {&x, &skip, &gamma, &bias}, true);
  check_tensor_values(out[0], DataType::kFloat32, {N, S, C}, rms, 1e-5);
  check_tensor_values(out[2], DataType::kFloat32, {N, S, 1}, rms_inv, 1e-4);
  check_tensor_values(out[3], DataType::kFloat32, {N, S, C}, sum, 1e-6);

  ir::Node simplified = make_node("SimplifiedLayerNormalization", 1, 2, {{"axis", ai(-1)}});
  check_tensor_values(run_cpu_kernel_ok(simplified, {&x, &gamma}, true)[0], DataType::kFloat32, {N, S, C}, plain_rms, 1e-5);

  Tensor short_gamma = F({4}, {1, 1, 1, 1});
  std::vector<Tensor> bad;
  Status s = run_cpu_kernel(sln, {&x, &skip, &short_gamma, &beta, &bias}, &bad, true);
  CHECK_FALSE(s.ok());
  CHECK_THAT(s.message(), Catch::Contains("gamma"));
}
