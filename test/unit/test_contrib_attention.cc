// com.microsoft RotaryEmbedding, MultiHeadAttention, GroupQueryAttention,
// Attention and MatMulNBits (engine/cpu/contrib_attention.cc,
// matmul_nbits.cc) against references written here, in double, straight
// from onnxruntime's ContribOperators.md formulas: softmax(scale * q.k +
// bias + mask) . v per head, RoPE pair rotations, block dequantization.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <memory>
#include <random>
#include <vector>

#include "engine/core/compare.h"
#include "engine/gl/executor.h"
#include "engine/gl/layout/texture_layout.h"
#include "engine/plan/kernel_context.h"
#include "test/unit/cpu_test_util.h"
#include "test/unit/random_util.h"

using namespace glint;
using namespace glint::test;

namespace {


Tensor I32(const Shape& s, const std::vector<int64_t>& v) {
  Tensor t(DataType::kInt32, s);
  for (size_t i = 0; i < v.size(); ++i) t.set_from_double(static_cast<int64_t>(i), static_cast<double>(v[i]));
  return t;
}

Tensor U8(const Shape& s, const std::vector<uint8_t>& v) {
  Tensor t(DataType::kUint8, s);
  std::copy(v.begin(), v.end(), t.data<uint8_t>());
  return t;
}

// Values rounded through float16 and tagged float16.
Tensor F16(const Shape& s, const std::vector<float>& v) {
  Tensor t = F(s, v).retagged(DataType::kFloat16);
  for (int64_t i = 0; i < t.size(); ++i) t.set_from_double(i, t.get_as_double(i));
  return t;
}

// A head-major tensor of doubles: at(b, n, t, h).
struct Heads {
  int64_t N = 0, T = 0, H = 0;
  std::vector<double> v;
  Heads(int64_t B, int64_t n, int64_t t, int64_t h) : N(n), T(t), H(h), v(static_cast<size_t>(B * n * t * h)) {}
  double& at(int64_t b, int64_t n, int64_t t, int64_t h) { return v[((b * N + n) * T + t) * H + h]; }
  double at(int64_t b, int64_t n, int64_t t, int64_t h) const { return v[((b * N + n) * T + t) * H + h]; }
};

// out[b, s, n * Hv + h] = sum_t softmax_t(scale * q.k + add(b, n, s, t)) v[t, h]
// over the keys t where visible(b, s, t); query head n uses kv head n / (N / kvN).
std::vector<double> ref_attention(int64_t B, int64_t S, const Heads& q, const Heads& k, const Heads& v, double scale,
                                  const std::function<double(int64_t, int64_t, int64_t, int64_t)>& add,
                                  const std::function<bool(int64_t, int64_t, int64_t)>& visible) {
  const int64_t N = q.N, T = k.T, H = q.H, Hv = v.H, group = q.N / k.N;
  std::vector<double> out(static_cast<size_t>(B * S * N * Hv), 0.0);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t s = 0; s < S; ++s) {
        std::vector<double> w(static_cast<size_t>(T), 0.0);
        double mx = -1e300, sum = 0;
        for (int64_t t = 0; t < T; ++t) {
          if (!visible(b, s, t)) continue;
          double d = 0;
          for (int64_t h = 0; h < H; ++h) d += q.at(b, n, s, h) * k.at(b, n / group, t, h);
          w[t] = scale * d + add(b, n, s, t);
          mx = std::max(mx, w[t]);
        }
        for (int64_t t = 0; t < T; ++t)
          if (visible(b, s, t)) sum += std::exp(w[t] - mx);
        for (int64_t t = 0; t < T; ++t) {
          if (!visible(b, s, t)) continue;
          const double p = std::exp(w[t] - mx) / sum;
          for (int64_t h = 0; h < Hv; ++h) out[(b * S + s) * N * Hv + n * Hv + h] += p * v.at(b, n / group, t, h);
        }
      }
  return out;
}

auto no_add = [](int64_t, int64_t, int64_t, int64_t) { return 0.0; };
auto all_visible = [](int64_t, int64_t, int64_t) { return true; };

// (B, L, N*H) floats as heads, plus bias[n*H + h] when given.
Heads heads_of_bsd(const std::vector<float>& x, int64_t B, int64_t L, int64_t N, int64_t H,
                   const std::vector<float>* bias = nullptr, int64_t bias_off = 0) {
  Heads r(B, N, L, H);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t l = 0; l < L; ++l)
      for (int64_t n = 0; n < N; ++n)
        for (int64_t h = 0; h < H; ++h)
          r.at(b, n, l, h) = x[((b * L + l) * N + n) * H + h] + (bias ? (*bias)[bias_off + n * H + h] : 0.0);
  return r;
}

// Heads with P past rows (BNSH) followed by new rows.
Heads concat_rows(const std::vector<float>& past, int64_t P, const Heads& now) {
  const int64_t B = static_cast<int64_t>(now.v.size()) / (now.N * now.T * now.H);
  Heads r(B, now.N, P + now.T, now.H);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t n = 0; n < now.N; ++n)
      for (int64_t t = 0; t < P + now.T; ++t)
        for (int64_t h = 0; h < now.H; ++h)
          r.at(b, n, t, h) = t < P ? past[((b * now.N + n) * P + t) * now.H + h] : now.at(b, n, t - P, h);
  return r;
}

std::vector<double> flat(const Heads& x) { return x.v; }

// RoPE of one head vector at angle table (cos, sin) of rot/2 values.
std::vector<double> rope(const std::vector<double>& x, int64_t rot, const double* c, const double* s, bool interleaved) {
  std::vector<double> y = x;
  for (int64_t i = 0; i < rot / 2; ++i) {
    const int64_t a = interleaved ? 2 * i : i, b = interleaved ? 2 * i + 1 : i + rot / 2;
    y[a] = x[a] * c[i] - x[b] * s[i];
    y[b] = x[b] * c[i] + x[a] * s[i];
  }
  return y;
}

// cos / sin caches (max_pos, half) with the usual theta_i = 10000^(-2i / rot).
void rope_caches(int64_t max_pos, int64_t half, std::vector<float>* c, std::vector<float>* s) {
  for (int64_t p = 0; p < max_pos; ++p)
    for (int64_t i = 0; i < half; ++i) {
      const double a = p * std::pow(10000.0, -2.0 * i / (2.0 * half));
      c->push_back(static_cast<float>(std::cos(a)));
      s->push_back(static_cast<float>(std::sin(a)));
    }
}

}  // namespace

