// Winograd F(2x2, 3x3) (Lavin & Gray, "Fast Algorithms for Convolutional
// Neural Networks", 2015): Y = A^T [(G w G^T) . (B^T d B)] A per 4x4 input
// patch d and 2x2 output block Y. Three steps per image:
//   1. every channel's patches transformed, four tiles to a vector, into
//      V [16][C][tiles];
//   2. 16 GEMMs (gemm.cc) P_k [M x tiles] = U_k [M x C] . V_k [C x tiles];
//   3. every output channel's blocks transformed back from P, four tiles to
//      a vector, with the bias, a fused residual and a fused Relu / Clip.
// The transformed weights U come from winograd_weights, once per session.
#include "engine/cpu/conv_winograd.h"

#include <algorithm>

#include "engine/cpu/simd.h"
#include "engine/cpu/threadpool.h"
#include "engine/cpu/util.h"

namespace glint::cpu {

namespace {

using simd::v4;
constexpr int kPoints = static_cast<int>(kWinogradPoints);
constexpr int64_t kLanes = 4;  // tiles per vector

// B^T d B for the patches whose column j of row r is d[r][j] (one tile per
// lane), written as point 4i + k of each lane.
inline void input_transform(const v4 d[4][4], v4 out[kPoints]) {
  v4 t[4][4];  // B^T d
  for (int j = 0; j < 4; ++j) {
    t[0][j] = d[0][j] - d[2][j];
    t[1][j] = d[1][j] + d[2][j];
    t[2][j] = d[2][j] - d[1][j];
    t[3][j] = d[1][j] - d[3][j];
  }
  for (int i = 0; i < 4; ++i) {
    out[4 * i + 0] = t[i][0] - t[i][2];
    out[4 * i + 1] = t[i][1] + t[i][2];
    out[4 * i + 2] = t[i][2] - t[i][1];
    out[4 * i + 3] = t[i][1] - t[i][3];
  }
}

// A^T p A: the 2x2 block (y[0][0], y[0][1], y[1][0], y[1][1]) of each lane.
inline void output_transform(const v4 p[kPoints], v4 y[4]) {
  v4 s[2][4];  // A^T p
  for (int j = 0; j < 4; ++j) {
    s[0][j] = p[j] + p[4 + j] + p[8 + j];
    s[1][j] = p[4 + j] - p[8 + j] - p[12 + j];
  }
  for (int i = 0; i < 2; ++i) {
    y[2 * i + 0] = s[i][0] + s[i][1] + s[i][2];
    y[2 * i + 1] = s[i][1] - s[i][2] - s[i][3];
  }
}

// Step 1 for channel plane xc (H x W): V point k of tile t at v[k * stride + t].
// `rows` is scratch of 4 * row_len floats: the four input rows a tile row
// reads, zero-padded, so that every tile (borders included) takes the
// vector path.
void transform_plane(const float* xc, int64_t H, int64_t W, int64_t pt, int64_t pl, int64_t th, int64_t tw,
                     int64_t row_len, float* rows, float* v, int64_t stride) {
  for (int64_t ty = 0; ty < th; ++ty) {
    for (int r = 0; r < 4; ++r) {
      float* dst = rows + r * row_len;
      const int64_t ir = 2 * ty - pt + r;
      std::fill(dst, dst + row_len, 0.f);
      if (ir < 0 || ir >= H) continue;
      // Input column ic lands at ic + pl.
      const int64_t c0 = std::max<int64_t>(0, -pl), c1 = std::min<int64_t>(W, row_len - pl);
      if (c1 > c0) std::copy(xc + ir * W + c0, xc + ir * W + c1, dst + c0 + pl);
    }
    for (int64_t tx = 0; tx < tw; tx += kLanes) {
      // Lane l is tile tx + l: its column j is padded column 2 (tx + l) + j.
      v4 d[4][4], out[kPoints];
      for (int r = 0; r < 4; ++r)
        for (int j = 0; j < 4; ++j) d[r][j] = simd::load_even(rows + r * row_len + 2 * tx + j);
      input_transform(d, out);
      const int64_t t = ty * tw + tx, n = std::min(kLanes, tw - tx);
      if (n == kLanes) {
        for (int k = 0; k < kPoints; ++k) simd::store(v + k * stride + t, out[k]);
      } else {
        for (int k = 0; k < kPoints; ++k)
          for (int64_t l = 0; l < n; ++l) v[k * stride + t + l] = out[k][l];
      }
    }
  }
}

// Step 3 for output channel m: the 16 points of tile t at p[k * stride + t].
void untransform_plane(const float* p, int64_t stride, int64_t th, int64_t tw, int64_t OH, int64_t OW, float bias,
                       bool accumulate, GemmClamp clamp, float* ym) {
  const v4 lo = simd::splat(clamp.lo), hi = simd::splat(clamp.hi), b = simd::splat(bias);
  for (int64_t ty = 0; ty < th; ++ty) {
    const int64_t oy = 2 * ty;
    const bool two_rows = oy + 1 < OH;
    for (int64_t tx = 0; tx < tw; tx += kLanes) {
      const int64_t t = ty * tw + tx, n = std::min(kLanes, tw - tx);
      v4 pts[kPoints], y[4];
      if (n == kLanes) {
        for (int k = 0; k < kPoints; ++k) pts[k] = simd::load(p + k * stride + t);
      } else {
        for (int k = 0; k < kPoints; ++k) {
          pts[k] = simd::splat(0.f);
          for (int64_t l = 0; l < n; ++l) pts[k][l] = p[k * stride + t + l];
        }
      }
      output_transform(pts, y);
      const int64_t ox = 2 * tx;
      for (int i = 0; i < (two_rows ? 2 : 1); ++i) {
        float* row = ym + (oy + i) * OW + ox;
        // Columns 2l and 2l + 1 of tile l, interleaved into eight pixels.
        v4 a = simd::shuffle<0, 4, 1, 5>(y[2 * i], y[2 * i + 1]) + b;
        v4 c = simd::shuffle<2, 6, 3, 7>(y[2 * i], y[2 * i + 1]) + b;
        if (ox + 2 * kLanes <= OW) {
          if (accumulate) {
            a += simd::load(row);
            c += simd::load(row + 4);
          }
          simd::store(row, simd::clamp(a, lo, hi));
          simd::store(row + 4, simd::clamp(c, lo, hi));
          continue;
        }
        float px[2 * kLanes];
        simd::store(px, a);
        simd::store(px + 4, c);
        for (int64_t j = 0; j < std::min<int64_t>(2 * kLanes, OW - ox); ++j) {
          const float s = accumulate ? px[j] + row[j] : px[j];
          row[j] = s < clamp.lo ? clamp.lo : (s > clamp.hi ? clamp.hi : s);
        }
      }
    }
  }
}

bool all_ones(const ir::Node& n, const char* attr) {
  if (!n.has_attr(attr)) return true;
  for (int64_t v : n.attr_ints(attr))
    if (v != 1) return false;
  return true;
}

}  // namespace

bool winograd_conv_applies(const ir::Node& conv, const Shape& w, int64_t out_pixels) {
  if (conv.op_type != "Conv" || !(conv.domain.empty() || conv.domain == "ai.onnx")) return false;
  if (out_pixels >= 0 && out_pixels < kWinogradMinOutputPixels) return false;
  if (w.size() != 4 || w[2] != 3 || w[3] != 3 || w[0] < 1 || w[1] < kWinogradMinChannels) return false;
  if (conv.attr_int("group", 1) != 1 || is_winograd(conv)) return false;
  if (conv.has_attr("kernel_shape") && conv.attr_ints("kernel_shape") != std::vector<int64_t>{3, 3}) return false;
  return all_ones(conv, "strides") && all_ones(conv, "dilations");
}

Tensor winograd_weights(const Tensor& w) {
  const int64_t M = w.shape()[0], C = w.shape()[1];
  Tensor u(DataType::kFloat32, {kPoints, M, C}, Tensor::kUninitialized);
  const float* src = w.data<float>();
  float* dst = u.data<float>();
  for (int64_t m = 0; m < M; ++m)
    for (int64_t c = 0; c < C; ++c) {
      const float* g = src + (m * C + c) * 9;  // g[3 r + s]
      double t[4][3];                           // G g
      for (int s = 0; s < 3; ++s) {
        t[0][s] = g[s];
        t[1][s] = 0.5 * (double(g[s]) + g[3 + s] + g[6 + s]);
        t[2][s] = 0.5 * (double(g[s]) - g[3 + s] + g[6 + s]);
        t[3][s] = g[6 + s];
      }
      for (int i = 0; i < 4; ++i) {
        const double e[4] = {t[i][0], 0.5 * (t[i][0] + t[i][1] + t[i][2]), 0.5 * (t[i][0] - t[i][1] + t[i][2]),
                             t[i][2]};  // (G g) G^T, row i
        for (int j = 0; j < 4; ++j) dst[((4 * i + j) * M + m) * C + c] = static_cast<float>(e[j]);
      }
    }
  return u;
}

void conv3x3_winograd(const float* x, int64_t N, int64_t C, const ops::Window3& g, const float* u, int64_t M,
                      const float* bias, bool accumulate, GemmClamp clamp, float* y) {
  const int64_t H = g.in[1], W = g.in[2], OH = g.out[1], OW = g.out[2];
  const int64_t th = (OH + 1) / 2, tw = (OW + 1) / 2, tiles = th * tw;
  if (tiles == 0) return;
  // Tiles are padded to whole vectors in the row scratch: lane l of the last
  // group reads up to padded column 2 (tw + 3) + 3 + 7.
  const int64_t row_len = 2 * ((tw + kLanes - 1) / kLanes) * kLanes + 8;
  // The transformed input V [16][C][tiles], the products P [16][M][tiles]
  // and each thread's padded rows, in one scratch buffer taken here, on the
  // calling thread, and reused by every image and run.
  float* const v = scratch_floats(Scratch::kWinograd, kPoints * (C + M) * tiles + num_threads() * 4 * row_len);
  float* const p = v + kPoints * C * tiles;
  float* const rows = p + kPoints * M * tiles;
  for (int64_t n = 0; n < N; ++n) {
    const float* xn = x + n * C * H * W;
    float* yn = y + n * M * OH * OW;
    parallel_for(C, [&](int64_t c) {
      transform_plane(xn + c * H * W, H, W, g.pb[1], g.pb[2], th, tw, row_len,
                      rows + thread_index() * 4 * row_len, v + c * tiles, C * tiles);
    }, grain_for(kPoints * tiles));
    gemm_packing_batched(
        kPoints, M, tiles, C, u, C, M * C,
        [&](int64_t k, int64_t q0, int64_t q1, float* dst) {
          pack_b_panels(false, C, tiles, v + k * C * tiles, tiles, q0, q1, dst);
        },
        p, tiles, M * tiles, nullptr, false);
    parallel_for(M, [&](int64_t m) {
      untransform_plane(p + m * tiles, M * tiles, th, tw, OH, OW, bias ? bias[m] : 0.f, accumulate, clamp,
                        yn + m * OH * OW);
    }, grain_for(kPoints * tiles));
  }
}

}  // namespace glint::cpu
