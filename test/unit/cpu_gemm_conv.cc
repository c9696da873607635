// The SIMD GEMM, im2col-packed conv and depthwise 3x3 kernels of engine/cpu
// against plain loops, on shapes that hit every edge (partial 6x8 tiles,
// widths not a multiple of 4, stride 2, asymmetric pads, few-row GEMMs), and
// the thread pool: the results are the same bits for 1 and 3 threads.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <random>
#include <thread>
#include <vector>

#include "engine/ops/fused_activation.h"
#include "engine/cpu/conv_winograd.h"
#include "engine/cpu/gemm.h"
#include "engine/cpu/kernels.h"
#include "engine/cpu/threadpool.h"
#include "engine/cpu/util.h"
#include "test/unit/cpu_test_util.h"
#include "test/unit/random_util.h"

namespace glint::test {
namespace {

// Restores the default thread count when a test ends.
struct Threads {
  explicit Threads(int n) { cpu::set_num_threads(n); }
  ~Threads() { cpu::set_num_threads(0); }
};

void gemm_ref(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
              int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double s = 0;
      for (int64_t k = 0; k < K; ++k)
        s += double(ta ? A[k * lda + i] : A[i * lda + k]) * double(tb ? B[j * ldb + k] : B[k * ldb + j]);
      C[i * ldc + j] = float(alpha * s + (beta == 0.f ? 0.0 : double(beta) * C[i * ldc + j]));
    }
}

Tensor conv_run(const Tensor& x, const Tensor& w, const Tensor* b, Attrs attrs) {
  std::vector<const Tensor*> in{&x, &w};
  if (b) in.push_back(b);
  return run_cpu_kernel_ok(make_node("Conv", 11, in.size(), std::move(attrs)), in, true)[0];
}


}  // namespace

TEST_CASE("cpu gemm: SIMD tiles, transposes, alpha/beta and few-row paths", "[cpu][gemm]") {
  struct Case { int64_t M, N, K; bool ta, tb; float alpha, beta; };
  const std::vector<Case> cases = {
      {1, 1, 1, false, false, 1.f, 0.f},   {2, 37, 19, false, false, 1.f, 0.f},
      {3, 41, 33, false, true, 0.5f, 1.f}, {6, 8, 16, false, false, 1.f, 0.f},
      {7, 9, 5, true, false, 1.f, 1.f},    {13, 17, 29, false, true, 2.f, 0.5f},
      {64, 100, 128, false, false, 1.f, 0.f}, {37, 250, 70, true, true, -1.f, 0.f},
      {1, 9, 70, false, true, 1.f, 0.f},   {2, 5, 100, true, true, 0.5f, 1.f},
      // Few rows against B^T in blocks of rows, on threads, the last block partial.
      {2, 1400, 400, false, true, 1.f, 1.f},
  };
  for (const Case& c : cases) {
    INFO("M=" << c.M << " N=" << c.N << " K=" << c.K << " ta=" << c.ta << " tb=" << c.tb);
    auto A = random_floats(c.M * c.K, 1), B = random_floats(c.K * c.N, 2), C0 = random_floats(c.M * c.N, 3);
    const int64_t lda = c.ta ? c.M : c.K, ldb = c.tb ? c.K : c.N;
    std::vector<float> want = C0, got1 = C0, got3 = C0;
    gemm_ref(c.ta, c.tb, c.M, c.N, c.K, c.alpha, A.data(), lda, B.data(), ldb, c.beta, want.data(), c.N);
    {
      Threads t(1);
      cpu::gemm(c.ta, c.tb, c.M, c.N, c.K, c.alpha, A.data(), lda, B.data(), ldb, c.beta, got1.data(), c.N);
    }
    {
      Threads t(3);
      cpu::gemm(c.ta, c.tb, c.M, c.N, c.K, c.alpha, A.data(), lda, B.data(), ldb, c.beta, got3.data(), c.N);
    }
    for (size_t i = 0; i < want.size(); ++i) {
      REQUIRE(std::fabs(got1[i] - want[i]) <= 1e-4f * (1.f + std::fabs(want[i])));
      REQUIRE(got1[i] == got3[i]);
    }
  }
}