TEST_CASE("contrib: RotaryEmbedding, interleaved and not, 3-D and 4-D, partial", "[cpu][contrib]") {
  const int64_t B = 2, S = 3, N = 2, H = 8, max_pos = 12;
  std::vector<float> cs, sn;
  rope_caches(max_pos, H / 2, &cs, &sn);
  Tensor cos = F({max_pos, H / 2}, cs), sin = F({max_pos, H / 2}, sn);
  std::vector<double> cd(cs.begin(), cs.end()), sd(sn.begin(), sn.end());
  const std::vector<float> xv = random_floats(B * S * N * H, 21);

  for (bool interleaved : {false, true}) {
    DYNAMIC_SECTION("3-D with per-token positions, interleaved=" << interleaved) {
      // input (B, S, N*H), position_ids (B, S).
      const std::vector<int64_t> pos = {0, 1, 2, 5, 7, 11};
      Tensor x = F({B, S, N * H}, xv), p = I64({B, S}, pos);
      std::vector<double> want;
      for (int64_t b = 0; b < B; ++b)
        for (int64_t s = 0; s < S; ++s)
          for (int64_t n = 0; n < N; ++n) {
            std::vector<double> hv(xv.begin() + ((b * S + s) * N + n) * H, xv.begin() + ((b * S + s) * N + n + 1) * H);
            const int64_t at = pos[b * S + s] * (H / 2);
            for (double v : rope(hv, H, &cd[at], &sd[at], interleaved)) want.push_back(v);
          }
      auto node = ms_node("RotaryEmbedding", 4, {{"interleaved", ai(interleaved)}});
      check_tensor_values(run_cpu_kernel_ok(node, {&x, &p, &cos, &sin}, true)[0], DataType::kFloat32, {B, S, N * H},
                          want, 1e-5);
    }
    DYNAMIC_SECTION("4-D with a start position, interleaved=" << interleaved) {
      // input (B, N, S, H), position_ids [start]: positions start + s.
      Tensor x = F({B, N, S, H}, xv), p = I64({1}, {4});
      std::vector<double> want;
      for (int64_t b = 0; b < B; ++b)
        for (int64_t n = 0; n < N; ++n)
          for (int64_t s = 0; s < S; ++s) {
            const int64_t base = ((b * N + n) * S + s) * H;
            std::vector<double> hv(xv.begin() + base, xv.begin() + base + H);
            const int64_t at = (4 + s) * (H / 2);
            for (double v : rope(hv, H, &cd[at], &sd[at], interleaved)) want.push_back(v);
          }
      auto node = ms_node("RotaryEmbedding", 4, {{"interleaved", ai(interleaved)}});
      check_tensor_values(run_cpu_kernel_ok(node, {&x, &p, &cos, &sin}, true)[0], DataType::kFloat32, {B, N, S, H},
                          want, 1e-5);
    }
  }

  SECTION("partial rotary_embedding_dim: the tail of each head passes through") {
    const int64_t rot = 4;
    std::vector<float> c2, s2;
    rope_caches(max_pos, rot / 2, &c2, &s2);
    Tensor cos2 = F({max_pos, rot / 2}, c2), sin2 = F({max_pos, rot / 2}, s2);
    std::vector<double> c2d(c2.begin(), c2.end()), s2d(s2.begin(), s2.end());
    Tensor x = F({B, S, N * H}, xv), p = I64({1}, {0});
    std::vector<double> want;
    for (int64_t b = 0; b < B; ++b)
      for (int64_t s = 0; s < S; ++s)
        for (int64_t n = 0; n < N; ++n) {
          std::vector<double> hv(xv.begin() + ((b * S + s) * N + n) * H, xv.begin() + ((b * S + s) * N + n + 1) * H);
          for (double v : rope(hv, rot, &c2d[s * 2], &s2d[s * 2], false)) want.push_back(v);
        }
    auto node = ms_node("RotaryEmbedding", 4, {{"rotary_embedding_dim", ai(rot)}, {"num_heads", ai(N)}});
    check_tensor_values(run_cpu_kernel_ok(node, {&x, &p, &cos2, &sin2}, true)[0], DataType::kFloat32, {B, S, N * H},
                        want, 1e-5);
  }

  SECTION("a position past the caches is an error") {
    Tensor x = F({B, S, N * H}, xv), p = I64({1}, {max_pos - 1});
    std::vector<Tensor> out;
    Status st = run_cpu_kernel(ms_node("RotaryEmbedding", 4), {&x, &p, &cos, &sin}, &out, true);
    REQUIRE_FALSE(st.ok());
    CHECK_THAT(st.message(), Catch::Contains("outside the cos/sin caches"));
  }
}

TEST_CASE("contrib: MultiHeadAttention, separate Q/K/V with bias (cross attention, v_head_size != head_size)",
          "[cpu][contrib]") {
  const int64_t B = 2, S = 3, L = 4, N = 2, H = 4, Hv = 3, D = N * H, Dv = N * Hv;
  const std::vector<float> qv = random_floats(B * S * D, 31), kv = random_floats(B * L * D, 32),
                           vv = random_floats(B * L * Dv, 33), bv = random_floats(2 * D + Dv, 34);
  Tensor q = F({B, S, D}, qv), k = F({B, L, D}, kv), v = F({B, L, Dv}, vv), bias = F({2 * D + Dv}, bv);
  const Heads qh = heads_of_bsd(qv, B, S, N, H, &bv, 0), kh = heads_of_bsd(kv, B, L, N, H, &bv, D),
              vh = heads_of_bsd(vv, B, L, N, Hv, &bv, 2 * D);
  auto want = ref_attention(B, S, qh, kh, vh, 1 / std::sqrt(double(H)), no_add, all_visible);
  auto node = ms_node("MultiHeadAttention", 4, {{"num_heads", ai(N)}}, 3);
  auto out = run_cpu_kernel_ok(node, {&q, &k, &v, &bias}, true);
  check_tensor_values(out[0], DataType::kFloat32, {B, S, Dv}, want, 1e-5);
  check_tensor_values(out[1], DataType::kFloat32, {B, N, L, H}, flat(kh), 1e-6);
  check_tensor_values(out[2], DataType::kFloat32, {B, N, L, Hv}, flat(vh), 1e-6);

  SECTION("a custom scale and an attention_bias broadcast over the batch") {
    const std::vector<float> abv = random_floats(N * S * L, 35, -2.f, 2.f);
    Tensor ab = F({1, N, S, L}, abv);
    auto add = [&](int64_t, int64_t n, int64_t s, int64_t t) { return double(abv[(n * S + s) * L + t]); };
    auto want2 = ref_attention(B, S, qh, kh, vh, 0.3, add, all_visible);
    auto node2 = ms_node("MultiHeadAttention", 6, {{"num_heads", ai(N)}, {"scale", af(0.3f)}});
    check_tensor_values(run_cpu_kernel_ok(node2, {&q, &k, &v, &bias, nullptr, &ab}, true)[0], DataType::kFloat32,
                        {B, S, Dv}, want2, 1e-5);
  }

  SECTION("a key of the wrong hidden size is named") {
    Tensor bad_k = F({B, L, D + 2}, random_floats(B * L * (D + 2), 36));
    std::vector<Tensor> bad;
    Status st = run_cpu_kernel(node, {&q, &bad_k, &v, &bias}, &bad, true);
    REQUIRE_FALSE(st.ok());
    CHECK_THAT(st.message(), Catch::Contains("key has hidden 10, expected num_heads*head_size 8"));
  }
}

