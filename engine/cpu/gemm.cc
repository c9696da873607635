// The float32 GEMM of the CPU kernels (and so of the browser's `wasm`
// provider): register-tiled micro-kernel, 4 rows x 8 columns of C held in 8
// 4-lane vectors, B packed into 8-column panels, A read in place (row-major;
// a broadcast per row and k is all the kernel needs, so packing A buys
// nothing and costs a pass over the weights on every run). Threads split C
// into tiles.
//
// Why own micro-kernels rather than a library (measured on this machine):
// - XNNPACK (what TF.js and onnxruntime-web use) is not buildable here:
//   Debian's `xnnpack` source tarballs are not fetchable from the archive.
// - Eigen 3.4 has no WASM SIMD packet backend; under em++ -msimd128 its GEMM
//   auto-vectorizes to 15.8 GFLOP/s (256x1024x1024, 1 thread), about half of
//   the peers' ~28-30.
// - This kernel, written once with vector extensions (simd.h), compiles to
//   simd128 under em++ and SSE under g++: 256x1024x1024 on 1 thread reaches
//   ~40 GFLOP/s in wasm (node 20) and ~34 natively. In headless Chromium
//   (1 thread, medians of 15 runs, busy 2-core machine): SqueezeNet 1.1 fp32
//   25 ms vs onnxruntime-web 1.30 wasm 22 ms; MobileNetV2 29.5 ms vs 31 ms;
//   MatMul 256x1024x1024 18.7 vs 22.2 ms; Conv3x3 32->64@112 17.3 vs 14.2 ms.
//   Before (scalar blocked GEMM): SqueezeNet 52 ms, MobileNetV2 134 ms.
#include "engine/cpu/gemm.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "engine/cpu/simd.h"
#include "engine/cpu/threadpool.h"
#include "engine/cpu/util.h"