TEST_CASE("cpu gemm: weights packed once give the same product as packed per call", "[cpu][gemm]") {
  struct Case { int64_t M, N, K; };
  // Few rows (the panel-streaming path) and tiles, N a whole number of
  // panels or not, K of 1 and odd.
  const std::vector<Case> cases = {{1, 8, 1}, {3, 13, 7}, {4, 16, 33}, {9, 24, 70}, {130, 40, 19}, {37, 250, 70}};
  for (const Case& c : cases) {
    INFO("M=" << c.M << " N=" << c.N << " K=" << c.K);
    auto A = random_floats(c.M * c.K, 1), B = random_floats(c.K * c.N, 2);
    const int64_t panels = (c.N + cpu::kGemmNr - 1) / cpu::kGemmNr;
    std::vector<float> packed(static_cast<size_t>(panels * c.K * cpu::kGemmNr));
    cpu::pack_b_panels(false, c.K, c.N, B.data(), c.N, 0, panels, packed.data());
    std::vector<float> want(c.M * c.N), got1(c.M * c.N, -1.f), got3(c.M * c.N, -1.f);
    gemm_ref(false, false, c.M, c.N, c.K, 1.f, A.data(), c.K, B.data(), c.N, 0.f, want.data(), c.N);
    {
      Threads t(1);
      cpu::gemm_prepacked(c.M, c.N, c.K, A.data(), c.K, packed.data(), got1.data(), c.N);
    }
    {
      Threads t(3);
      cpu::gemm_prepacked(c.M, c.N, c.K, A.data(), c.K, packed.data(), got3.data(), c.N);
    }
    for (size_t i = 0; i < want.size(); ++i) {
      REQUIRE(std::fabs(got1[i] - want[i]) <= 1e-4f * (1.f + std::fabs(want[i])));
      REQUIRE(got1[i] == got3[i]);
    }
  }
}

TEST_CASE("cpu MatMul: batched float products, broadcast batches and transposed operands", "[cpu][gemm]") {
  // Batches of products with at least 4 rows run in one parallel region
  // (matmul.cc: batched_float_product) when A's batches lie at one stride;
  // the others, one product at a time. Both against a double loop per batch,
  // and 1 vs 3 threads bit for bit.
  struct Case { Shape a, b; bool ta, tb; float alpha; };
  const std::vector<Case> cases = {
      {{2, 3, 5, 7}, {2, 3, 7, 9}, false, false, 1.f},  // equal batches
      {{4, 6, 8}, {8, 5}, false, false, 1.f},           // B one matrix for every batch
      {{1, 6, 8}, {3, 8, 5}, false, false, 1.f},        // A one matrix for every batch
      {{2, 1, 6, 8}, {1, 3, 8, 5}, false, false, 1.f},  // A's batches not at one stride
      {{3, 5, 8}, {3, 9, 8}, false, true, 1.f},         // transB (FusedMatMul)
      {{3, 8, 5}, {3, 8, 9}, true, false, 1.f},         // transA: one at a time
      {{2, 7, 8}, {2, 8, 4}, false, false, 0.25f},      // alpha: one at a time
      {{5, 3, 8}, {5, 8, 6}, false, false, 1.f},        // 3 rows: the few-row path
  };
  for (const Case& c : cases) {
    INFO("A " << shape_str(c.a) << " B " << shape_str(c.b) << " ta=" << c.ta << " tb=" << c.tb << " alpha=" << c.alpha);
    const Tensor a = Tensor::from_floats(c.a, random_floats(shape_size(c.a), 11));
    const Tensor b = Tensor::from_floats(c.b, random_floats(shape_size(c.b), 12));
    const bool fused = c.ta || c.tb || c.alpha != 1.f;
    const ir::Node node = fused ? ms_node("FusedMatMul", 2, {{"alpha", af(c.alpha)}, {"transA", ai(c.ta)}, {"transB", ai(c.tb)}})
                                : make_node("MatMul", 13, 2);
    Tensor got1, got3;
    {
      Threads t(1);
      got1 = run_cpu_kernel_ok(node, {&a, &b}, true)[0];
    }
    {
      Threads t(3);
      got3 = run_cpu_kernel_ok(node, {&a, &b}, true)[0];
    }
    const int64_t ra = c.a.size(), rb = c.b.size();
    const int64_t M = c.a[ra - (c.ta ? 1 : 2)], K = c.a[ra - (c.ta ? 2 : 1)], N = c.b[rb - (c.tb ? 2 : 1)];
    const Shape& y = got1.shape();
    REQUIRE(y.size() >= 2);
    REQUIRE(y[y.size() - 2] == M);
    REQUIRE(y[y.size() - 1] == N);
    // Batch index i of the output -> the batch of A and of B it reads (numpy broadcast).
    const Shape yb(y.begin(), y.end() - 2);
    auto batch_of = [&](const Shape& s, int64_t i) {
      const Shape sb(s.begin(), s.end() - 2);
      int64_t off = 0, stride = 1;
      for (size_t d = yb.size(); d-- > 0;) {
        const int64_t idx = i % yb[d];
        i /= yb[d];
        const size_t sd = d + sb.size();
        if (sd < yb.size()) continue;  // s has no such dim
        const int64_t ext = sb[sd - yb.size()];
        if (ext != 1) off += idx * stride;
        stride *= ext;
      }
      return off;
    };
    std::vector<float> want(static_cast<size_t>(got1.size()));
    for (int64_t i = 0; i < shape_size(yb); ++i)
      gemm_ref(c.ta, c.tb, M, N, K, c.alpha, a.data<float>() + batch_of(c.a, i) * M * K, c.ta ? M : K,
               b.data<float>() + batch_of(c.b, i) * K * N, c.tb ? K : N, 0.f, want.data() + i * M * N, N);
    for (size_t i = 0; i < want.size(); ++i) {
      REQUIRE(std::fabs(got1.data<float>()[i] - want[i]) <= 1e-4f * (1.f + std::fabs(want[i])));
      REQUIRE(got1.data<float>()[i] == got3.data<float>()[i]);
    }
  }
}