TEST_CASE("contrib: MultiHeadAttention masks, past / present and causal", "[cpu][contrib]") {
  const int64_t B = 2, S = 3, P = 2, N = 2, H = 4, D = N * H, T = P + S;
  const std::vector<float> qv = random_floats(B * S * D, 41), kv = random_floats(B * S * D, 42),
                           vv = random_floats(B * S * D, 43), pkv = random_floats(B * N * P * H, 44),
                           pvv = random_floats(B * N * P * H, 45);
  Tensor q = F({B, S, D}, qv), k = F({B, S, D}, kv), v = F({B, S, D}, vv), pk = F({B, N, P, H}, pkv),
         pv = F({B, N, P, H}, pvv);
  const Heads qh = heads_of_bsd(qv, B, S, N, H);
  const Heads kh = concat_rows(pkv, P, heads_of_bsd(kv, B, S, N, H));
  const Heads vh = concat_rows(pvv, P, heads_of_bsd(vv, B, S, N, H));
  const double scale = 1 / std::sqrt(double(H)), filter = -10000.0;

  SECTION("2-D key padding mask (batch, total) with past and unidirectional") {
    const std::vector<int64_t> mv = {1, 1, 1, 1, 1, /**/ 0, 1, 1, 1, 0};
    Tensor mask = I32({B, T}, mv);
    // Padding sets mask_filter_value, causal adds it on top (onnxruntime's additive masks).
    auto add = [&](int64_t b, int64_t, int64_t s, int64_t t) {
      double a = mv[b * T + t] ? 0.0 : filter;
      if (t > P + s) a += filter;
      return a;
    };
    auto want = ref_attention(B, S, qh, kh, vh, scale, add, all_visible);
    auto node = ms_node("MultiHeadAttention", 8, {{"num_heads", ai(N)}, {"unidirectional", ai(1)}}, 3);
    auto out = run_cpu_kernel_ok(node, {&q, &k, &v, nullptr, &mask, nullptr, &pk, &pv}, true);
    check_tensor_values(out[0], DataType::kFloat32, {B, S, D}, want, 1e-5);
    check_tensor_values(out[1], DataType::kFloat32, {B, N, T, H}, flat(kh), 1e-6);
    check_tensor_values(out[2], DataType::kFloat32, {B, N, T, H}, flat(vh), 1e-6);
  }

  SECTION("2-D key padding mask over the new keys only (batch, kv_seq): the past stays visible") {
    const std::vector<int64_t> mv = {1, 0, 1, /**/ 1, 1, 0};
    Tensor mask = I32({B, S}, mv);
    auto add = [&](int64_t b, int64_t, int64_t, int64_t t) { return t >= P && !mv[b * S + t - P] ? filter : 0.0; };
    auto node = ms_node("MultiHeadAttention", 8, {{"num_heads", ai(N)}});
    check_tensor_values(run_cpu_kernel_ok(node, {&q, &k, &v, nullptr, &mask, nullptr, &pk, &pv}, true)[0],
                        DataType::kFloat32, {B, S, D}, ref_attention(B, S, qh, kh, vh, scale, add, all_visible), 1e-5);
  }

  SECTION("1-D key lengths and a 3-D mask") {
    Tensor lens = I32({B}, {4, 2});
    auto add1 = [&](int64_t b, int64_t, int64_t, int64_t t) { return t >= (b ? 2 : 4) ? filter : 0.0; };
    auto node = ms_node("MultiHeadAttention", 8, {{"num_heads", ai(N)}});
    check_tensor_values(run_cpu_kernel_ok(node, {&q, &k, &v, nullptr, &lens, nullptr, &pk, &pv}, true)[0],
                        DataType::kFloat32, {B, S, D}, ref_attention(B, S, qh, kh, vh, scale, add1, all_visible), 1e-5);
    std::vector<int64_t> m3(B * S * T);
    for (size_t i = 0; i < m3.size(); ++i) m3[i] = (i * 7 % 5) != 0;
    Tensor mask3 = I32({B, S, T}, m3);
    auto add3 = [&](int64_t b, int64_t, int64_t s, int64_t t) { return m3[(b * S + s) * T + t] ? 0.0 : filter; };
    check_tensor_values(run_cpu_kernel_ok(node, {&q, &k, &v, nullptr, &mask3, nullptr, &pk, &pv}, true)[0],
                        DataType::kFloat32, {B, S, D}, ref_attention(B, S, qh, kh, vh, scale, add3, all_visible), 1e-5);
  }

  SECTION("float16 I/O") {
    Tensor q16 = F16({B, S, D}, qv), k16 = F16({B, S, D}, kv), v16 = F16({B, S, D}, vv);
    auto node = ms_node("MultiHeadAttention", 3, {{"num_heads", ai(N)}});
    auto got = run_cpu_kernel_ok(node, {&q16, &k16, &v16}, true)[0];
    const Heads kn = heads_of_bsd(kv, B, S, N, H), vn = heads_of_bsd(vv, B, S, N, H);
    check_tensor_values(got, DataType::kFloat16, {B, S, D}, ref_attention(B, S, qh, kn, vn, scale, no_add, all_visible),
                        3e-3);
  }
}

TEST_CASE("contrib: MultiHeadAttention packed QKV, packed KV and BNSH key / value", "[cpu][contrib]") {
  const int64_t B = 2, S = 3, L = 5, N = 2, H = 4, D = N * H;
  const double scale = 1 / std::sqrt(double(H));
  auto node = ms_node("MultiHeadAttention", 3, {{"num_heads", ai(N)}}, 3);

  SECTION("packed QKV (B, S, N, 3, H) with bias") {
    const std::vector<float> x = random_floats(B * S * N * 3 * H, 51), bv = random_floats(3 * D, 52);
    Tensor qkv = F({B, S, N, 3, H}, x), bias = F({3 * D}, bv);
    Heads qh(B, N, S, H), kh(B, N, S, H), vh(B, N, S, H);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t s = 0; s < S; ++s)
        for (int64_t n = 0; n < N; ++n)
          for (int64_t h = 0; h < H; ++h) {
            const int64_t base = (((b * S + s) * N + n) * 3) * H + h;
            qh.at(b, n, s, h) = x[base] + bv[n * H + h];
            kh.at(b, n, s, h) = x[base + H] + bv[D + n * H + h];
            vh.at(b, n, s, h) = x[base + 2 * H] + bv[2 * D + n * H + h];
          }
    auto out = run_cpu_kernel_ok(node, {&qkv, nullptr, nullptr, &bias}, true);
    check_tensor_values(out[0], DataType::kFloat32, {B, S, D}, ref_attention(B, S, qh, kh, vh, scale, no_add, all_visible),
                        1e-5);
    check_tensor_values(out[1], DataType::kFloat32, {B, N, S, H}, flat(kh), 1e-6);
  }

  SECTION("packed KV (B, L, N, 2, H)") {
    const std::vector<float> qv = random_floats(B * S * D, 53), x = random_floats(B * L * N * 2 * H, 54);
    Tensor q = F({B, S, D}, qv), kvp = F({B, L, N, 2, H}, x);
    Heads kh(B, N, L, H), vh(B, N, L, H);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t l = 0; l < L; ++l)
        for (int64_t n = 0; n < N; ++n)
          for (int64_t h = 0; h < H; ++h) {
            kh.at(b, n, l, h) = x[(((b * L + l) * N + n) * 2) * H + h];
            vh.at(b, n, l, h) = x[(((b * L + l) * N + n) * 2 + 1) * H + h];
          }
    check_tensor_values(run_cpu_kernel_ok(node, {&q, &kvp}, true)[0], DataType::kFloat32, {B, S, D},
                        ref_attention(B, S, heads_of_bsd(qv, B, S, N, H), kh, vh, scale, no_add, all_visible), 1e-5);
  }

  SECTION("BNSH key / value (a cross-attention cache): only the query takes the bias") {
    const std::vector<float> qv = random_floats(B * S * D, 55), kv = random_floats(B * N * L * H, 56),
                             vv = random_floats(B * N * L * H, 57), bv = random_floats(3 * D, 58);
    Tensor q = F({B, S, D}, qv), k = F({B, N, L, H}, kv), v = F({B, N, L, H}, vv), bias = F({3 * D}, bv);
    Heads kh(B, N, L, H), vh(B, N, L, H);
    kh.v.assign(kv.begin(), kv.end());
    vh.v.assign(vv.begin(), vv.end());
    check_tensor_values(run_cpu_kernel_ok(node, {&q, &k, &v, &bias}, true)[0], DataType::kFloat32, {B, S, D},
                        ref_attention(B, S, heads_of_bsd(qv, B, S, N, H, &bv, 0), kh, vh, scale, no_add, all_visible),
                        1e-5);
  }
}

