// The float32 GEMM behind Conv, MatMul and Gemm on the CPU (the `wasm`
// provider in the browser): see gemm.cc for the kernel and why it is own code.
#pragma once
#include <cstdint>
#include <type_traits>

namespace glint::cpu {

// B is consumed in panels of kGemmNr columns: a panel holds the K rows of
// B[:, q*kGemmNr : (q+1)*kGemmNr], row after row (kGemmNr floats each),
// zero-padded past N.
constexpr int64_t kGemmNr = 8;

// Clamps the result to [lo, hi] (v < lo ? lo : v > hi ? hi : v, NaN kept):
// a fused Relu or Clip.
struct GemmClamp {
  float lo = -__builtin_inff(), hi = __builtin_inff();
};

// C (M x N, row stride ldc) = A (M x K, row-major, row stride lda) * B
// [+ bias[m] on row m when bias] [+ C when accumulate], clamped. B is never packed
// whole: each task packs a block of panels (sized to stay in cache) into its
// thread's scratch with `pack` and multiplies it by all (or a block of) rows
// of A. Each element of C is summed over k in order by one task, so the
// result does not depend on the thread count.
//
// `batch` independent products share one parallel_for: product b
// multiplies A + b * a_stride by the B whose panels pack(ctx, b, q0, q1,
// dst) writes (panels [q0, q1), one after another, at dst) and returns
// (dst, or where those panels already lie packed), into C + b * c_stride
// (same M, N, K, lda, ldc, bias, clamp for all).
using PackBatchPanelsFn = const float* (*)(const void* ctx, int64_t b, int64_t q0, int64_t q1, float* dst);
void gemm_packing_batched(int64_t batch, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
                          int64_t a_stride, PackBatchPanelsFn pack, const void* ctx, float* C, int64_t ldc,
                          int64_t c_stride, const float* bias, bool accumulate, GemmClamp clamp = {});

// F: void(int64_t b, int64_t q0, int64_t q1, float* dst), which packs at
// dst, or const float*(...) as PackBatchPanelsFn.
template <class F>
void gemm_packing_batched(int64_t batch, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
                          int64_t a_stride, const F& pack, float* C, int64_t ldc, int64_t c_stride,
                          const float* bias, bool accumulate, GemmClamp clamp = {}) {
  gemm_packing_batched(
      batch, M, N, K, A, lda, a_stride,
      [](const void* ctx, int64_t b, int64_t q0, int64_t q1, float* dst) -> const float* {
        const F& f = *static_cast<const F*>(ctx);
        if constexpr (std::is_void_v<decltype(f(b, q0, q1, dst))>) {
          f(b, q0, q1, dst);
          return dst;
        } else {
          return f(b, q0, q1, dst);
        }
      },
      &pack, C, ldc, c_stride, bias, accumulate, clamp);
}

// One product: F is void(int64_t q0, int64_t q1, float* dst).
template <class F>
void gemm_packing(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const F& pack,
                  float* C, int64_t ldc, const float* bias, bool accumulate, GemmClamp clamp = {}) {
  gemm_packing_batched(
      1, M, N, K, A, lda, 0, [&pack](int64_t, int64_t q0, int64_t q1, float* dst) { pack(q0, q1, dst); }, C, ldc,
      0, bias, accumulate, clamp);
}

// On a FusedMatMul (transB) whose constant B holds its panels packed whole
// (passes::transpose_matmul_weights) instead of B's N x K values.
inline constexpr const char* kPackedWeightsAttr = "glint.packed_b";

// C (M x N) = A (M x K, row stride lda) * B where B is already packed whole
// (pack_b_panels over every panel: ceil(N / kGemmNr) panels of K x
// kGemmNr): constant weights packed once (passes::transpose_matmul_weights)
// instead of on every run. Any M, N multiple of kGemmNr or not.
void gemm_prepacked(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* panels, float* C,
                    int64_t ldc);

// Panels [q0, q1) of op(B) (K x N; B is N x K when trans).
void pack_b_panels(bool trans, int64_t K, int64_t N, const float* B, int64_t ldb, int64_t q0,
                   int64_t q1, float* dst);

// Per-thread scratch buffers, one per use, so that a kernel's buffer
// survives the GEMM it calls.
enum class Scratch { kGemmPanels, kWinograd, kConvInput, kCount };
// Scratch buffer `use` of at least n floats, uninitialised, reused across
// calls (packing and transform buffers would otherwise be allocated, and
// natively page-faulted in, on every run); valid until the next call for the
// same use on the same thread. Call it on the thread that starts the
// parallel work, never inside a task (wasm workers must not grow the heap).
float* scratch_floats(Scratch use, int64_t n);

}  // namespace glint::cpu