namespace glint::cpu {

namespace {

using simd::v4;
// 4 rows: 8 accumulators + 2 B vectors + 1 broadcast fit the 16 vector
// registers V8 has on x86-64 with room for the row pointers; 6 rows spilled
// under V8 (wasm GEMM 256x1024x1024: 39.8 GFLOP/s with 4 rows, 31.7 with 6)
// and are no faster natively (34.5 vs 33.9).
constexpr int kMr = 4;

// Below this many multiply-adds a product runs on the calling thread alone:
// waking the pool's workers costs more than they save (in the browser a
// worker wakes through a futex in tens of microseconds). A GPT decode step's
// 384x1536 GEMVs ran slower on 2 threads than on 1 (14.5 against 10.9 ms);
// MNIST's convs are ~0.6M.
constexpr int64_t kParallelMinWork = int64_t{1} << 20;
bool worth_threads(int64_t M, int64_t N, int64_t K) {
  return static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K) >= kParallelMinWork;
}
constexpr int kNr = static_cast<int>(kGemmNr);
// A (floats) small enough to stay in a core's L2 while B's blocks stream past.
constexpr int64_t kCachedAFloats = int64_t{1} << 16;

// C[0:mr, 0:nr] = A[0:mr, 0:K] * Bpanel (+ bias) (+ C).
inline void micro_kernel(int64_t K, const float* a, int64_t lda, int mr, const float* b,
                         float* c, int64_t ldc, int nr, const float* bias, bool accumulate,
                         v4 lo, v4 hi) {
  const float* ar[kMr];
  for (int r = 0; r < kMr; ++r) ar[r] = a + std::min(r, mr - 1) * lda;
  v4 c0[kMr], c1[kMr];
  for (int r = 0; r < kMr; ++r) c0[r] = c1[r] = simd::splat(0.f);
  for (int64_t k = 0; k < K; ++k, b += kNr) {
    const v4 b0 = simd::load(b), b1 = simd::load(b + 4);
    for (int r = 0; r < kMr; ++r) {
      const v4 av = simd::splat(ar[r][k]);
      c0[r] += av * b0;
      c1[r] += av * b1;
    }
  }
  if (bias)
    for (int r = 0; r < kMr; ++r) {
      const v4 bv = simd::splat(bias[std::min(r, mr - 1)]);
      c0[r] += bv;
      c1[r] += bv;
    }
  if (mr == kMr && nr == kNr) {
    for (int r = 0; r < kMr; ++r) {
      float* cr = c + r * ldc;
      if (accumulate) {
        c0[r] += simd::load(cr);
        c1[r] += simd::load(cr + 4);
      }
      simd::store(cr, simd::clamp(c0[r], lo, hi));
      simd::store(cr + 4, simd::clamp(c1[r], lo, hi));
    }
    return;
  }
  float tmp[kNr];
  for (int r = 0; r < mr; ++r) {
    float* cr = c + r * ldc;
    if (accumulate) {
      for (int j = 0; j < nr; ++j) tmp[j] = cr[j];
      for (int j = nr; j < kNr; ++j) tmp[j] = 0.f;
      c0[r] += simd::load(tmp);
      c1[r] += simd::load(tmp + 4);
    }
    simd::store(tmp, simd::clamp(c0[r], lo, hi));
    simd::store(tmp + 4, simd::clamp(c1[r], lo, hi));
    for (int j = 0; j < nr; ++j) cr[j] = tmp[j];
  }
}

// Rows per task of the matrix-vector products below: one task per row
// spent more on the call than a 384-long dot product costs.
constexpr int64_t kGemvRows = 32;

// c[j] (+)= dot(a, B row j) for j in [j0, j1), K-long rows ldb apart, with
// eight independent vector sums so that the adds do not wait on each other:
// V8 has no fused multiply-add, and with four sums each add waited on the
// last (a 384-deep GEMV over 55 MB in Chromium: 3.4-4.0 ms with four, 2.4
// with eight). Out of line, with its operands as arguments rather than a
// lambda's captures: inside the task lambda the same loop ran ~15% slower
// under V8 (the GPT decode step's 25 weight GEMVs, node 20: 2.32-2.42 ms
// against 2.0-2.1).
__attribute__((noinline)) void gemv_rows(const float* a, const float* B, int64_t ldb, int64_t K, int64_t j0,
                                         int64_t j1, float* c, bool accumulate) {
  for (int64_t j = j0; j < j1; ++j) {
    const float* bj = B + j * ldb;
    v4 acc0 = simd::splat(0.f), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    v4 acc4 = acc0, acc5 = acc0, acc6 = acc0, acc7 = acc0;
    int64_t k = 0;
    for (; k + 32 <= K; k += 32) {
      acc0 += simd::load(a + k) * simd::load(bj + k);
      acc1 += simd::load(a + k + 4) * simd::load(bj + k + 4);
      acc2 += simd::load(a + k + 8) * simd::load(bj + k + 8);
      acc3 += simd::load(a + k + 12) * simd::load(bj + k + 12);
      acc4 += simd::load(a + k + 16) * simd::load(bj + k + 16);
      acc5 += simd::load(a + k + 20) * simd::load(bj + k + 20);
      acc6 += simd::load(a + k + 24) * simd::load(bj + k + 24);
      acc7 += simd::load(a + k + 28) * simd::load(bj + k + 28);
    }
    for (; k + 4 <= K; k += 4) acc0 += simd::load(a + k) * simd::load(bj + k);
    const v4 acc = ((acc0 + acc1) + (acc2 + acc3)) + ((acc4 + acc5) + (acc6 + acc7));
    float s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for (; k < K; ++k) s += a[k] * bj[k];
    c[j] = accumulate ? c[j] + s : s;
  }
}
}  // namespace

float* scratch_floats(Scratch use, int64_t n) {
  struct Buffer {
    std::unique_ptr<float[]> data;
    int64_t cap = 0;
  };
  thread_local Buffer buffers[static_cast<int>(Scratch::kCount)];
  Buffer& b = buffers[static_cast<int>(use)];
  if (n > b.cap) {
    b.cap = std::max(n, b.cap + b.cap / 2);
    b.data.reset(new float[static_cast<size_t>(b.cap)]);
  }
  return b.data.get();
}

void pack_b_panels(bool trans, int64_t K, int64_t N, const float* B, int64_t ldb, int64_t q0,
                   int64_t q1, float* d) {
  for (int64_t q = q0; q < q1; ++q) {
    const int64_t j0 = q * kNr, nr = std::min<int64_t>(kNr, N - j0);
    if (!trans) {
      const float* s = B + j0;
      if (nr == kNr) {
        for (int64_t k = 0; k < K; ++k, d += kNr, s += ldb) std::memcpy(d, s, sizeof(float) * kNr);
      } else {
        for (int64_t k = 0; k < K; ++k, d += kNr, s += ldb)
          for (int64_t j = 0; j < kNr; ++j) d[j] = j < nr ? s[j] : 0.f;
      }
    } else {
      // B is N x K: column j of op(B) is row j of B.
      for (int64_t j = 0; j < kNr; ++j) {
        const float* s = B + (j0 + j) * ldb;
        for (int64_t k = 0; k < K; ++k) d[k * kNr + j] = j < nr ? s[k] : 0.f;
      }
      d += K * kNr;
    }
  }
}

