// The CPU kernels' thread pool: parallel_for over independent tasks (GEMM
// tiles, packed panels, channels), the calling thread taking part.
//
// One process-wide pool of num_threads() - 1 persistent workers. Natively the
// default is min(4, hardware threads), or GLINT_NUM_THREADS; the web builds
// start at 1 and the JS API sets env.wasm.numThreads at session creation
// (the single-threaded glint.wasm has no threads at all and ignores it).
// Tasks must not depend on each other's order: results are bitwise the same
// for every thread count because each output element is computed by exactly
// one task in a fixed order.
#pragma once
#include <cstdint>
#include <utility>

namespace glint::cpu {

// Threads used by parallel_for (the caller included); n <= 0 restores the
// default. Takes effect at the next parallel_for.
void set_num_threads(int n);
int num_threads();
// False in the single-threaded web build.
bool threads_available();
// Wakes the pool's sleeping workers ahead of the next parallel_for, so that
// their wake-up overlaps whatever the caller does first (a browser run
// copies its inputs in) instead of the first kernel, which the calling
// thread would otherwise start alone: a browser worker takes tens of
// microseconds or more to wake, and every run of a page that pauses between
// runs starts with its workers asleep. A no-op without a pool, with one
// thread, or while a parallel_for holds the pool.
void wake_workers();
// Inside a parallel_for task: 0 for the calling thread, 1.. for the pool's
// workers (always < num_threads()), so tasks can index per-thread scratch
// that the caller allocated (workers must not allocate: in the browser a
// worker growing the wasm heap leaves the main thread's JS views stale).
int thread_index();

namespace detail {
using TaskFn = void (*)(void* ctx, int64_t begin, int64_t end);
void parallel_for_impl(int64_t count, int64_t grain, TaskFn fn, void* ctx);
}  // namespace detail

// Calls f(i) for every i in [0, count), in chunks of `grain` consecutive
// indices spread over the pool. Runs inline when count <= grain, with one
// thread, or when called from inside a parallel_for (or while another
// caller holds the pool).
template <class F>
void parallel_for(int64_t count, F&& f, int64_t grain = 1) {
  if (count <= 0) return;
  auto call = [](void* ctx, int64_t b, int64_t e) {
    F& fn = *static_cast<std::remove_reference_t<F>*>(ctx);
    for (int64_t i = b; i < e; ++i) fn(i);
  };
  detail::parallel_for_impl(count, grain < 1 ? 1 : grain, call,
                            const_cast<void*>(static_cast<const void*>(&f)));
}

// A grain for parallel_for whose index each costs about `work_per_index`
// element operations: enough indices per chunk that a chunk is worth handing
// to another thread (~32K operations; waking a worker costs tens of
// microseconds in the browser), so small tensors run inline.
inline int64_t grain_for(int64_t work_per_index) {
  constexpr int64_t kMinTaskWork = int64_t{1} << 15;
  return work_per_index >= kMinTaskWork ? 1 : kMinTaskWork / (work_per_index > 0 ? work_per_index : 1);
}

}  // namespace glint::cpu