TEST_CASE("cpu conv: depthwise 3x3, im2col-packed and 1x1 paths against a direct loop", "[cpu][conv]") {
  struct Case { Shape xs, ws; int64_t group; std::vector<int64_t> s, p, d = {1, 1}; };
  const std::vector<Case> cases = {
      {{1, 8, 7, 7}, {8, 1, 3, 3}, 8, {1, 1}, {1, 1, 1, 1}},       // depthwise, stride 1
      {{2, 5, 13, 11}, {5, 1, 3, 3}, 5, {2, 2}, {1, 1, 1, 1}},     // depthwise, stride 2, odd sizes
      {{1, 3, 9, 10}, {3, 1, 3, 3}, 3, {2, 2}, {0, 1, 1, 0}},      // depthwise, asymmetric pads
      {{1, 4, 5, 6}, {4, 1, 3, 3}, 4, {1, 1}, {0, 0, 0, 0}},       // depthwise, no pads
      {{1, 3, 17, 15}, {10, 3, 3, 3}, 1, {2, 2}, {1, 1, 1, 1}},    // first layer of a CNN
      {{1, 16, 14, 14}, {20, 16, 3, 3}, 1, {1, 1}, {1, 1, 1, 1}},  // panels straddling rows
      {{1, 24, 9, 9}, {13, 24, 1, 1}, 1, {1, 1}, {0, 0, 0, 0}},    // 1x1 direct
      {{1, 6, 8, 8}, {9, 2, 3, 3}, 3, {1, 1}, {1, 1, 1, 1}},       // grouped
      {{1, 6, 8, 8}, {12, 1, 3, 3}, 6, {1, 1}, {1, 1, 1, 1}},      // depthwise multiplier 2 (GEMM path)
      // Padded im2col (the input is zero-padded into scratch first):
      {{2, 8, 14, 14}, {16, 8, 5, 5}, 1, {1, 1}, {2, 2, 2, 2}},    // MNIST's 5x5 pad 2, two images
      {{1, 4, 11, 12}, {6, 2, 3, 3}, 2, {2, 2}, {0, 2, 1, 0}},     // grouped, stride 2, asymmetric pads
      {{1, 3, 10, 9}, {5, 3, 3, 3}, 1, {1, 2}, {2, 1, 2, 3}, {2, 2}},  // dilation 2, pads past the window
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    INFO("case " << i);
    Tensor x = F(c.xs, random_floats(shape_size(c.xs), 10 + i));
    Tensor w = F(c.ws, random_floats(shape_size(c.ws), 20 + i));
    Tensor b = F({c.ws[0]}, random_floats(c.ws[0], 30 + i));
    Attrs attrs = {{"group", ai(c.group)}, {"strides", ais(c.s)}, {"pads", ais(c.p)}, {"dilations", ais(c.d)}};
    Tensor y1, y3;
    {
      Threads t(1);
      y1 = conv_run(x, w, &b, attrs);
    }
    {
      Threads t(3);
      y3 = conv_run(x, w, &b, attrs);
    }
    Tensor ref = reference_conv2d(x, w, &b, c.group, c.s, c.d, c.p);
    const float* want = ref.data<float>();
    REQUIRE(y1.size() == ref.size());
    for (int64_t j = 0; j < ref.size(); ++j) {
      REQUIRE(std::fabs(y1.data<float>()[j] - want[j]) <= 1e-4f * (1.f + std::fabs(want[j])));
      REQUIRE(y1.data<float>()[j] == y3.data<float>()[j]);
    }
  }
}