TEST_CASE("contrib: GroupQueryAttention prompt and token generation with a KV cache", "[cpu][contrib]") {
  const int64_t N = 4, kvN = 2, H = 8, D = N * H, Dkv = kvN * H;
  const double scale = 1 / std::sqrt(double(H));

  SECTION("first prompt, separate Q/K/V, kv_num_heads < num_heads") {
    const int64_t B = 2, S = 3;
    const std::vector<float> qv = random_floats(B * S * D, 61), kv = random_floats(B * S * Dkv, 62),
                             vv = random_floats(B * S * Dkv, 63);
    Tensor q = F({B, S, D}, qv), k = F({B, S, Dkv}, kv), v = F({B, S, Dkv}, vv);
    Tensor seqlens = I32({B}, {S - 1, S - 1}), total = I32({1}, {S});
    const Heads qh = heads_of_bsd(qv, B, S, N, H), kh = heads_of_bsd(kv, B, S, kvN, H),
                vh = heads_of_bsd(vv, B, S, kvN, H);
    auto causal = [](int64_t, int64_t s, int64_t t) { return t <= s; };
    auto node = ms_node("GroupQueryAttention", 7, {{"num_heads", ai(N)}, {"kv_num_heads", ai(kvN)}}, 3);
    auto out = run_cpu_kernel_ok(node, {&q, &k, &v, nullptr, nullptr, &seqlens, &total}, true);
    check_tensor_values(out[0], DataType::kFloat32, {B, S, D}, ref_attention(B, S, qh, kh, vh, scale, no_add, causal),
                        1e-5);
    check_tensor_values(out[1], DataType::kFloat32, {B, kvN, S, H}, flat(kh), 1e-6);
    check_tensor_values(out[2], DataType::kFloat32, {B, kvN, S, H}, flat(vh), 1e-6);

    // A local window of 1: each query sees itself and the token before it.
    auto windowed = ms_node("GroupQueryAttention", 7,
                            {{"num_heads", ai(N)}, {"kv_num_heads", ai(kvN)}, {"local_window_size", ai(1)}}, 3);
    auto near = [](int64_t, int64_t s, int64_t t) { return t <= s && t >= s - 1; };
    check_tensor_values(run_cpu_kernel_ok(windowed, {&q, &k, &v, nullptr, nullptr, &seqlens, &total}, true)[0],
                        DataType::kFloat32, {B, S, D}, ref_attention(B, S, qh, kh, vh, scale, no_add, near), 1e-5);
  }

  SECTION("token generation: one new token after ragged pasts, softcap") {
    // past buffer of 4 positions; entry 0 has 2 past tokens, entry 1 has 4.
    const int64_t B = 2, S = 1, P = 4;
    const std::vector<int64_t> past = {2, 4};
    const std::vector<float> qv = random_floats(B * S * D, 64), kv = random_floats(B * S * Dkv, 65),
                             vv = random_floats(B * S * Dkv, 66), pkv = random_floats(B * kvN * P * H, 67),
                             pvv = random_floats(B * kvN * P * H, 68);
    Tensor q = F({B, S, D}, qv), k = F({B, S, Dkv}, kv), v = F({B, S, Dkv}, vv), pk = F({B, kvN, P, H}, pkv),
           pv = F({B, kvN, P, H}, pvv);
    Tensor seqlens = I32({B}, {past[0], past[1]}), total = I32({1}, {5});
    const int64_t R = 5;  // present length: max(past buffer 4, total 5)
    // present[b, n, t] = past rows [0, past_b), then the new token, then zeros.
    Heads kh(B, kvN, R, H), vh(B, kvN, R, H);
    const Heads kn = heads_of_bsd(kv, B, S, kvN, H), vn = heads_of_bsd(vv, B, S, kvN, H);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t n = 0; n < kvN; ++n)
        for (int64_t t = 0; t < R; ++t)
          for (int64_t h = 0; h < H; ++h) {
            const bool old = t < past[b], cur = t == past[b];
            kh.at(b, n, t, h) = old ? pkv[((b * kvN + n) * P + t) * H + h] : cur ? kn.at(b, n, 0, h) : 0.0;
            vh.at(b, n, t, h) = old ? pvv[((b * kvN + n) * P + t) * H + h] : cur ? vn.at(b, n, 0, h) : 0.0;
          }
    const Heads qh = heads_of_bsd(qv, B, S, N, H);
    auto seen = [&](int64_t b, int64_t, int64_t t) { return t <= past[b]; };
    auto node = ms_node("GroupQueryAttention", 7, {{"num_heads", ai(N)}, {"kv_num_heads", ai(kvN)}}, 3);
    auto out = run_cpu_kernel_ok(node, {&q, &k, &v, &pk, &pv, &seqlens, &total}, true);
    check_tensor_values(out[0], DataType::kFloat32, {B, S, D}, ref_attention(B, S, qh, kh, vh, scale, no_add, seen), 1e-5);
    check_tensor_values(out[1], DataType::kFloat32, {B, kvN, R, H}, flat(kh), 1e-6);
    check_tensor_values(out[2], DataType::kFloat32, {B, kvN, R, H}, flat(vh), 1e-6);

    // softcap c: scores become c * tanh(score / c).
    const double c = 0.5;
    auto capped = ms_node("GroupQueryAttention", 7,
                          {{"num_heads", ai(N)}, {"kv_num_heads", ai(kvN)}, {"softcap", af(0.5f)}, {"scale", af(0.9f)}}, 3);
    std::vector<double> want(B * S * D, 0.0);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t n = 0; n < N; ++n) {
        std::vector<double> w;
        double sum = 0;
        for (int64_t t = 0; t <= past[b]; ++t) {
          double d = 0;
          for (int64_t h = 0; h < H; ++h) d += qh.at(b, n, 0, h) * kh.at(b, n / 2, t, h);
          w.push_back(std::exp(c * std::tanh(0.9 * d / c)));
          sum += w.back();
        }
        for (int64_t t = 0; t <= past[b]; ++t)
          for (int64_t h = 0; h < H; ++h) want[b * D + n * H + h] += w[t] / sum * vh.at(b, n / 2, t, h);
      }
    check_tensor_values(run_cpu_kernel_ok(capped, {&q, &k, &v, &pk, &pv, &seqlens, &total}, true)[0],
                        DataType::kFloat32, {B, S, D}, want, 1e-5);
  }

  SECTION("packed QKV with rotary (interleaved and not), a later chunk of a prompt") {
    // batch 1, 2 past tokens in a 2-long cache, 3 new tokens at positions 2..4.
    const int64_t B = 1, S = 3, P = 2, T = P + S, max_pos = 8;
    std::vector<float> cs, sn;
    rope_caches(max_pos, H / 2, &cs, &sn);
    Tensor cos = F({max_pos, H / 2}, cs), sin = F({max_pos, H / 2}, sn);
    const std::vector<float> x = random_floats(B * S * (D + 2 * Dkv), 69), pkv = random_floats(B * kvN * P * H, 70),
                             pvv = random_floats(B * kvN * P * H, 71);
    Tensor qkv = F({B, S, D + 2 * Dkv}, x), pk = F({B, kvN, P, H}, pkv), pv = F({B, kvN, P, H}, pvv);
    Tensor seqlens = I32({B}, {T - 1}), total = I32({1}, {T});
    for (bool interleaved : {false, true}) {
      INFO("interleaved " << interleaved);
      Heads qh(B, N, S, H), kn(B, kvN, S, H), vn(B, kvN, S, H);
      for (int64_t s = 0; s < S; ++s) {
        const float* row = x.data() + s * (D + 2 * Dkv);
        const int64_t at = (P + s) * (H / 2);
        std::vector<double> c(cs.begin() + at, cs.begin() + at + H / 2), si(sn.begin() + at, sn.begin() + at + H / 2);
        for (int64_t n = 0; n < N; ++n) {
          auto r = rope(std::vector<double>(row + n * H, row + (n + 1) * H), H, c.data(), si.data(), interleaved);
          for (int64_t h = 0; h < H; ++h) qh.at(0, n, s, h) = r[h];
        }
        for (int64_t n = 0; n < kvN; ++n) {
          auto r = rope(std::vector<double>(row + D + n * H, row + D + (n + 1) * H), H, c.data(), si.data(), interleaved);
          for (int64_t h = 0; h < H; ++h) {
            kn.at(0, n, s, h) = r[h];
            vn.at(0, n, s, h) = row[D + Dkv + n * H + h];
          }
        }
      }
      const Heads kh = concat_rows(pkv, P, kn), vh = concat_rows(pvv, P, vn);
      auto causal = [&](int64_t, int64_t s, int64_t t) { return t <= P + s; };
      auto node = ms_node("GroupQueryAttention", 9,
                          {{"num_heads", ai(N)}, {"kv_num_heads", ai(kvN)}, {"do_rotary", ai(1)},
                           {"rotary_interleaved", ai(interleaved)}}, 3);
      auto out = run_cpu_kernel_ok(node, {&qkv, nullptr, nullptr, &pk, &pv, &seqlens, &total, &cos, &sin}, true);
      check_tensor_values(out[0], DataType::kFloat32, {B, S, D}, ref_attention(B, S, qh, kh, vh, scale, no_add, causal),
                          1e-5);
      check_tensor_values(out[1], DataType::kFloat32, {B, kvN, T, H}, flat(kh), 1e-5);
    }
  }

  SECTION("errors name the mismatch") {
    const int64_t B = 1, S = 2;
    Tensor q = F({B, S, D}, random_floats(B * S * D, 72)), k = F({B, S, D}, random_floats(B * S * D, 73));
    Tensor seqlens = I32({B}, {S - 1}), total = I32({1}, {S});
    auto node = ms_node("GroupQueryAttention", 7, {{"num_heads", ai(N)}, {"kv_num_heads", ai(kvN)}}, 3);
    std::vector<Tensor> out;
    Status st = run_cpu_kernel(node, {&q, &k, &k, nullptr, nullptr, &seqlens, &total}, &out, true);
    REQUIRE_FALSE(st.ok());
    CHECK_THAT(st.message(), Catch::Contains("key has hidden 32, expected kv_num_heads*head_size 16"));
  }
}