void gemm_packing_batched(int64_t batch, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
                          int64_t a_stride, PackBatchPanelsFn pack, const void* ctx, float* C, int64_t ldc,
                          int64_t c_stride, const float* bias, bool accumulate, GemmClamp clamp) {
  if (batch <= 0 || M <= 0 || N <= 0) return;
  const v4 lo = simd::splat(clamp.lo), hi = simd::splat(clamp.hi);
  const int64_t mp = (M + kMr - 1) / kMr, np = (N + kNr - 1) / kNr;
  // A block of B panels of about 128 KiB stays in L2 while the rows of A
  // stream past it; when that gives too few tasks for the threads, rows are
  // split too (each row block then packs its own copy of the B block). The
  // products of a batch share one parallel_for: a Winograd conv's 16 small
  // GEMMs, each its own, spent more on waking the pool than they saved.
  const int64_t threads = worth_threads(batch * M, N, K) ? num_threads() : 1;
  int64_t nb = std::max<int64_t>(1, std::min<int64_t>({np, 16, 32768 / std::max<int64_t>(1, K * kNr)}));
  const int64_t want = threads > 1 ? 3 * threads : 1;
  // An A that stays in cache is cheap to stream past more, smaller B
  // blocks; splitting rows instead packs each B block once per row block
  // (a transformer's 128 x 384 x 384 products at 2 threads packed their
  // weights twice).
  const int64_t blocks_wanted = (want + batch - 1) / batch;
  if (M * K <= kCachedAFloats && (np + nb - 1) / nb < blocks_wanted) nb = std::max<int64_t>(1, np / blocks_wanted);
  const int64_t tn = (np + nb - 1) / nb;
  const int64_t tm = std::min(mp, std::max<int64_t>(1, (want + tn * batch - 1) / (tn * batch)));
  const int64_t mb = (mp + tm - 1) / tm;
  const int64_t tmr = (mp + mb - 1) / mb;
  const int64_t block = nb * K * kNr;
  float* scratch = scratch_floats(Scratch::kGemmPanels, block * num_threads());  // indexed by thread_index()
  const int64_t per_batch = tmr * tn;
  parallel_for(batch * per_batch, [&](int64_t task) {
    const int64_t b = task / per_batch, t = task % per_batch;
    const float* Ab = A + b * a_stride;
    float* Cb = C + b * c_stride;
    const int64_t p0 = (t / tn) * mb, p1 = std::min(mp, p0 + mb);
    const int64_t q0 = (t % tn) * nb, q1 = std::min(np, q0 + nb);
    const float* bp = pack(ctx, b, q0, q1, scratch + thread_index() * block);
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t i = p * kMr;
      const int mr = static_cast<int>(std::min<int64_t>(kMr, M - i));
      for (int64_t q = q0; q < q1; ++q) {
        const int64_t j = q * kNr;
        micro_kernel(K, Ab + i * lda, lda, mr, bp + (q - q0) * K * kNr, Cb + i * ldc + j, ldc,
                          static_cast<int>(std::min<int64_t>(kNr, N - j)), bias ? bias + i : nullptr,
                          accumulate, lo, hi);
      }
    }
  }, threads > 1 ? 1 : batch * per_batch);  // one chunk: inline on the calling thread
}

void gemm_prepacked(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* panels, float* C,
                    int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  if (M >= kMr) {
    gemm_packing_batched(
        1, M, N, K, A, lda, 0,
        [panels, K](int64_t, int64_t q0, int64_t, float*) -> const float* { return panels + q0 * K * kNr; }, C, ldc,
        0, nullptr, false);
    return;
  }
  // A few rows: each panel streams past once, eight columns at a time.
  const int64_t np = (N + kNr - 1) / kNr;
  parallel_for(np, [&](int64_t q) {
    const float* panel = panels + q * K * kNr;
    const int64_t j0 = q * kNr, nr = std::min<int64_t>(kNr, N - j0);
    for (int64_t i = 0; i < M; ++i) {
      const float* ai = A + i * lda;
      v4 c0 = simd::splat(0.f), c1 = c0;
      for (int64_t k = 0; k < K; ++k) {
        const v4 a = simd::splat(ai[k]);
        c0 += a * simd::load(panel + k * kNr);
        c1 += a * simd::load(panel + k * kNr + 4);
      }
      float out[kNr];
      simd::store(out, c0);
      simd::store(out + 4, c1);
      for (int64_t j = 0; j < nr; ++j) C[i * ldc + j0 + j] = out[j];
    }
  }, worth_threads(M, N, K) ? 16 : np);
}