TEST_CASE("cpu conv: 3-D im2col, padded and strided, against a direct loop", "[cpu][conv]") {
  // x [1, 3, 5, 6, 7], w [4, 3, 3, 2, 3], strides (2, 1, 2), dilations (1, 2, 1),
  // pads begin (1, 0, 2) end (0, 1, 1).
  const Shape xs{1, 3, 5, 6, 7}, ws{4, 3, 3, 2, 3};
  const int64_t s[3] = {2, 1, 2}, dl[3] = {1, 2, 1}, pb[3] = {1, 0, 2}, pe[3] = {0, 1, 1};
  Tensor x = F(xs, random_floats(shape_size(xs), 41)), w = F(ws, random_floats(shape_size(ws), 42));
  Tensor b = F({4}, random_floats(4, 43));
  Attrs attrs = {{"strides", ais({s[0], s[1], s[2]})}, {"dilations", ais({dl[0], dl[1], dl[2]})},
                 {"pads", ais({pb[0], pb[1], pb[2], pe[0], pe[1], pe[2]})}};
  Tensor y1, y3;
  {
    Threads t(1);
    y1 = conv_run(x, w, &b, attrs);
  }
  {
    Threads t(3);
    y3 = conv_run(x, w, &b, attrs);
  }
  int64_t out[3];
  for (int i = 0; i < 3; ++i) out[i] = (xs[2 + i] + pb[i] + pe[i] - dl[i] * (ws[2 + i] - 1) - 1) / s[i] + 1;
  REQUIRE(y1.shape() == Shape{1, 4, out[0], out[1], out[2]});
  const float* px = x.data<float>();
  const float* pw = w.data<float>();
  int64_t j = 0;
  for (int64_t m = 0; m < 4; ++m)
    for (int64_t od = 0; od < out[0]; ++od)
      for (int64_t oh = 0; oh < out[1]; ++oh)
        for (int64_t ow = 0; ow < out[2]; ++ow, ++j) {
          double acc = b.data<float>()[m];
          for (int64_t c = 0; c < 3; ++c)
            for (int64_t kd = 0; kd < ws[2]; ++kd)
              for (int64_t kh = 0; kh < ws[3]; ++kh)
                for (int64_t kw = 0; kw < ws[4]; ++kw) {
                  const int64_t id = od * s[0] - pb[0] + kd * dl[0], ih = oh * s[1] - pb[1] + kh * dl[1],
                                iw = ow * s[2] - pb[2] + kw * dl[2];
                  if (id < 0 || id >= xs[2] || ih < 0 || ih >= xs[3] || iw < 0 || iw >= xs[4]) continue;
                  acc += double(px[((c * xs[2] + id) * xs[3] + ih) * xs[4] + iw]) *
                         pw[(((m * 3 + c) * ws[2] + kd) * ws[3] + kh) * ws[4] + kw];
                }
          REQUIRE(std::fabs(y1.data<float>()[j] - acc) <= 1e-4 * (1.0 + std::fabs(acc)));
          REQUIRE(y1.data<float>()[j] == y3.data<float>()[j]);
        }
}