TEST_CASE("contrib: Attention with fused QKV weights, mask_index forms and past", "[cpu][contrib]") {
  const int64_t B = 2, S = 3, Din = 6, N = 2;
  const double filter = -10000.0;
  // QKV = x W + bias, then split into heads of width H (Q, K) and Hv (V).
  auto project = [&](const std::vector<float>& xv, const std::vector<float>& wv, const std::vector<float>& bv,
                     int64_t D, int64_t Dv, Heads* q, Heads* k, Heads* v) {
    const int64_t C = 2 * D + Dv, H = D / N, Hv = Dv / N;
    for (int64_t b = 0; b < B; ++b)
      for (int64_t s = 0; s < S; ++s)
        for (int64_t c = 0; c < C; ++c) {
          double acc = bv.empty() ? 0.0 : bv[c];
          for (int64_t i = 0; i < Din; ++i) acc += double(xv[(b * S + s) * Din + i]) * wv[i * C + c];
          if (c < D) q->at(b, c / H, s, c % H) = acc;
          else if (c < 2 * D) k->at(b, (c - D) / H, s, (c - D) % H) = acc;
          else v->at(b, (c - 2 * D) / Hv, s, (c - 2 * D) % Hv) = acc;
        }
  };
  const std::vector<float> xv = random_floats(B * S * Din, 81);

  SECTION("raw 2-D mask and (batch) / (2 * batch) mask_index") {
    const int64_t D = 8, H = D / N, C = 3 * D;
    const std::vector<float> wv = random_floats(Din * C, 82), bv = random_floats(C, 83);
    Tensor x = F({B, S, Din}, xv), w = F({Din, C}, wv), bias = F({C}, bv);
    Heads q(B, N, S, H), k(B, N, S, H), v(B, N, S, H);
    project(xv, wv, bv, D, D, &q, &k, &v);
    const double scale = 1 / std::sqrt(double(H));
    auto node = ms_node("Attention", 4, {{"num_heads", ai(N)}});

    const std::vector<int64_t> raw = {1, 1, 0, /**/ 1, 0, 1};
    Tensor m2 = I32({B, S}, raw);
    auto add2 = [&](int64_t b, int64_t, int64_t, int64_t t) { return raw[b * S + t] ? 0.0 : filter; };
    check_tensor_values(run_cpu_kernel_ok(node, {&x, &w, &bias, &m2}, true)[0], DataType::kFloat32, {B, S, D},
                        ref_attention(B, S, q, k, v, scale, add2, all_visible), 1e-5);

    Tensor ends = I32({B}, {2, 3});
    auto add_end = [&](int64_t b, int64_t, int64_t, int64_t t) { return t >= (b ? 3 : 2) ? filter : 0.0; };
    check_tensor_values(run_cpu_kernel_ok(node, {&x, &w, &bias, &ends}, true)[0], DataType::kFloat32, {B, S, D},
                        ref_attention(B, S, q, k, v, scale, add_end, all_visible), 1e-5);

    // Left padding: ends then starts.
    Tensor ends_starts = I32({2 * B}, {3, 3, 1, 0});
    auto add_se = [&](int64_t b, int64_t, int64_t, int64_t t) { return (b == 0 && t < 1) ? filter : 0.0; };
    check_tensor_values(run_cpu_kernel_ok(node, {&x, &w, &bias, &ends_starts}, true)[0], DataType::kFloat32, {B, S, D},
                        ref_attention(B, S, q, k, v, scale, add_se, all_visible), 1e-5);
  }

  SECTION("past (2, B, N, P, H), unidirectional, present") {
    const int64_t D = 8, H = D / N, C = 3 * D, P = 2, T = P + S;
    const std::vector<float> wv = random_floats(Din * C, 84), pastv = random_floats(2 * B * N * P * H, 85);
    Tensor x = F({B, S, Din}, xv), w = F({Din, C}, wv), past = F({2, B, N, P, H}, pastv);
    Heads q(B, N, S, H), k(B, N, S, H), v(B, N, S, H);
    project(xv, wv, {}, D, D, &q, &k, &v);
    const std::vector<float> pk(pastv.begin(), pastv.begin() + B * N * P * H), pv(pastv.begin() + B * N * P * H, pastv.end());
    const Heads kh = concat_rows(pk, P, k), vh = concat_rows(pv, P, v);
    auto add = [&](int64_t, int64_t, int64_t s, int64_t t) { return t > P + s ? filter : 0.0; };
    auto node = ms_node("Attention", 5, {{"num_heads", ai(N)}, {"unidirectional", ai(1)}}, 2);
    auto out = run_cpu_kernel_ok(node, {&x, &w, nullptr, nullptr, &past}, true);
    check_tensor_values(out[0], DataType::kFloat32, {B, S, D}, ref_attention(B, S, q, kh, vh, 1 / std::sqrt(double(H)), add, all_visible), 1e-5);
    std::vector<double> pres = flat(kh);
    for (double d : flat(vh)) pres.push_back(d);
    check_tensor_values(out[1], DataType::kFloat32, {2, B, N, T, H}, pres, 1e-5);
  }

  SECTION("qkv_hidden_sizes with a different V width") {
    const int64_t D = 8, Dv = 4, C = 2 * D + Dv;
    const std::vector<float> wv = random_floats(Din * C, 86), bv = random_floats(C, 87);
    Tensor x = F({B, S, Din}, xv), w = F({Din, C}, wv), bias = F({C}, bv);
    Heads q(B, N, S, D / N), k(B, N, S, D / N), v(B, N, S, Dv / N);
    project(xv, wv, bv, D, Dv, &q, &k, &v);
    auto node = ms_node("Attention", 3, {{"num_heads", ai(N)}, {"qkv_hidden_sizes", ais({D, D, Dv})}});
    check_tensor_values(run_cpu_kernel_ok(node, {&x, &w, &bias}, true)[0], DataType::kFloat32, {B, S, Dv},
                        ref_attention(B, S, q, k, v, 1 / std::sqrt(double(D / N)), no_add, all_visible), 1e-5);
    Tensor bad_w = F({Din, C + 1}, random_floats(Din * (C + 1), 88));
    std::vector<Tensor> out;
    Status st = run_cpu_kernel(node, {&x, &bad_w}, &out, true);
    REQUIRE_FALSE(st.ok());
    CHECK_THAT(st.message(), Catch::Contains("weights have 21 columns, expected hidden + hidden + v_hidden = 20"));
  }
}