// C = alpha * op(A) op(B) + beta * C (util.h).
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
          const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
          int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  if (beta != 0.f && beta != 1.f)
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) C[i * ldc + j] *= beta;
  if (K <= 0 || alpha == 0.f) {
    if (beta == 0.f)
      for (int64_t i = 0; i < M; ++i) std::fill(C + i * ldc, C + i * ldc + N, 0.f);
    return;
  }
  const bool accumulate = beta != 0.f;
  // op(A) row-major with alpha folded in, when A is not that already.
  std::vector<float> a_copy;
  if (trans_a || alpha != 1.f) {
    a_copy.resize(static_cast<size_t>(M * K));
    for (int64_t i = 0; i < M; ++i)
      for (int64_t k = 0; k < K; ++k)
        a_copy[i * K + k] = alpha * (trans_a ? A[k * lda + i] : A[i * lda + k]);
    A = a_copy.data();
    lda = K;
  }
  if (M < 4) {
    // A few rows (a vector times a matrix): packing B would cost as much as
    // the product, so read B in place.
    if (trans_b) {
      // C[i, j] = dot(A row i, B row j): B's rows are read one after
      // another, as they lie in memory (the CPU backend stores constant
      // MatMul weights transposed for this: passes::transpose_matmul_weights),
      // in blocks of kGemvRows rows (gemv_rows). Reading four rows side by
      // side, or the weights laid out in 4-row panels, was no faster.
      const int64_t blocks = (N + kGemvRows - 1) / kGemvRows;
      parallel_for(blocks, [&](int64_t blk) {
        const int64_t j0 = blk * kGemvRows, j1 = std::min(N, j0 + kGemvRows);
        for (int64_t i = 0; i < M; ++i) gemv_rows(A + i * lda, B, ldb, K, j0, j1, C + i * ldc, accumulate);
      }, worth_threads(M, N, K) ? 1 : blocks);
    } else {
      // C row i = sum_k A[i, k] * B row k over blocks of 32 columns held in
      // 8 vector accumulators: B streams past once, so this is bound by
      // memory as long as the accumulators stay in registers. On the CPU
      // backend constant weights take the transB path above; this one serves
      // B computed at run time (an attention's probabilities x V) and the
      // GPU backend's CPU fallbacks. Measured under V8 on a GPT decode step
      // before the weights were transposed: a 64-float array accumulator
      // 12.6 ms a step, these blocks 7.7 ms, streaming B row by row into C
      // (faster natively) 14 ms.
      constexpr int64_t kCols = 32;
      const int64_t blocks = (N + kCols - 1) / kCols;
      parallel_for(blocks, [&](int64_t blk) {
        const int64_t j0 = blk * kCols, w = std::min(kCols, N - j0);
        for (int64_t i = 0; i < M; ++i) {
          const float* ai = A + i * lda;
          float* ci = C + i * ldc + j0;
          if (w == kCols) {
            v4 acc[kCols / 4];
            for (int v = 0; v < kCols / 4; ++v) acc[v] = accumulate ? simd::load(ci + 4 * v) : simd::splat(0.f);
            const float* bk = B + j0;
            for (int64_t k = 0; k < K; ++k, bk += ldb) {
              const v4 a = simd::splat(ai[k]);
              for (int v = 0; v < kCols / 4; ++v) acc[v] += a * simd::load(bk + 4 * v);
            }
            for (int v = 0; v < kCols / 4; ++v) simd::store(ci + 4 * v, acc[v]);
            continue;
          }
          float acc[kCols];
          for (int64_t j = 0; j < w; ++j) acc[j] = accumulate ? ci[j] : 0.f;
          for (int64_t k = 0; k < K; ++k) {
            const float a = ai[k];
            const float* bk = B + k * ldb + j0;
            for (int64_t j = 0; j < w; ++j) acc[j] += a * bk[j];
          }
          for (int64_t j = 0; j < w; ++j) ci[j] = acc[j];
        }
      }, worth_threads(M, N, K) ? 4 : blocks);
    }
    return;
  }
  gemm_packing(M, N, K, A, lda,
               [&](int64_t q0, int64_t q1, float* dst) { pack_b_panels(trans_b, K, N, B, ldb, q0, q1, dst); },
               C, ldc, nullptr, accumulate);
}

}  // namespace glint::cpu