TEST_CASE("cpu conv: a fused Relu / Clip is applied in the kernels' epilogue", "[cpu][conv]") {
  // Depthwise (own kernel) and a regular conv (GEMM epilogue).
  for (int64_t group : {int64_t{1}, int64_t{6}}) {
    Tensor x = F({1, 6, 9, 9}, random_floats(6 * 81, 40 + group));
    Tensor w = F({6, 6 / group, 3, 3}, random_floats(6 * (6 / group) * 9, 50 + group));
    Tensor b = F({6}, random_floats(6, 60 + group));
    for (auto act : {FusedActivation{FusedActivation::kRelu, 0.f, 0.f},
                     FusedActivation{FusedActivation::kClip, -0.25f, 0.5f}}) {
      ir::Node node = make_node("Conv", 11, 3, {{"group", ai(group)}, {"pads", ais({1, 1, 1, 1})}});
      set_fused_activation(node, act);
      std::vector<Tensor> out = run_cpu_kernel_ok(node, {&x, &w, &b}, true);
      Tensor ref = reference_conv2d(x, w, &b, group, {1, 1}, {1, 1}, {1, 1, 1, 1});
      float* want = ref.data<float>();
      apply_fused_activation(act, want, ref.size());
      for (int64_t j = 0; j < ref.size(); ++j)
        REQUIRE(std::fabs(out[0].data<float>()[j] - want[j]) <= 1e-4f * (1.f + std::fabs(want[j])));
    }
  }
}

TEST_CASE("cpu conv: Winograd F(2x2, 3x3) against a direct loop", "[cpu][conv]") {
  // Output sizes odd and even, below, at and past a vector of four tiles;
  // asymmetric pads (t, l, b, r); two images; a residual and a Clip.
  struct Case { Shape xs; int64_t M; std::vector<int64_t> p; bool residual; FusedActivation act; };
  const FusedActivation none{}, clip{FusedActivation::kClip, -0.5f, 0.75f}, relu{FusedActivation::kRelu, 0.f, 0.f};
  const std::vector<Case> cases = {
      {{1, 8, 7, 7}, 8, {1, 1, 1, 1}, false, none},     // 4 x 4 tiles, the last row and column half used
      {{2, 16, 14, 13}, 9, {1, 1, 1, 1}, false, none},  // two images, odd width, M not a multiple of 4
      {{1, 12, 9, 20}, 20, {0, 1, 2, 0}, false, none},  // asymmetric pads
      {{1, 8, 3, 3}, 5, {0, 0, 0, 0}, false, none},     // a single output pixel
      {{1, 8, 2, 2}, 4, {1, 1, 1, 1}, false, none},     // input smaller than a patch
      {{1, 10, 30, 33}, 16, {1, 1, 1, 1}, true, relu},  // several vectors and a partial one, residual + Relu
      {{1, 9, 6, 17}, 7, {2, 0, 0, 2}, true, clip},     // residual + Clip
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    INFO("case " << i);
    const Shape ws{c.M, c.xs[1], 3, 3};
    Tensor x = F(c.xs, random_floats(shape_size(c.xs), 110 + i));
    Tensor w = F(ws, random_floats(shape_size(ws), 120 + i));
    Tensor b = F({c.M}, random_floats(c.M, 130 + i));
    Tensor ref = reference_conv2d(x, w, &b, 1, {1, 1}, {1, 1}, c.p);
    Tensor r = F(ref.shape(), random_floats(ref.size(), 140 + i));
    float* want = ref.data<float>();
    if (c.residual)
      for (int64_t j = 0; j < ref.size(); ++j) want[j] += r.data<float>()[j];
    apply_fused_activation(c.act, want, ref.size());
    ir::Node node = make_node("Conv", 11, 3, {{"pads", ais(c.p)}});
    REQUIRE(cpu::winograd_conv_applies(node, ws));
    node.attrs[cpu::kWinogradAttr] = ir::Attribute::of_int(1);
    if (c.residual) set_fused_residual(node, "in3");
    set_fused_activation(node, c.act);
    Tensor u = cpu::winograd_weights(w);
    REQUIRE(u.shape() == Shape{16, c.M, c.xs[1]});
    std::vector<const Tensor*> in{&x, &u, &b};
    if (c.residual) in.push_back(&r);
    Tensor y1, y3;
    {
      Threads t(1);
      y1 = run_cpu_kernel_ok(node, in, true)[0];
    }
    {
      Threads t(3);
      y3 = run_cpu_kernel_ok(node, in, true)[0];
    }
    REQUIRE(y1.shape() == ref.shape());
    for (int64_t j = 0; j < ref.size(); ++j) {
      REQUIRE(std::fabs(y1.data<float>()[j] - want[j]) <= 1e-4f * (1.f + std::fabs(want[j])));
      REQUIRE(y1.data<float>()[j] == y3.data<float>()[j]);
    }
  }
}