namespace {

// Packs values (each < 2^bits) from the low bits of the first byte up.
std::vector<uint8_t> pack_bits(const std::vector<int>& vals, int bits, size_t bytes) {
  std::vector<uint8_t> out(bytes, 0);
  for (size_t i = 0; i < vals.size(); ++i)
    for (int j = 0; j < bits; ++j)
      if (vals[i] >> j & 1) out[(i * bits + j) / 8] |= static_cast<uint8_t>(1u << ((i * bits + j) % 8));
  return out;
}

struct NBitsCase {
  int64_t K, N, block, bits;
  enum Zp { kNone, kPacked, kFloat } zp;
  bool bias, g_idx;
};

// Inputs, node and double reference of one MatMulNBits case (A is (1, 3, K)).
struct NBitsData {
  Tensor a, b, s, zpacked, zfloat, bias, gidx;
  ir::Node node;
  std::vector<const Tensor*> in;
  std::vector<double> want;
  Shape out_shape;
};

std::unique_ptr<NBitsData> make_nbits(const NBitsCase& c, uint32_t seed, bool f16) {
  auto d = std::make_unique<NBitsData>();
  const int64_t M = 3, kb = (c.K + c.block - 1) / c.block, blob = c.block * c.bits / 8, levels = 1 << c.bits;
  std::mt19937 rng(seed);
  std::vector<int> q(static_cast<size_t>(c.N * c.K)), zp(static_cast<size_t>(c.N * kb));
  for (auto& v : q) v = static_cast<int>(rng() % levels);
  for (auto& v : zp) v = static_cast<int>(rng() % levels);
  const std::vector<float> scales = random_floats(c.N * kb, seed + 1, 0.01f, 0.2f), av = random_floats(M * c.K, seed + 2),
                           bv = random_floats(c.N, seed + 3), zpf = random_floats(c.N * kb, seed + 4, 0.f, 15.f);
  std::vector<int64_t> g(static_cast<size_t>(c.K));
  for (int64_t k = 0; k < c.K; ++k) g[k] = c.g_idx ? (k * 5 + 1) % kb : k / c.block;
  // B: per row n, per block, the block's values packed (the last block zero-padded).
  std::vector<uint8_t> bbytes;
  for (int64_t n = 0; n < c.N; ++n)
    for (int64_t b = 0; b < kb; ++b) {
      std::vector<int> vals;
      for (int64_t i = 0; i < c.block; ++i) vals.push_back(b * c.block + i < c.K ? q[n * c.K + b * c.block + i] : 0);
      for (uint8_t byte : pack_bits(vals, static_cast<int>(c.bits), static_cast<size_t>(blob))) bbytes.push_back(byte);
    }
  const int64_t zp_row = (kb * c.bits + 7) / 8;
  std::vector<uint8_t> zbytes;
  for (int64_t n = 0; n < c.N; ++n) {
    std::vector<int> vals(zp.begin() + n * kb, zp.begin() + (n + 1) * kb);
    for (uint8_t byte : pack_bits(vals, static_cast<int>(c.bits), static_cast<size_t>(zp_row))) zbytes.push_back(byte);
  }
  d->a = f16 ? F16({1, M, c.K}, av) : F({1, M, c.K}, av);
  d->b = U8({c.N, kb, blob}, bbytes);
  d->s = f16 ? F16({c.N, kb}, scales) : F({c.N, kb}, scales);
  d->zpacked = U8({c.N, zp_row}, zbytes), d->zfloat = F({c.N, kb}, zpf), d->bias = F({c.N}, bv);
  d->gidx = I32({c.K}, g);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < c.N; ++n) {
      double acc = c.bias ? bv[n] : 0.0;
      for (int64_t k = 0; k < c.K; ++k) {
        const int64_t blk = g[k];
        const double z = c.zp == NBitsCase::kPacked ? zp[n * kb + blk]
                         : c.zp == NBitsCase::kFloat ? double(zpf[n * kb + blk])
                                                     : double(levels / 2);
        const double wq = (q[n * c.K + k] - z) * d->s.get_as_double(n * kb + blk);
        acc += d->a.get_as_double(m * c.K + k) * wq;
      }
      d->want.push_back(acc);
    }
  Attrs attrs = {{"K", ai(c.K)}, {"N", ai(c.N)}, {"block_size", ai(c.block)}, {"bits", ai(c.bits)}};
  d->node = ms_node("MatMulNBits", 6, attrs);
  const Tensor* zpt = c.zp == NBitsCase::kPacked ? &d->zpacked : c.zp == NBitsCase::kFloat ? &d->zfloat : nullptr;
  d->in = {&d->a, &d->b, &d->s, zpt, c.g_idx ? &d->gidx : nullptr, c.bias ? &d->bias : nullptr};
  d->out_shape = {1, M, c.N};
  return d;
}

void check_nbits(const NBitsCase& c, uint32_t seed, bool f16 = false) {
  INFO("K " << c.K << " N " << c.N << " block " << c.block << " bits " << c.bits << " zp " << c.zp);
  auto d = make_nbits(c, seed, f16);
  auto out = run_cpu_kernel_ok(d->node, d->in, true);
  check_tensor_values(out[0], f16 ? DataType::kFloat16 : DataType::kFloat32, d->out_shape, d->want, f16 ? 2e-3 : 1e-4);
}

}  // namespace

TEST_CASE("contrib: MatMulNBits 4-bit with block sizes 16/32/128, zero points, ragged K", "[cpu][contrib]") {
  using Z = NBitsCase;
  uint32_t seed = 100;
  for (const NBitsCase& c : {NBitsCase{64, 10, 16, 4, Z::kNone, false, false},
                             NBitsCase{40, 9, 16, 4, Z::kPacked, true, false},    // K = 2.5 blocks
                             NBitsCase{96, 17, 32, 4, Z::kPacked, false, false},
                             NBitsCase{50, 8, 32, 4, Z::kNone, true, false},      // K not a multiple of 32
                             NBitsCase{256, 12, 128, 4, Z::kPacked, true, false},
                             NBitsCase{130, 5, 128, 4, Z::kFloat, false, false},  // 2 blocks, the last holds 2 values
                             NBitsCase{48, 6, 16, 4, Z::kPacked, false, true},    // g_idx
                             NBitsCase{40, 7, 16, 8, Z::kPacked, true, false},    // 8-bit
                             NBitsCase{72, 5, 32, 2, Z::kPacked, false, false},   // 2-bit
                             NBitsCase{48, 4, 16, 3, Z::kPacked, false, false}})  // 3-bit (values straddle bytes)
    check_nbits(c, seed += 10);
  check_nbits(NBitsCase{64, 9, 32, 4, Z::kPacked, true, false}, 999, /*f16=*/true);

  SECTION("a B of the wrong size is named") {
    Tensor a = F({2, 32}, random_floats(64, 1)), b = U8({4, 1, 8}, std::vector<uint8_t>(32, 0x88)),
           s = F({4, 1}, {1, 1, 1, 1});
    auto node = ms_node("MatMulNBits", 3, {{"K", ai(32)}, {"N", ai(4)}, {"block_size", ai(32)}});
    std::vector<Tensor> out;
    Status st = run_cpu_kernel(node, {&a, &b, &s}, &out, true);
    REQUIRE_FALSE(st.ok());
    CHECK_THAT(st.message(), Catch::Contains("expected (N 4, k_blocks 1, blob_size 16) = 64"));
  }
}