TEST_CASE("cpu conv: which convs Winograd takes, and its weights' errors", "[cpu][conv]") {
  const Shape w{16, 8, 3, 3};
  CHECK(cpu::winograd_conv_applies(make_node("Conv", 11, 2), w));
  CHECK(cpu::winograd_conv_applies(make_node("Conv", 11, 2, {{"strides", ais({1, 1})}, {"pads", ais({1, 0, 1, 0})}}), w));
  CHECK_FALSE(cpu::winograd_conv_applies(make_node("Conv", 11, 2, {{"strides", ais({2, 2})}}), w));
  CHECK_FALSE(cpu::winograd_conv_applies(make_node("Conv", 11, 2, {{"dilations", ais({2, 2})}}), w));
  CHECK_FALSE(cpu::winograd_conv_applies(make_node("Conv", 11, 2, {{"group", ai(2)}}), Shape{16, 4, 3, 3}));
  CHECK_FALSE(cpu::winograd_conv_applies(make_node("Conv", 11, 2), Shape{16, 3, 3, 3}));   // too few channels
  CHECK_FALSE(cpu::winograd_conv_applies(make_node("Conv", 11, 2), Shape{16, 8, 5, 5}));   // 5x5
  CHECK_FALSE(cpu::winograd_conv_applies(make_node("Conv", 11, 2), Shape{16, 8, 3}));      // 1-D
  CHECK_FALSE(cpu::winograd_conv_applies(make_node("ConvInteger", 10, 2), w));
  CHECK(cpu::winograd_conv_applies(make_node("Conv", 11, 2), w, cpu::kWinogradMinOutputPixels));
  CHECK_FALSE(cpu::winograd_conv_applies(make_node("Conv", 11, 2), w, 13 * 13));  // few tiles
  // Transformed weights of the wrong shape are refused, naming the node.
  ir::Node node = make_node("Conv", 11, 2, {{"pads", ais({1, 1, 1, 1})}});
  node.attrs[cpu::kWinogradAttr] = ir::Attribute::of_int(1);
  Tensor x = F({1, 8, 5, 5}, random_floats(200, 1));
  Tensor u = F({9, 4, 8}, random_floats(288, 2));
  std::vector<Tensor> out;
  Status st = run_cpu_kernel(node, {&x, &u}, &out, true);
  REQUIRE_FALSE(st.ok());
  CHECK_THAT(st.message(), Catch::Contains("n_Conv") && Catch::Contains("[16, M, C]"));
}

TEST_CASE("cpu threadpool: every index once, nested calls inline", "[cpu][threads]") {
  Threads t(3);
  std::vector<int> hits(1000, 0), inner(1000, 0);
  cpu::parallel_for(1000, [&](int64_t i) {
    hits[i] += 1;
    int n = 0;
    cpu::parallel_for(4, [&](int64_t) { ++n; });  // runs inline: no data race on `n`
    inner[i] = n;
  }, 7);
  for (int i = 0; i < 1000; ++i) {
    REQUIRE(hits[i] == 1);
    REQUIRE(inner[i] == 4);
  }
  REQUIRE(cpu::num_threads() == 3);
}

// wake_workers publishes an empty job: jobs after it (back to back, or after
// the workers slept again) still run every index once, and a wake from
// inside a parallel_for (which holds the pool) changes nothing.
TEST_CASE("cpu threadpool: woken workers take the next jobs whole", "[cpu][threads]") {
  Threads t(3);
  for (int round = 0; round < 50; ++round) {
    cpu::wake_workers();
    if (round % 10 == 9) std::this_thread::sleep_for(std::chrono::milliseconds(5));  // asleep again
    std::vector<std::atomic<int>> hits(257);
    cpu::parallel_for(257, [&](int64_t i) {
      hits[i].fetch_add(1);
      if (i == 100) cpu::wake_workers();
    }, 3);
    for (int i = 0; i < 257; ++i) REQUIRE(hits[i].load() == 1);
  }
}

}  // namespace glint::test