namespace {

// Runs `node` with the first GPU candidate that supports it (llvmpipe
// natively) and compares with its CPU kernel: |gpu - cpu| <= tol * (1 + |cpu|).
// `constant[i]`: input i is a model constant (an initializer).
void check_gpu_matches_cpu(ir::Node node, const std::vector<const Tensor*>& in, const std::vector<bool>& constant,
                           double tol) {
  for (size_t i = 0; i < in.size(); ++i)
    if (!in[i]) node.inputs[i] = "";
  std::vector<Tensor> want;
  Status st = run_cpu_kernel(node, in, &want, true);
  INFO(st.message());
  REQUIRE(st.ok());
  gl::KernelContext ctx;
  ctx.node = &node;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i]) ctx.inputs.push_back(gl::TensorDesc{in[i]->dtype(), in[i]->shape()});
    else ctx.inputs.push_back(std::nullopt);
    ctx.constants.push_back(in[i] && constant[i] ? in[i] : nullptr);
  }
  for (auto& w : want) ctx.outputs.push_back(gl::TensorDesc{w.dtype(), w.shape()});
  const plan::CandidateChoice choice = plan::choose_candidate(find_gpu_kernels(node), ctx);
  INFO(choice.first_reason());
  REQUIRE(choice.winner != nullptr);
  auto passes = plan::build_passes(*choice.winner, ctx);
  REQUIRE(passes.ok());
  static auto ex = gl::create_executor();
  INFO((ex.ok() ? std::string() : ex.status().message()));
  REQUIRE(ex.ok());
  std::vector<gl::GpuTensorPtr> gin;
  for (const Tensor* t : in) {
    if (!t) { gin.push_back(nullptr); continue; }
    auto up = ex.value()->upload(*t);
    INFO((up.ok() ? std::string() : up.status().message()));
    REQUIRE(up.ok());
    gin.push_back(up.value());
  }
  auto outs = ex.value()->run(passes.value(), gin, node.outputs.size());
  INFO((outs.ok() ? std::string() : outs.status().message() + "\n" + passes.value()[0].body));
  REQUIRE(outs.ok());
  // Every output the node asks for.
  for (size_t o = 0; o < want.size(); ++o) {
    if (!node.has_output(o)) continue;
    INFO("output " << o);
    REQUIRE(o < outs.value().size());
    REQUIRE(outs.value()[o] != nullptr);
    auto got = ex.value()->download(*outs.value()[o]);
    REQUIRE(got.ok());
    const Comparison cmp = compare_tensors(got.value(), want[o], tol, tol);
    INFO(cmp.mismatch << " (max |diff| " << cmp.max_abs_diff << ")");
    CHECK(cmp.equal);
  }
}

}  // namespace

TEST_CASE("contrib: MatMulNBits on the GPU dequantizes the packed bytes in the shader", "[gpu][contrib]") {
  using Z = NBitsCase;
  uint32_t seed = 500;
  for (const NBitsCase& c : {NBitsCase{64, 10, 16, 4, Z::kNone, false, false},
                             NBitsCase{40, 9, 16, 4, Z::kPacked, true, false},  // a partial last block
                             NBitsCase{96, 17, 32, 4, Z::kFloat, true, false},
                             NBitsCase{300, 6, 128, 4, Z::kPacked, false, false},
                             NBitsCase{40, 7, 16, 8, Z::kPacked, true, false},
                             NBitsCase{72, 5, 32, 2, Z::kPacked, false, false},
                             // K / 4 past 2048 texels: A is read unpacked (the one-value-per-fetch path)
                             NBitsCase{8224, 3, 32, 4, Z::kPacked, true, false},
                             NBitsCase{8200, 2, 16, 8, Z::kNone, false, false}}) {
    INFO("K " << c.K << " N " << c.N << " block " << c.block << " bits " << c.bits << " zp " << c.zp);
    auto d = make_nbits(c, seed += 10, false);
    check_gpu_matches_cpu(d->node, d->in, {false, true, true, true, true, true}, 1e-4);
  }
  auto d16 = make_nbits(NBitsCase{64, 9, 32, 4, Z::kPacked, true, false}, 777, true);
  check_gpu_matches_cpu(d16->node, d16->in, {false, true, true, true, true, true}, 2e-3);
}

TEST_CASE("contrib: MultiHeadAttention and Attention on the GPU match the CPU kernels", "[gpu][contrib]") {
  const int64_t B = 2, S = 3, N = 2, H = 4, D = N * H;
  auto rnd = [](Shape s, uint32_t seed) { return F(s, random_floats(static_cast<size_t>(shape_size(s)), seed)); };

  SECTION("MHA: bias, 2-D mask, past, unidirectional, present and qk outputs") {
    const int64_t P = 2, T = P + S;
    Tensor q = rnd({B, S, D}, 1), k = rnd({B, S, D}, 2), v = rnd({B, S, D}, 3), bias = rnd({3 * D}, 4),
           pk = rnd({B, N, P, H}, 5), pv = rnd({B, N, P, H}, 6);
    Tensor mask = I32({B, T}, {1, 1, 1, 1, 1, 0, 1, 1, 1, 0});
    auto node = ms_node("MultiHeadAttention", 8, {{"num_heads", ai(N)}, {"unidirectional", ai(1)}}, 4);
    check_gpu_matches_cpu(node, {&q, &k, &v, &bias, &mask, nullptr, &pk, &pv},
                          {false, false, false, true, false, false, false, false}, 1e-4);
    Tensor kv_mask = I32({B, S}, {1, 0, 1, 1, 1, 0});
    auto node2 = ms_node("MultiHeadAttention", 8, {{"num_heads", ai(N)}}, 3);
    check_gpu_matches_cpu(node2, {&q, &k, &v, nullptr, &kv_mask, nullptr, &pk, &pv},
                          {false, false, false, false, false, false, false, false}, 1e-4);
  }

  SECTION("MHA: cross attention with v_head_size != head_size, 1-D lengths, attention_bias, scale") {
    const int64_t L = 5, Hv = 3;
    Tensor q = rnd({B, S, D}, 7), k = rnd({B, L, D}, 8), v = rnd({B, L, N * Hv}, 9), ab = rnd({1, N, S, L}, 10);
    Tensor lens = I32({B}, {5, 3});
    auto node = ms_node("MultiHeadAttention", 6, {{"num_heads", ai(N)}, {"scale", af(0.4f)}});
    check_gpu_matches_cpu(node, {&q, &k, &v, nullptr, &lens, &ab}, {false, false, false, false, false, false}, 1e-4);
  }

  SECTION("MHA: BNSH key / value with a query bias") {
    const int64_t L = 4;
    Tensor q = rnd({B, S, D}, 11), k = rnd({B, N, L, H}, 12), v = rnd({B, N, L, H}, 13), bias = rnd({3 * D}, 14);
    auto node = ms_node("MultiHeadAttention", 4, {{"num_heads", ai(N)}});
    check_gpu_matches_cpu(node, {&q, &k, &v, &bias}, {false, false, false, true}, 1e-4);
  }

  SECTION("Attention: fused QKV weights, mask_index forms, past and present") {
    const int64_t Din = 6, C = 3 * D, P = 2;
    Tensor x = rnd({B, S, Din}, 15), w = rnd({Din, C}, 16), bias = rnd({C}, 17), past = rnd({2, B, N, P, H}, 18);
    auto node = ms_node("Attention", 4, {{"num_heads", ai(N)}});
    Tensor raw = I32({B, S}, {1, 1, 0, 1, 0, 1}), ends = I32({B}, {2, 3}), ends_starts = I32({2 * B}, {3, 3, 1, 0});
    for (const Tensor* m : {&raw, &ends, &ends_starts})
      check_gpu_matches_cpu(node, {&x, &w, &bias, m}, {false, true, true, false}, 1e-4);
    auto with_past = ms_node("Attention", 5, {{"num_heads", ai(N)}, {"unidirectional", ai(1)}}, 2);
    check_gpu_matches_cpu(with_past, {&x, &w, &bias, nullptr, &past}, {false, true, true, false, false}, 1e-4);
  }
}

TEST_CASE("contrib: GroupQueryAttention on the GPU matches the CPU kernel", "[gpu][contrib]") {
  const int64_t N = 4, kvN = 2, H = 8, D = N * H, Dkv = kvN * H;
  auto rnd = [](Shape s, uint32_t seed) { return F(s, random_floats(static_cast<size_t>(shape_size(s)), seed)); };
  // total_sequence_length (input 6) is known when the passes are built.
  const std::vector<bool> consts = {false, false, false, false, false, false, true, true, true, false, false, false};

  SECTION("first prompt, separate Q/K/V; a local window with softcap and smooth softmax") {
    const int64_t B = 2, S = 4;
    Tensor q = rnd({B, S, D}, 1), k = rnd({B, S, Dkv}, 2), v = rnd({B, S, Dkv}, 3);
    Tensor seqlens = I32({B}, {S - 1, S - 1}), total = I32({1}, {S});
    auto node = ms_node("GroupQueryAttention", 7, {{"num_heads", ai(N)}, {"kv_num_heads", ai(kvN)}}, 3);
    check_gpu_matches_cpu(node, {&q, &k, &v, nullptr, nullptr, &seqlens, &total}, consts, 1e-4);
    auto windowed = ms_node("GroupQueryAttention", 7,
                            {{"num_heads", ai(N)}, {"kv_num_heads", ai(kvN)}, {"local_window_size", ai(2)},
                             {"softcap", af(0.7f)}, {"smooth_softmax", ai(1)}}, 3);
    check_gpu_matches_cpu(windowed, {&q, &k, &v, nullptr, nullptr, &seqlens, &total}, consts, 1e-4);
  }

  SECTION("token generation after ragged pasts, with a head_sink") {
    const int64_t B = 2, S = 1, P = 4;
    Tensor q = rnd({B, S, D}, 4), k = rnd({B, S, Dkv}, 5), v = rnd({B, S, Dkv}, 6), pk = rnd({B, kvN, P, H}, 7),
           pv = rnd({B, kvN, P, H}, 8), sink = rnd({N}, 9);
    Tensor seqlens = I32({B}, {2, 4}), total = I32({1}, {5});
    auto node = ms_node("GroupQueryAttention", 12, {{"num_heads", ai(N)}, {"kv_num_heads", ai(kvN)}}, 3);
    check_gpu_matches_cpu(node, {&q, &k, &v, &pk, &pv, &seqlens, &total}, consts, 1e-4);
    check_gpu_matches_cpu(node, {&q, &k, &v, &pk, &pv, &seqlens, &total, nullptr, nullptr, nullptr, nullptr, &sink},
                          consts, 1e-4);
  }

  SECTION("packed QKV with rotary, a later chunk of a prompt; position_ids") {
    const int64_t B = 1, S = 3, P = 2, T = P + S, max_pos = 8;
    std::vector<float> cs, sn;
    rope_caches(max_pos, H / 2, &cs, &sn);
    Tensor cos = F({max_pos, H / 2}, cs), sin = F({max_pos, H / 2}, sn);
    Tensor qkv = rnd({B, S, D + 2 * Dkv}, 10), pk = rnd({B, kvN, P, H}, 11), pv = rnd({B, kvN, P, H}, 12);
    Tensor seqlens = I32({B}, {T - 1}), total = I32({1}, {T}), pos = I64({B, S}, {3, 5, 7});
    for (int interleaved : {0, 1}) {
      auto node = ms_node("GroupQueryAttention", 10,
                          {{"num_heads", ai(N)}, {"kv_num_heads", ai(kvN)}, {"do_rotary", ai(1)},
                           {"rotary_interleaved", ai(interleaved)}}, 3);
      check_gpu_matches_cpu(node, {&qkv, nullptr, nullptr, &pk, &pv, &seqlens, &total, &cos, &sin}, consts, 1e-4);
      check_gpu_matches_cpu(node, {&qkv, nullptr, nullptr, &pk, &pv, &seqlens, &total, &cos, &sin, &pos}, consts, 1e-4);
    }
  }
}

TEST_CASE("contrib: RotaryEmbedding on the GPU matches the CPU kernel", "[gpu][contrib]") {
  const int64_t B = 2, S = 3, N = 2, H = 8, max_pos = 12;
  std::vector<float> cs, sn, c2, s2;
  rope_caches(max_pos, H / 2, &cs, &sn);
  rope_caches(max_pos, 2, &c2, &s2);
  Tensor cos = F({max_pos, H / 2}, cs), sin = F({max_pos, H / 2}, sn), cos2 = F({max_pos, 2}, c2), sin2 = F({max_pos, 2}, s2);
  Tensor x3 = F({B, S, N * H}, random_floats(B * S * N * H, 1)), x4 = F({B, N, S, H}, random_floats(B * S * N * H, 2));
  Tensor per_token = I64({B, S}, {0, 1, 2, 5, 7, 11}), start = I64({1}, {4});
  const std::vector<bool> consts = {false, false, true, true};
  for (int interleaved : {0, 1}) {
    INFO("interleaved " << interleaved);
    auto node = ms_node("RotaryEmbedding", 4, {{"interleaved", ai(interleaved)}});
    check_gpu_matches_cpu(node, {&x3, &per_token, &cos, &sin}, consts, 1e-5);
    check_gpu_matches_cpu(node, {&x4, &start, &cos, &sin}, consts, 1e-5);
    auto partial = ms_node("RotaryEmbedding", 4,
                           {{"interleaved", ai(interleaved)}, {"rotary_embedding_dim", ai(4)}, {"num_heads", ai(N)}});
    check_gpu_matches_cpu(partial, {&x3, &start, &cos2, &sin2}, consts, 1e-5);
  }
}

TEST_CASE("contrib: float16 attention on the GPU matches the CPU kernels", "[gpu][contrib]") {
  const int64_t B = 2, S = 3, N = 4, kvN = 2, H = 8;
  auto h16 = [](Shape s, uint32_t seed) { return F16(s, random_floats(static_cast<size_t>(shape_size(s)), seed)); };
  SECTION("MultiHeadAttention with past, present outputs") {
    const int64_t P = 2;
    Tensor q = h16({B, S, N * H}, 1), k = h16({B, S, N * H}, 2), v = h16({B, S, N * H}, 3), pk = h16({B, N, P, H}, 4),
           pv = h16({B, N, P, H}, 5);
    auto node = ms_node("MultiHeadAttention", 8, {{"num_heads", ai(N)}, {"unidirectional", ai(1)}}, 3);
    check_gpu_matches_cpu(node, {&q, &k, &v, nullptr, nullptr, nullptr, &pk, &pv},
                          {false, false, false, false, false, false, false, false}, 3e-3);
  }
  SECTION("GroupQueryAttention token generation with rotary") {
    const int64_t P = 4, max_pos = 8;
    std::vector<float> cs, sn;
    rope_caches(max_pos, H / 2, &cs, &sn);
    Tensor cos = F16({max_pos, H / 2}, cs), sin = F16({max_pos, H / 2}, sn);
    Tensor q = h16({B, 1, N * H}, 6), k = h16({B, 1, kvN * H}, 7), v = h16({B, 1, kvN * H}, 8),
           pk = h16({B, kvN, P, H}, 9), pv = h16({B, kvN, P, H}, 10);
    Tensor seqlens = I32({B}, {3, 4}), total = I32({1}, {5});
    auto node = ms_node("GroupQueryAttention", 9,
                        {{"num_heads", ai(N)}, {"kv_num_heads", ai(kvN)}, {"do_rotary", ai(1)}}, 3);
    check_gpu_matches_cpu(node, {&q, &k, &v, &pk, &pv, &seqlens, &total, &cos, &sin},
                          {false, false, false, false, false, false, true, true, true}, 3e-3);
  }
}
